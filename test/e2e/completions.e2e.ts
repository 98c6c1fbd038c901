// Inline completions end to end, as a user meets them: the packaged extension with the built-in
// model in a real VS Code (code-server) in headless chromium. Type in a source file, see the ghost
// text the model produces (exactly: the test computes the greedy answer with the core engine on the
// same model), accept a word and then the rest, check the document and the status bar.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { expectedCompletion } from './harness/expectedCompletion';
import { evaluateSource, sampleWorkspace, startWorkbench, waitUntilShown, type Workbench } from './harness/workbench';

/**
 * The built-in model by default. TOKENSCOPE_E2E_COMPLETION_MODEL=<absolute model folder> runs the same
 * test on another model (e.g. the random-weight test/fixtures/models/tiny-qwen2 to check the editor
 * mechanics independently of the built-in model's quality).
 */
const completionModel = process.env.TOKENSCOPE_E2E_COMPLETION_MODEL || 'mini';
const statusLabel = completionModel === 'mini' ? 'tokenscope-mini' : completionModel.split('/').filter(Boolean).pop() ?? completionModel;

/** Ghost text as VS Code renders it: the cursor line's part, then any further lines in a view zone. */
const ghostSelector = '.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text-decoration-preview';

/** The ghost text on screen, all parts joined, with Monaco's no-break spaces as spaces. */
async function ghostText(page: Page): Promise<string> {
  return (await page.locator(ghostSelector).allInnerTexts()).join('').replace(/\u00a0/g, ' ');
}

/** The document's text of the line that shows ghost text, as rendered without the ghost text. */
async function lineWithoutGhostText(page: Page): Promise<string> {
  const line = page.locator('.editor-group-container.active .view-line', { has: page.locator('.ghost-text-decoration') }).first();
  return evaluateSource<string>(line, `(element) => {
    const copy = element.cloneNode(true);
    for (const ghost of copy.querySelectorAll('.ghost-text-decoration')) ghost.remove();
    return copy.textContent.replace(/\\u00a0/g, ' ');
  }`);
}

