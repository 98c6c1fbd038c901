// What the CLI says about bad input it cannot use: invalid UTF-8 on standard input, a file where a
// model folder belongs, and model files it may not read (EACCES). Each message says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptionsWithStringEncoding } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..', '..');
const cli = (args: string[], options: Partial<SpawnSyncOptionsWithStringEncoding> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, ...options });

test('invalid UTF-8 on standard input is replaced with a warning that says where', () => {
  const input = Buffer.concat([Buffer.from('ok '), Buffer.from([0xff, 0xfe]), Buffer.from(' fine é '), Buffer.from([0xc3])]);
  const result = cli(['tokenize', '--tokenizer', 'o200k_base', '--json'], { input });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /^tokenscope: warning: standard input is not valid UTF-8: 3 invalid byte sequences \(the first at byte 3\) were replaced with U\+FFFD; offsets refer to the replaced text\.\n$/);
  const parsed = JSON.parse(result.stdout) as { tokens: { end: number }[] };
  assert.equal(parsed.tokens.at(-1)?.end, 'ok \uFFFD\uFFFD fine é \uFFFD'.length);
  // Valid UTF-8 (and an empty input) says nothing.
  assert.equal(cli(['tokenize', '--tokenizer', 'o200k_base'], { input: 'héllo 你好 😀' }).stderr, '');
});

test('a file given as --model is named as a file, with the model folder it belongs to', () => {
  const file = join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen2', 'onnx', 'model.onnx');
  const result = cli(['generate', '--model', file, '--prompt', 'x']);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /model\.onnx is a file, not a model folder: give the folder that holds config\.json, tokenizer\.json and onnx\/ \(this file is in .*tiny-qwen2\)\./);
  assert.doesNotMatch(result.stderr, /does not exist/);
});

test('model files that cannot be read (EACCES) say so and what to do', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tokenscope-eacces-'));
  const dir = join(root, 'tiny-qwen2');
  cpSync(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen2'), dir, { recursive: true });
  const open = (path: string) => {
    chmodSync(path, statSync(path).isDirectory() ? 0o777 : 0o666);
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) open(join(path, name));
  };
  open(root);
  // Root reads anything: run the CLI as an unprivileged user then.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: root } } : {};
  try {
    for (const file of ['config.json', 'tokenizer.json', join('onnx', 'model.onnx')]) {
      chmodSync(join(dir, file), 0o000);
      const result = cli(['generate', '--model', dir, '--variant', 'fp32', '--prompt', 'x', '--max-tokens', '1'], asUser);
      chmodSync(join(dir, file), 0o666);
      assert.equal(result.status, 1, `${file}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`Cannot read .*${file.replace(/[./]/g, '\\$&')}: permission denied \\(EACCES\\)\\. Make the model folder readable by your user \\(for example chmod -R a\\+rX .*tiny-qwen2\\) or copy it to a folder you own\\.`), file);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('decodeUtf8Input counts exactly the sequences TextDecoder replaces (random bytes, surrogates, overlongs, truncations)', async () => {
  const { decodeUtf8Input } = await import('../../../src/cli/command');
  const cases = [[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80]].map((bytes) => Uint8Array.from(bytes));
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let index = 0; index < 2000; index++) cases.push(Uint8Array.from({ length: 1 + Math.floor(random() * 12) }, () => (random() < 0.5 ? 0x80 + Math.floor(random() * 0x80) : Math.floor(random() * 256))));
  for (const bytes of cases) {
    if (Buffer.from(bytes).includes(Buffer.from([0xef, 0xbf, 0xbd]))) continue;
    const decoded = decodeUtf8Input(bytes);
    assert.equal(decoded.text, new TextDecoder().decode(bytes));
    assert.equal(decoded.invalidSequences, [...decoded.text].filter((char) => char === '\uFFFD').length, `bytes ${Buffer.from(bytes).toString('hex')}`);
  }
});
