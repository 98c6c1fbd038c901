// Starts code-server (a real VS Code) on 127.0.0.1 in a throwaway profile, with Tokenscope either
// installed from a VSIX or loaded from a development folder, and stops it without leaving processes
// behind. Used by `npm start` and the end-to-end harness (test/e2e/harness/workbench.ts).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureCodeServer } from './code-server.mjs';

/**
 * Settings every launch starts from: nothing reaches the network, nothing pops up over the editor.
 * Callers' settings are merged over these.
 */
export const QUIET_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'json.schemaDownload.enable': false,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'window.restoreWindows': 'none',
  // A process of ours listening on a port would otherwise raise a "port forwarded" notification.
  'remote.autoForwardPorts': false,
};

/** The environment code-server runs in: a private HOME and XDG folders, and no extension gallery. */
function isolatedEnv(profileDir) {
  const home = join(profileDir, 'home');
  const dirs = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), XDG_CACHE_HOME: join(home, '.cache'), XDG_STATE_HOME: join(home, '.local', 'state') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const env = { ...process.env, ...dirs };
  // Leaked from an outer VS Code or npm script, these would confuse code-server's own extension host.
  for (const name of Object.keys(env)) if (name.startsWith('VSCODE_') || name === 'ELECTRON_RUN_AS_NODE') delete env[name];
  // An empty gallery URL turns the Marketplace off, so no request to open-vsx.org is ever made.
  env.EXTENSIONS_GALLERY = JSON.stringify({ serviceUrl: '', itemUrl: '', resourceUrlTemplate: '', controlUrl: '' });
  env.CS_DISABLE_GETTING_STARTED_OVERRIDE = '1';
  return env;
}

/** A port that was free a moment ago (code-server binds it next; a lost race shows up as a start error). */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Children of every process, read from /proc (Linux only; code-server is only used on Linux here). */
function childrenByParent() {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // The command name in parentheses may contain spaces; the fields after its closing ")" do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const parent = Number(fields[1]);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(Number(name));
  }
  return children;
}