describe('inline completions in a real VS Code', { timeout: 420_000 }, () => {
  let workbench: Workbench;

  before(async () => {
    workbench = await startWorkbench({
      name: 'completions',
      settings: {
        'tokenscope.model': completionModel,
        'tokenscope.completions.enabled': true,
        'tokenscope.completions.debounceMs': 80,
        // The core engine that computes the expected suggestion runs without other files' context.
        'tokenscope.completions.extraContext': false,
        'editor.inlineSuggest.enabled': true,
        // Keep the suggest widget out of the way: it would take Tab from the ghost text.
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
      },
    });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
  });

  it('shows the model\'s exact suggestion as ghost text, accepts a word with Ctrl+Right (the rest stays ghost text), the rest with Tab, and reports the latency', async () => {
    const { page } = workbench;
    // A new function under the fixture's code, the cursor at its indented first line. Written, not
    // typed, so that the only request is the one for the statement start inserted below (typing the
    // header would ask at every pause, and an earlier answer could be served by typing-along).
    const fixture = readFileSync(join(sampleWorkspace, 'src', 'fibonacci.py'), 'utf8');
    const header = `${fixture}\n\ndef fib_sum(n: int) -> int:\n    `;
    writeFileSync(join(workbench.workspaceDir, 'src', 'fibonacci.py'), header);
    const start = 'if n ';
    const documentText = header + start;
    const lines = documentText.split('\n');
    // What the model answers there, computed here by the same core path on the same model (greedy:
    // completions decode at temperature 0, so this is the one right answer).
    const expected = await expectedCompletion({ model: completionModel, text: documentText, position: { line: lines.length - 1, character: lines[lines.length - 1].length }, path: 'src/fibonacci.py', repoName: 'workspace' });
    assert.ok(expected && expected.confidence !== undefined, `the core engine has a suggestion at "${start}" (it has none: the model changed, choose another start)`);
    const firstLine = expected.text.split('\n')[0];
    const firstWord = /^\s*[^\s]+?(?=\s|$)/.exec(firstLine)?.[0] ?? '';
    assert.ok(firstWord.length > 0 && firstWord.length < firstLine.trimEnd().length, `the expected suggestion ${JSON.stringify(expected.text)} has two words on its first line (needed to test Ctrl+Right; the model changed, choose another start)`);

    await workbench.openFile('src/fibonacci.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'def fib_sum' }).waitFor();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText(start);

    // The automatic trigger asks the model once; its answer is the ghost text, exactly.
    const ghost = page.locator(ghostSelector).first();
    await ghost.waitFor({ state: 'visible', timeout: 60_000 }).catch(async (error: unknown) => {
      await workbench.screenshot('completion-ghost-text');
      throw new Error(`no ghost text appeared for "${start}" (expected ${JSON.stringify(expected.text)}). Tokenscope log:\n${workbench.readLog().slice(-3000)}`, { cause: error });
    });
    await workbench.screenshot('completion-ghost-text');
    assert.equal(await ghostText(page), expected.text, 'the ghost text is the model\'s greedy answer');

    // The suggestion came from the model: the engine logged the request, with the same token counts as the core engine here.
    const record = await workbench.waitForLog(/First completion completed: (\d+) prompt \+ (\d+) generated tokens in (\d+) ms/, 30_000);
    assert.deepEqual([Number(record[1]), Number(record[2])], [expected.promptTokens, expected.generatedTokens], 'prompt and generated tokens equal the core engine\'s');

    // The status bar shows the model, the last latency (and tokens/s), and how sure the model was
    // (the geometric mean of its token probabilities): the same percentage as the core engine's.
    const latencyPattern = new RegExp(`${statusLabel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\d+ ms`);
    const status = page.locator('.statusbar-item', { hasText: latencyPattern }).first();
    await status.waitFor({ state: 'visible', timeout: 30_000 });
    const statusText = (await status.innerText()).trim();
    assert.match(statusText, latencyPattern);
    assert.match(statusText, new RegExp(` ${Math.round(expected.confidence * 100)}% sure$`), `the status bar's confidence is the core engine's ${expected.confidence}`);

    // Partial accept: Ctrl+Right puts the suggestion's first word into the document; the rest stays
    // as ghost text (VS Code asks again, and the engine serves the rest by typing-along).
    await page.keyboard.press('Control+ArrowRight');
    const rest = expected.text.slice(firstWord.length);
    await page.waitForFunction(
      ([selector, wanted]) => Array.from(document.querySelectorAll<HTMLElement>(selector)).map((element) => element.innerText).join('').replace(/\u00a0/g, ' ') === wanted,
      [ghostSelector, rest] as const,
      { timeout: 20_000 },
    ).catch(async () => assert.fail(`after Ctrl+Right the ghost text is ${JSON.stringify(await ghostText(page))}, not the rest ${JSON.stringify(rest)}`));
    assert.equal(await lineWithoutGhostText(page), `    ${start}${firstWord}`, 'the document holds what was typed and the accepted word');
    await workbench.screenshot('completion-word-accepted');

    // Tab takes the rest: the saved file holds the whole suggestion after what was typed.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+S');
    const file = join(workbench.workspaceDir, 'src', 'fibonacci.py');
    const wanted = `${header}${start}${expected.text}`;
    for (let attempt = 0; attempt < 50 && readFileSync(file, 'utf8') !== wanted; attempt++) await page.waitForTimeout(100);
    await workbench.screenshot('completion-accepted');
    assert.equal(readFileSync(file, 'utf8').slice(header.length - 4), wanted.slice(header.length - 4), 'after Tab the function\'s line is what was typed plus the whole suggestion');
    console.log(`# completion: ${JSON.stringify(expected.text)} (word ${JSON.stringify(firstWord)}) · status bar: "${statusText}" · ${record[0]}`);
  });
});

describe('inline completions: the column after Enter, held-back and cached suggestions', { timeout: 420_000 }, () => {
  let workbench: Workbench;

  before(async () => {
    workbench = await startWorkbench({
      name: 'completions-status',
      settings: {
        'tokenscope.model': completionModel,
        'tokenscope.completions.debounceMs': 80,
        // Every automatic suggestion is held back: the status must say so.
        'tokenscope.completions.minConfidence': 0.99,
        'tokenscope.completions.extraContext': false,
        'editor.inlineSuggest.enabled': true,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
      },
    });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
  });

  it('after Enter the ghost text starts at the indented cursor; a held-back suggestion says so, and Alt+\\ shows it "from cache"', async () => {
    const { page } = workbench;
    // The document of the real-output fixture `py-enter-after-if` (test/unit/completions/fixtures):
    // the built-in model answers ` n = n` there, one column right of the cursor before post-processing.
    const fixture = readFileSync(join(sampleWorkspace, 'src', 'fibonacci.py'), 'utf8');
    writeFileSync(join(workbench.workspaceDir, 'src', 'column.py'), `${fixture}\n\ndef fib_sum(n: int) -> int:\n    if n < 2:`);
    // After Enter the editor indents the new line by 8 spaces; the model's answer there, from the core engine:
    const afterEnter = `${fixture}\n\ndef fib_sum(n: int) -> int:\n    if n < 2:\n        `;
    const lines = afterEnter.split('\n');
    const expected = await expectedCompletion({ model: completionModel, text: afterEnter, position: { line: lines.length - 1, character: 8 }, path: 'src/column.py', repoName: 'workspace' });
    assert.ok(expected && expected.confidence !== undefined && expected.confidence < 0.99, `the core engine has a suggestion after Enter, under 99% sure: ${JSON.stringify(expected)}`);
    await workbench.openFile('src/column.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'if n < 2:' }).waitFor();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');

    // Held back: the item's own text says so, with how sure the model was and how to see it.
    const heldBack = page.locator('.statusbar-item', { hasText: new RegExp(`held back · ${Math.round(expected.confidence * 100)}% sure · Alt\\+\\\\ shows it`) }).first();
    await heldBack.waitFor({ state: 'visible', timeout: 60_000 });
    await workbench.screenshot('completion-held-back');
    await workbench.waitForLog(/Suggestion held back \(model\): the model was \d+% sure, below tokenscope\.completions\.minConfidence \(99%\)/);
    assert.equal(await page.locator(ghostSelector).count(), 0, 'no ghost text while held back');

    // Alt+\ shows it, straight from the cache (the model is not asked again), and the status says so.
    await page.keyboard.press('Alt+\\');
    const ghost = page.locator(ghostSelector).first();
    await ghost.waitFor({ state: 'visible', timeout: 20_000 });
    const fromCache = page.locator('.statusbar-item', { hasText: /tokenscope-mini from cache · \d+% sure/ }).first();
    await fromCache.waitFor({ state: 'visible', timeout: 20_000 });
    await fromCache.hover();
    const tooltip = page.locator('.monaco-hover:not(.hidden)', { hasText: 'came from the cache' }).first();
    await tooltip.waitFor({ state: 'visible' });
    await waitUntilShown(tooltip);
    assert.doesNotMatch(await tooltip.innerText(), /\b0 ms\b|tok\/s/, 'no zero latency with a rate for a cached answer');
    await workbench.screenshot('completion-from-cache');
    // Out of the way of the editor (a token hover there would take the Tab).
    await page.mouse.move(0, 0);
    await tooltip.waitFor({ state: 'hidden' });

    // The ghost text starts at the cursor: its first character is not a space, and it begins where the cursor is.
    const shown = await ghostText(page);
    assert.equal(shown, expected.text, 'the ghost text is the model\'s greedy answer, as the core engine computes it');
    assert.match(shown, /^\S/, `the ghost text "${shown}" starts with whitespace`);
    const cursorBox = await editor.locator('.cursors-layer .cursor').first().boundingBox();
    const ghostBox = await ghost.boundingBox();
    assert.ok(cursorBox && ghostBox && Math.abs(ghostBox.x - cursorBox.x) <= 2, `ghost text at x=${ghostBox?.x}, cursor at x=${cursorBox?.x}`);
    await workbench.screenshot('completion-after-enter');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+S');
    await page.waitForTimeout(1000);
    const saved = readFileSync(join(workbench.workspaceDir, 'src', 'column.py'), 'utf8');
    const inserted = saved.slice(saved.lastIndexOf('    if n < 2:\n')).split('\n')[1] ?? '';
    assert.equal(inserted, `        ${shown.split('\n')[0].trimEnd()}`, `the accepted line sits at the editor's indentation: ${JSON.stringify(inserted)}`);
    console.log(`# after Enter: ghost text ${JSON.stringify(shown)}, accepted line ${JSON.stringify(inserted)}`);
  });
});

