// The Token lens end to end, as a user meets it in a real VS Code (code-server) in headless
// chromium: toggle token boundaries on a file and see the alternating decorations (screenshot),
// hover a token and see its id, the counts in every tokenizer and the costs with their dates,
// then switch the tokenizer and see the counts change.
import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { startWorkbench, waitUntilShown, type Workbench } from './harness/workbench';

/** Background decorations (our token bands) render in the overlay layer as divs with generated `ced-` classes. */
async function decoratedSpans(editor: Locator): Promise<number> {
  return editor.locator('.view-overlays div[class*="ced-"]').count();
}

/** The token status item: "$(symbol-key) 1,234 tok · $0.0031 · 1%". */
async function statusCount(workbench: Workbench): Promise<number> {
  const item = workbench.page.locator('.statusbar-item', { hasText: /[\d,]+ tok/ }).first();
  await item.waitFor({ state: 'visible', timeout: 60_000 });
  const text = await item.innerText();
  const match = /([\d,]+) tok/.exec(text);
  assert.ok(match, `status item text: ${text}`);
  return Number(match[1].replace(/,/g, ''));
}

describe('Token lens in a real VS Code', { timeout: 300_000 }, () => {
  let workbench: Workbench;

  before(async () => {
    workbench = await startWorkbench({
      name: 'token-lens',
      settings: {
        'tokenscope.tokenLens.tokenizer': 'qwen2.5',
        'tokenscope.tokenLens.showBoundaries': false,
        'tokenscope.cost.referenceModel': 'gpt-4o',
        'tokenscope.completions.enabled': false,
        'editor.hover.delay': 300,
      },
    });
  }, { timeout: 240_000 });

  after(async () => {
    await workbench?.stop();
  });

  it('shows token boundaries, a hover with id, counts and costs, and counts that follow the tokenizer', async () => {
    const { page } = workbench;
    await workbench.openFile('src/inventory.ts');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'class Inventory' }).waitFor();

    // 1. The first hover, right after opening the file, as a user would: the tokenizers load in the
    // worker soon after activation and the hover waits briefly for any still loading, so it is complete.
    const word = editor.locator('.view-lines span', { hasText: /^totalValueCents$/ }).first();
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'Token' }).first();
    const readyBeforeHover = /tokenizers ready in the tokenizer worker/.test(workbench.readLog());
    const hoverStarted = Date.now();
    await word.hover();
    await waitUntilShown(hover);
    const firstHoverMs = Date.now() - hoverStarted;
    let hoverText = await hover.innerText();
    const incomplete = (text: string) => text.includes('…') || /still loading/.test(text);
    const firstComplete = !incomplete(hoverText);
    if (readyBeforeHover) assert.ok(firstComplete, `every tokenizer had loaded, yet the first hover is incomplete:\n${hoverText}`);
    // On a machine too busy to load them all in time, it says so; they finish in the background.
    for (let attempt = 0; attempt < 30 && incomplete(hoverText); attempt++) {
      assert.match(hoverText, /still loading/);
      await page.mouse.move(0, 0);
      await page.waitForTimeout(1000);
      await word.hover();
      await waitUntilShown(hover);
      hoverText = await hover.innerText();
    }
    await workbench.screenshot('token-lens-first-hover');
    assert.match(hoverText, /Token\s+\S+\s+· id \d+ · \d+ bytes? — Qwen2\.5 \/ Qwen3/, hoverText);
    assert.match(hoverText, /Qwen2\.5 \/ Qwen3[\s\S]*OpenAI o200k_base[\s\S]*Claude \(estimate\)/, 'counts in every tokenizer');
    assert.match(hoverText, /Cost of the file/);
    assert.match(hoverText, /GPT-4o\s+[\d,]+\s+\$[\d.]+\s+\$[\d.]+\s+2024-10-01/, 'GPT-4o cost with its date');
    assert.match(hoverText, /Claude Sonnet 4\.5\s+~[\d,]+/, 'Claude counts marked as estimates');
    const firstCompleteLine = (await workbench.waitForLog(/Token lens: first complete hover \(\d+ tokenizers\) (\d+) ms after the first hover; longest extension-host stall meanwhile ([\d.]+) ms/, 30_000))[0];
    const preloadLine = (await workbench.waitForLog(/Token lens: \d+ tokenizers ready in the tokenizer worker \d+ ms after the preload started[^\n]*/, 60_000))[0];
    console.log(`# first hover: shown in ${firstHoverMs} ms, ${firstComplete ? 'complete' : 'incomplete'} (tokenizers ${readyBeforeHover ? 'ready' : 'not all ready'} before it) · ${firstCompleteLine} · ${preloadLine} · load average ${loadavg()[0].toFixed(1)}`);
    await page.mouse.move(0, 0);

    // 2. Toggle boundaries: alternating token bands appear on the visible lines.
    const before = await decoratedSpans(editor);
    await workbench.runCommand('Tokenscope: Toggle Token Boundaries');
    await workbench.waitForLog(/Token lens: boundaries shown \(qwen2\.5\)/, 30_000);
    let bands = 0;
    for (let wait = 0; wait < 100 && bands <= before + 50; wait++) {
      await page.waitForTimeout(200);
      bands = await decoratedSpans(editor);
    }
    await workbench.screenshot('token-lens-boundaries');
    assert.ok(bands > before + 50, `token bands appeared (${before} decorated spans before, ${bands} after). Log:\n${workbench.readLog().slice(-2000)}`);
    // The README's picture: boundaries and the hover over them, once it has fully faded in.
    await word.hover();
    await waitUntilShown(hover);
    assert.ok(!incomplete(await hover.innerText()));
    await workbench.screenshot('token-lens-hover');
    await page.mouse.move(0, 0);
    await hover.waitFor({ state: 'hidden' });

    // The status item: the chosen tokenizer's count, then the reference model's own count with its cost.
    const tokenItem = page.locator('.statusbar-item', { hasText: /[\d,]+ tok/ }).first();
    assert.match(await tokenItem.innerText(), /^\S*\s*[\d,]+ tok · GPT-4o [\d,]+ tok · \$[\d.]+ · (<1|\d+)%$/);
    await tokenItem.hover();
    const tooltip = page.locator('.monaco-hover:not(.hidden)', { hasText: 'reference model for costs' }).first();
    await waitUntilShown(tooltip);
    assert.match(await tooltip.innerText(), /Tokens in the file: [\d,]+ — Qwen2\.5 \/ Qwen3[\s\S]*GPT-4o \(the reference model for costs\): [\d,]+ tokens in its tokenizer, OpenAI o200k_base/);
    await workbench.screenshot('token-lens-status');
    await page.mouse.move(0, 0);

    // 3. Switch the tokenizer: the status bar count (and the hover) follow.
    const qwenCount = await statusCount(workbench);
    await workbench.runCommand('Tokenscope: Choose Tokenizer…');
    const quickInput = page.locator('.quick-input-widget');
    // (Qwen2.5, Llama 3, o200k and cl100k all happen to count this file as 210 tokens; DeepSeek-V3 does not.)
    await quickInput.locator('input.input').fill('deepseek');
    await quickInput.locator('.monaco-list-row', { hasText: 'DeepSeek-V3' }).first().click();
    await quickInput.waitFor({ state: 'hidden' });
    let deepseekCount = qwenCount;
    for (let wait = 0; wait < 60 && deepseekCount === qwenCount; wait++) {
      await page.waitForTimeout(250);
      deepseekCount = await statusCount(workbench);
    }
    assert.notEqual(deepseekCount, qwenCount, `the count changed with the tokenizer (qwen2.5 ${qwenCount}, deepseek-v3 ${deepseekCount})`);
    await page.mouse.move(0, 0);
    await word.hover();
    await waitUntilShown(hover);
    assert.match(await hover.innerText(), /— DeepSeek-V3 \/ R1/);
    await workbench.screenshot('token-lens-deepseek');
    assert.deepEqual(workbench.pageErrors, []);
  });
});
