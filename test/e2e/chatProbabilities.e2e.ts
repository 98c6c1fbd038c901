// The chat's probability view and Show Prompt Tokens for a chat turn, end to end, with a model that
// has a chat template running in the model process (the random-weight tiny-qwen2 test model: its
// words are nonsense, its probabilities are real). The answer is decoded greedily (temperature 0),
// so the test computes here, with the core runtime on the same files, the exact tokens the view
// must show, their probabilities, and the exact prompt sequence with its control tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { LocalModel } from '../../src/core/runtime/localModel';
import type { PromptInput, TokenEvent } from '../../src/core/runtime/types';
import { formatPercent } from '../../src/core/webview/probabilityScale';
import { collect } from '../unit/runtime/helpers';
import { findFrame, repoRoot, startWorkbench, waitUntilShown, type Workbench } from './harness/workbench';

const model = `${repoRoot}/test/fixtures/models/tiny-qwen2`;
const question = 'What does retry() do?';
/** The smallest tokenscope.chat.maxTokens allows. */
const maxTokens = 16;
const prompt: PromptInput = { kind: 'chat', messages: [{ role: 'user', content: question }], addGenerationPrompt: true, variables: {} };

describe('chat token probabilities and the prompt as tokens', () => {
  let workbench: Workbench;
  let expected: TokenEvent[];
  let promptIds: number[];
  let controlIds: Set<number>;

  before(async () => {
    const local = await LocalModel.load({ model, variant: 'auto', threads: 0 }, { packageRoot: repoRoot, cwd: repoRoot });
    try {
      promptIds = local.encodePrompt(prompt);
      controlIds = new Set(local.tokenizer.specialTokens.values());
      expected = (await collect(local.generate({ prompt, maxTokens, sampling: { temperature: 0 }, topLogprobs: 5 }))).tokens;
    } finally {
      await local.dispose();
    }
    workbench = await startWorkbench({ name: 'chat-probabilities', settings: { 'tokenscope.model': model, 'tokenscope.chat.temperature': 0, 'tokenscope.chat.maxTokens': maxTokens } });
  });

  after(async () => {
    await workbench?.stop();
  });

  it('shows the answer token by token with each token\'s probability, and the alternatives on hover', async () => {
    const { page } = workbench;
    const chat: FrameLocator = await workbench.openChatView();
    const input = chat.locator('textarea.input');
    await input.waitFor({ state: 'visible' });
    await chat.locator('.status .model', { hasText: 'tiny-qwen2' }).waitFor();
    await input.fill(question);
    await input.press('Enter');
    await chat.locator('.message.assistant.has-probabilities .token-view').waitFor({ state: 'attached', timeout: 60_000 });
    const toggle = chat.locator('button.probabilities-toggle');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    const spans = chat.locator('.message.assistant .token-view .tok');
    await spans.first().waitFor({ state: 'visible' });
    // Exactly the greedy tokens, each tinted by its band.
    const shown = await spans.evaluateAll((elements) => elements.map((element) => ({ text: element.textContent, className: element.className })));
    assert.deepEqual(shown.map((span) => span.text), expected.map((token) => (token.text === '' ? '∅' : token.text)));
    assert.match(await chat.locator('.token-legend').innerText(), new RegExp(`^${expected.length} generated tokens, by the model's probability:`));
    // The answer's markdown is hidden while the view is on.
    assert.equal(await chat.locator('.message.assistant > .answer').isVisible(), false);

    // Hover the first token: its probability, and the alternatives with the chosen one (the likeliest: greedy) first.
    await spans.first().hover();
    const popup = chat.locator('.token-popup');
    await waitUntilShown(popup);
    const first = expected[0]!;
    assert.match(await popup.locator('.token-popup-head').innerText(), new RegExp(` p ${formatPercent(Math.exp(first.logprob)).replace('.', '\\.')} · ln p ${first.logprob.toFixed(3).replace('.', '\\.')}$`));
    const bars = await popup.locator('.token-bar .value').allInnerTexts();
    assert.deepEqual(bars, first.top.map((alternative) => formatPercent(Math.exp(alternative.logprob))));
    assert.equal(await popup.locator('.token-bar').first().getAttribute('class'), 'token-bar chosen');
    await workbench.screenshot('chat-probabilities');

    // Off again: the answer as Markdown.
    await page.mouse.move(0, 0);
    await toggle.click();
    await chat.locator('.message.assistant > .answer').waitFor({ state: 'visible' });
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.webviewErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });

  it('Show Prompt Tokens shows the chat turn as the one sequence the model read, control tokens counted apart', async () => {
    const { page } = workbench;
    await workbench.runCommand('Tokenscope: Show Prompt Tokens');
    await page.locator('.tabs-container .tab', { hasText: 'Prompt tokens' }).waitFor();
    const frame = await findFrame(page, '#counts');
    const control = promptIds.filter((id) => controlIds.has(id)).length;
    assert.equal(await frame.locator('#counts').textContent(), `${promptIds.length} tokens: ${control} control tokens and ${promptIds.length - control} of text.`);
    assert.ok(control >= 4, 'the template puts <|im_start|> and <|im_end|> around each turn');
    const ids = await frame.locator('.tokens span[title^="id "]').evaluateAll((spans) => spans.map((span) => Number(/^id (\d+)/.exec(span.getAttribute('title')!)![1])));
    assert.deepEqual(ids, promptIds);
    const highlighted = await frame.locator('.tokens span.special').evaluateAll((spans) => spans.map((span) => span.textContent));
    assert.deepEqual(new Set(highlighted), new Set(['<|im_start|>', '<|im_end|>']));
    assert.match(await frame.locator('body > p.muted').first().textContent() ?? '', /^What tiny-qwen2 read last, at \d\d:\d\d:\d\d: a chat turn or an explanation/);
    await workbench.screenshot('prompt-tokens');
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.webviewErrors, []);
  });
});
