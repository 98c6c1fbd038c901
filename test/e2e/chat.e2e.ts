// The chat sidebar, Explain Selection and reasoning annotations in a real VS Code (code-server),
// with model output from the replay backend: recorded-format transcripts (test/fixtures/transcripts)
// streamed through the same path a model's tokens take.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { modelProcesses, repoRoot, startWorkbench, waitUntilShown, type Workbench } from './harness/workbench';

const transcripts = join(repoRoot, 'test', 'fixtures', 'transcripts');
const sampleWorkspace = join(transcripts, 'sample');

/** Text after each line of the active editor drawn by `after` decorations (the annotations). */
async function annotationTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const texts: string[] = [];
    for (const span of Array.from(document.querySelectorAll('.editor-group-container.active .view-lines span'))) {
      const content = getComputedStyle(span, '::after').content;
      if (content && content !== 'none' && content !== 'normal' && content.includes('◂')) texts.push(content);
    }
    return texts;
  });
}

/** Polls until at least `min` annotations are drawn (they are applied as editors become visible). */
async function waitForAnnotations(page: Page, min: number): Promise<string[]> {
  let texts: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    texts = await annotationTexts(page);
    if (texts.length >= min) return texts;
    await page.waitForTimeout(250);
  }
  return texts;
}

async function waitForAnswer(chat: FrameLocator, count: number): Promise<void> {
  // Finished answers lose the `streaming` class and gain their stats line.
  await chat.locator('.message.assistant:not(.streaming) .message-footer').nth(count - 1).waitFor({ timeout: 60_000 });
}

/**
 * Opens the chat through its command (as a user with the keyboard would) and returns the webview's
 * content frame: a webview view is an iframe holding another iframe with the extension's HTML.
 */
async function openChat(workbench: Workbench): Promise<FrameLocator> {
  const { page } = workbench;
  // Right after a reload the extension may not have registered its commands yet: retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await workbench.runCommand('Tokenscope: Open Chat');
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
  }
  // Webviews live in an overlay of the workbench, not inside the side bar's DOM.
  await page.locator('iframe.webview.ready').first().waitFor({ state: 'attached' });
  const content = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
  try {
    await content.locator('#app > *').first().waitFor();
  } catch (error) {
    await workbench.screenshot('chat-open-failed');
    throw error;
  }
  return content;
}

/**
 * Posts a message to the extension host exactly as the chat page's \`acquireVsCodeApi().postMessage\`
 * does (through the webview host frame's bridge), so a test can send what the page never would: a
 * compromised or buggy page.
 */
async function postFromWebview(page: Page, message: unknown): Promise<void> {
  await page.frameLocator('iframe.webview.ready').first().locator('body').evaluate((_body, data) => {
    (window as unknown as { __vscode_post_message__: (channel: string, payload: unknown) => void }).__vscode_post_message__('onmessage', { message: data });
  }, message);
}

