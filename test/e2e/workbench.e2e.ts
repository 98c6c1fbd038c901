// The foundation's end-to-end checks, as a user meets Tokenscope: the packaged VSIX installed into a
// real VS Code (code-server), driven through headless chromium.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { startWorkbench, type Workbench } from './harness/workbench';

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

/** The content frame of the webview whose page has `selector`: webviews are iframes in iframes. */
async function findFrame(page: Page, selector: string): Promise<Frame> {
  for (let attempt = 0; attempt < 80; attempt++) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview shows ${selector}`);
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
    const text = (await chat.locator('#app').innerText()).trim();
    assert.ok(text.length > 0, 'the chat view rendered no text');
    await workbench.screenshot('chat-view');
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
