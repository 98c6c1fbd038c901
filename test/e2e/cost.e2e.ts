// Cost beside the code and over time, in a real VS Code (code-server) in headless chromium: the
// block labels on a Python file (no symbol provider here: blank-line paragraphs) and a TypeScript
// file (the built-in TypeScript symbols), the figure at the end of a held selection, the chat
// input's cost line, and the Usage & Cost view after a few completions. Every expected count comes
// from the core tokenizers run here on the same text; the view is checked against the ledger file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { blockCostLabel } from '../../src/core/cost/blockCosts';
import { detectBlocks, textLineSource } from '../../src/core/cost/blocks';
import { promptCost } from '../../src/core/cost/promptCost';
import { buildPriceTable } from '../../src/core/pricing/cost';
import { TokenizerRegistry } from '../../src/core/tokenizers/registry';
import { findFrame, repoRoot, sampleWorkspace, startWorkbench, type Workbench } from './harness/workbench';

const transcripts = join(repoRoot, 'test', 'fixtures', 'transcripts');
const gpt4o = buildPriceTable([]).models.find((model) => model.id === 'gpt-4o');
const registry = new TokenizerRegistry({ rootDir: repoRoot });

/** The `after` texts drawn at the end of lines of the active editor, by line text. */
async function lineLabels(page: Page): Promise<{ line: string; label: string }[]> {
  return page.evaluate(() => {
    const found: { line: string; label: string }[] = [];
    for (const line of Array.from(document.querySelectorAll('.editor-group-container.active .view-lines .view-line'))) {
      for (const span of Array.from(line.querySelectorAll('span'))) {
        const content = getComputedStyle(span, '::after').content;
        if (content && content !== 'none' && content !== 'normal' && / tok · /.test(content)) {
          const copy = line.cloneNode(true) as HTMLElement;
          found.push({ line: (copy.textContent ?? '').replace(/\u00a0/g, ' '), label: JSON.parse(content) as string });
        }
      }
    }
    return found;
  });
}

/** Polls the labels until `done` says they are complete (decorations follow edits, scrolls and symbol providers). */
async function waitForLabels(page: Page, done: (labels: { line: string; label: string }[]) => boolean, timeoutMs = 60_000): Promise<{ line: string; label: string }[]> {
  const deadline = Date.now() + timeoutMs;
  let labels: { line: string; label: string }[] = [];
  while (Date.now() < deadline) {
    labels = await lineLabels(page);
    if (done(labels)) return labels;
    await page.waitForTimeout(250);
  }
  return labels;
}

/** The label the core gives a text (o200k_base is both the chosen tokenizer and GPT-4o's). */
async function expectedLabel(text: string): Promise<string> {
  assert.ok(gpt4o);
  const count = (await registry.get('o200k_base')).count(text);
  return blockCostLabel({ chosenCount: count, chosenTokenizer: 'o200k_base', referenceCount: count, reference: gpt4o }).text;
}

