// The foundation's end-to-end checks, as a user meets Tokenscope: the packaged VSIX installed into a
// real VS Code (code-server), driven through headless chromium.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFrame, startWorkbench, waitUntilShown, type Workbench } from './harness/workbench';

/** "pid state parent-pid command" of a process, for a readable assertion failure. */
function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 160);
    return `${pid} ${state} parent ${parent} ${command}`;
  } catch {
    return `${pid} (gone while we looked)`;
  }
}

/** The goal for what activation adds to the extension host: reported, not asserted. */
const ACTIVATION_GOAL_MS = 50;
/**
 * What the test asserts. Timings on a shared 2-core machine swing several-fold with load (26-65 ms
 * measured for the same build), so a 50 ms assertion would fail at random; 500 ms still catches
 * what matters: work that does not belong in activation (loading a model or a tokenizer, a
 * multi-megabyte bundle) costs hundreds of milliseconds to seconds.
 */
const ACTIVATION_REGRESSION_LIMIT_MS = 500;

describe('Tokenscope in a real VS Code', { timeout: 300_000 }, () => {
  let workbench: Workbench;

  before(async () => {
    workbench = await startWorkbench({ name: 'workbench' });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
  });

  it('loads the workbench with the sample workspace', async () => {
    const { page } = workbench;
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'notes.zh.md' }).waitFor();
    await workbench.openFile('src/fibonacci.py');
    await page.locator('.editor-group-container.active .view-lines', { hasText: 'def fibonacci' }).waitFor();
    await workbench.openFile('notes.zh.md');
    await page.locator('.editor-group-container.active .view-lines', { hasText: '分词笔记' }).waitFor();
    await workbench.screenshot('workbench-loads');
  });

  it('activates without errors, quickly', async () => {
    const activationMs = await workbench.activationMs();
    // VS Code's own figure (code loading + activate()), shown by Developer: Show Running Extensions,
    // printed beside the extension's for comparison; the budget applies to the extension's line.
    await workbench.runCommand('Developer: Show Running Extensions');
    const row = workbench.page.locator('.runtime-extensions-editor .monaco-list-row').filter({ hasText: 'Tokenscope' }).first();
    const vscodeFigure = (await row.locator('.activation-time').first().textContent({ timeout: 30_000 }).catch(() => null))?.trim() ?? 'not shown';
    await workbench.runCommand('View: Close Editor');
    const load = os.loadavg()[0].toFixed(1);
    console.log(`# Tokenscope activation: ${activationMs} ms by its log line (goal ${ACTIVATION_GOAL_MS} ms, load average ${load}); VS Code's Running Extensions: ${vscodeFigure}`);
    assert.ok(activationMs < ACTIVATION_REGRESSION_LIMIT_MS, `activation took ${activationMs} ms: something heavy runs at activation (goal ${ACTIVATION_GOAL_MS} ms)`);

    const errors = workbench.readLog().split('\n').filter((line) => /\[error\]/.test(line));
    assert.deepEqual(errors, [], 'the Tokenscope log has errors');
    const hostLog = workbench.readExtensionHostLog();
    const hostProblems = hostLog.split('\n').filter((line) => /tokenscope/i.test(line) && /\[error\]|failed|cannot|exception/i.test(line));
    assert.deepEqual(hostProblems, [], 'the extension host logged problems with Tokenscope');
    assert.match(hostLog, /_doActivateExtension tokenscope\.tokenscope\b/, 'the extension host never activated tokenscope.tokenscope');
  });

  it('opens the Tokenscope view container and its chat view', async () => {
    const chat = await workbench.openChatView();
    // The webview's script renders into #app; an empty #app means the script did not run (CSP, path).
    await chat.locator('#app > *').first().waitFor();
    // With the built-in model (it completes code, it cannot chat): the header names it, says why it
    // cannot chat and offers a chat model; the composer is off and says the same; no conversation.
    await chat.locator('.status .model', { hasText: /^tokenscope-mini$/ }).waitFor();
    assert.match(await chat.locator('.status .notice').innerText(), /cannot chat or explain/);
    assert.equal(await chat.locator('.status button.choose-model').innerText(), 'Choose a Chat Model…');
    const input = chat.locator('textarea.input');
    assert.equal(await input.isDisabled(), true, 'the composer is off');
    assert.match((await input.getAttribute('placeholder')) ?? '', /^tokenscope-mini cannot chat\. Choose a chat model above/);
    assert.equal(await chat.locator('.transcript .message').count(), 0);
    await workbench.screenshot('chat-view');
    assert.deepEqual(workbench.webviewErrors, [], 'console errors in the chat webview');
    assert.deepEqual(workbench.pageErrors, []);
  });

  it('Show Status Menu and Toggle Inline Completions turn completions off and on; Use the Local Model Again says so', async () => {
    const { page } = workbench;
    const settingsFile = join(workbench.server.userDataDir, 'User', 'settings.json');
    const setting = (key: string): unknown => (JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>)[key];
    const statusItem = page.locator('.statusbar-item', { hasText: 'tokenscope-mini' }).first();
    await statusItem.waitFor();
    const disabledIcon = statusItem.locator('.codicon-circle-slash');
    assert.equal(await disabledIcon.count(), 0, 'completions start enabled');

    await workbench.runCommand('Tokenscope: Show Status Menu');
    const quickInput = page.locator('.quick-input-widget');
    await waitUntilShown(quickInput);
    const rows = await quickInput.locator('.monaco-list-row').evaluateAll((elements) => elements.map((row) => [row.querySelector('.label-name')?.textContent?.trim() ?? '', row.querySelector('.label-description')?.textContent?.trim() ?? '']));
    assert.deepEqual(rows, [
      ['Disable inline completions', ''],
      ['Switch model…', 'tokenscope-mini'],
      ['Show model architecture', 'layers, heads, parameters vs real models'],
      ['Toggle token boundaries', ''],
      ['What comes next?', 'the next-token distribution at the cursor'],
      ['Toggle surprise lens', 'colour code by how surprised the model is'],
      ['Colour accepted completions by confidence', 'each token by its probability'],
      ['Toggle cost estimates beside the code', ''],
      ['Usage & Cost', 'what your work would have cost on API models'],
      ['Show logs', ''],
      ['Restart model process', 'reloads the model'],
    ]);
    await workbench.screenshot('status-menu');
    await quickInput.locator('.monaco-list-row', { hasText: 'Disable inline completions' }).click();
    await disabledIcon.waitFor();
    assert.equal(setting('tokenscope.completions.enabled'), false);
    await statusItem.hover();
    const tooltip = page.locator('.monaco-hover:not(.hidden)', { hasText: 'inline completions are disabled' }).first();
    await waitUntilShown(tooltip);
    await workbench.screenshot('status-completions-disabled');
    await page.mouse.move(0, 0);

    await workbench.runCommand('Tokenscope: Toggle Inline Completions');
    await disabledIcon.waitFor({ state: 'detached' });
    assert.equal(setting('tokenscope.completions.enabled'), true);

    await workbench.runCommand('Tokenscope: Use the Local Model Again');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Tokenscope: completions and chat use the local model again.' }).first();
    await waitUntilShown(toast);
    await workbench.screenshot('use-local-model');
    assert.equal(setting('tokenscope.completions.backend'), 'local');
    assert.equal(setting('tokenscope.chat.backend'), 'local');
    await page.keyboard.press('Escape');
  });

  it('runs "Tokenscope: Show Logs" from the command palette', async () => {
    const { page } = workbench;
    await workbench.runCommand('Tokenscope: Show Logs');
    const panel = page.locator('.part.panel');
    await panel.waitFor({ state: 'visible' });
    // The Output view shows the Tokenscope channel, whose first line is the activation line (the
    // editor renders spaces as no-break spaces, which \s matches).
    await panel.locator('.view-lines', { hasText: /Tokenscope\s.*activated\sin\s/ }).first().waitFor();
    await workbench.screenshot('show-logs');
  });

  it('shows the built-in model next to real models (Tokenscope: Show Model Architecture)', async () => {
    const { page } = workbench;
    await workbench.runCommand('View: Hide Panel'); // the Output panel from the previous test
    await workbench.runCommand('Tokenscope: Show Model Architecture');
    await page.locator('.tabs-container .tab', { hasText: 'Model Architecture' }).waitFor();
    // An editor webview is an iframe (in the workbench's overlay) holding the page's own iframe.
    const frame = await findFrame(page, 'ul.insights');
    const rows = frame.locator('tbody tr');
    assert.ok((await rows.count()) >= 6, 'mini and at least five reference models');
    const running = frame.locator('tr.active-row');
    assert.match(await running.innerText(), /tokenscope-mini[\s\S]*qwen2[\s\S]*\b5\b[\s\S]*192[\s\S]*6 \/ 2[\s\S]*8,192[\s\S]*3\.54 M/);
    assert.match(await frame.locator('ul.insights').innerText(), /embedding table/);
    // Bars are drawn: widths come from the nonce'd stylesheet, which a CSP mistake would block.
    const widths = await frame.locator('tr.active-row .seg').evaluateAll((segments) => segments.map((segment) => segment.getBoundingClientRect().width));
    assert.ok(widths.length >= 3 && widths.every((width) => width > 0), `parameter bar segments: ${widths.join(', ')}`);
    // A laptop-sized window with the side bar open: the whole table fits the editor, no sideways scrolling.
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.ok(await page.locator('.part.sidebar').isVisible(), 'the side bar is open');
    const fits = async () => frame.locator('.scroll').evaluate((element) => ({ scrollWidth: element.scrollWidth, clientWidth: element.clientWidth }));
    let size = await fits();
    for (let attempt = 0; attempt < 20 && size.clientWidth > 1000; attempt++) {
      await page.waitForTimeout(100); // the webview follows the new editor width
      size = await fits();
    }
    assert.ok(size.scrollWidth <= size.clientWidth, `the table is ${size.scrollWidth} px wide in a ${size.clientWidth} px editor`);
    // No tooltip (the tab's, after the layout moved under the mouse) over the page in the screenshot.
    await page.mouse.move(0, 0);
    await page.waitForFunction(() => !Array.from(document.querySelectorAll('.monaco-hover')).some((hover) => hover.checkVisibility()), undefined, { timeout: 10_000 }).catch(() => undefined);
    await workbench.screenshot('model-architecture');
    await page.setViewportSize({ width: 1400, height: 900 });
    await workbench.runCommand('View: Close Editor');
  });

  it('made no request to any host but code-server', () => {
    assert.deepEqual(workbench.externalRequests, []);
  });

  it('stops without leaving processes behind', async () => {
    const { server } = workbench;
    const processes = server.processIds();
    assert.ok(processes.length >= 2, `code-server should run a server process and an extension host, found ${processes.join(', ')}`);
    await workbench.stop();
    // Gone from /proc entirely: a zombie (exited, never reaped by its parent) would still be listed.
    const left = processes.filter((pid) => existsSync(`/proc/${pid}`)).map((pid) => describeProcess(pid));
    assert.deepEqual(left, [], 'processes of code-server are still running or are zombies');
  });
});
