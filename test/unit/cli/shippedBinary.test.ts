// The shipped CLI binary, dist/cli.js (package.json's `bin`, carried by the VSIX), run as a user
// runs it: `node dist/cli.js <command>`, for every command. It asserts stdout, stderr and the exit
// code (0 for help and success, 2 for usage errors and unknown commands, 1 for failures), standard
// input, and Ctrl+C (SIGINT). The bundle is built first, with the build's own options
// (`node esbuild.mjs --only cli,modelProcess`), so what runs is what `npm run build` ships.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCommands } from '../../../src/cli/commands';
import { filesFromFolder, startFakeHub } from '../../support/fakeHub';
import { TokenizerRegistry } from '../../../src/core/tokenizers/registry';

const repoRoot = join(__dirname, '..', '..', '..');
const binary = join(repoRoot, 'dist', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'tokenscope-cli-'));
// An empty Hugging Face cache: `models` lists only the catalog, whatever this machine has downloaded.
const env = { ...process.env, HF_HOME: join(scratch, 'hf'), HF_HUB_CACHE: join(scratch, 'hf', 'hub'), HF_ENDPOINT: '', HF_TOKEN: '' };

interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli.js ...args`; `onStdout` sees each chunk with the child (to signal it). */
function cli(args: readonly string[], options: { input?: string; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binary, ...args], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tokenscope ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(stdout, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

function helpText(): string {
  const width = Math.max(8, ...cliCommands.map((command) => command.name.length));
  return ['Usage: tokenscope <command> [options]', '', 'Commands:', ...cliCommands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`), '', "Run `tokenscope <command> --help` for a command's options.", ''].join('\n');
}

const usageOf = (name: string): string => {
  const command = cliCommands.find((candidate) => candidate.name === name);
  assert.ok(command, name);
  return command.usage;
};

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.mjs', '--only', 'cli,modelProcess'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  assert.equal(build.status, 0, build.stderr);
  assert.match(readFileSync(binary, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'an executable script');
});

test('the binary knows every command; help exits 0 on stdout, no command exits 2, an unknown one exits 2 on stderr', async () => {
  assert.deepEqual(cliCommands.map((command) => command.name).sort(), ['attention', 'complete', 'cost', 'generate', 'lens', 'model-info', 'models', 'neighbours', 'next', 'pull', 'samples', 'serve', 'surprise', 'tokenize', 'usage']);
  for (const flag of ['--help', '-h', 'help']) assert.deepEqual(await cli([flag]), { status: 0, signal: null, stdout: helpText(), stderr: '' }, flag);
  assert.deepEqual(await cli([]), { status: 2, signal: null, stdout: helpText(), stderr: '' });
  assert.deepEqual(await cli(['bogus']), { status: 2, signal: null, stdout: '', stderr: `tokenscope: unknown command "bogus"\n\n${helpText()}` });
});

test('every command: --help prints its usage and exits 0', async () => {
  const runs = await Promise.all(cliCommands.map(async (command) => ({ name: command.name, run: await cli([command.name, '--help']) })));
  for (const { name, run } of runs) assert.deepEqual(run, { status: 0, signal: null, stdout: `${usageOf(name)}\n`, stderr: '' }, name);
});

test('every command: a usage error says what is wrong, then the usage, on stderr, and exits 2', async () => {
  const cases: [string[], string][] = [
    [['complete', '--model', 'mini', '--file', 'x.py'], '--line and --character are required (0-based)'],
    [['generate'], '--model is required (`mini` or a model folder), or --server URL to run on an OpenAI-compatible server'],
    [['tokenize', '--bogus'], 'unknown option --bogus'],
    [['cost', 'extra'], 'unexpected argument "extra": the text comes from standard input'],
    [['model-info', '--bogus'], 'unknown option --bogus'],
    [['models', 'extra'], 'unexpected argument "extra"'],
    [['pull'], 'which model? Give a catalog id (tokenscope models) or org/name'],
    [['serve', '--model', 'mini', '--port', 'abc'], '--port must be an integer, got "abc"'],
    [['next', '--prompt', 'x', '--top', '0'], '--top must be at least 1, got 0'],
    [['surprise'], '--file is required'],
    [['attention', '--file', 'x.ts'], '--line and --character are required (0-based)'],
    [['lens'], '--prompt is required'],
    [['neighbours', 'extra'], 'unexpected argument "extra"'],
    [['samples', '--model', 'mini', '--prompt', 'x', '--runs', '1/2'], '--runs: "1/2": top-p must be in (0, 1], got 2.'],
    [['usage', '--days', '0'], '--days must be at least 1, got 0'],
  ];
  assert.deepEqual(new Set(cases.map(([args]) => args[0])), new Set(cliCommands.map((command) => command.name)), 'a case per command');
  const runs = await Promise.all(cases.map(async ([args, message]) => ({ args, message, run: await cli(args) })));
  for (const { args, message, run } of runs) {
    assert.deepEqual(run, { status: 2, signal: null, stdout: '', stderr: `tokenscope ${args[0]}: ${message}\n\n${usageOf(args[0])}\n` }, args.join(' '));
  }
});

