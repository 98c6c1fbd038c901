// `npm run package`: production build, then a linux-x64 VSIX carrying only that platform's ONNX
// Runtime binaries (.vscodeignore is an allow-list), then tools/check-vsix.mjs on the result.
//
//   node tools/package.mjs [--out FILE.vsix] [--skip-build] [--if-stale] [--quiet]
//
// Default output: tokenscope-<version>-linux-x64.vsix in the repo root (git-ignored). --if-stale
// keeps an existing VSIX that is newer than every input (the e2e tests use it to package once);
// --quiet prints the build's and vsce's output only when they fail.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVsix, readZipEntries, readZipEntry } from './check-vsix.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = 'linux-x64';

function usage(message) {
  console.error(`${message}\nUsage: node tools/package.mjs [--out FILE.vsix] [--skip-build] [--if-stale] [--quiet]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let out;
let skipBuild = false;
let ifStale = false;
let quiet = false;
for (let index = 0; index < args.length; index++) {
  if (args[index] === '--out') {
    out = args[++index];
    if (!out) usage('--out needs a file name');
  } else if (args[index] === '--skip-build') skipBuild = true;
  else if (args[index] === '--if-stale') ifStale = true;
  else if (args[index] === '--quiet') quiet = true;
  else usage(`Unknown argument: ${args[index]}`);
}
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
out = resolve(out ?? join(repoRoot, `${manifest.name}-${manifest.version}-${TARGET}.vsix`));

/** Everything a VSIX is made from (dist/ too: another build may have replaced it); older than any is stale. */
const INPUT_FILES = ['package.json', 'package-lock.json', 'esbuild.mjs', '.vscodeignore', 'LICENSE', 'README.md', 'tools/package.mjs'];
const INPUT_FOLDERS = ['src', 'media', 'syntaxes', 'models', 'dist'];

function newestInputMs() {
  let newest = 0;
  const visit = (path) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    // A folder's own time changes when a file in it is added or deleted.
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const input of [...INPUT_FILES, ...INPUT_FOLDERS]) visit(join(repoRoot, input));
  return newest;
}

function step(title, command, commandArgs) {
  const started = Date.now();
  console.log(`package: ${title}`);
  // stdin is closed so that a vsce question (it asks when something looks wrong) fails instead of hanging.
  const result = spawnSync(command, commandArgs, { cwd: repoRoot, stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'], encoding: 'utf8', env: { ...process.env, npm_config_yes: 'true' } });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    if (quiet) console.error(`${result.stdout}${result.stderr}`);
    console.error(`package: ${title} failed (exit ${result.status})`);
    process.exit(1);
  }
  console.log(`package: ${title} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (ifStale && existsSync(out) && statSync(out).mtimeMs > newestInputMs() && checkVsix(out).problems.length === 0) {
  console.log(`package: ${out} is newer than its sources; reusing it`);
  process.exit(0);
}

if (!skipBuild) step('production build (node esbuild.mjs)', process.execPath, ['esbuild.mjs']);
if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) {
  console.error('package: dist/extension.js is missing after the build; does src/vscode/extension.ts exist?');
  process.exit(1);
}
if (!existsSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'))) {
  console.error('package: node_modules/onnxruntime-node has no linux-x64 binary; run npm ci first');
  process.exit(1);
}

mkdirSync(dirname(out), { recursive: true });
// Written beside the target and renamed into place once checked: several test runs may share one
// output path, and none of them must install a half-written or failed VSIX.
const staged = `${out}.${process.pid}.partial`;
rmSync(staged, { force: true });
process.on('exit', () => rmSync(staged, { force: true }));
const vsce = join(dirname(createRequire(import.meta.url).resolve('@vscode/vsce/package.json')), 'vsce');
step(`vsce package --target ${TARGET}`, process.execPath, [
  vsce,
  'package',
  '--target', TARGET,
  '--out', staged,
  // Dependencies on: vsce then adds node_modules, and .vscodeignore keeps only onnxruntime-node/-common.
  '--dependencies',
  '--no-yarn',
  // The repository URL is not GitHub's, so vsce could not rewrite README links; keep them as written.
  '--no-rewrite-relative-links',
]);

const result = checkVsix(staged);
console.log(`package: ${out}: ${(result.bytes / 1e6).toFixed(2)} MB, ${result.fileCount} files`);
if (result.problems.length > 0) {
  console.error(`package: the VSIX failed its contents check:\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}`);
  process.exit(1);
}
console.log('package: contents check passed');

// The binaries being present is not enough: load ONNX Runtime from the VSIX's own files, as the
// extension will, so that a missing shared library or a broken layout fails here and not for a user.
const unpacked = mkdtempSync(join(tmpdir(), 'tokenscope-vsix-'));
let loaded;
try {
  const zip = readFileSync(staged);
  for (const entry of readZipEntries(zip)) {
    if (!entry.name.startsWith('extension/node_modules/onnxruntime-')) continue;
    const path = join(unpacked, entry.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, readZipEntry(zip, entry));
  }
  const probe = `const ort = require(${JSON.stringify(join(unpacked, 'extension', 'node_modules', 'onnxruntime-node'))}); if (typeof ort.InferenceSession?.create !== 'function') throw new Error('no InferenceSession'); console.log('package: ONNX Runtime ' + ort.env.versions.node + ' loads from the VSIX');`;
  loaded = spawnSync(process.execPath, ['-e', probe], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
} finally {
  rmSync(unpacked, { recursive: true, force: true });
}
if (loaded.status !== 0) {
  console.error('package: ONNX Runtime from the VSIX does not load (see above)');
  process.exit(1);
}
renameSync(staged, out);
console.log(`package: wrote ${out}`);