describe('cost estimates in a real VS Code', { timeout: 400_000 }, () => {
  let workbench: Workbench;
  before(async () => {
    workbench = await startWorkbench({
      name: 'cost',
      workspace: sampleWorkspace,
      settings: {
        'tokenscope.tokenLens.tokenizer': 'o200k_base',
        'tokenscope.cost.referenceModel': 'gpt-4o',
        'tokenscope.cost.showBlockCosts': true,
        'tokenscope.tokenLens.hover': false,
        'tokenscope.chat.testBackend': transcripts,
        'tokenscope.completions.enabled': true,
        'tokenscope.completions.debounceMs': 80,
        'editor.inlineSuggest.enabled': true,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
      },
    });
  }, { timeout: 300_000 });
  after(async () => workbench?.stop());

  it('labels each paragraph of a Python file and each top-level symbol of a TypeScript file, and a held selection at its end', async () => {
    const { page } = workbench;
    const python = readFileSync(join(sampleWorkspace, 'src', 'fibonacci.py'), 'utf8');
    const blocks = detectBlocks(textLineSource(python), undefined);
    const expected = await Promise.all(blocks.map(async (block) => ({ line: python.split('\n')[block.startLine], label: await expectedLabel(python.slice(block.start, block.end)) })));
    await workbench.openFile('src/fibonacci.py');
    const labels = await waitForLabels(page, (found) => found.length >= expected.length);
    await workbench.screenshot('cost-blocks-python');
    assert.deepEqual(labels, expected, `labels on fibonacci.py. Log:\n${workbench.readLog().slice(-2000)}`);
    assert.match(expected[0].label, /^\d+ tok · \$[\d.]+ in ⚠$/);

    // Hold a selection (the is_palindrome function's body): its figure at its end.
    const lines = python.split('\n');
    const first = lines.findIndex((line) => line.includes('cleaned = ['));
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+Home');
    for (let line = 0; line < first; line++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+End');
    const selected = `${lines[first]}\n${lines[first + 1]}`;
    const selectionLabel = `◂ ${await expectedLabel(selected)}`;
    const withSelection = await waitForLabels(page, (found) => found.some((entry) => entry.label.startsWith('◂')), 30_000);
    await workbench.screenshot('cost-beside-code');
    assert.deepEqual(
      withSelection.filter((entry) => entry.label.startsWith('◂')),
      [{ line: lines[first + 1], label: selectionLabel }],
    );
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowRight');

    // TypeScript: blocks are the language's top-level symbols (the interface and the class).
    const ts = readFileSync(join(sampleWorkspace, 'src', 'inventory.ts'), 'utf8');
    const tsLines = ts.split('\n');
    const blockText = (opening: string) => {
      const start = tsLines.findIndex((line) => line.startsWith(opening));
      const end = tsLines.findIndex((line, index) => index > start && line === '}');
      return { line: tsLines[start], text: tsLines.slice(start, end + 1).join('\n') };
    };
    const tsExpected = await Promise.all(['export interface Item', 'export class Inventory'].map(async (opening) => {
      const block = blockText(opening);
      return { line: block.line, label: await expectedLabel(block.text) };
    }));
    await workbench.openFile('src/inventory.ts');
    // The TypeScript server starts first: until it answers, the file is labelled by paragraphs.
    const tsLabels = await waitForLabels(page, (found) => tsExpected.every((want) => found.some((entry) => entry.line === want.line && entry.label === want.label)), 120_000);
    await workbench.screenshot('cost-blocks-typescript');
    for (const want of tsExpected) assert.ok(tsLabels.some((entry) => entry.line === want.line && entry.label === want.label), `${want.line}: ${want.label}; got ${JSON.stringify(tsLabels)}`);
    // A method inside the class is not a block of its own.
    assert.ok(!tsLabels.some((entry) => entry.line.includes('add(item: Item)')), JSON.stringify(tsLabels));
    assert.deepEqual(workbench.pageErrors, []);
  });

  it('shows the prompt\'s cost in the chat input, and the Usage & Cost view after a few completions', async () => {
    assert.ok(gpt4o);
    const { page } = workbench;
    await workbench.runCommand('Tokenscope: Open Chat');
    await page.locator('iframe.webview.ready').first().waitFor({ state: 'attached' });
    const chat = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
    await chat.locator('.status .model', { hasText: /Replay/ }).waitFor({ timeout: 60_000 });
    await chat.locator('textarea.input').fill('How much does this question cost to send?');
    const info = chat.locator('.prompt-info', { hasText: 'on gpt-4o' });
    await info.waitFor({ timeout: 30_000 });
    const infoText = await info.innerText();
    await workbench.screenshot('cost-chat-input');
    const promptTokens = Number(/^([\d,]+) prompt tokens/.exec(infoText)?.[1].replace(/,/g, ''));
    assert.ok(promptTokens > 0, infoText);
    // The default chat.maxTokens is 1024: the worst case is 1,024 tokens of GPT-4o output.
    assert.ok(infoText.endsWith(` · ${promptCost(promptTokens, 1024, gpt4o).text}`), infoText);

    // A few completions in the Python file: each model request goes into the ledger.
    await workbench.openFile('src/fibonacci.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    for (const start of ['\ndef double(n: int) -> int:\n    return ', '\n\ndef half(n: int) -> int:\n    return ', '\n\ndef square(n: int) -> int:\n    return ']) {
      await page.keyboard.insertText(start);
      await page.waitForTimeout(2500);
    }
    await workbench.waitForLog(/First completion (completed|empty)/, 60_000);
    await workbench.runCommand('Tokenscope: Show Usage & Cost');
    const frame = await findFrame(page, 'table.periods');
    const ledgerFile = join(workbench.server.userDataDir, 'User', 'globalStorage', 'tokenscope.tokenscope', 'usage-ledger.json');
    assert.ok(existsSync(ledgerFile), 'the view flushed the ledger to the extension\'s global storage');
    const ledger = JSON.parse(readFileSync(ledgerFile, 'utf8')) as { days: Record<string, Record<string, { requests: number; read: number; generated: number }>> };
    const today = Object.values(ledger.days).at(-1) ?? {};
    const completions = today['completions/local'];
    assert.ok(completions && completions.requests >= 1, JSON.stringify(ledger));
    const requests = Object.values(today).reduce((sum, counts) => sum + counts.requests, 0);
    const periods = await frame.locator('table.periods').innerText();
    assert.match(periods, new RegExp(`Requests\\s+${requests}\\s+${requests}\\s+${requests}`), periods);
    const features = await frame.locator('table.features').innerText();
    assert.match(features, new RegExp(`completions\\s+local\\s+${completions.requests}\\s+${completions.read.toLocaleString('en-US')}\\s+${completions.generated.toLocaleString('en-US')}`), features);
    assert.equal(await frame.locator('svg.chart rect.bar').count(), 30);
    assert.match(await frame.locator('table.models').innerText(), /GPT-4o\s+\$[\d.]+\s+2024-10-01 \(possibly stale\)/);
    await page.mouse.move(700, 500);
    await page.waitForTimeout(800);
    await workbench.screenshot('cost-usage-view');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.webviewErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });

  it('says what an explanation costs in its progress line, and splits a reasoning answer into thought and answered tokens, both priced', async () => {
    assert.ok(gpt4o);
    const { page } = workbench;
    await workbench.openFile('src/inventory.ts');
    const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines');
    await editor.click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    // Two whole lines are held (the selection ends at column 0 of the third): the figure is at the end of the second.
    const tsLines = readFileSync(join(sampleWorkspace, 'src', 'inventory.ts'), 'utf8').split('\n');
    const held = await waitForLabels(page, (found) => found.some((entry) => entry.label.startsWith('◂')), 30_000);
    assert.deepEqual(
      held.filter((entry) => entry.label.startsWith('◂')),
      [{ line: tsLines[3], label: `◂ ${await expectedLabel(`${tsLines[2]}\n${tsLines[3]}\n`)}` }],
    );
    await page.keyboard.press('Control+Alt+KeyE');
    const chat = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
    // The replay backend streams the recorded DeepSeek-R1 explanation (it thinks first) for a few seconds.
    const progress = chat.locator('.message.assistant.streaming .turn-progress');
    await progress.waitFor({ timeout: 30_000 });
    const progressText = await progress.innerText();
    await workbench.screenshot('cost-explain-progress');
    const promptTokens = Number(/^Explaining: ([\d,]+) prompt tokens · /.exec(progressText)?.[1].replace(/,/g, ''));
    assert.ok(promptTokens > 0, progressText);
    assert.equal(progressText, `Explaining: ${promptTokens.toLocaleString('en-US')} prompt tokens · ${promptCost(promptTokens, 1024, gpt4o).text}`);
    // The finished answer's stats: the generated tokens split into thinking and answer, each priced as GPT-4o output.
    const stats = chat.locator('.message.assistant:not(.streaming) .stats').last();
    await stats.waitFor({ timeout: 60_000 });
    const statsText = await stats.innerText();
    const split = /(\d+) generated · .*thought (\d+) tok · (\$[\d.]+), answered (\d+) tok · (\$[\d.]+)$/.exec(statsText);
    assert.ok(split, statsText);
    const [generated, thought, answered] = [split[1], split[2], split[4]].map(Number);
    assert.equal(thought + answered, generated, statsText);
    assert.ok(thought > 0 && answered > 0, statsText);
    await workbench.screenshot('cost-reasoning-split');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.webviewErrors, []);
  });

  it('redraws the labels of a 10,000-line file after each keystroke in well under a frame of extension-host time', async () => {
    const { page } = workbench;
    // 1,000 ten-line functions: the TypeScript symbols give 1,000 blocks, about 10 of them visible.
    const lines: string[] = [];
    for (let fn = 0; fn < 1000; fn++) lines.push(`export function step${fn}(input: number[], scale = ${fn}): number[] {`, '  const out: number[] = [];', '  for (const value of input) {', `    if (value % ${(fn % 7) + 2} === 0) continue;`, '    out.push(value * scale + 1);', '  }', `  // step ${fn}`, '  return out;', '}', '');
    writeFileSync(join(workbench.workspaceDir, 'src', 'big.ts'), lines.join('\n'));
    await workbench.openFile('src/big.ts');
    await waitForLabels(page, (found) => found.some((entry) => entry.line.startsWith('export function step0(')), 120_000);
    const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines');
    await editor.click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('End');
    const before = workbench.readLog().length;
    // 40 keystrokes, each well after the 150 ms debounce, so most redraw (one overtaken by the next keystroke is dropped).
    for (let key = 0; key < 40; key++) {
      await page.keyboard.type(key % 2 === 0 ? ' ' : 'x');
      await page.waitForTimeout(500);
    }
    const deadline = Date.now() + 30_000;
    let summary: RegExpExecArray | null = null;
    while (!summary && Date.now() < deadline) {
      summary = /Cost decorations: 20 redraws after an edit \(10000 lines, (\d+) blocks shown\) took ([\d.]+) ms median, ([\d.]+) ms p90, ([\d.]+) ms max of extension-host time/.exec(workbench.readLog().slice(before));
      if (!summary) await page.waitForTimeout(250);
    }
    assert.ok(summary, `no redraw summary in the log:\n${workbench.readLog().slice(-2000)}`);
    await workbench.screenshot('cost-big-file');
    console.log(`# cost decorations, 10,000-line file in code-server: ${summary[0]} · load average ${loadavg()[0].toFixed(1)}`);
    assert.ok(Number(summary[2]) < 16, summary[0]);
  });
});