/** `pid` and all its descendants, children after their parents. */
export function processTree(pid) {
  const children = childrenByParent();
  const tree = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift();
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Running (not exited, not a zombie waiting for its parent to reap it). */
function isRunning(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Exists in /proc at all (a zombie, exited but not yet reaped by its parent, still does). */
const exists = (pid) => existsSync(`/proc/${pid}`);

/**
 * Stops `pid` and every descendant, leaves first and round by round, so that each process is
 * reaped by its own parent while that parent still runs. Killing a parent first would orphan its
 * children to PID 1, which here reaps them only lazily (zombies linger). Each round re-reads the
 * tree, so a process the server starts again while we stop it (VS Code restarts its file watcher)
 * is stopped too. Descendants are SIGKILLed (nothing of theirs needs a clean exit); `pid` itself,
 * our own child, gets SIGTERM and `graceMs` before SIGKILL.
 */
export async function killProcessTree(pid, { graceMs = 2000, deadlineMs = 15_000 } = {}) {
  const seen = new Set();
  const deadline = Date.now() + deadlineMs;
  // Zombie children count: a parent killed before it reaps them would hand them to PID 1.
  const hasChildren = (children, target) => (children.get(target) ?? []).length > 0;
  while (isRunning(pid) && Date.now() < deadline) {
    const tree = processTree(pid).filter(isRunning);
    for (const target of tree) seen.add(target);
    const before = childrenByParent();
    const candidates = tree.filter((target) => target !== pid && !hasChildren(before, target));
    // A leaf may fork between our look and our kill: stop the candidates (a stopped process cannot
    // fork), look again, and spare the ones that just became parents until a later round.
    for (const target of candidates) signal(target, 'SIGSTOP');
    const after = childrenByParent();
    const leaves = candidates.filter((target) => {
      if (!hasChildren(after, target)) return true;
      signal(target, 'SIGCONT');
      return false;
    });
    const rootIsLast = !hasChildren(after, pid);
    if (rootIsLast) {
      signal(pid, 'SIGTERM');
      const graceEnd = Date.now() + graceMs;
      while (isRunning(pid) && Date.now() < graceEnd) await sleep(20);
      signal(pid, 'SIGKILL');
      break;
    }
    for (const target of leaves) signal(target, 'SIGKILL');
    // Wait until their parents have reaped them (gone from /proc), or briefly when none was a leaf.
    const roundEnd = Date.now() + 1000;
    do await sleep(20);
    while (leaves.some(exists) && Date.now() < roundEnd);
  }
  // Past the deadline, or orphans whose parent died anyway: kill whatever of the tree still runs.
  for (const target of seen) if (isRunning(target)) signal(target, 'SIGKILL');
}

/** Launches still running, killed synchronously if the Node process exits without stopping them. */
const running = new Map(); // pid -> the profile folder to remove with it (undefined with keepProfile)
const killRunning = () => {
  for (const [pid, profileDir] of running) {
    for (const target of processTree(pid).reverse()) signal(target, 'SIGKILL');
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
};
process.on('exit', killRunning);
// code-server runs in its own process group (see launchCodeServer), so a signal that ends this process
// (Ctrl+C, the test runner's SIGTERM on a timeout) does not reach it, and Node skips 'exit' handlers on
// a fatal signal. Where nobody else handles the signal, kill our launches and exit as the signal would.
for (const [name, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(name, () => {
    if (process.listenerCount(name) > 1) return; // e.g. npm start stops its server gracefully itself
    killRunning();
    process.exit(128 + number);
  });
}

function runToEnd(command, args, { env, timeoutMs, what }) {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk) => (output = (output + chunk).slice(-10_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      void killProcessTree(child.pid);
      fail(new Error(`${what} did not finish within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) done(output);
      else fail(new Error(`${what} failed (exit ${code}):\n${output}`));
    });
  });
}

/**
 * Starts code-server. Exactly one of `vsix` (installed with --install-extension before the start,
 * as a user gets it) and `extensionDevelopmentPath` (loaded from a folder through the workbench URL's
 * `payload`, as F5 does) may be given; with neither, VS Code runs without Tokenscope.
 *
 * @param {import('./launch-code-server.d.mts').LaunchOptions} options
 * @returns {Promise<import('./launch-code-server.d.mts').CodeServer>}
 */
export async function launchCodeServer(options = {}) {
  const { vsix, extensionDevelopmentPath, settings = {}, startTimeoutMs = 90_000, log = () => {} } = options;
  if (vsix && extensionDevelopmentPath) throw new Error('launchCodeServer: give either vsix or extensionDevelopmentPath, not both');
  if (vsix && !existsSync(vsix)) throw new Error(`launchCodeServer: VSIX ${vsix} does not exist; build it with npm run package`);
  const devPath = extensionDevelopmentPath && resolve(extensionDevelopmentPath);
  if (devPath && !existsSync(join(devPath, 'package.json'))) throw new Error(`launchCodeServer: ${devPath} has no package.json`);
  const workspace = options.workspace && resolve(options.workspace);
  if (workspace && !existsSync(workspace)) throw new Error(`launchCodeServer: workspace folder ${workspace} does not exist`);

  const { entry } = await ensureCodeServer({ log });
  const profileDir = mkdtempSync(join(tmpdir(), 'tokenscope-code-server-'));
  const userDataDir = join(profileDir, 'user-data');
  const extensionsDir = join(profileDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  const env = isolatedEnv(profileDir);
  const dirArgs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  // keepProfile keeps it after stop(); a launch that fails removes it anyway (the caller never learns its path).
  const removeProfile = ({ always = false } = {}) => {
    if (always || !options.keepProfile) rmSync(profileDir, { recursive: true, force: true });
  };

  try {
    for (const file of [...(vsix ? [vsix] : []), ...(options.extraVsix ?? [])]) {
      const started = Date.now();
      const output = await runToEnd(process.execPath, [entry, ...dirArgs, '--force', '--install-extension', resolve(file)], { env, timeoutMs: 120_000, what: `Installing ${file} into code-server` });
      if (!/successfully installed/i.test(output)) throw new Error(`Installing ${file} into code-server printed no success line:\n${output}`);
      log(`code-server: installed ${file} in ${Date.now() - started} ms`);
    }
  } catch (error) {
    removeProfile({ always: true });
    throw error;
  }

  const port = options.port ?? (await freePort());
  const args = [
    entry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--disable-proxy',
    '--ignore-last-opened',
    ...dirArgs,
    ...(workspace ? [workspace] : []),
  ];
  // code-server's output goes to a file in the profile, quoted in errors; the pipe is only watched
  // for the line that says it listens.
  const serverLogPath = join(profileDir, 'code-server.log');
  const serverLog = createWriteStream(serverLogPath);
  // Its own process group: a terminal's Ctrl+C then reaches only us, and we stop the tree in order
  // (leaves first) instead of every process dying at once and orphaning the rest.
  const child = spawn(process.execPath, args, { env, cwd: workspace ?? profileDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.set(child.pid, options.keepProfile ? undefined : profileDir);
  let exited = false;
  const exitedPromise = new Promise((done) => child.on('exit', (code, signalName) => {
    exited = true;
    running.delete(child.pid);
    done({ code, signalName });
  }));
  let recent = '';
  const listening = new Promise((done) => {
    const watch = (chunk) => {
      serverLog.write(chunk);
      recent = (recent + chunk).slice(-8000);
      if (recent.includes('HTTP server listening on')) done();
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
  });

  const baseUrl = `http://127.0.0.1:${port}`;
  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (!exited) await killProcessTree(child.pid);
      await exitedPromise;
      serverLog.end();
      removeProfile();
    })();
    return stopping;
  };

  try {
    let timer;
    const timeout = new Promise((done) => (timer = setTimeout(() => done('timeout'), startTimeoutMs)));
    const outcome = await Promise.race([listening.then(() => 'listening'), exitedPromise.then(() => 'exited'), timeout]);
    clearTimeout(timer);
    if (outcome === 'exited') throw new Error(`code-server exited during start-up:\n${recent}`);
    if (outcome === 'timeout') throw new Error(`code-server did not start listening within ${startTimeoutMs / 1000} s:\n${recent}`);
    // Listening is not serving yet: wait for its health endpoint.
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      try {
        const response = await fetch(`${baseUrl}/healthz`);
        if (response.ok) break;
      } catch {
        // not accepting connections yet
      }
      if (exited) throw new Error(`code-server exited during start-up:\n${recent}`);
      if (Date.now() > deadline) throw new Error(`code-server's ${baseUrl}/healthz did not answer within ${startTimeoutMs / 1000} s:\n${recent}`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    removeProfile({ always: true });
    throw error;
  }

  const query = new URLSearchParams();
  if (workspace) query.set('folder', workspace);
  if (devPath) query.set('payload', JSON.stringify([['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${devPath}`]]));
  const workbenchUrl = `${baseUrl}/${query.size > 0 ? `?${query}` : ''}`;
  log(`code-server: listening on ${baseUrl} (pid ${child.pid})`);

  return {
    baseUrl,
    workbenchUrl,
    port,
    pid: child.pid,
    profileDir,
    userDataDir,
    extensionsDir,
    logsDir: join(userDataDir, 'logs'),
    serverLogPath,
    processIds: () => processTree(child.pid).filter(isRunning),
    exited: exitedPromise,
    stop,
  };
}

/** Files under `dir` (recursively) whose path matches `pattern`, oldest first by path. */
export function findFiles(dir, pattern) {
  if (!existsSync(dir)) return [];
  const found = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (pattern.test(path)) found.push(path);
    }
  };
  walk(dir);
  return found.sort();
}
