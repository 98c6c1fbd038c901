// OpenAI-compatible servers end to end: two `tokenscope serve` processes started by the test (the
// built-in model for completions, the random-weight tiny-qwen2 chat model for chat), connected
// through "Tokenscope: Connect to a Server…" as a user would; then ghost text comes from one and
// a chat answer from the other, each server's log showing the requests.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { repoRoot, startWorkbench, type Workbench } from './harness/workbench';

interface Served {
  readonly url: string;
  readonly log: () => string;
  stop(): Promise<void>;
}

async function serve(model: string): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', '--model', model, '--port', '0', '--threads', '1', '--verbose'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`tokenscope serve --model ${model} exited (${code}):\n${output}`)));
  });
  return {
    url,
    log: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

const ghostSelector = '.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text-decoration-preview';

/** Runs Connect to a Server…: types the URL, takes the server's (only) model, picks what it is for. */
async function connect(workbench: Workbench, url: string, useFor: 'Completions only' | 'Chat only', shot?: string): Promise<void> {
  const { page } = workbench;
  const widget = page.locator('.quick-input-widget');
  await workbench.runCommand('Tokenscope: Connect to a Server…');
  await widget.locator('.quick-input-title', { hasText: '(1/3)' }).waitFor();
  await widget.locator('input.input').fill(url);
  await widget.locator('.monaco-list-row', { hasText: url }).first().waitFor();
  if (shot) await workbench.screenshot(shot);
  await page.keyboard.press('Enter');
  await widget.locator('.quick-input-title', { hasText: '(2/3)' }).waitFor({ timeout: 30_000 });
  if (shot) await workbench.screenshot(`${shot}-model`);
  await page.keyboard.press('Enter');
  await widget.locator('.quick-input-title', { hasText: '(3/3)' }).waitFor();
  await widget.locator('.monaco-list-row', { hasText: useFor }).first().click();
  await page.locator('.notifications-toasts', { hasText: /now uses? / }).first().waitFor({ timeout: 15_000 });
}

async function typeForGhostText(page: Page): Promise<{ shown: boolean; typed: string }> {
  const ghost = page.locator(ghostSelector).first();
  for (const start of ['return ', 'result = ', 'total = ']) {
    await page.keyboard.type(start, { delay: 40 });
    let shown = await ghost.waitFor({ state: 'visible', timeout: 20_000 }).then(() => true, () => false);
    if (!shown) {
      await page.keyboard.press('Alt+\\');
      shown = await ghost.waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false);
    }
    if (shown) return { shown, typed: start };
    for (let index = 0; index < start.length; index++) await page.keyboard.press('Backspace');
  }
  return { shown: false, typed: '' };
}

