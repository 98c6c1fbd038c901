// The end-to-end harness: a real VS Code (code-server) with Tokenscope installed, driven through a
// real browser (Debian chromium via playwright-core). See test/e2e/README.md for the API and usage.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { chromium, type Browser, type Frame, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { findFiles, launchCodeServer, type CodeServer } from '../../../tools/launch-code-server.mjs';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const artifactsDir = join(repoRoot, 'test', 'e2e', 'artifacts');
export const sampleWorkspace = join(repoRoot, 'test', 'fixtures', 'workspace');

/** Where chromium is; TOKENSCOPE_CHROMIUM overrides /usr/bin/chromium. */
export const chromiumPath = process.env.TOKENSCOPE_CHROMIUM || '/usr/bin/chromium';

/** Flags that keep a headless chromium quiet and off the network (see ENVIRONMENT.md). */
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Generous, because two cores are shared by several jobs; a wait that runs out fails with what it waited for. */
const UI_TIMEOUT_MS = 30_000;

export type ExtensionMode = 'vsix' | 'dev';

export interface StartWorkbenchOptions {
  /** Names screenshots' fallback and the saved logs folder (test/e2e/artifacts/logs/<name>/). */
  name?: string;
  /** Folder copied to a temporary folder and opened (default test/fixtures/workspace). */
  workspace?: string;
  /** User settings (merged over the harness's quiet defaults). */
  settings?: Record<string, unknown>;
  /** 'vsix' (default): the packaged VSIX, installed as a user would. 'dev': the repo's dist/ loaded as with F5. */
  mode?: ExtensionMode;
  /** Wait until the Tokenscope log says it activated (default true). */
  waitForActivation?: boolean;
  viewport?: { width: number; height: number };
  /** More extensions (.vsix files) to install beside Tokenscope. */
  extraVsix?: string[];
}

export interface Workbench {
  readonly page: Page;
  readonly server: CodeServer;
  /** The temporary copy of the workspace that VS Code has open (edit files here freely). */
  readonly workspaceDir: string;
  /** Browser errors (uncaught exceptions in the workbench page) seen so far. */
  readonly pageErrors: string[];
  /** Requests the page (webviews included) made to any host but code-server's: should stay empty. */
  readonly externalRequests: string[];
  /**
   * Errors in webviews (the chat, the comparison, the model architecture): console errors logged
   * by a webview's frames (a script error, a CSP violation, a failed resource) as "url: text".
   * Uncaught exceptions in them are in `pageErrors` too. Should stay empty.
   */
  readonly webviewErrors: string[];
  /** Opens a workspace file (path relative to the workspace, `/`-separated) through the explorer. */
  openFile(relativePath: string): Promise<void>;
  /**
   * Runs a command from the command palette by its full title, e.g. "Tokenscope: Show Logs". Returns
   * once the palette is gone, or has become the command's own quick pick (interact with it next).
   */
  runCommand(title: string): Promise<void>;
  /** Opens the Tokenscope view container and returns the chat webview's content frame. */
  openChatView(): Promise<FrameLocator>;
  /** Saves test/e2e/artifacts/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** The Tokenscope log channel's file so far ('' before the extension has logged). */
  readLog(): string;
  /** Waits until the Tokenscope log matches `pattern`; returns the match. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The extension host's own log (activation failures of any extension show up here). */
  readExtensionHostLog(): string;
  /** Milliseconds from the log line "Tokenscope … activated in N ms" (waits for it). */
  activationMs(): Promise<number>;
  /** Closes the browser, stops code-server (all its processes), and keeps the logs under artifacts/logs/. */
  stop(): Promise<void>;
}

let preparedVsix: string | undefined;
let preparedDist = false;

/** Builds and packages once per process, or takes the VSIX the e2e runner already built (TOKENSCOPE_E2E_VSIX). */
export function prepareVsix(): string {
  if (process.env.TOKENSCOPE_E2E_VSIX) return process.env.TOKENSCOPE_E2E_VSIX;
  if (preparedVsix) return preparedVsix;
  const out = join(repoRoot, '.cache', 'e2e', 'tokenscope-e2e.vsix');
  const result = spawnSync(process.execPath, [join(repoRoot, 'tools', 'package.mjs'), '--out', out, '--if-stale', '--quiet'], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`Packaging the VSIX for the e2e tests failed (node tools/package.mjs exited ${result.status}); see the output above`);
  preparedVsix = out;
  return out;
}

