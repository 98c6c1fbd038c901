/**
 * Activation next to an empty extension measured the same way, quiet and with a busy-loop process
 * beside it, in two settings:
 *
 * 1. A plain Node process with a stub `vscode` (bench/fixtures/activate-with-stub-vscode.cjs): the
 *    extension's own work, loading (compiling) its bundle and activate(), in wall and CPU time, with
 *    no other extension on the thread. The process and the busy loop are pinned to the same core
 *    (taskset), so "busy" means half a core. Many runs, interleaved; cheap.
 * 2. code-server (`--code-server`): Tokenscope and an empty extension installed side by side, both on
 *    onStartupFinished, and VS Code's own figure for each (Developer: Show Running Extensions, code
 *    loading + activate()). The real thing, and noisy: every other extension starts at the same time.
 *
 *   npm run bench -- activation                              the current build
 *   npm run bench -- activation --compare ../old-checkout    also an older build's dist/ (setting 1)
 *   npm run bench -- activation --code-server [--vsix X] [--runs 3]
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
const probeRuns = Number(flag('probe-runs') ?? 15);
const compare = process.argv.flatMap((arg, index) => (arg === '--compare' && process.argv[index + 1] ? [resolve(process.argv[index + 1])] : []));
const withCodeServer = process.argv.includes('--code-server');

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

async function codeServerSection(): Promise<Record<string, unknown>> {
  const vsix = flag('vsix') ? resolve(flag('vsix') as string) : prepareVsix();
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
  return { vsix, runs, summary, samples };
}

// ---- 1. plain Node with a stub vscode ----------------------------------------------------------

interface ProbeSample {
  readonly loadMs: number;
  readonly activateMs: number;
  readonly totalMs: number;
  readonly loadCpuMs: number;
  readonly activateCpuMs: number;
  readonly totalCpuMs: number;
}

const probeScript = join(repoRoot, 'bench', 'fixtures', 'activate-with-stub-vscode.cjs');
const pinned = spawnSync('taskset', ['-c', '1', 'true']).status === 0;
/** Both the probe and the busy loop run on CPU 1 when taskset can pin them. */
const onOneCore = (args: string[]): [string, string[]] => (pinned ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args]);

function probe(dir: string): ProbeSample {
  const [command, args] = onOneCore([probeScript, dir]);
  const result = spawnSync(command, args, { encoding: 'utf8' });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) throw new Error(`the activation probe failed on ${dir}:\n${result.stdout}\n${result.stderr.slice(-2000)}`);
  return JSON.parse(line) as ProbeSample;
}

function emptyExtensionFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenscope-empty-probe-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'empty-baseline', main: './extension.js' }));
  writeFileSync(join(dir, 'extension.js'), 'exports.activate = function () {};\nexports.deactivate = function () {};\n');
  return dir;
}

function probeSection(): Record<string, unknown> {
  const built = spawnSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`node esbuild.mjs failed:\n${built.stderr}`);
  const targets: { readonly name: string; readonly dir: string }[] = [{ name: 'empty extension', dir: emptyExtensionFolder() }, ...compare.map((dir) => ({ name: `Tokenscope at ${dir}`, dir })), { name: 'Tokenscope (this build)', dir: repoRoot }];
  const samples = new Map<string, ProbeSample[]>();
  for (let index = 0; index < probeRuns; index++) {
    for (const condition of ['quiet', 'busy'] as const) {
      let busy: ChildProcess | undefined;
      if (condition === 'busy') {
        const [command, args] = onOneCore(['-e', 'for (;;) {}']);
        busy = spawn(command, args, { stdio: 'ignore' });
      }
      try {
        for (const target of targets) {
          const key = `${condition}\u0000${target.name}`;
          samples.set(key, [...(samples.get(key) ?? []), probe(target.dir)]);
        }
      } finally {
        busy?.kill();
      }
    }
  }
  const rows: Record<string, unknown>[] = [];
  console.log(`\nPlain Node, stub vscode, ${probeRuns} runs each, interleaved${pinned ? ', pinned to one core with the busy loop' : ' (taskset unavailable: not pinned)'}; medians; load average ${loadavg()[0].toFixed(1)}\n`);
  console.log('| Condition | Extension | Load bundle (wall) | activate() (wall) | Total wall | Ratio to empty | Total CPU | Ratio to empty |\n|---|---|---:|---:|---:|---:|---:|---:|');
  for (const condition of ['quiet', 'busy'] as const) {
    const empty = samples.get(`${condition}\u0000empty extension`) as ProbeSample[];
    const emptyWall = median(empty.map((sample) => sample.totalMs));
    const emptyCpu = median(empty.map((sample) => sample.totalCpuMs));
    for (const target of targets) {
      const of = samples.get(`${condition}\u0000${target.name}`) as ProbeSample[];
      const row = {
        condition,
        extension: target.name,
        loadMs: median(of.map((sample) => sample.loadMs)),
        activateMs: median(of.map((sample) => sample.activateMs)),
        totalMs: median(of.map((sample) => sample.totalMs)),
        totalCpuMs: median(of.map((sample) => sample.totalCpuMs)),
      };
      rows.push({ ...row, wallRatio: row.totalMs / emptyWall, cpuRatio: row.totalCpuMs / emptyCpu });
      console.log(`| ${condition === 'quiet' ? 'quiet' : 'busy loop on the same core'} | ${target.name} | ${row.loadMs.toFixed(1)} ms | ${row.activateMs.toFixed(1)} ms | ${row.totalMs.toFixed(1)} ms | ${(row.totalMs / emptyWall).toFixed(0)}x | ${row.totalCpuMs.toFixed(1)} ms | ${(row.totalCpuMs / emptyCpu).toFixed(0)}x |`);
    }
  }
  return { probeRuns, pinned, rows };
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { loadAverageAtStart: loadavg()[0], probe: probeSection() };
  if (withCodeServer) results.codeServer = await codeServerSection();
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench', 'results', 'activation.json'), `${JSON.stringify(results, null, 1)}\n`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
