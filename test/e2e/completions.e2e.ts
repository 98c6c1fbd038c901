// Inline completions end to end, as a user meets them: the packaged extension with the built-in
// model in a real VS Code (code-server) in headless chromium. Type in a source file, see ghost
// text produced by the model, accept it with Tab, check the document and the status bar latency.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sampleWorkspace, startWorkbench, waitUntilShown, type Workbench } from './harness/workbench';

/**
 * The built-in model by default. TOKENSCOPE_E2E_COMPLETION_MODEL=<absolute model folder> runs the same
 * test on another model (e.g. the random-weight test/fixtures/models/tiny-qwen2 to check the editor
 * mechanics independently of the built-in model's quality).
 */
const completionModel = process.env.TOKENSCOPE_E2E_COMPLETION_MODEL || 'mini';
const statusLabel = completionModel === 'mini' ? 'tokenscope-mini' : completionModel.split('/').filter(Boolean).pop() ?? completionModel;

/** Ghost text as VS Code renders it: the cursor line's part, then any further lines in a view zone. */
const ghostSelector = '.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text-decoration-preview';

describe('inline completions in a real VS Code', { timeout: 420_000 }, () => {
  let workbench: Workbench;

  before(async () => {
    workbench = await startWorkbench({
      name: 'completions',
      settings: {
        'tokenscope.model': completionModel,
        'tokenscope.completions.enabled': true,
        'tokenscope.completions.debounceMs': 80,
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

  it('shows the model\'s suggestion as ghost text, accepts it with Tab, and reports the latency', async () => {
    const { page } = workbench;
    await workbench.openFile('src/fibonacci.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'def fibonacci' }).waitFor();
    await editor.locator('.view-lines').click();
    // Go to the end of `def is_palindrome(...) -> bool:` + its body, and start a new function there.
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.type('def fib_sum(n: int) -> int:', { delay: 40 });
    await page.keyboard.press('Enter');

    // Start a statement and pause: the automatic trigger asks the model; if its answer was empty at
    // that spot (a small model often has nothing useful), ask explicitly (Alt+\), then try another start.
    const ghost = page.locator(ghostSelector).first();
    const starts = ['result = ', 'total = ', 'return '];
    let typed = '';
    let shown = false;
    for (const start of starts) {
      await page.keyboard.type(start, { delay: 40 });
      typed = start;
      shown = await ghost.waitFor({ state: 'visible', timeout: 30_000 }).then(() => true, () => false);
      if (!shown) {
        await page.keyboard.press('Alt+\\');
        shown = await ghost.waitFor({ state: 'visible', timeout: 20_000 }).then(() => true, () => false);
      }
      if (shown) break;
      // Clear what was typed (the indentation stays) and try the next start.
      for (let index = 0; index < start.length; index++) await page.keyboard.press('Backspace');
    }
    await workbench.screenshot('completion-ghost-text');
    assert.ok(shown, `no ghost text appeared. Tokenscope log:\n${workbench.readLog().slice(-3000)}`);

    // The suggestion came from the model: the engine logged the request with its token counts.
    const record = await workbench.waitForLog(/First completion completed: (\d+) prompt \+ (\d+) generated tokens in (\d+) ms/, 30_000);
    assert.ok(Number(record[2]) > 0, 'the model generated tokens');
    const ghostText = (await page.locator(ghostSelector).allInnerTexts()).join('').replace(/\u00a0/g, ' ');
    assert.ok(ghostText.trim().length > 0, 'the ghost text is not blank');

    // The status bar shows the model and the last latency (and tokens/s) once the request ended.
    const latencyPattern = new RegExp(`${statusLabel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\d+ ms`);
    const status = page.locator('.statusbar-item', { hasText: latencyPattern }).first();
    await status.waitFor({ state: 'visible', timeout: 30_000 });
    const statusText = (await status.innerText()).trim();
    assert.match(statusText, latencyPattern);
    // ...and how sure the model was of the suggestion (the geometric mean of its token probabilities).
    assert.match(statusText, /\d+% sure/);

    // Partial accept: Ctrl+Right takes the suggestion's next word; the rest stays as ghost text
    // (VS Code asks again, and the engine serves the rest by typing-along, without a model request).
    const wordAccepted = /\w/.test(ghostText) && ghostText.split('\n')[0].trim().length > 0;
    if (wordAccepted) {
      await page.keyboard.press('Control+ArrowRight');
      await page.waitForTimeout(500);
      await workbench.screenshot('completion-word-accepted');
    }

    const before = workbench.workspaceDir;
    await page.keyboard.press('Tab');
    await page.locator(ghostSelector).first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
    await page.keyboard.press('Control+S');
    await page.waitForTimeout(1000);
    await workbench.screenshot('completion-accepted');

    const saved = readFileSync(join(before, 'src', 'fibonacci.py'), 'utf8');
    const lineStart = saved.indexOf('def fib_sum(n: int) -> int:\n');
    assert.ok(lineStart !== -1, `the typed function is in the saved file:\n${saved.slice(-400)}`);
    const body = saved.slice(lineStart).split('\n')[1];
    // The first ghost line was inserted right after what was typed on the cursor line.
    const firstGhostLine = ghostText.split('\n')[0].trimEnd();
    assert.equal(body.trimEnd(), `    ${typed}${firstGhostLine}`.trimEnd(), `after Tab the line is "${body}", typed "${typed}", ghost text "${firstGhostLine}"`);
    console.log(`# completion: "${ghostText.replace(/\n/g, '\\n')}" · status bar: "${statusText}" · ${record[0]}`);
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
    await workbench.openFile('src/column.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'if n < 2:' }).waitFor();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');

    // Held back: the item's own text says so, with how sure the model was and how to see it.
    const heldBack = page.locator('.statusbar-item', { hasText: /held back · \d+% sure · Alt\+\\ shows it/ }).first();
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
    const ghostText = (await page.locator(ghostSelector).allInnerTexts()).join('').replace(/\u00a0/g, ' ');
    assert.match(ghostText, /^\S/, `the ghost text "${ghostText}" starts with whitespace`);
    const cursorBox = await editor.locator('.cursors-layer .cursor').first().boundingBox();
    const ghostBox = await ghost.boundingBox();
    assert.ok(cursorBox && ghostBox && Math.abs(ghostBox.x - cursorBox.x) <= 2, `ghost text at x=${ghostBox?.x}, cursor at x=${cursorBox?.x}`);
    await workbench.screenshot('completion-after-enter');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+S');
    await page.waitForTimeout(1000);
    const saved = readFileSync(join(workbench.workspaceDir, 'src', 'column.py'), 'utf8');
    const inserted = saved.slice(saved.lastIndexOf('    if n < 2:\n')).split('\n')[1] ?? '';
    assert.equal(inserted, `        ${ghostText.split('\n')[0].trimEnd()}`, `the accepted line sits at the editor's indentation: ${JSON.stringify(inserted)}`);
    console.log(`# after Enter: ghost text ${JSON.stringify(ghostText)}, accepted line ${JSON.stringify(inserted)}`);
  });
});