/** The chat history file in this VS Code's global storage, parsed (undefined until written). */
function readHistory(workbench: Workbench): { conversations: { messages: unknown[] }[] } | undefined {
  const file = join(workbench.server.userDataDir, 'User', 'globalStorage', 'tokenscope.tokenscope', 'chat-history.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** Nothing went wrong in the page or its webviews, and nothing left code-server's host. */
function assertCleanPage(workbench: Workbench): void {
  assert.deepEqual(workbench.pageErrors, [], 'uncaught errors in the page or its webviews');
  assert.deepEqual(workbench.webviewErrors, [], 'console errors in a webview (script errors, CSP violations, failed loads)');
  assert.deepEqual(workbench.externalRequests, [], 'requests to hosts other than code-server');
}

async function send(chat: FrameLocator, text: string): Promise<void> {
  const input = chat.locator('textarea.input');
  await input.fill(text);
  await input.press('Enter');
}

describe('Chat, Explain Selection and reasoning annotations (replay backend)', { timeout: 600_000 }, () => {
  let workbench: Workbench;
  let chat: FrameLocator;

  before(async () => {
    // Slow enough to watch (and stop) the stream, fast enough for a short test.
    process.env.TOKENSCOPE_CHAT_REPLAY_DELAY_MS = '10';
    workbench = await startWorkbench({ name: 'chat', workspace: sampleWorkspace, settings: { 'tokenscope.chat.testBackend': transcripts, 'tokenscope.tokenLens.hover': false } });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
  });

  it('sends a message and streams an answer with a collapsible Thinking block and stats', async () => {
    chat = await openChat(workbench);
    await chat.locator('.status .model', { hasText: /Replay/ }).waitFor();
    await send(chat, 'When should I use retry with backoff?');
    // Mid-stream: the answer is still streaming while the trace (or answer) grows.
    const streaming = chat.locator('.message.assistant.streaming');
    await streaming.waitFor();
    await streaming.locator('details.thinking').waitFor();
    await workbench.screenshot('chat-streaming');
    await waitForAnswer(chat, 1);

    const answer = chat.locator('.message.assistant').first();
    const summary = (await answer.locator('details.thinking > summary').innerText()).trim();
    assert.match(summary, /^Thinking · \d+ tokens · [\d.]+ (ms|s)$/);
    assert.equal(await answer.locator('details.thinking').getAttribute('open'), null, 'the trace is collapsed once the answer is there');
    assert.match(await answer.locator('.answer').innerText(), /idempotent/);
    assert.ok(await answer.locator('.answer ol li').count() >= 3, 'the Markdown list rendered');
    assert.match(await answer.locator('.answer .code-block code').innerText(), /Math\.random\(\)/);
    for (const action of ['copy', 'insert', 'replace']) assert.equal(await answer.locator(`.code-action[data-action="${action}"]`).count(), 1);
    assert.match(await answer.locator('.stats').innerText(), /^\d+ prompt · \d+ generated · [\d.]+ tok\/s · [\d.]+ (ms|s) to first token/);

    await answer.locator('details.thinking > summary').click();
    await answer.locator('.thinking-body', { hasText: /idempotent operations/ }).waitFor();
    await workbench.screenshot('chat-thinking');
  });

  it('shows the prompt token count and context left before sending', async () => {
    await chat.locator('textarea.input').fill('How long does it wait in total?');
    const info = chat.locator('.prompt-info');
    await info.filter({ hasText: /\d+ prompt tokens · [\d,]+ of 32,768 left/ }).waitFor();
    await chat.locator('textarea.input').fill('');
  });

  it('renders model markup inert and never follows links without asking', async () => {
    await send(chat, 'Show me untrusted markup');
    await waitForAnswer(chat, 2);
    const answer = chat.locator('.message.assistant').nth(1);
    assert.match(await answer.locator('.answer').innerText(), /<img src=x onerror=/);
    assert.equal(await chat.locator('.transcript img, .transcript script, .transcript iframe').count(), 0);
    assert.equal(await chat.locator('body').evaluate((body) => body.dataset.pwned ?? null), null);
    assert.equal(await chat.locator('.transcript a[href]').count(), 0, 'no link has an href');
    // A `<think>` inside the answer's code block is code, not a trace.
    assert.match(await answer.locator('.code-block code').innerText(), /<think>this is not a trace<\/think>/);

    await answer.locator('.md-link').click();
    const dialog = workbench.page.locator('.monaco-dialog-box');
    await waitUntilShown(dialog.filter({ hasText: /links to https:\/\/example\.com\// }));
    await workbench.screenshot('chat-link-confirm');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // The untrusted markup ran nothing and loaded nothing: no error, no request to its hosts.
    assertCleanPage(workbench);
  });

  it('the host refuses command: and file: links, applies Replace and Copy, and drops malformed messages', async () => {
    const { page } = workbench;
    const log = () => workbench.readLog();
    // A scratch file to take the code, with its whole text selected for Replace.
    writeFileSync(join(workbench.workspaceDir, 'scratch.ts'), 'const placeholder = 1;\n');
    await workbench.openFile('scratch.ts');
    chat = await openChat(workbench);
    const notices = chat.locator('.transcript .message.notice');
    const noticesBefore = await notices.count();

    // Links the page asks the host to open: not http(s)/mailto, so a notice and nothing opened (no
    // dialog, no Output panel from command:tokenscope.showLogs, no editor or window for the file).
    for (const [href, scheme] of [['command:tokenscope.showLogs', 'command'], ['file:///etc/passwd', 'file']]) {
      await postFromWebview(page, { type: 'openLink', href });
      await notices.filter({ hasText: `Tokenscope opens only http, https and mailto links from model output, not ${scheme}: links.` }).waitFor();
    }
    await page.waitForTimeout(500);
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no dialog');
    assert.equal(await page.locator('.part.panel').isVisible(), false, 'command:tokenscope.showLogs did not run');
    assert.equal(await page.locator('.tabs-container .tab', { hasText: 'passwd' }).count(), 0, 'the file was not opened');
    assert.equal(page.context().pages().length, 1, 'no window was opened');
    await workbench.screenshot('chat-link-refused');

    // Replace: the first answer's code block replaces the editor's selection, exactly.
    const code = chat.locator('.message.assistant').first().locator('.code-block').first();
    const codeText = await code.locator('code').innerText();
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+A');
    await code.locator('.code-action[data-action="replace"]').click();
    await page.locator('.editor-group-container.active .view-lines', { hasText: /Math\.random\(\)/ }).waitFor();
    await page.keyboard.press('Control+S');
    const scratch = join(workbench.workspaceDir, 'scratch.ts');
    for (let attempt = 0; attempt < 50 && readFileSync(scratch, 'utf8') !== codeText; attempt++) await page.waitForTimeout(100);
    assert.equal(readFileSync(scratch, 'utf8'), codeText, 'Replace put the code block in place of the selection');

    // Copy: the code goes to the clipboard (pasted back over the file to check), and the status bar says so.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await code.locator('.code-action[data-action="copy"]').click();
    await page.locator('.statusbar-item', { hasText: 'Code copied' }).waitFor();
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+V');
    await page.keyboard.press('Control+S');
    for (let attempt = 0; attempt < 50 && readFileSync(scratch, 'utf8') !== codeText; attempt++) await page.waitForTimeout(100);
    assert.equal(readFileSync(scratch, 'utf8'), codeText, 'Copy put the code block on the clipboard');

    // Malformed messages: each dropped by the host with a log line, none acted on. Were one let
    // through, it would show (an insert of ["x"] into the editor, a dialog for the over-long link)
    // or fail in the handler (an error in the log).
    const warnings = () => log().split('\n').filter((line) => line.includes('Chat view sent a malformed message')).length;
    const warningsBefore = warnings();
    const errorsBefore = log().split('\n').filter((line) => /\[error\]/.test(line)).length;
    const malformed: unknown[] = [
      'not an object',
      null,
      { type: 'noSuchMessage' },
      { type: 'send' },
      { type: 'codeAction', action: 'insert', code: ['x'] },
      { type: 'codeAction', action: 'delete', code: 'x' },
      { type: 'openLink', href: 42 },
      { type: 'openLink', href: `https://example.com/${'x'.repeat(5000)}` },
    ];
    for (const message of malformed) await postFromWebview(page, message);
    const deadline = Date.now() + 10_000;
    while (warnings() < warningsBefore + malformed.length && Date.now() < deadline) await page.waitForTimeout(100);
    assert.equal(warnings() - warningsBefore, malformed.length, `each malformed message is logged as dropped:\n${log().slice(-1500)}`);
    await page.waitForTimeout(500);
    assert.equal(log().split('\n').filter((line) => /\[error\]/.test(line)).length, errorsBefore, 'no handler ran and failed');
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no dialog for the over-long link');
    await page.keyboard.press('Control+S');
    assert.equal(readFileSync(scratch, 'utf8'), codeText, 'the editor is untouched');
    assert.equal(await notices.count(), noticesBefore + 2, 'no notice beyond the two refused links');
    assertCleanPage(workbench);
    await workbench.runCommand('View: Close All Editor Groups');
    // Shown again for the tests after this one (the Stop button must be visible to be clicked).
    chat = await openChat(workbench);
    await chat.locator('textarea.input').waitFor({ state: 'visible' });
  });

  it('stops generation with the Stop button', async () => {
    await send(chat, 'Tell me about retry and backoff again');
    await chat.locator('.message.assistant.streaming').waitFor();
    await chat.locator('button.stop').click();
    await waitForAnswer(chat, 3);
    const stopped = chat.locator('.message.assistant').nth(2);
    assert.match(await stopped.locator('.stop-note').innerText(), /Stopped/);
    await workbench.waitForLog(/Chat answer aborted/);
  });

  it('explains a selection and annotates the cited lines in the editor', async () => {
    const { page } = workbench;
    await workbench.openFile('retry.ts');
    const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines');
    await editor.click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Home');
    await page.keyboard.press('Control+Shift+End');
    await page.keyboard.press('Control+Alt+KeyE');

    const explainQuestion = chat.locator('.message.user', { hasText: 'Explain retry.ts:2-14' });
    await explainQuestion.waitFor();
    await waitForAnswer(chat, 4);
    const answer = chat.locator('.message.assistant').nth(3);
    assert.match(await answer.locator('.answer').innerText(), /^Summary: retry runs an async operation/);
    assert.ok(await answer.locator('.citation').count() >= 5, 'line citations in the answer are clickable');

    const texts = await waitForAnnotations(page, 5);
    assert.ok(texts.length >= 5, `annotations beside the cited lines (found ${texts.length}: ${texts.join(' | ')})`);
    assert.ok(texts.some((text) => /lastError remembers the most recent failure/.test(text)), 'L3 carries the answer sentence that cites it');
    await page.keyboard.press('Escape');
    await workbench.screenshot('explain-annotations');

    // The hover over an annotation holds the whole paragraph that cites the line.
    const box = await page.evaluate(() => {
      for (const span of Array.from(document.querySelectorAll('.editor-group-container.active .view-lines span'))) {
        if (getComputedStyle(span, '::after').content.includes('lastError remembers')) {
          // The decoration's span sits at the line's end; its ::after text starts 3em further right.
          const rect = span.getBoundingClientRect();
          return { x: rect.left + 80, y: rect.top + rect.height / 2 };
        }
      }
      return undefined;
    });
    assert.ok(box, 'the annotation of L3 is on screen');
    await page.mouse.move(box.x, box.y);
    const hover = page.locator('.monaco-hover', { hasText: /Answer about line 3/ });
    await hover.waitFor();
    assert.match(await hover.innerText(), /remembers the most recent failure so it can be rethrown later/);
    await waitUntilShown(hover.first());
    await workbench.screenshot('explain-hover');
    await page.mouse.move(5, 5);

    // A citation in the chat selects its lines in the editor.
    await answer.locator('.answer .citation', { hasText: 'L13' }).first().click();
    await page.locator('.editor-group-container.active .selected-text').first().waitFor();
  });

  it('opens the whole trace as a highlighted tokenscope-trace document', async () => {
    const { page } = workbench;
    await chat.locator('.message.assistant').nth(3).locator('button.open-trace').click();
    await page.locator('.tabs-container .tab.active', { hasText: /\.tokenscope-trace/ }).waitFor();
    const lines = page.locator('.editor-group-container.active .view-lines');
    await lines.filter({ hasText: 'Tokenscope reasoning trace' }).waitFor();
    // Monaco renders spaces as U+00A0: \s matches both.
    await lines.filter({ hasText: /━━\sThinking\s·\s\d+\stokens/ }).waitFor();
    await lines.filter({ hasText: /━━\sAnswer\s━━/ }).waitFor();
    // The grammar colours citations differently from the trace text around them.
    // Tokenizing with the grammar is asynchronous: poll until the coloured spans are there.
    // (A string, not a function: the TypeScript loader would wrap inner functions in helpers the page lacks.)
    let colours: { citation?: string; thinking?: string } = {};
    for (let attempt = 0; attempt < 40 && !(colours.citation && colours.thinking); attempt++) {
      if (attempt > 0) await page.waitForTimeout(250);
      colours = (await page.evaluate(`(() => {
        const spans = Array.from(document.querySelectorAll('.view-lines span span'));
        const find = (pattern) => spans.find((span) => pattern.test(span.textContent || ''));
        const citation = find(/^L3$/);
        const thinking = find(/where\\sthe\\smost\\srecent/);
        return { citation: citation && getComputedStyle(citation).color, thinking: thinking && getComputedStyle(thinking).color };
      })()`)) as { citation?: string; thinking?: string };
    }
    assert.ok(colours.citation && colours.thinking && colours.citation !== colours.thinking, `citation ${colours.citation} vs thinking ${colours.thinking}`);
    await page.locator('.statusbar-item', { hasText: 'Tokenscope Trace' }).first().waitFor();
    await workbench.screenshot('trace-document');
    await workbench.runCommand('View: Close Editor');
  });

  it('clears the annotations with a command', async () => {
    const { page } = workbench;
    await workbench.runCommand('View: Close All Editor Groups');
    await workbench.openFile('retry.ts');
    assert.ok((await waitForAnnotations(page, 5)).length >= 5, 'annotations come back when the file is shown again');
    await workbench.runCommand('Tokenscope: Clear Reasoning Annotations');
    for (let attempt = 0; attempt < 20 && (await annotationTexts(page)).length > 0; attempt++) await page.waitForTimeout(100);
    assert.deepEqual(await annotationTexts(page), []);
  });

  it('with thinking set to off, explains from the answer alone (no trace)', async () => {
    const { page } = workbench;
    await workbench.openFile('retry.ts');
    // Opening a file through the explorer hid the chat: show it again.
    chat = await openChat(workbench);
    await chat.locator('.thinking-setting select').selectOption('off');
    await workbench.waitForLog(/Chat: thinking set to off/);
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Control+Shift+End');
    await page.keyboard.press('Control+Alt+KeyE');
    await waitForAnswer(chat, 5);
    const answer = chat.locator('.message.assistant').nth(4);
    assert.equal(await answer.locator('details.thinking').count(), 0);
    assert.match(await answer.locator('.answer').innerText(), /calls an async operation until it succeeds/);
    const texts = await waitForAnnotations(page, 5);
    assert.ok(texts.length >= 5 && texts.every((text) => !text.includes('thinking:')), `annotations from the answer alone: ${texts.join(' | ')}`);
    // Back to the default for the tests after this one (the setting is the user's, it persists).
    await chat.locator('.thinking-setting select').selectOption('auto');
    await workbench.waitForLog(/Chat: thinking set to auto/);
  });

  it('restores the conversation after a reload (history in the extension storage)', async () => {
    const { page } = workbench;
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    chat = await openChat(workbench);
    await chat.locator('.message.user', { hasText: 'When should I use retry with backoff?' }).waitFor();
    await chat.locator('.message.user', { hasText: 'Explain retry.ts:2-14' }).nth(1).waitFor();
    assert.equal(await chat.locator('.message.assistant').count(), 5);
    await workbench.screenshot('chat-restored');
  });

  it('attaches the selection as context, inserts a code block at the cursor, starts a new chat', async () => {
    const { page } = workbench;
    await workbench.openFile('retry.ts');
    // The chat first: the command palette's Escape would clear an editor selection made before.
    chat = await openChat(workbench);
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Control+Shift+End');
    await chat.locator('button', { hasText: 'Attach selection' }).click();
    await chat.locator('.chips .chip', { hasText: /Selection: retry\.ts:2-14 · \d+ tokens/ }).waitFor();
    await chat.locator('.prompt-info', { hasText: /[\d,]+ prompt tokens/ }).waitFor();
    const answered = await chat.locator('.message.assistant').count();
    await send(chat, 'When should I add jitter here?');
    await waitForAnswer(chat, answered + 1);
    await chat.locator('.message.user .attachments .chip', { hasText: 'retry.ts:2-14' }).waitFor();
    assert.equal(await chat.locator('.chips .chip').count(), 0, 'chips are used up by the message');
    await workbench.screenshot('chat-attach');

    const last = chat.locator('.message.assistant').last();
    await last.locator('.code-action[data-action="insert"]').click();
    await page.locator('.editor-group-container.active .view-lines', { hasText: /full\sjitter/ }).waitFor();

    // The view's title bar button (package.json menus: view/title → tokenscope.newChat).
    await page.locator('.part.sidebar .title-actions .action-label[aria-label="New Chat"]').click();
    await chat.locator('.transcript .empty').waitFor();
    assert.equal(await chat.locator('.message').count(), 0);
  });

  it('deletes every stored conversation with Clear Chat History, after asking', async () => {
    const { page } = workbench;
    assert.ok((readHistory(workbench)?.conversations.length ?? 0) >= 1, 'conversations were stored');
    await workbench.runCommand('Tokenscope: Clear Chat History');
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Delete all Tokenscope chat history?' });
    await waitUntilShown(dialog);
    assert.match(await dialog.innerText(), /This removes every stored conversation from .*chat-history\.json/);
    await workbench.screenshot('chat-clear-history');
    await dialog.locator('.monaco-button', { hasText: 'Delete History' }).click();
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Tokenscope: chat history deleted.' });
    await waitUntilShown(toast.first());
    const deadline = Date.now() + 10_000;
    while ((readHistory(workbench)?.conversations.length ?? 0) > 0 && Date.now() < deadline) await page.waitForTimeout(100);
    assert.deepEqual(readHistory(workbench)?.conversations ?? [], [], 'the history file holds no conversation');
    // Gone for good: a reload restores nothing.
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    chat = await openChat(workbench);
    await chat.locator('.transcript .empty').waitFor();
    assert.equal(await chat.locator('.message').count(), 0);
    assertCleanPage(workbench);
  });
});

describe('Chat with the built-in mini model', { timeout: 300_000 }, () => {
  let workbench: Workbench;

  before(async () => {
    delete process.env.TOKENSCOPE_CHAT_REPLAY;
    workbench = await startWorkbench({ name: 'chat-mini', workspace: sampleWorkspace, settings: { 'tokenscope.model': 'mini' } });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
  });

  it('says plainly that mini cannot chat and offers a chat model, for chat and for explain', async () => {
    const chat = await openChat(workbench);
    // One plain state: why, one button that offers a chat model, and a composer that is visibly off.
    await chat.locator('.status .notice', { hasText: /cannot chat or explain/ }).waitFor();
    const choose = chat.locator('.status button.choose-model', { hasText: 'Choose a Chat Model…' });
    await choose.waitFor();
    const input = chat.locator('textarea.input');
    assert.equal(await input.isDisabled(), true);
    assert.match((await input.getAttribute('placeholder')) ?? '', /^tokenscope-mini cannot chat\. Choose a chat model above/);
    assert.equal(await chat.locator('button.send').isVisible(), false, 'no Send button to press');
    assert.ok(Number(await input.evaluate((element) => getComputedStyle(element).opacity)) < 1, 'the disabled input looks disabled');

    // Explain Selection three times: the refusal is the header's notice, shown once; toasts say it outside the panel.
    const { page } = workbench;
    await workbench.openFile('retry.ts');
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+A');
    await page.locator('.editor-group-container.active .selected-text').first().waitFor();
    // The first Explain offers the recommended chat model, with its size, to download and switch to.
    await page.keyboard.press('Control+Alt+KeyE');
    await page.locator('.notifications-toasts', { hasText: /Explain Selection needs a chat model.*Download Qwen2\.5-Coder-0\.5B-Instruct \(~862\.0 MB, Apache-2\.0\)/ }).waitFor();
    await page.locator('.notifications-toasts .monaco-button', { hasText: 'Download (~862.0 MB)' }).waitFor();
    await chat.locator('.status .notice.flash').waitFor();
    // Explain again, twice: the offer is not repeated; a toast says why outside the panel, and the
    // header's notice is pointed at (flashed) instead of copied.
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /cannot chat or explain/ }).first();
    for (let attempt = 0; attempt < 2; attempt++) {
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Control+Alt+KeyE');
      await toast.waitFor();
      await chat.locator('.status .notice.flash').waitFor();
    }
    await waitUntilShown(toast);
    const panelText = await chat.locator('#app').innerText();
    assert.equal(panelText.match(/cannot chat or explain/g)?.length, 1, `the refusal is in the panel once:
${panelText}`);
    assert.equal(await chat.locator('.message.notice').count(), 0, 'no copies in the conversation');
    assert.equal(await chat.locator('.message.assistant').count(), 0, 'no generated text');
    await workbench.screenshot('chat-mini');

    // The button offers a chat model: it runs Choose Model, whose picker opens.
    await choose.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
  });
});

describe('Chat on the real model process', { timeout: 300_000 }, () => {
  let workbench: Workbench;

  before(async () => {
    // A tiny random-weight model in the Qwen3 layout with a ChatML template: its text is noise,
    // but the prompt, the process, the token stream and the counts are the real ones.
    const model = join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen3');
    workbench = await startWorkbench({ name: 'chat-runtime', workspace: sampleWorkspace, settings: { 'tokenscope.model': model, 'tokenscope.chat.maxTokens': 24, 'tokenscope.completions.enabled': false } });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
  });

  it('streams an answer from the model process with its stats', async () => {
    const chat = await openChat(workbench);
    // The model loads when the chat first needs it; then the header knows its context window.
    await chat.locator('.prompt-info', { hasText: /of 256 left in the context window/ }).waitFor({ timeout: 60_000 });
    await send(chat, 'Hello?');
    await waitForAnswer(chat, 1);
    const answer = chat.locator('.message.assistant').first();
    assert.match(await answer.locator('.stats').innerText(), /^\d+ prompt · ([1-9]|1\d|2[0-4]) generated/);
    assert.equal(await answer.locator('.stop-note.error').count(), 0);
    await workbench.waitForLog(/Chat answer (stop|length): \d+ prompt \+ \d+ generated tokens/);
    await workbench.screenshot('chat-runtime');

    // Restart Model Process: a new process loads the model again, and the next answer comes from it.
    const before = modelProcesses(workbench);
    assert.equal(before.length, 1, `one model process: ${before.join(', ')}`);
    await workbench.runCommand('Tokenscope: Restart Model Process');
    await workbench.waitForLog(/Restarting the model process\./);
    const deadline = Date.now() + 30_000;
    while (!(modelProcesses(workbench).length === 1 && !before.includes(modelProcesses(workbench)[0])) && Date.now() < deadline) await workbench.page.waitForTimeout(100);
    const after = modelProcesses(workbench);
    assert.ok(after.length === 1 && !before.includes(after[0]), `a new model process replaced ${before.join(', ')}: ${after.join(', ')}`);
    await send(chat, 'Hello again?');
    await waitForAnswer(chat, 2);
    const second = chat.locator('.message.assistant').nth(1);
    assert.equal(await second.locator('.stop-note.error').count(), 0, await second.innerText());
    assert.match(await second.locator('.stats').innerText(), /^\d+ prompt · ([1-9]|1\d|2[0-4]) generated/);
    await workbench.screenshot('chat-runtime-restarted');
    assertCleanPage(workbench);
  });
});