/** Builds dist/ once per process for development mode (unless the runner did: TOKENSCOPE_E2E_BUILT=1). */
function prepareDist(): void {
  if (preparedDist || process.env.TOKENSCOPE_E2E_BUILT === '1') return;
  const result = spawnSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`node esbuild.mjs failed (exit ${result.status}); see the output above`);
  preparedDist = true;
}

/**
 * Waits until a hover, notification or widget has finished appearing: VS Code fades them in (an
 * opacity animation on the element or a parent), and a screenshot taken meanwhile shows the code
 * through it. Resolves once the element and every ancestor are fully opaque and no animation runs.
 */
export async function waitUntilShown(locator: Locator, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await locator.waitFor({ state: 'visible' });
    // A spinner inside (an infinite animation) never ends: only finite animations are waited for.
    // 'gone': the element went away meanwhile (a hover replaced by a newer one, a fade-out): wait for the locator again.
    const problem = await evaluateSource<string | undefined>(locator, `(element) => new Promise((resolve) => {
      const fading = (animation) => animation.playState === 'running' && animation.effect?.getTiming().iterations !== Infinity;
      const unsettled = () => {
        if (!element.isConnected || !element.checkVisibility()) return 'gone';
        for (let node = element; node; node = node.parentElement) {
          if (Number(getComputedStyle(node).opacity) < 1) return 'opacity ' + getComputedStyle(node).opacity + ' on ' + node.tagName + '.' + node.className;
          if (node.getAnimations().some(fading)) return 'an animation on ' + node.tagName + '.' + node.className;
        }
        return element.getAnimations({ subtree: true }).some(fading) ? 'an animation inside it' : undefined;
      };
      const until = performance.now() + ${timeoutMs};
      const check = () => {
        const reason = unsettled();
        if (!reason || reason === 'gone' || performance.now() > until) resolve(reason);
        else requestAnimationFrame(check);
      };
      check();
    })`).catch(() => 'gone'); // detached while the page function ran
    if (problem === undefined) return;
    if (Date.now() > deadline) throw new Error(`waitUntilShown: still not shown after ${timeoutMs / 1000} s (${problem})`);
    if (problem !== 'gone') throw new Error(`waitUntilShown: still fading after ${timeoutMs / 1000} s (${problem})`);
    await locator.page().waitForTimeout(100);
  }
}

/**
 * Points at something (`point` moves the mouse there) until the hover `hover` is shown, and waits
 * for it to finish fading in. VS Code drops a pending hover when the editor re-renders under a
 * still mouse (a decoration or a layout pass landing on a busy machine) and never asks again until
 * the mouse moves: a user would move it away and back, and so does this, a few times, before
 * failing. Returns how many gestures it took.
 */
export async function hoverUntilShown(page: Page, point: () => Promise<void>, hover: Locator, { attempts = 4, attemptMs = 8_000 } = {}): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    await point();
    const shown = await hover.waitFor({ state: 'visible', timeout: attemptMs }).then(() => true, () => false);
    if (shown) {
      await waitUntilShown(hover);
      if (attempt > 1) console.log(`# the hover appeared on gesture ${attempt} (VS Code dropped the earlier ones)`);
      return attempt;
    }
    if (attempt >= attempts) throw new Error(`No hover matching ${String(hover)} after ${attempts} gestures of ${attemptMs / 1000} s each`);
    await page.mouse.move(0, 0);
    await page.waitForTimeout(300);
  }
}

/**
 * Runs `source`, the text of a function `(element) => value`, on the element. A string, because tsx
 * would wrap the helpers of a function written here in a `__name` call the page lacks; and wrapped
 * in a Function, because Playwright evaluates a plain string as an expression and would never call it.
 */
export async function evaluateSource<T>(locator: Locator, source: string): Promise<T> {
  return locator.evaluate(new Function('element', `return (${source})(element);`) as (element: Element) => T | Promise<T>);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeFileName(name: string): string {
  const safe = name.trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '');
  if (!safe) throw new Error(`screenshot name "${name}" has no usable characters`);
  return safe;
}

/**
 * Starts code-server with Tokenscope and opens it in headless chromium. Share one per test file
 * (start it in `before`, stop it in `after`): a start costs several seconds.
 */
