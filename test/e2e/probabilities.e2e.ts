// The probability views end to end in a real VS Code (code-server) in headless chromium: "What Comes
// Next?" at the cursor (bars, three steps inserted into the file, the temperature re-shaping the
// bars), and the surprise lens lighting a deliberate typo with a hover that says what the model
// expected. Every expected token and percentage comes from the core run here on the same built-in
// model and text, not from the screen.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { barsView, formatPercent } from '../../src/core/probabilities/bars';
import { surprisalBits } from '../../src/core/probabilities/distribution';
import { ModelProbabilities } from '../../src/core/probabilities/modelProbabilities';
import { LocalModel } from '../../src/core/runtime/localModel';
import { expectedCompletion } from './harness/expectedCompletion';
import { evaluateSource, findFrame, hoverUntilShown, repoRoot, sampleWorkspace, startWorkbench, type Workbench } from './harness/workbench';

const stepsText = 'function add(a, b) {\n  return';
const typoText = 'function add(a: number, b: number): number {\n  return a + b;\n}\n\nfunction multiply(a: number, b: number): number {\n  retrun a * b;\n}\n';

describe('probability views in a real VS Code', { timeout: 420_000 }, () => {
  let workbench: Workbench;
  let model: LocalModel;
  let probabilities: ModelProbabilities;
  const workspaceRoot = mkdtempSync(join(tmpdir(), 'tokenscope-probs-'));
  const workspace = join(workspaceRoot, 'probs');

  before(async () => {
    mkdirSync(join(workspace, 'src'), { recursive: true });
    writeFileSync(join(workspace, 'src', 'steps.js'), stepsText);
    writeFileSync(join(workspace, 'src', 'typo.ts'), typoText);
    model = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
    probabilities = new ModelProbabilities(model);
    workbench = await startWorkbench({ name: 'probabilities', workspace, settings: { 'tokenscope.completions.enabled': false, 'editor.hover.delay': 300 } });
  }, { timeout: 240_000 });

  after(async () => {
    await workbench?.stop();
    await model?.dispose();
    rmSync(workspaceRoot, { recursive: true, force: true });
  });

  /** The panel's rows as shown: label and percent. */
  async function shownRows(panel: Frame): Promise<{ label: string; percent: string }[]> {
    return panel.locator('.bars .bar').evaluateAll((rows) => rows.map((row) => ({ label: row.querySelector('.token')?.textContent ?? '', percent: row.querySelector('.percent')?.textContent ?? '' })));
  }

  async function expectedRows(text: string, reshaping = { temperature: 1, topP: 1, topK: 0 }): Promise<{ label: string; percent: string }[]> {
    const result = await probabilities.next({ prompt: { kind: 'text', text }, top: 20, reshaping });
    return barsView(result).rows.map((row) => ({ label: row.label, percent: row.percent }));
  }

  /** Waits until the panel shows exactly these rows (it redraws after each answer). */
  async function waitForRows(panel: Frame, expected: { label: string; percent: string }[], what: string): Promise<void> {
    let shown: { label: string; percent: string }[] = [];
    for (let attempt = 0; attempt < 120; attempt++) {
      shown = await shownRows(panel);
      if (JSON.stringify(shown) === JSON.stringify(expected)) return;
      await panel.page().waitForTimeout(250);
    }
    assert.deepEqual(shown, expected, what);
  }

  /** The text of the active editor as rendered (one line per view line). */
  async function editorText(): Promise<string> {
    const lines = workbench.page.locator('.editor-group-container .monaco-editor .view-lines').first();
    return evaluateSource<string>(lines, `(element) => Array.from(element.querySelectorAll('.view-line')).sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map((line) => line.textContent.replace(/\\u00a0/g, ' ')).join('\\n')`);
  }

  it('What Comes Next?: the model\'s bars at the cursor, three tokens stepped into the file, the temperature re-shapes the bars', async () => {
    const { page } = workbench;
    await workbench.openFile('src/steps.js');
    await page.locator('.editor-group-container.active .view-lines', { hasText: 'function add' }).waitFor();
    await page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
    await page.keyboard.press('Control+End');
    await workbench.runCommand('Tokenscope: What Comes Next?');
    const panel = await findFrame(page, '.bars .bar');
    let text = stepsText;
    await waitForRows(panel, await expectedRows(text), 'the first distribution');
    assert.ok((await shownRows(panel)).length >= 10, 'at least 10 tokens shown');
    assert.match(await panel.locator('.other').innerText(), /^other tokens: /);
    await workbench.screenshot('next-token-panel');

    // Three steps: the most likely token by clicking its bar, the second by its bar, then Greedy.
    for (const [step, choose] of [
      [1, 0],
      [2, 1],
      [3, -1],
    ] as const) {
      const result = await probabilities.next({ prompt: { kind: 'text', text }, top: 20 });
      const chosen = result.tokens[choose === -1 ? 0 : choose];
      if (choose === -1) await panel.locator('button.greedy').click();
      else await panel.locator('.bars .bar').nth(choose).click();
      text += chosen.text;
      await waitForRows(panel, await expectedRows(text), `the distribution after step ${step} (${JSON.stringify(chosen.text)})`);
      assert.match(await panel.locator('.steps').innerText(), new RegExp(`Inserted: .*${chosen.display.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    assert.equal((await editorText()).trimEnd(), text.trimEnd(), 'the three tokens are in the file');

    // Temperature 0.3: the same tokens, re-shaped (the most likely one gains); no new forward pass needed.
    const before = await shownRows(panel);
    await evaluateSource(panel.locator('input.temperature'), `(input) => { input.value = '0.3'; input.dispatchEvent(new Event('input', { bubbles: true })); }`);
    const cold = await expectedRows(text, { temperature: 0.3, topP: 1, topK: 0 });
    await waitForRows(panel, cold, 'bars at temperature 0.3');
    assert.notDeepEqual(cold, before, 'the bars changed');
    // Top-k 3: everything after the third row is greyed.
    await evaluateSource(panel.locator('input.top-k'), `(input) => { input.value = '3'; input.dispatchEvent(new Event('input', { bubbles: true })); }`);
    await waitForRows(panel, await expectedRows(text, { temperature: 0.3, topP: 1, topK: 3 }), 'bars with top-k 3');
    assert.equal(await panel.locator('.bars .bar.excluded').count(), (await shownRows(panel)).length - 3);
    await workbench.screenshot('next-token-panel-reshaped');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.webviewErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });

  it('surprise lens: the deliberate typo is lit, and its hover says what the model expected', async () => {
    const { page } = workbench;
    await workbench.openFile('src/typo.ts');
    await page.locator('.editor-group-container.active .view-lines', { hasText: 'retrun' }).waitFor();
    await workbench.runCommand('Tokenscope: Toggle Surprise Lens');
    // The scores as the model gives them, on the same text (the file is shorter than the lens's lead-in).
    const scored = await new ModelProbabilities(model).score({ text: typoText, top: 5 });
    const typoAt = typoText.indexOf('retrun');
    const typoToken = scored.tokens.find((token) => token.start <= typoAt && typoAt < token.end)!;
    assert.ok(surprisalBits(typoToken.logprob) > 9, `the typo's first token costs ${surprisalBits(typoToken.logprob)} bits`);
    // Coloured spans appear (decorations with a background) on the typo's line.
    const typoLine = page.locator('.editor-group-container.active .view-lines .view-line', { hasText: 'retrun' }).first();
    const overlays = page.locator('.editor-group-container.active .monaco-editor .view-overlays');
    for (let attempt = 0; attempt < 120; attempt++) {
      const top = await typoLine.evaluate((line) => (line as HTMLElement).style.top);
      const lit = await evaluateSource<number>(overlays.first(), `(content) => { const row = Array.from(content.children).find((element) => element.style.top === ${JSON.stringify(top)}); return row ? Array.from(row.querySelectorAll('div[class*="ced-"]')).filter((band) => !/^rgba\\(0, 0, 0, 0\\)$|^transparent$/.test(getComputedStyle(band).backgroundColor)).length : 0; }`);
      if (lit > 0) break;
      assert.ok(attempt < 119, 'the typo line is coloured');
      await page.waitForTimeout(250);
    }
    await workbench.screenshot('surprise-lens');
    // Hover the typo.
    const box = await typoLine.locator(':scope > span').first().boundingBox();
    assert.ok(box);
    const lineText = typoText.split('\n')[5];
    const column = lineText.indexOf('retrun') + 1;
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'Surprise' }).first();
    await hoverUntilShown(page, () => page.mouse.move(box.x + (box.width / lineText.length) * (column + 0.5), box.y + box.height / 2), hover);
    const hoverText = await hover.innerText();
    assert.match(hoverText, new RegExp(`${surprisalBits(typoToken.logprob).toFixed(1)} bits`));
    assert.match(hoverText, /The model expected/);
    assert.ok(hoverText.includes(typoToken.top[0].display), `the hover names the expected ${typoToken.top[0].display}: ${hoverText}`);
    await workbench.screenshot('surprise-lens-hover');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });
});

describe('confidence colouring of an accepted completion in a real VS Code', { timeout: 300_000 }, () => {
  let workbench: Workbench;
  before(async () => {
    workbench = await startWorkbench({
      name: 'confidence-colouring',
      settings: {
        'tokenscope.completions.enabled': true,
        'tokenscope.completions.debounceMs': 80,
        'tokenscope.completions.extraContext': false,
        'tokenscope.completions.confidenceColouring': true,
        'editor.inlineSuggest.enabled': true,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
        'editor.hover.delay': 300,
      },
    });
  }, { timeout: 240_000 });
  after(async () => workbench?.stop());

  it('accepting a suggestion colours its tokens, and a hover gives a token\'s probability, logprob and alternatives', async () => {
    const { page } = workbench;
    const fixture = readFileSync(join(sampleWorkspace, 'src', 'fibonacci.py'), 'utf8');
    const header = `${fixture}\n\ndef fib_sum(n: int) -> int:\n    `;
    writeFileSync(join(workbench.workspaceDir, 'src', 'fibonacci.py'), header);
    const start = 'if n ';
    const documentText = header + start;
    const lines = documentText.split('\n');
    const expected = await expectedCompletion({ model: 'mini', text: documentText, position: { line: lines.length - 1, character: lines[lines.length - 1].length }, path: 'src/fibonacci.py', repoName: 'workspace' });
    assert.ok(expected?.tokenScores && expected.tokenScores.tokens.length > 1, 'the core engine has a suggestion with token scores');
    await workbench.openFile('src/fibonacci.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'def fib_sum' }).waitFor();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText(start);
    await page.locator('.monaco-editor .ghost-text-decoration').first().waitFor({ state: 'visible', timeout: 60_000 });
    await page.keyboard.press('Tab');
    // The accepted line, with its tokens coloured (decorations with a background on that line).
    const acceptedLine = page.locator('.editor-group-container.active .view-lines .view-line', { hasText: `${start}${expected.text.split('\n')[0]}`.trim() }).first();
    await acceptedLine.waitFor({ timeout: 30_000 });
    const overlays = page.locator('.editor-group-container.active .monaco-editor .view-overlays').first();
    let coloured = 0;
    for (let attempt = 0; attempt < 80 && coloured === 0; attempt++) {
      const top = await acceptedLine.evaluate((line) => (line as HTMLElement).style.top);
      coloured = await evaluateSource<number>(overlays, `(content) => { const row = Array.from(content.children).find((element) => element.style.top === ${JSON.stringify(top)}); return row ? Array.from(row.querySelectorAll('div[class*="ced-"]')).filter((band) => !/^rgba\\(0, 0, 0, 0\\)$|^transparent$/.test(getComputedStyle(band).backgroundColor)).length : 0; }`);
      if (coloured === 0) await page.waitForTimeout(250);
    }
    assert.ok(coloured > 0, 'the accepted tokens are coloured');
    await page.mouse.move(0, 0);
    await workbench.screenshot('confidence-colouring');
    // Hover the first generated token: its probability and logprob are the core engine's.
    const first = expected.tokenScores.tokens[0];
    const lineText = `    ${start}${expected.text.split('\n')[0]}`;
    const column = 4 + start.length + first.start + Math.max(0, Math.floor((first.end - first.start - 1) / 2));
    // A new suggestion (ghost text) may follow the accepted one on the same line: dismiss it, and
    // measure a character on the rendered text itself.
    await page.keyboard.press('Escape');
    await page.locator('.monaco-editor .ghost-text-decoration').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
    const span = acceptedLine.locator(':scope > span').first();
    const box = await span.boundingBox();
    assert.ok(box);
    const shownLength = await span.evaluate((element) => (element.textContent ?? '').length);
    assert.ok(shownLength >= lineText.length, `the line shows ${shownLength} characters`);
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'Generated token' }).first();
    await hoverUntilShown(page, () => page.mouse.move(box.x + (box.width / shownLength) * (column + 0.5), box.y + box.height / 2), hover);
    const hoverText = await hover.innerText();
    assert.ok(hoverText.includes(`logprob ${first.logprob.toFixed(3)}`), `the hover gives the token's logprob ${first.logprob.toFixed(3)}: ${hoverText}`);
    assert.ok(hoverText.includes(formatPercent(Math.exp(first.logprob))), 'and its probability');
    assert.match(hoverText, /Top alternatives/);
    await workbench.screenshot('confidence-colouring-hover');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });
});
