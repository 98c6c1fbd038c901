// `npm run test:vscode`: Tokenscope's activation check in desktop VS Code via @vscode/test-electron,
// for contributors whose machine can download VS Code. Not part of `npm test` and not what CI relies
// on (CI cannot download VS Code; `npm run test:e2e` drives code-server instead). Where VS Code cannot
// be downloaded it prints one line saying so and exits 0.
//
// On a Linux machine without a display, run it under xvfb-run.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadAndUnzipVSCode, runTests, SilentReporter } from '@vscode/test-electron';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The VS Code that code-server 4.100.3 carries, so both kinds of test meet the same editor. */
const VSCODE_VERSION = process.env.TOKENSCOPE_VSCODE_VERSION || '1.100.3';

let vscodeExecutablePath;
try {
  // Silent: where the download cannot work, the one line below is all this command prints.
  vscodeExecutablePath = await downloadAndUnzipVSCode({ version: VSCODE_VERSION, cachePath: join(repoRoot, '.vscode-test'), timeout: 15_000, reporter: new SilentReporter() });
} catch (error) {
  const reason = String(error?.message ?? error).split('\n')[0].slice(0, 200);
  console.log(`test:vscode skipped: VS Code could not be downloaded (${reason}); use npm run test:e2e`);
  process.exit(0);
}

console.log(`test:vscode: VS Code ${VSCODE_VERSION} at ${vscodeExecutablePath}`);
const built = spawnSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'inherit' });
if (built.status !== 0) {
  console.error('test:vscode: node esbuild.mjs failed (see above)');
  process.exit(1);
}

try {
  await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(repoRoot, 'test', 'vscode', 'suite', 'index.js'),
    launchArgs: [join(repoRoot, 'test', 'fixtures', 'workspace'), '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
  console.log('test:vscode: passed');
} catch (error) {
  console.error(`test:vscode FAILED: ${error?.message ?? error}`);
  process.exit(1);
}
