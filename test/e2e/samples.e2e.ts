// Sample Side by Side end to end: select a function in a real VS Code (code-server), run the command,
// pick "Same temperature, four seeds", and see four columns fill in. What each column must say (its
// settings, its text, its token count and log-probability, which one is the likeliest) is computed
// here by the core runner on the same model files, not read off the screen. Then Show Prompt Tokens
// shows the sequence the model read for the last run: exactly the ids the core encodes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalModel } from '../../src/core/runtime/localModel';
import { parseSamplePlan, sampleMaxTokens, samplePresets } from '../../src/core/samples/samplePlan';
import { compareSampleRuns, runSamples, runText, totalLogprob, type SampleRun } from '../../src/core/samples/runSamples';
import { findFrame, repoRoot, sampleWorkspace, startWorkbench, type Workbench } from './harness/workbench';

const fileLines = readFileSync(join(sampleWorkspace, 'src', 'fibonacci.py'), 'utf8').split('\n');
/** The selection: the decorator and the function's first four lines (lines 6-9, 1-based). */
const firstLine = fileLines.findIndex((line) => line.startsWith('@lru_cache'));
const selectedLines = 4;
const selection = `${fileLines.slice(firstLine, firstLine + selectedLines).join('\n')}\n`;
const preset = samplePresets[0]!;

async function expectedRuns(): Promise<{ runs: readonly SampleRun[]; promptIds: number[] }> {
  const model = await LocalModel.load({ model: 'mini', variant: 'auto', threads: 0 }, { packageRoot: repoRoot, cwd: repoRoot });
  try {
    let runs: readonly SampleRun[] = [];
    const prompt = { kind: 'text', text: selection } as const;
    const options = { generate: model.generate.bind(model), prompt, plan: parseSamplePlan(preset.plan), maxTokens: sampleMaxTokens, signal: new AbortController().signal };
    for await (const snapshot of runSamples(options)) runs = snapshot;
    return { runs, promptIds: model.encodePrompt(prompt) };
  } finally {
    await model.dispose();
  }
}

describe('Sample side by side, then the prompt tokens', () => {
  let workbench: Workbench;
  let expected: readonly SampleRun[];
  let promptIds: number[];

  before(async () => {
    ({ runs: expected, promptIds } = await expectedRuns());
    workbench = await startWorkbench({ name: 'samples' });
    await workbench.openFile('src/fibonacci.py');
  });

  after(async () => {
    await workbench?.stop();
  });

  it('runs the selection four times and shows each answer with its settings, figures and the likeliest marked', async () => {
    const { page } = workbench;
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Home');
    for (let line = 0; line < firstLine; line++) await page.keyboard.press('ArrowDown');
    for (let line = 0; line < selectedLines; line++) await page.keyboard.press('Shift+ArrowDown');
    // From the palette, as a user would; not workbench.runCommand, whose first Escape would drop the selection.
    await page.keyboard.press('F1');
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.locator('input.input').fill('>Tokenscope: Sample Side by Side');
    await quickInput.locator('.monaco-list-row', { hasText: 'Tokenscope: Sample Side by Side…' }).first().click();
    await quickInput.locator('.monaco-list-row', { hasText: preset.label }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'Sample side by side' }).waitFor();
    const finished = await workbench.waitForLog(/Sample side by side: 4 runs on tokenscope-mini in \d+ ms \(([^)]*)\)/, 120_000);
    assert.equal(finished[1], expected.map((run) => `done ${run.tokens.length} tok`).join(', '));

    const frame = await findFrame(page, `.run[data-run="4"][data-status="done"]`);
    const columns = await frame.locator('.run').evaluateAll((elements) =>
      elements.map((element) => ({
        heading: element.querySelector('h3')?.textContent ?? '',
        status: element.getAttribute('data-status'),
        tokens: Number(element.getAttribute('data-tokens')),
        total: Number(element.getAttribute('data-total-logprob')),
        text: element.querySelector('.text')?.textContent ?? '',
        pieces: element.querySelectorAll('.text span').length,
        likeliest: element.classList.contains('likeliest'),
      })),
    );
    assert.deepEqual(
      columns.map((column) => column.heading),
      ['Run 1 · greedy (T 0)', 'Run 2 · T 0.8 · seed 1', 'Run 3 · T 0.8 · seed 2', 'Run 4 · T 0.8 · seed 3'],
    );
    // The quoted prompt is the selection, continued as text (the built-in model has no chat template).
    assert.equal(await frame.locator('pre.prompt').textContent(), selection);
    assert.match(await frame.locator('body > p.muted').first().textContent() ?? '', /^tokenscope-mini · the same prompt continued as text/);
    const likeliest = compareSampleRuns(expected).likeliest;
    for (const [index, column] of columns.entries()) {
      const run = expected[index]!;
      assert.equal(column.status, 'done');
      assert.equal(column.text, runText(run), `run ${index + 1}'s text`);
      assert.equal(column.tokens, run.tokens.length);
      assert.equal(column.pieces, run.tokens.length, 'one tinted piece per token');
      assert.ok(Math.abs(column.total - totalLogprob(run)) < 1e-3, `run ${index + 1}: ${column.total} vs ${totalLogprob(run)}`);
      assert.equal(column.likeliest, index === likeliest);
    }
    await workbench.screenshot('sample-side-by-side');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.webviewErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });

  it('Show Prompt Tokens (the chat view\'s title bar) shows the ids the model read for the last run, none of them control tokens', async () => {
    const { page } = workbench;
    await workbench.runCommand('View: Close Editor'); // the samples panel
    await workbench.openChatView();
    const button = page.locator('.pane-header .action-label[aria-label="Show Prompt Tokens"], .title-actions .action-label[aria-label="Show Prompt Tokens"]').first();
    await button.click();
    await page.locator('.tabs-container .tab', { hasText: 'Prompt tokens' }).waitFor();
    const frame = await findFrame(page, '#counts');
    assert.equal(await frame.locator('#counts').textContent(), `${promptIds.length} tokens: 0 control tokens and ${promptIds.length} of text.`);
    const ids = await frame.locator('.tokens span[title^="id "]').evaluateAll((spans) => spans.map((span) => Number(span.getAttribute('title')!.slice(3))));
    assert.deepEqual(ids, promptIds);
    assert.match(await frame.locator('body > p.muted').first().textContent() ?? '', /^What tokenscope-mini read last, at \d\d:\d\d:\d\d: plain text to continue/);
    await workbench.waitForLog(new RegExp(`Prompt tokens: text prompt of ${promptIds.length} tokens \\(0 control\\) on tokenscope-mini`));
    await workbench.screenshot('prompt-tokens-text');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.webviewErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });
});
