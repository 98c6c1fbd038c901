// Installs code-server (a real VS Code 1.100.3 served to a browser) into a cache folder, with the
// workarounds this offline machine needs. Used by `npm start`, `npm run test:e2e` and `.ci/run`.
//
//   node tools/code-server.mjs            install when missing, print where it is
//   node tools/code-server.mjs --force    reinstall from scratch
//   node tools/code-server.mjs --check    exit 1 (with the reason) when not installed; installs nothing
//
// The folder defaults to `<repo>/.cache/code-server/` (git-ignored); set TOKENSCOPE_CODE_SERVER_DIR
// to share one install between clones. A marker file makes the installed case a few file reads.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** 4.100.3 is the newest code-server that runs on Node 20 (later ones need Node 22). */
export const CODE_SERVER_VERSION = '4.100.3';

/** The @vscode/ripgrep version inside code-server 4.100.3 and the asset its postinstall wants. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

/** Debian packages the native modules of code-server build against, and Debian's `rg`. */
export const CODE_SERVER_DEBIAN_PACKAGES = ['libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'pkg-config', 'build-essential', 'ripgrep'];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function codeServerDir() {
  return resolve(process.env.TOKENSCOPE_CODE_SERVER_DIR || join(repoRoot, '.cache', 'code-server'));
}

/** The script to run with `node` (not the `.bin` shell wrapper), so we own the process directly. */
export function codeServerEntry(dir = codeServerDir()) {
  return join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

const markerPath = (dir) => join(dir, 'tokenscope-install.json');

/** Why the install in `dir` is not usable, or undefined when it is. */
export function codeServerProblem(dir = codeServerDir()) {
  if (!existsSync(markerPath(dir))) return `code-server is not installed in ${dir}`;
  let marker;
  try {
    marker = JSON.parse(readFileSync(markerPath(dir), 'utf8'));
  } catch {
    return `the install marker ${markerPath(dir)} is unreadable`;
  }
  if (marker.version !== CODE_SERVER_VERSION) return `${dir} holds code-server ${marker.version}, not ${CODE_SERVER_VERSION}`;
  // Native modules are built for one Node ABI: a different Node needs a rebuild.
  if (marker.nodeModules !== process.versions.modules) return `${dir} was built for Node ABI ${marker.nodeModules}, this is ${process.versions.modules}`;
  if (!existsSync(codeServerEntry(dir))) return `${codeServerEntry(dir)} is missing`;
  return undefined;
}

/** Debian packages from CODE_SERVER_DEBIAN_PACKAGES that are not installed ([] where dpkg is absent). */
export function missingDebianPackages(packages = CODE_SERVER_DEBIAN_PACKAGES) {
  if (spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).error) return [];
  return packages.filter((name) => {
    const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return status.status !== 0 || !status.stdout.includes('install ok installed');
  });
}

