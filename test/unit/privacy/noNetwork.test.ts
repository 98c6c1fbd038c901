// "Nothing leaves your machine": ONNX Runtime 1.30's Linux library uploads telemetry by default
// (it resolves mobile.events.data.microsoft.com about 9 s after a session is created and keeps a
// device id and an event queue under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/). Tokenscope
// turns it off in every process that loads ONNX Runtime. This test runs the two real paths that
// load a model, the model process (forked as the extension forks it) and the CLI, in a network
// namespace with no network at all (`unshare -n`), traced with `strace -f`, and asserts that not one
// connection or datagram was attempted to any address and that nothing was written under the cache
// folder of a throwaway HOME.
//
// The children get a clean environment: no ORT_DISABLE_TELEMETRY from the test runner, and none of
// the CI variables (CI, GITHUB_ACTIONS, ...) that make ONNX Runtime stay quiet by itself, so only
// Tokenscope's own code can keep it quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const repoRoot = join(__dirname, '..', '..', '..');
const ci = process.env.CI === 'true' || process.env.CI === '1';

/** Variables ONNX Runtime reads to disable telemetry by itself (strings of libonnxruntime.so 1.30 and its telemetry_environment.h). */
const quietingVariables = ['ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED', 'ORT_RUNNING_UNIT_TESTS', 'CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER', 'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI'];

function works(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

/** Why the tools cannot run here, or undefined when they can. */
function missingTools(): string | undefined {
  if (process.platform !== 'linux') return `this test needs Linux (strace, network namespaces); this is ${process.platform}`;
  if (!works('strace', ['-f', '-qq', '-e', 'trace=connect', '-o', '/dev/null', 'true'])) return 'strace is missing or cannot trace here (apt-get install -y strace; ptrace must be allowed)';
  if (!works('unshare', ['-n', 'true'])) return '`unshare -n` cannot create a network namespace here (it needs root or user namespaces)';
  return undefined;
}

interface Traced {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly trace: string;
  readonly home: string;
}

/** Runs `node <args>` with no network, a throwaway HOME and XDG cache, and every network syscall traced. */
function runTraced(name: string, args: string[]): Promise<Traced> {
  const home = mkdtempSync(join(tmpdir(), `tokenscope-privacy-${name}-`));
  const traceFile = join(home, 'strace.txt');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, 'xdg-cache') };
  for (const variable of quietingVariables) delete env[variable];
  const child = spawn('unshare', ['-n', '--', 'strace', '-f', '-qq', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o', traceFile, process.execPath, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code, trace: existsSync(traceFile) ? readFileSync(traceFile, 'utf8') : '', home }));
  });
}

/**
 * Network attempts in an strace log: any connect/send to an address that is not a local socket
 * file, and any use of the name-service cache socket (a host name lookup).
 */
export function networkAttempts(trace: string): string[] {
  return trace
    .split('\n')
    .filter((line) => /\b(connect|sendto|sendmsg|sendmmsg)\(/.test(line))
    .filter((line) => /sa_family=AF_(INET6?|PACKET|NETLINK)\b|sin6?_addr|nscd/.test(line) || /microsoft/i.test(line));
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? [path, ...filesUnder(path)] : [path];
  });
}

/** What ONNX Runtime wrote under the throwaway HOME (its telemetry folder, under ~/.cache or $XDG_CACHE_HOME). */
function telemetryFiles(home: string): string[] {
  return filesUnder(home)
    .map((path) => relative(home, path))
    .filter((path) => /Microsoft|onnxruntime/i.test(path));
}

test('the strace parser finds DNS and HTTPS attempts and ignores local sockets', () => {
  const trace = [
    '123 connect(19, {sa_family=AF_UNIX, sun_path="/tmp/tsx-0/1.pipe"}, 110) = -1 ENOENT (No such file or directory)',
    '124 connect(36, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)',
    '124 connect(36, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH (Network is unreachable)',
    '125 sendto(37, "\\362\\34\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\6mobile\\6events\\4data\\tmicrosoft"..., 50, MSG_NOSIGNAL, NULL, 0) = 50',
    '126 connect(40, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
  ].join('\n');
  assert.equal(networkAttempts(trace).length, 4);
  assert.deepEqual(networkAttempts(trace.split('\n')[0] ?? ''), []);
});