test('failures say why on stderr and exit 1 (a missing model, file or model folder, an unreachable Hub, a port in use)', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const cases: [string[], RegExp][] = [
      [['generate', '--model', '/nonexistent', '--prompt', 'x'], /^tokenscope generate: Model folder \/nonexistent does not exist\. Set tokenscope\.model to `mini` or to the absolute path of a Hugging Face ONNX model folder\.\n$/],
      [['complete', '--model', 'mini', '--file', join(scratch, 'missing.py'), '--line', '0', '--character', '0'], /^tokenscope complete: cannot read .*missing\.py: no such file\n$/],
      [['model-info', '--model', '/nonexistent'], /^tokenscope model-info: The configured model \(\/nonexistent\) cannot be shown: \/nonexistent\/config\.json does not exist: choose a Hugging Face model folder \(with config\.json\)\.\n$/],
      [['pull', 'org/name', '--endpoint', 'http://127.0.0.1:1'], /^org\/name: Asking the Hub for the file list…\ntokenscope pull: Cannot reach 127\.0\.0\.1:1: fetch failed\. Check your connection, or the Hub endpoint \(tokenscope\.hub\.endpoint \/ HF_ENDPOINT\) if you use a mirror\.\n$/],
      [['serve', '--model', 'mini', '--port', String(port)], new RegExp(`tokenscope serve: port ${port} on 127\\.0\\.0\\.1 is already in use: stop what listens there, or pick another with --port \\(0 picks a free one\\)\\n$`)],
    ];
    for (const [args, stderr] of cases) {
      const run = await cli(args);
      assert.equal(run.stdout, '', args.join(' '));
      assert.match(run.stderr, stderr, args.join(' '));
      assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
    }
  } finally {
    blocker.close();
  }
});

test('standard input: tokenize and cost read it, and agree with the core tokenizer', async () => {
  const text = 'export const greeting = "héllo, 世界";\n';
  const o200k = await new TokenizerRegistry({ rootDir: repoRoot }).get('o200k_base');
  const tokenized = await cli(['tokenize', '--tokenizer', 'o200k_base', '--json'], { input: text });
  assert.equal(tokenized.status, 0, tokenized.stderr);
  assert.equal(tokenized.stderr, '');
  assert.deepEqual(JSON.parse(tokenized.stdout), { tokenizer: 'o200k_base', count: o200k.count(text), tokens: o200k.encodeWithOffsets(text).map((span) => ({ id: span.id, start: span.start, end: span.end })) });
  const costed = await cli(['cost', '--json'], { input: text });
  assert.equal(costed.status, 0, costed.stderr);
  const report = JSON.parse(costed.stdout) as { characters: number; models: { id: string; tokenizer: string; tokens: number }[] };
  assert.equal(report.characters, text.length);
  const gpt5 = report.models.find((entry) => entry.id === 'gpt-5');
  assert.deepEqual({ tokenizer: gpt5?.tokenizer, tokens: gpt5?.tokens }, { tokenizer: 'o200k_base', tokens: o200k.count(text) });
});

