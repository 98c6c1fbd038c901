// `npm run test:e2e`: end-to-end tests in a real VS Code (code-server) driven by headless chromium.
// Checks the tools, installs code-server when missing, builds and packages the VSIX once for the whole
// run, then runs test/e2e/**/*.e2e.ts one file at a time with Node's test runner.
//
//   npm run test:e2e                                   every e2e file
//   npm run test:e2e -- test/e2e/workbench.e2e.ts      one file (extra arguments go to node --test)
//   TOKENSCOPE_E2E_MODE=dev npm run test:e2e           load dist/ as a development extension instead of the VSIX
//
// Under CI=true a missing chromium or code-server fails the run; elsewhere it is reported and skipped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer } from './code-server.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ci = process.env.CI === 'true' || process.env.CI === '1';
const chromiumPath = process.env.TOKENSCOPE_CHROMIUM || '/usr/bin/chromium';
const mode = process.env.TOKENSCOPE_E2E_MODE === 'dev' ? 'dev' : 'vsix';
const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Missing tools: fail under CI (E2E is required there), report and skip elsewhere. */
function unavailable(reason) {
  if (ci) {
    console.error(`test:e2e FAILED: ${reason}\n(CI=true: end-to-end tests are required; .ci/run installs what they need.)`);
    process.exit(1);
  }
  console.error(`\ntest:e2e skipped: ${reason}\nThe end-to-end tests need Debian's chromium and code-server; run bash .ci/run once, or install what is named above.\n`);
  process.exit(0);
}

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'artifacts' ? [] : findTests(path);
    return name.endsWith('.e2e.ts') ? [path] : [];
  });
}

if (!existsSync(chromiumPath)) unavailable(`chromium is not installed at ${chromiumPath} (apt-get install -y chromium, or set TOKENSCOPE_CHROMIUM)`);

let phase = Date.now();
try {
  const codeServer = await ensureCodeServer({ log: (line) => console.error(line) });
  console.error(`test:e2e: code-server ready (${codeServer.installedNow ? `installed in ${codeServer.seconds.toFixed(1)} s` : 'cached'})`);
} catch (error) {
  unavailable(error.message);
}

phase = Date.now();
// ORT_DISABLE_TELEMETRY: the extension's model process sets it itself; the runner's own helpers may load ONNX Runtime too.
const env = { ...process.env, TOKENSCOPE_E2E_MODE: mode, ORT_DISABLE_TELEMETRY: '1' };
if (mode === 'vsix') {
  const vsix = join(repoRoot, '.cache', 'e2e', 'tokenscope-e2e.vsix');
  const packaged = spawnSync(process.execPath, [join(repoRoot, 'tools', 'package.mjs'), '--out', vsix, '--if-stale', '--quiet'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (packaged.status !== 0) {
    console.error('test:e2e FAILED: building and packaging the VSIX failed (see above)');
    process.exit(1);
  }
  env.TOKENSCOPE_E2E_VSIX = vsix;
} else {
  const built = spawnSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) {
    console.error('test:e2e FAILED: node esbuild.mjs failed (see above)');
    process.exit(1);
  }
  env.TOKENSCOPE_E2E_BUILT = '1';
}
console.error(`test:e2e: extension ready (${mode}) in ${seconds(phase)}`);

const extra = process.argv.slice(2);
const files = extra.some((arg) => arg.endsWith('.ts')) ? [] : findTests(join(repoRoot, 'test', 'e2e')).sort();
if (files.length === 0 && !extra.some((arg) => arg.endsWith('.ts'))) {
  console.error('test:e2e FAILED: no test/e2e/**/*.e2e.ts files found');
  process.exit(1);
}

phase = Date.now();
// One file at a time: each starts its own code-server and browser, and two cores are all there is.
const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...extra, ...files], { cwd: repoRoot, env, stdio: 'inherit' });
// Ctrl+C reaches the runner through the terminal's process group; wait for its clean-up instead of dying first.
for (const signalName of ['SIGINT', 'SIGTERM']) process.on(signalName, () => runner.kill(signalName));
runner.on('close', (code, signalName) => {
  console.error(`test:e2e: tests took ${seconds(phase)}; whole run ${seconds(started)}`);
  process.exit(code ?? (signalName ? 1 : 0));
});