function which(command) {
  for (const folder of (process.env.PATH || '').split(':')) {
    const candidate = join(folder, command);
    if (folder && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * A cross-process lock (an atomic mkdir): other helpers and test runs share the cache folder, and two
 * npm installs into one folder corrupt it. A lock left by a dead process is taken over.
 */
async function withLock(dir, log, action) {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(join(lock, 'pid'), 'utf8').trim() || 0);
      if (!owner || !isAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`code-server install: ${lock} is held by process ${owner} for over 15 minutes; stop it or remove the folder`);
      log(`code-server: waiting for process ${owner}, which is installing into ${dir}`);
      await new Promise((done) => setTimeout(done, 3000));
    }
  }
  try {
    return await action();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function run(command, args, options) {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk).slice(-20_000);
      if (options.verbose) process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(output) : fail(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}

/**
 * Makes sure code-server CODE_SERVER_VERSION is installed; returns its entry script. Fast (no
 * process spawned) when the marker says it is there already.
 */
export async function ensureCodeServer({ force = false, log = (line) => console.error(line), verbose = false } = {}) {
  const dir = codeServerDir();
  if (!force && !codeServerProblem(dir)) return { dir, entry: codeServerEntry(dir), installedNow: false, seconds: 0 };

  return withLock(dir, log, async () => {
    // Another process may have finished the install while we waited for the lock.
    if (!force && !codeServerProblem(dir)) return { dir, entry: codeServerEntry(dir), installedNow: false, seconds: 0 };

    const missing = missingDebianPackages();
    if (missing.length > 0) {
      throw new Error(`code-server needs Debian packages that are not installed: ${missing.join(' ')}.\nRun: apt-get update && apt-get install -y ${missing.join(' ')}`);
    }
    const rg = which('rg');
    if (!rg) throw new Error('code-server needs ripgrep (`rg`) on PATH. Run: apt-get install -y ripgrep');
    if (Number(process.versions.node.split('.')[0]) !== 20) {
      throw new Error(`code-server ${CODE_SERVER_VERSION} installs only under Node 20, this is Node ${process.versions.node}`);
    }

    const started = Date.now();
    log(`code-server: installing ${CODE_SERVER_VERSION} into ${dir} (1-3 minutes, ~300 MB)`);
    rmSync(dir, { recursive: true, force: true });
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    // The folder is its own npm project, so the repo's .npmrc and package.json do not apply to it.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tokenscope-code-server', private: true }, null, 2));

    // @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable; it first looks in
    // a cache folder under the temp dir, so put Debian's rg there in the archive shape it expects.
    const ripgrepCache = join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
    mkdirSync(ripgrepCache, { recursive: true });
    await run('tar', ['-czf', join(ripgrepCache, RIPGREP_ASSET), '-C', dirname(rg), 'rg'], {});

    const env = {
      ...process.env,
      TMPDIR: tmp,
      // Installing as root: without unsafe-perm npm drops privileges and the postinstalls fail.
      npm_config_unsafe_perm: 'true',
      // node-pty's postinstall runs `npx`, which this machine's npm config makes refuse to prompt.
      npm_config_yes: 'true',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
      // node-gyp would download Node headers from nodejs.org; Debian's nodejs ships them in /usr.
      ...(existsSync('/usr/include/node/node.h') && !process.env.npm_config_nodedir ? { npm_config_nodedir: '/usr' } : {}),
    };
    try {
      await run('npm', ['install', '--no-save', '--omit=dev', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir, env, verbose });
    } catch (error) {
      throw new Error(`code-server install failed (see npm's output below). Retry with: node tools/code-server.mjs --force --verbose\n${error.message}`);
    }
    if (!existsSync(codeServerEntry(dir))) throw new Error(`code-server install finished but ${codeServerEntry(dir)} is missing`);
    rmSync(tmp, { recursive: true, force: true });

    const seconds = (Date.now() - started) / 1000;
    writeFileSync(markerPath(dir), JSON.stringify({ version: CODE_SERVER_VERSION, nodeModules: process.versions.modules, installedAt: new Date().toISOString(), seconds }, null, 2) + '\n');
    log(`code-server: installed ${CODE_SERVER_VERSION} in ${seconds.toFixed(1)} s`);
    return { dir, entry: codeServerEntry(dir), installedNow: true, seconds };
  });
}

async function main(args) {
  const unknown = args.filter((arg) => !['--force', '--check', '--verbose'].includes(arg));
  if (unknown.length > 0) {
    console.error(`Unknown argument(s): ${unknown.join(' ')}. Usage: node tools/code-server.mjs [--force] [--check] [--verbose]`);
    return 2;
  }
  if (args.includes('--check')) {
    const problem = codeServerProblem();
    console.log(problem ?? `code-server ${CODE_SERVER_VERSION} is installed: ${codeServerEntry()}`);
    return problem ? 1 : 0;
  }
  try {
    const started = Date.now();
    const result = await ensureCodeServer({ force: args.includes('--force'), verbose: args.includes('--verbose') });
    console.log(`code-server ${CODE_SERVER_VERSION}: ${result.entry} (${result.installedNow ? 'installed' : 'already installed'}, ${((Date.now() - started) / 1000).toFixed(2)} s)`);
    return 0;
  } catch (error) {
    console.error(error.message);
    return 1;
  }
}

// No top-level await: the TypeScript e2e harness loads this module through tsx as CommonJS.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