test('the built-in model runs through the binary: generate, samples, complete, next, surprise, model-info, models', async () => {
  const generated = await cli(['generate', '--model', 'mini', '--prompt', 'def add(a, b):\n', '--max-tokens', '3', '--json']);
  assert.equal(generated.status, 0, generated.stderr);
  assert.equal((JSON.parse(generated.stdout) as { tokens: unknown[] }).tokens.length, 3);
  const sampled = await cli(['samples', '--model', 'mini', '--prompt', 'def add(a, b):\n', '--runs', '0, 0, 1.5@2', '--max-tokens', '4', '--json']);
  assert.equal(sampled.status, 0, sampled.stderr);
  const samples = JSON.parse(sampled.stdout) as { runsPlan: string; runs: { seed: number; status: string; tokens: unknown[] }[]; sameAs: (number | null)[] };
  assert.equal(samples.runsPlan, '0, 0, 1.5@2');
  assert.deepEqual(samples.runs.map((run) => [run.status, run.tokens.length]), [['done', 4], ['done', 4], ['done', 4]]);
  assert.equal(samples.sameAs[1], 0, 'greedy twice is one answer');
  const file = join(scratch, 'add.py');
  writeFileSync(file, 'def add(a, b):\n    return \n');
  const completed = await cli(['complete', '--model', 'mini', '--file', file, '--line', '1', '--character', '11', '--json']);
  assert.equal(completed.status, 0, completed.stderr);
  assert.deepEqual(Object.keys(JSON.parse(completed.stdout) as object), ['completion', 'latencyMs', 'promptTokens', 'generatedTokens', 'template', 'confidence']);
  const next = await cli(['next', '--file', file, '--line', '1', '--character', '11', '--top', '3', '--json']);
  assert.equal(next.status, 0, next.stderr);
  assert.equal((JSON.parse(next.stdout) as { tokens: unknown[] }).tokens.length, 3);
  const surprise = await cli(['surprise', '--file', file, '--json']);
  assert.equal(surprise.status, 0, surprise.stderr);
  assert.ok((JSON.parse(surprise.stdout) as { tokens: unknown[] }).tokens.length > 3);
  const info = await cli(['model-info', '--json']);
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /"tokenscope-mini"|tokenscope-mini/);
  mkdirSync(env.HF_HUB_CACHE, { recursive: true });
  const models = await cli(['models', '--json']);
  assert.equal(models.status, 0, models.stderr);
  assert.ok((JSON.parse(models.stdout) as { catalog: unknown[] }).catalog.length > 0);
});

test('pull downloads from a Hub into the cache and prints the folder; the pulled model then runs by its name', { timeout: 120_000 }, async () => {
  const repo = 'someone/Tiny-ONNX';
  const commit = '3333333333333333333333333333333333333333';
  const hub = await startFakeHub([{ repo, commit, files: filesFromFolder(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen2')) }]);
  try {
    const pulled = await cli(['pull', repo, '--endpoint', hub.endpoint]);
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.equal(pulled.stdout, `${join(env.HF_HUB_CACHE, 'models--someone--Tiny-ONNX', 'snapshots', commit)}\n`);
    assert.match(pulled.stderr, new RegExp(`${repo} \\w+ @ 3333333: downloaded .* in [0-9.]+ s\\. Use it with --model ${repo}\\.\\n$`));
    const again = await cli(['pull', repo, '--endpoint', hub.endpoint, '--json']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { fromCache: boolean }).fromCache, true);
    const generated = await cli(['generate', '--model', repo, '--prompt', 'x', '--max-tokens', '2', '--json']);
    assert.equal(generated.status, 0, generated.stderr);
    assert.equal((JSON.parse(generated.stdout) as { tokens: unknown[] }).tokens.length, 2);
  } finally {
    await hub.close();
  }
});

test('Ctrl+C (SIGINT): generate stops mid-answer and exits 130 saying so; serve stops and exits 0', { timeout: 120_000 }, async () => {
  let signalled = false;
  const generating = await cli(['generate', '--model', 'mini', '--prompt', '    n = n\n    n = n\n', '--max-tokens', '400'], {
    onStdout: (_text, child) => {
      if (signalled) return;
      signalled = true;
      child.kill('SIGINT');
    },
  });
  assert.equal(generating.status, 130, generating.stderr);
  assert.equal(generating.stderr, 'tokenscope generate: interrupted\n');
  assert.ok(generating.stdout.endsWith('\n') && generating.stdout.length < 400 * 4, `stopped early (${generating.stdout.length} characters)`);

  let listening = '';
  const serving = await cli(['serve', '--model', 'mini', '--port', '0'], {
    timeoutMs: 30_000,
    onStdout: (text, child) => {
      const match = /^tokenscope serve: listening on (http:\/\/127\.0\.0\.1:\d+)\/v1\n/.exec(text);
      if (!match || listening) return;
      listening = match[1];
      child.kill('SIGINT');
    },
  });
  assert.ok(listening, serving.stderr);
  assert.equal(serving.status, 0, serving.stderr);
  assert.match(serving.stderr, /^tokenscope serve: Tokenscope mini .* loaded in \d+ ms\ntokenscope serve: stopping\n$/);
  // It stopped listening.
  await assert.rejects(fetch(`${listening}/v1/models`));
});
