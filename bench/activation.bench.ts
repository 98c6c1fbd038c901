/**
 * Activation, as VS Code measures it, next to an empty extension measured the same way: both are
 * installed into one code-server, both activate on onStartupFinished, and "Developer: Show Running
 * Extensions" reports each one's code loading + activate() time. Runs alternate between a quiet
 * machine and one with a busy-loop process beside it (one core taken), so the ratio to the empty
 * extension is measured side by side under the same conditions.
 *
 *   npm run bench -- activation                       the current build (packaged as for the e2e tests)
 *   npm run bench -- activation --vsix other.vsix     another build, e.g. an older commit's, to compare
 *   npm run bench -- activation --runs 5              starts per condition (default 3)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareVsix, repoRoot, startWorkbench, type Workbench } from '../test/e2e/harness/workbench';

const flag = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
};
const runs = Number(flag('runs') ?? 3);
const vsix = flag('vsix') ? resolve(flag('vsix') as string) : prepareVsix();

/** An extension that does nothing: the floor of what activating any extension costs here. */
function emptyExtensionVsix(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenscope-empty-extension-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'empty-baseline', displayName: 'Empty baseline', publisher: 'tokenscope-bench', version: '0.0.1', license: 'MIT', engines: { vscode: '^1.100.0' }, activationEvents: ['onStartupFinished'], main: './extension.js' }),
  );
  writeFileSync(join(dir, 'extension.js'), 'exports.activate = function () {};\nexports.deactivate = function () {};\n');
  writeFileSync(join(dir, 'README.md'), '# Empty baseline\n');
  const out = join(dir, 'empty.vsix');
  const result = spawnSync(join(repoRoot, 'node_modules', '.bin', 'vsce'), ['package', '--allow-missing-repository', '--skip-license', '-o', out], { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_yes: 'true' } });
  if (result.status !== 0 || !existsSync(out)) throw new Error(`packaging the empty extension failed:\n${result.stdout}\n${result.stderr}`);
  return out;
}

/** "Developer: Show Running Extensions": code loading + activate() of one extension's row, in ms. */
async function runningExtensionMs(workbench: Workbench, name: string): Promise<number> {
  const row = workbench.page.locator('.runtime-extensions-editor .monaco-list-row').filter({ hasText: name }).first();
  const text = (await row.locator('.activation-time').first().textContent({ timeout: 30_000 })) ?? '';
  const match = /(\d+(?:\.\d+)?)\s*ms/.exec(text);
  if (!match) throw new Error(`no activation time for ${name} in "${text}"`);
  return Number(match[1]);
}

interface Sample {
  readonly condition: 'quiet' | 'busy';
  readonly tokenscopeMs: number;
  readonly emptyMs: number;
  /** Tokenscope's own log line (bundle start to the end of activate()). */
  readonly logMs: number;
  readonly loadAverage: number;
}

async function measure(condition: Sample['condition'], empty: string, index: number): Promise<Sample> {
  let busy: ChildProcess | undefined;
  if (condition === 'busy') busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    // The harness installs TOKENSCOPE_E2E_VSIX (set below to the build being measured).
    const workbench = await startWorkbench({ name: `activation-${condition}-${index}`, extraVsix: [empty], settings: { 'tokenscope.completions.enabled': false } });
    try {
      const logMs = await workbench.activationMs();
      await workbench.runCommand('Developer: Show Running Extensions');
      const tokenscopeMs = await runningExtensionMs(workbench, 'Tokenscope');
      const emptyMs = await runningExtensionMs(workbench, 'Empty baseline');
      return { condition, tokenscopeMs, emptyMs, logMs, loadAverage: loadavg()[0] };
    } finally {
      await workbench.stop();
    }
  } finally {
    busy?.kill();
  }
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

async function main(): Promise<void> {
  process.env.TOKENSCOPE_E2E_VSIX = vsix;
  const empty = emptyExtensionVsix();
  const samples: Sample[] = [];
  for (let index = 0; index < runs; index++) {
    for (const condition of ['quiet', 'busy'] as const) {
      const sample = await measure(condition, empty, index);
      samples.push(sample);
      console.log(`${condition}: Tokenscope ${sample.tokenscopeMs} ms, empty extension ${sample.emptyMs} ms (ratio ${(sample.tokenscopeMs / Math.max(1, sample.emptyMs)).toFixed(1)}); Tokenscope's log ${sample.logMs} ms; load average ${sample.loadAverage.toFixed(1)}`);
    }
  }
  const summary = Object.fromEntries(
    (['quiet', 'busy'] as const).map((condition) => {
      const of = samples.filter((sample) => sample.condition === condition);
      return [condition, { tokenscopeMs: median(of.map((s) => s.tokenscopeMs)), emptyMs: median(of.map((s) => s.emptyMs)), ratio: median(of.map((s) => s.tokenscopeMs / Math.max(1, s.emptyMs))), logMs: median(of.map((s) => s.logMs)), loadAverage: median(of.map((s) => s.loadAverage)) }];
    }),
  );
  console.log('\n| Condition | Tokenscope (VS Code) | Empty extension | Ratio | Tokenscope log line | Load average |\n|---|---:|---:|---:|---:|---:|');
  for (const [condition, row] of Object.entries(summary)) {
    console.log(`| ${condition === 'quiet' ? 'quiet' : 'one busy-loop process beside it'} | ${row.tokenscopeMs} ms | ${row.emptyMs} ms | ${row.ratio.toFixed(1)}x | ${row.logMs.toFixed(1)} ms | ${row.loadAverage.toFixed(1)} |`);
  }
  console.log(`(medians of ${runs} starts each; VS Code's figure is code loading + activate(), from Developer: Show Running Extensions)`);
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench', 'results', 'activation.json'), `${JSON.stringify({ vsix, runs, summary, samples }, null, 1)}\n`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