describe('OpenAI-compatible servers: Connect to a Server… then ghost text and chat from tokenscope serve', { timeout: 600_000 }, () => {
  let workbench: Workbench;
  let completionsServer: Served;
  let chatServer: Served;

  before(async () => {
    [completionsServer, chatServer] = await Promise.all([serve('mini'), serve(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen2'))]);
    workbench = await startWorkbench({
      name: 'server',
      settings: {
        'tokenscope.completions.enabled': true,
        'tokenscope.completions.debounceMs': 80,
        'tokenscope.completions.minConfidence': 0,
        'tokenscope.tokenLens.hover': false,
        'editor.inlineSuggest.enabled': true,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
      },
    });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
    await completionsServer?.stop();
    await chatServer?.stop();
  });

  it('connects completions to one server and chat to another, through the command', async () => {
    await connect(workbench, completionsServer.url, 'Completions only', 'server-connect');
    await workbench.waitForLog(/Completions: tokenscope-mini @ 127\.0\.0\.1:\d+; chat: local model\./);
    await connect(workbench, chatServer.url, 'Chat only');
    await workbench.waitForLog(/Completions: tokenscope-mini @ 127\.0\.0\.1:\d+; chat: tiny-qwen2 @ 127\.0\.0\.1:\d+\./);
    const status = workbench.page.locator('.statusbar-item', { hasText: /tokenscope-mini @ 127\.0\.0\.1:\d+/ }).first();
    await status.waitFor();
  });

  it('ghost text comes from the completions server', async () => {
    const { page } = workbench;
    await workbench.openFile('src/fibonacci.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'def fibonacci' }).waitFor();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.type('def fib_sum(n: int) -> int:', { delay: 40 });
    await page.keyboard.press('Enter');
    const { shown } = await typeForGhostText(page);
    await page.waitForTimeout(300);
    await workbench.screenshot('server-ghost-text');
    assert.ok(shown, `no ghost text. Tokenscope log:\n${workbench.readLog().slice(-3000)}\nServer log:\n${completionsServer.log().slice(-2000)}`);
    // The engine chose token-id prompts with the tokenizer the server handed out, and the server answered.
    await workbench.waitForLog(/Completions from tokenscope-mini on 127\.0\.0\.1:\d+ \(tokenscope\): .*prompts as token ids/);
    assert.match(completionsServer.log(), /(request done|client went away; generation cancelled) \{"route":"\/completions"/, "the server answered (or was told to stop once the line was complete)");
    assert.doesNotMatch(workbench.readLog(), /Loaded Tokenscope mini/, 'the local model process did not load a model');
    // The item names the server; its latency, or 'from cache' / 'prepared ahead' when the suggestion
    // shown was one of the server's earlier answers reused while typing (the log above proves one came).
    const status = page.locator('.statusbar-item', { hasText: /tokenscope-mini @ 127\.0\.0\.1:\d+ (\d+ ms|from cache|prepared ahead)/ }).first();
    await status.waitFor({ timeout: 30_000 });
    assert.match(await status.innerText(), /\d+% sure/, 'the server\'s logprobs became the confidence');
  });

  it('a chat answer comes from the chat server, with its usage in the stats', async () => {
    const chat = await workbench.openChatView();
    await chat.locator('.status .model', { hasText: /tiny-qwen2 @ 127\.0\.0\.1:\d+/ }).waitFor({ timeout: 30_000 });
    const input = chat.locator('textarea.input');
    await input.fill('Say hello.');
    await input.press('Enter');
    await chat.locator('.message.assistant:not(.streaming) .message-footer').first().waitFor({ timeout: 60_000 });
    const answer = chat.locator('.message.assistant').first();
    await workbench.screenshot('server-chat-answer');
    assert.equal(await answer.locator('.error').count(), 0, `no error: ${await answer.innerText()}\n${workbench.readLog().slice(-2000)}`);
    const stats = await answer.locator('.stats').innerText();
    assert.match(stats, /^\d+ prompt · \d+ generated/);
    assert.match(stats, /\d+% sure/, 'logprobs from the server');
    assert.match(chatServer.log(), /request done \{"route":"\/chat\/completions"/);
    assert.deepEqual(workbench.pageErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });

  it('the server settings read well in the Settings UI', async () => {
    const { page } = workbench;
    await workbench.runCommand('Preferences: Open User Settings');
    await page.locator('.settings-editor').waitFor();
    // The search box has focus when the Settings editor opens.
    await page.waitForTimeout(500);
    await page.keyboard.type('tokenscope.completions.backend', { delay: 20 });
    const row = page.locator('.settings-editor .setting-item-contents', { hasText: 'Where inline completions come from' }).first();
    const found = await row.waitFor({ timeout: 20_000 }).then(() => true, () => false);
    await page.waitForTimeout(500);
    await workbench.screenshot('server-settings');
    assert.ok(found, 'the setting is listed');
    assert.match(await row.innerText(), /Completions: Backend/);
    assert.equal(await row.locator('select').first().inputValue(), 'server', 'Connect to a Server… set it');
  });
});