export async function startWorkbench(options: StartWorkbenchOptions = {}): Promise<Workbench> {
  const name = safeFileName(options.name ?? 'workbench');
  const mode = options.mode ?? (process.env.TOKENSCOPE_E2E_MODE === 'dev' ? 'dev' : 'vsix');
  if (!existsSync(chromiumPath)) {
    throw new Error(`chromium is not at ${chromiumPath}. Install it with: apt-get install -y chromium (or set TOKENSCOPE_CHROMIUM)`);
  }
  const vsix = mode === 'vsix' ? prepareVsix() : undefined;
  if (mode === 'dev') prepareDist();

  const workspaceParent = mkdtempSync(join(tmpdir(), 'tokenscope-workspace-'));
  const workspaceDir = join(workspaceParent, basename(options.workspace ?? sampleWorkspace));
  cpSync(options.workspace ?? sampleWorkspace, workspaceDir, { recursive: true });

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  const externalRequests: string[] = [];
  const webviewErrors: string[] = [];
  const cleanUp = async () => {
    // code-server first: a closing page makes VS Code shut its extension host down by itself,
    // racing our leaves-first stop, and the language servers it leaves behind become orphans.
    if (server) {
      await server.stop();
      saveLogs(server, name);
      rmSync(server.profileDir, { recursive: true, force: true });
    }
    await browser?.close().catch(() => undefined);
    rmSync(workspaceParent, { recursive: true, force: true });
  };

  try {
    server = await launchCodeServer({
      workspace: workspaceDir,
      vsix,
      extraVsix: options.extraVsix,
      extensionDevelopmentPath: mode === 'dev' ? repoRoot : undefined,
      settings: options.settings,
      // Removed by cleanUp once the logs are saved.
      keepProfile: true,
    });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, timeout: 60_000 });
    const page = await browser.newPage({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // A webview's frames are served from its own host (<id>.vscode-cdn.net / vscode-resource) or
      // code-server's webview/browser/pre/ page; the workbench's own console noise is not ours.
      const { url } = message.location();
      if (/vscode-cdn\.net|vscode-resource|\/webview\/browser\/pre\//.test(url)) webviewErrors.push(`${url}: ${message.text()}`);
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) || url.hostname === '127.0.0.1') return;
      // Webview resources (asWebviewUri) use this host name but are answered by VS Code's webview
      // service worker from the extension's files; they never leave the browser.
      if (url.hostname.endsWith('.vscode-resource.vscode-cdn.net')) return;
      externalRequests.push(request.url());
    });
    await page.goto(server.workbenchUrl, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 90_000 });
    const workbench = createWorkbench(page, server, workspaceDir, pageErrors, externalRequests, webviewErrors, cleanUp);
    if (options.waitForActivation ?? true) await workbench.activationMs();
    return workbench;
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** Copies VS Code's logs of this run to artifacts/logs/<name>/, so a failure in CI can be read afterwards. */
function saveLogs(server: CodeServer, name: string): void {
  const target = join(artifactsDir, 'logs', name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  if (existsSync(server.logsDir)) cpSync(server.logsDir, target, { recursive: true });
  if (existsSync(server.serverLogPath)) cpSync(server.serverLogPath, join(target, 'code-server.log'));
}

const activationPattern = /Tokenscope\b.*\bactivated in (\d+(?:\.\d+)?) ms/;

function createWorkbench(page: Page, server: CodeServer, workspaceDir: string, pageErrors: string[], externalRequests: string[], webviewErrors: string[], cleanUp: () => Promise<void>): Workbench {
  const logFile = () => findFiles(server.logsDir, /\/exthost\d*\/tokenscope\.tokenscope\/Tokenscope\.log$/).at(-1);
  const readLog = () => {
    const file = logFile();
    return file ? readFileSync(file, 'utf8') : '';
  };

  const waitForLog = async (pattern: RegExp, timeoutMs = UI_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = readLog().match(pattern);
      if (match) return match;
      // A failed activation never logs what we wait for: say so now rather than at the deadline.
      const hostLog = readExtensionHostLog();
      const failure = hostLog.indexOf('Activating extension tokenscope.tokenscope failed');
      if (failure >= 0) throw new Error(`Tokenscope failed to activate. Extension host log:\n${hostLog.slice(failure, failure + 3000)}`);
      if (Date.now() > deadline) {
        const log = readLog();
        throw new Error(`The Tokenscope log did not match ${pattern} within ${timeoutMs / 1000} s. ${log ? `It says:\n${log.slice(-3000)}` : 'There is no Tokenscope log (did the extension activate?).'}\nExtension host log:\n${readExtensionHostLog().slice(-3000)}`);
      }
      await page.waitForTimeout(200);
    }
  };

  const readExtensionHostLog = () => findFiles(server.logsDir, /\/exthost\d*\/remoteexthost\.log$/).map((file) => readFileSync(file, 'utf8')).join('\n');

  const quickInput = page.locator('.quick-input-widget');

  const runCommand = async (title: string) => {
    // F1 opens the command palette with its ">" prefix from anywhere in the workbench.
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = quickInput.locator('input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = quickInput.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) }).first();
    try {
      await row.waitFor({ state: 'visible' });
    } catch {
      const offered = await quickInput.locator('.monaco-list-row .label-name').allTextContents();
      throw new Error(`The command palette has no command titled "${title}". It offers: ${offered.slice(0, 15).join(' | ') || '(nothing)'}`);
    }
    await row.click();
    // The palette closes, or (for a command that asks something, e.g. "Choose Tokenizer…") the same
    // widget turns into the command's own quick pick, whose text no longer starts with ">".
    await page.waitForFunction(() => {
      const widget = document.querySelector<HTMLElement>('.quick-input-widget');
      if (!widget || !widget.checkVisibility()) return true;
      const input = widget.querySelector<HTMLInputElement>('input.input');
      return !input || !input.value.startsWith('>');
    });
  };

  const showExplorer = async () => {
    const folders = page.locator('.explorer-folders-view');
    if (await folders.isVisible()) return;
    await runCommand('View: Show Explorer');
    await folders.waitFor({ state: 'visible' });
  };

  const explorerRow = (label: string, level: number): Locator => page.locator(`.explorer-folders-view .monaco-list-row[aria-level="${level}"]`).filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) }).first();

  const openFile = async (relativePath: string) => {
    const segments = relativePath.split('/').filter(Boolean);
    if (segments.length === 0 || !existsSync(join(workspaceDir, ...segments))) throw new Error(`openFile: ${relativePath} is not a file of the workspace ${workspaceDir}`);
    await showExplorer();
    // Expand each folder on the way (a single-folder workspace lists its top level at aria-level 1).
    for (let depth = 0; depth < segments.length - 1; depth++) {
      const folder = explorerRow(segments[depth], depth + 1);
      await folder.waitFor({ state: 'visible' });
      if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
      await page.locator(`.explorer-folders-view .monaco-list-row[aria-level="${depth + 2}"]`).first().waitFor({ state: 'visible' });
    }
    const fileName = segments[segments.length - 1];
    const file = explorerRow(fileName, segments.length);
    await file.waitFor({ state: 'visible' });
    // A double click opens a pinned editor (a single click opens a preview that the next file replaces).
    await file.dblclick();
    // The active group's tab: after a reload that restored a side-by-side editor, the file can be open in two groups.
    await page.locator('.editor-group-container.active .tabs-container .tab.active').filter({ hasText: fileName }).waitFor({ state: 'visible' });
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().waitFor({ state: 'visible' });
  };

  const openChatView = async () => {
    const item = page.locator('.activitybar li.action-item').filter({ has: page.locator('a.action-label[aria-label="Tokenscope"]') }).first();
    try {
      await item.waitFor({ state: 'visible' });
    } catch {
      throw new Error('The activity bar has no Tokenscope item (is the view container contributed and the extension installed?)');
    }
    // Clicking an active container's icon would hide the side bar: click only when it is not active.
    if (!(await item.evaluate((element) => element.classList.contains('checked')))) await item.click();
    await page.locator('.part.sidebar .composite.title').filter({ hasText: /tokenscope/i }).first().waitFor({ state: 'visible' });
    // A webview view is an iframe holding another iframe with the extension's HTML. Webviews live in
    // an overlay of the workbench, not inside the side bar's DOM.
    await page.locator('iframe.webview.ready').first().waitFor({ state: 'attached' });
    const content = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
    await content.locator('body').waitFor({ state: 'attached' });
    return content;
  };

  const screenshot = async (name: string) => {
    mkdirSync(artifactsDir, { recursive: true });
    const path = join(artifactsDir, `${safeFileName(name)}.png`);
    await page.screenshot({ path });
    return path;
  };

  let stopping: Promise<void> | undefined;
  return {
    page,
    server,
    workspaceDir,
    pageErrors,
    externalRequests,
    webviewErrors,
    openFile,
    runCommand,
    openChatView,
    screenshot,
    readLog,
    waitForLog,
    readExtensionHostLog,
    activationMs: async () => Number((await waitForLog(activationPattern, 60_000))[1]),
    stop: () => (stopping ??= cleanUp()),
  };
}

/** The content frame of the webview whose page has `selector`: webviews are iframes in iframes. */
export async function findFrame(page: Page, selector: string): Promise<Frame> {
  for (let attempt = 0; attempt < 80; attempt++) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview shows ${selector}`);
}

/** This code-server's model processes (dist/modelProcess.js), by process id. */
export function modelProcesses(workbench: Workbench): number[] {
  return workbench.server.processIds().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('modelProcess.js');
    } catch {
      return false;
    }
  });
}
