// Fault injection on chat history with real processes: two windows (separate processes, one shared
// history file) saving at the same moment, and a full disk while saving. Each case asserts what
// the user is told and that no conversation (or message) is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatHistoryStore } from '../../../src/core/chat/historyStore';

const repoRoot = join(__dirname, '..', '..', '..');
const ci = process.env.CI === 'true' || process.env.CI === '1';

function runNode(args: string[], options: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const quiet = { warn: () => undefined };

test('two windows saving at the same moment keep every conversation, and both halves of one they share', { timeout: 120_000 }, async () => {
  const folder = mkdtempSync(join(tmpdir(), 'tokenscope-two-windows-'));
  try {
    const go = join(folder, 'go');
    const windows = ['A', 'B'].map((name) => runNode([join('test', 'unit', 'faults', 'historyWindow.ts'), folder, name, '10', go, 'shared']));
    // Both processes are up (tsx compiled, store read) before they may write.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    writeFileSync(go, '');
    const results = await Promise.all(windows);
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout).errors, []);
    }
    const saved = await ChatHistoryStore.inFolder(folder, 1000, quiet).list();
    const ids = saved.map((conversation) => conversation.id).sort();
    assert.equal(ids.length, 21, `conversations kept: ${ids.join(', ')}`);
    const shared = saved.find((conversation) => conversation.id === 'shared');
    assert.deepEqual(shared?.messages.map((message) => message.id).sort(), ['shared-A-a', 'shared-A-q', 'shared-B-a', 'shared-B-q']);
    assert.deepEqual(readdirSync(folder).filter((name) => name.startsWith('chat-history')).sort(), ['chat-history.json'], 'no temp or lock files left');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

/** Can this process mount a small tmpfs in a private mount namespace (root on Linux)? */
function canMountTmpfs(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux mount namespaces; this is ${process.platform}`;
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"'], { stdio: 'ignore', timeout: 10_000 });
  return probe.status === 0 ? undefined : 'cannot mount a tmpfs in a private mount namespace here (needs root: `unshare -m` + `mount -t tmpfs`)';
}

test('a full disk while saving: the save fails saying the disk is full, the old history stays whole, and the next save after space is freed keeps everything', { timeout: 120_000 }, async (t) => {
  const missing = canMountTmpfs();
  if (missing) {
    assert.ok(!ci, `CI=true: ${missing}`);
    t.skip(missing);
    return;
  }
  const result = spawnSync('unshare', ['-m', '--', process.execPath, '--import', 'tsx', join('test', 'unit', 'faults', 'historyDiskFull.ts')], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { error: string; afterFailure: string[]; filesAfterFailure: string[]; afterFreeing: string[]; kept: number };
  assert.match(report.error, /the disk is full \(ENOSPC\)/);
  assert.match(report.error, /chat-history\.json/);
  assert.deepEqual(report.afterFailure, ['old-1', 'old-0'], 'the old history is intact after the failed save');
  assert.deepEqual(report.filesAfterFailure, ['chat-history.json', 'filler'], 'no half-written temp file left on the full disk');
  assert.deepEqual(report.afterFreeing, ['new', 'old-1', 'old-0'], 'the conversation whose save failed is saved with the next save');
  assert.equal(report.kept, 2, 'the new conversation kept every message');
});