test('loading and running a model tries no network and writes no telemetry: model process and CLI', { timeout: 180_000 }, async (t) => {
  const missing = missingTools();
  if (missing) {
    assert.ok(!ci, `CI=true: ${missing}. The privacy promise is checked in CI; install strace and run as root.`);
    t.skip(missing);
    return;
  }
  const model = join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen2');
  const [modelProcess, cli] = await Promise.all([
    runTraced('model-process', ['--import', 'tsx', join('test', 'unit', 'privacy', 'modelProcessProbe.ts')]),
    runTraced('cli', ['--import', 'tsx', join('src', 'cli', 'main.ts'), 'generate', '--model', model, '--prompt', 'def hello():', '--max-tokens', '8', '--temperature', '0', '--json']),
  ]);
  try {
    for (const [name, run] of [['model process', modelProcess], ['CLI', cli]] as const) assert.equal(run.code, 0, `${name} failed:\n${run.stderr}`);
    // Every finding of both runs in one list, so a failure shows all of them.
    const findings = [
      ...networkAttempts(modelProcess.trace).map((line) => `model process tried the network: ${line}`),
      ...telemetryFiles(modelProcess.home).map((path) => `model process wrote ~/${path}`),
      ...networkAttempts(cli.trace).map((line) => `CLI tried the network: ${line}`),
      ...telemetryFiles(cli.home).map((path) => `CLI wrote ~/${path}`),
    ];
    assert.deepEqual(findings, []);
    // Both really ran a model (a probe that failed early would prove nothing).
    assert.ok((JSON.parse(modelProcess.stdout) as { tokens: number }).tokens > 0, 'the model process generated tokens');
    assert.ok((JSON.parse(cli.stdout) as { tokens: unknown[] }).tokens.length > 0, 'the CLI generated tokens');
    // The trace saw the processes' real syscalls (the forked model process included).
    assert.match(modelProcess.trace, /connect\(|sendmsg\(/, 'strace recorded the processes\' socket calls');
  } finally {
    for (const run of [modelProcess, cli]) rmSync(run.home, { recursive: true, force: true });
  }
});

function sourceFiles(dir: string): string[] {
  return filesUnder(join(repoRoot, dir)).filter((path) => /\.ts$/.test(path));
}

test('every module that loads onnxruntime-node turns its telemetry off first; the extension host never does', () => {
  const valueImport = /^import\s+(?!type\b)[^;]*from\s+['"]onnxruntime-node['"]/m;
  const loaders = sourceFiles('src').filter((file) => valueImport.test(readFileSync(file, 'utf8')));
  assert.ok(loaders.length >= 3, `found the modules that load ONNX Runtime: ${loaders.map((file) => relative(repoRoot, file)).join(', ')}`);
  for (const file of loaders) {
    const text = readFileSync(file, 'utf8');
    const off = text.search(/^import\s+['"]\.\/ortTelemetry['"];/m);
    assert.ok(off >= 0 && off < text.search(valueImport), `${relative(repoRoot, file)} imports './ortTelemetry' before onnxruntime-node`);
  }
  // Entry points of the processes that load it set it before anything else; the extension host
  // (shared with every other extension) must not change its environment.
  for (const entry of ['src/cli/main.ts', 'src/model-process/main.ts']) {
    assert.match(readFileSync(join(repoRoot, entry), 'utf8'), /^(?:\/\/.*\n)*(?:\/\*[\s\S]*?\*\/\n)?(?:\/\/.*\n)*import '\.\.\/core\/runtime\/ortTelemetry';/, `${entry} imports ortTelemetry first`);
  }
  const hostSide = [...sourceFiles('src/vscode'), join(repoRoot, 'src', 'core', 'modelProcess', 'client.ts')];
  assert.deepEqual(hostSide.filter((file) => /ortTelemetry'/.test(readFileSync(file, 'utf8'))).map((file) => relative(repoRoot, file)), []);
});
