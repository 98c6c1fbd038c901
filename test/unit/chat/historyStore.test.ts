import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxMessagesPerConversation, titleFrom, type StoredConversation } from '../../../src/core/chat/historyFormat';
import { ChatHistoryStore } from '../../../src/core/chat/historyStore';

function withFolder(run: (folder: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tokenscope-history-'));
    try {
      await run(folder);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
}

function conversation(id: string, updatedAt: number, messageCount = 2): StoredConversation {
  const messages = Array.from({ length: messageCount }, (_, index) =>
    index % 2 === 0
      ? { id: `${id}-u${index}`, role: 'user' as const, text: `question ${index}`, createdAt: updatedAt }
      : { id: `${id}-a${index}`, role: 'assistant' as const, text: `answer ${index}`, stopReason: 'stop' as const, model: 'm', createdAt: updatedAt },
  );
  return { id, title: id, createdAt: updatedAt, updatedAt, messages };
}

const quietLog = () => {
  const warnings: string[] = [];
  return { warnings, log: { warn: (message: string) => warnings.push(message) } };
};

test('history: saves survive a new store (a reload), newest first', withFolder(async (folder) => {
  const { log } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  await store.save(conversation('a', 1));
  await store.save(conversation('b', 2));
  await store.save({ ...conversation('a', 3), title: 'renamed' });
  const reloaded = ChatHistoryStore.inFolder(folder, 10, log);
  assert.deepEqual((await reloaded.list()).map((c) => [c.id, c.title]), [['a', 'renamed'], ['b', 'b']]);
  assert.equal((await reloaded.get('b'))?.messages.length, 2);
}));

test('history: bounded by the conversation limit and messages per conversation', withFolder(async (folder) => {
  const { log } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 3, log);
  for (let index = 0; index < 5; index++) await store.save(conversation(`c${index}`, index));
  assert.deepEqual((await store.list()).map((c) => c.id), ['c4', 'c3', 'c2']);
  await store.save(conversation('long', 10, maxMessagesPerConversation + 7));
  const long = await ChatHistoryStore.inFolder(folder, 3, log).get('long');
  assert.equal(long?.messages.length, maxMessagesPerConversation);
  assert.equal(long?.messages.at(-1)?.id, `long-u${maxMessagesPerConversation + 6}`);
  assert.equal(long?.messages[0]?.id, 'long-a7');
  store.setLimit(1);
  await store.save(conversation('last', 20));
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => c.id), ['last']);
}));

test('history: a corrupt file is backed up, a warning logged, and history starts fresh', withFolder(async (folder) => {
  const { log, warnings } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  writeFileSync(store.path, '{"version":1,"conversations":[{"id":"x"', 'utf8');
  assert.deepEqual(await store.list(), []);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /not valid history; kept it as .*corrupt/);
  const backups = readdirSync(folder).filter((name) => name.includes('.corrupt-'));
  assert.equal(backups.length, 1);
  assert.equal(readFileSync(join(folder, backups[0] ?? ''), 'utf8'), '{"version":1,"conversations":[{"id":"x"');
  await store.save(conversation('fresh', 1));
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => c.id), ['fresh']);
}));

test('history: a malformed message costs only itself; the conversation as it was is kept aside, never erased', withFolder(async (folder) => {
  const { log, warnings } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  const mixed = { ...conversation('mixed', 2, 3), messages: [...conversation('mixed', 2, 3).messages.slice(0, 2), { id: 'broken', role: 'assistant', text: null, createdAt: 2 }, conversation('mixed', 2, 3).messages[2]] };
  const rawBad = { id: 'bad', messages: 'not a list' };
  writeFileSync(store.path, JSON.stringify({ version: 1, conversations: [conversation('ok', 1), mixed, rawBad] }), 'utf8');
  const listed = await store.list();
  assert.deepEqual(listed.map((c) => [c.id, c.messages.length]), [['mixed', 3], ['ok', 2]]);
  assert.match(warnings.join('\n'), /1 malformed message in conversation "mixed"/);
  assert.match(warnings.join('\n'), /1 conversation that is not valid/);
  // The next save writes the good part back and keeps the originals aside, like a corrupt file.
  await store.save(conversation('new', 3));
  const aside = readdirSync(folder).filter((name) => name.startsWith('chat-history.json.malformed-'));
  assert.equal(aside.length, 1);
  const kept = JSON.parse(readFileSync(join(folder, aside[0] ?? ''), 'utf8')) as { conversations: unknown[] };
  assert.deepEqual(kept.conversations, [mixed, rawBad]);
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => [c.id, c.messages.length]), [['new', 2], ['mixed', 3], ['ok', 2]]);
  assert.match(warnings.join('\n'), /kept the originals in .*malformed-/);
  // Saved once: a later save does not set the same entries aside again.
  await store.save(conversation('newer', 4));
  assert.equal(readdirSync(folder).filter((name) => name.startsWith('chat-history.json.malformed-')).length, 1);
}));

test('history: a file that cannot be read (EACCES) is never overwritten; saving says why', { timeout: 60_000 }, withFolder(async (folder) => {
  const file = join(folder, 'chat-history.json');
  const original = JSON.stringify({ version: 1, conversations: [conversation('precious', 1)] });
  writeFileSync(file, original, 'utf8');
  chmodSync(file, 0o000);
  chmodSync(folder, 0o777);
  // Root reads anything: run the store as an unprivileged user then (a real EACCES either way).
  const asRoot = process.getuid?.() === 0;
  const script = `
    const { ChatHistoryStore } = require(${JSON.stringify(join(__dirname, '..', '..', '..', 'src', 'core', 'chat', 'historyStore.ts'))});
    (async () => {
      const warnings = [];
      const store = ChatHistoryStore.inFolder(${JSON.stringify(folder)}, 10, { warn: (m) => warnings.push(m) });
      const listed = await store.list();
      let error = '';
      try { await store.save({ id: 'new', title: 'new', createdAt: 2, updatedAt: 2, messages: [] }); } catch (e) { error = e.message; }
      console.log(JSON.stringify({ listed: listed.length, warnings, error }));
    })();`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
  chmodSync(file, 0o600);
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { listed: number; warnings: string[]; error: string };
  assert.equal(report.listed, 0);
  assert.match(report.warnings.join('\n'), /could not be read \(EACCES.*\): Tokenscope will not overwrite it/);
  assert.match(report.error, /chat-history\.json could not be read \(EACCES.*\), so it was not overwritten: fix its permissions/);
  assert.equal(readFileSync(file, 'utf8'), original, 'the unreadable file is untouched');
}));

test('history: temp files left by a crash between write and rename are cleaned at the next save; a dead window\'s lock does not block', withFolder(async (folder) => {
  const { log } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  await store.save(conversation('a', 1));
  writeFileSync(join(folder, 'chat-history.json.4242-deadbeef.tmp'), '{"version":1,"conv');
  // A lock left by a window that died holding it (its pid is gone).
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(folder, 'chat-history.json.lock'), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), at: Date.now() }));
  await store.save(conversation('b', 2));
  assert.deepEqual(readdirSync(folder).sort(), ['chat-history.json']);
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => c.id), ['b', 'a']);
}));

test('history: a lock held by a live window makes a save wait, then fail saying who holds it', withFolder(async (folder) => {
  const { log } = quietLog();
  const store = new ChatHistoryStore(join(folder, 'chat-history.json'), 10, log, { lockTimeoutMs: 300 });
  writeFileSync(join(folder, 'chat-history.json.lock'), JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
  await assert.rejects(store.save(conversation('a', 1)), /is being written by another Tokenscope window \(process \d+\); try again in a moment/);
  rmSync(join(folder, 'chat-history.json.lock'));
  await store.save(conversation('a', 1));
  assert.deepEqual((await store.list()).map((c) => c.id), ['a']);
}));

test('history: writes are atomic (no temp files left) and concurrent saves all land', withFolder(async (folder) => {
  const { log } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 100, log);
  await Promise.all(Array.from({ length: 20 }, (_, index) => store.save(conversation(`p${index}`, index))));
  assert.deepEqual(readdirSync(folder), ['chat-history.json']);
  assert.equal((await ChatHistoryStore.inFolder(folder, 100, log).list()).length, 20);
  await store.clear();
  assert.deepEqual(await ChatHistoryStore.inFolder(folder, 100, log).list(), []);
}));

test('history: a failed write rejects, keeps the old file, and later saves still work', withFolder(async (folder) => {
  const { log } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  await store.save(conversation('kept', 1));
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  await assert.rejects(store.save({ ...conversation('bad', 2), title: cyclic as unknown as string }));
  assert.deepEqual(readdirSync(folder), ['chat-history.json']);
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => c.id), ['kept']);
  assert.deepEqual((await store.list()).map((c) => c.id), ['kept']);
  await store.save(conversation('after', 3));
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => c.id), ['after', 'kept']);
}));

test('titleFrom', () => {
  assert.equal(titleFrom('  How does\n retry work? '), 'How does retry work?');
  assert.equal(titleFrom('x'.repeat(100)).length, 60);
  assert.equal(titleFrom(''), 'New chat');
});

test('history: delete() removes that conversation on disk and keeps what another window saved meanwhile', withFolder(async (folder) => {
  const { log } = quietLog();
  const ours = ChatHistoryStore.inFolder(folder, 10, log);
  await ours.save(conversation('a', 1));
  await ours.save(conversation('b', 2));
  assert.deepEqual((await ours.list()).map((c) => c.id), ['b', 'a']);
  // Another window saves a conversation this one has never read.
  await ChatHistoryStore.inFolder(folder, 10, log).save(conversation('theirs', 3));
  await ours.delete('a');
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => c.id), ['theirs', 'b']);
  assert.equal(await ours.get('a'), undefined);
  // Deleting what is not there changes nothing.
  await ours.delete('never-saved');
  assert.deepEqual((await ChatHistoryStore.inFolder(folder, 10, log).list()).map((c) => c.id), ['theirs', 'b']);
}));

test('history: flush() resolves once every save so far is on disk, even after one that failed', withFolder(async (folder) => {
  const { log } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  const saves = ['a', 'b', 'c'].map((id, index) => store.save(conversation(id, index)));
  await store.flush();
  const onDisk = JSON.parse(readFileSync(store.path, 'utf8')) as { conversations: { id: string }[] };
  assert.deepEqual(onDisk.conversations.map((c) => c.id), ['c', 'b', 'a'], 'all three written before flush resolved');
  await Promise.all(saves);
  // A save that fails (its folder is a file) rejects on its own; flush after it still resolves.
  const blocked = join(folder, 'not-a-folder');
  writeFileSync(blocked, '');
  const broken = new ChatHistoryStore(join(blocked, 'chat-history.json'), 10, log);
  const failing = broken.save(conversation('x', 1));
  await assert.rejects(failing, /could not be saved to .*not-a-folder/);
  await broken.flush();
}));

test('history: a file of another version (a newer Tokenscope) is kept aside whole, the warning says so, and history starts fresh', withFolder(async (folder) => {
  const { log, warnings } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  const newer = JSON.stringify({ version: 2, conversations: [conversation('from-the-future', 1)] });
  writeFileSync(store.path, newer, 'utf8');
  assert.deepEqual(await store.list(), []);
  const kept = readdirSync(folder).filter((name) => name.startsWith('chat-history.json.version-2-'));
  assert.equal(kept.length, 1, readdirSync(folder).join());
  assert.equal(readFileSync(join(folder, kept[0] ?? ''), 'utf8'), newer, 'byte for byte');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^Chat history .*chat-history\.json is version 2, which this Tokenscope does not read \(it reads version 1\): kept it as .*version-2-.* and started a new one\. A newer Tokenscope reads it again; update Tokenscope to get those chats back\.$/);
  await store.save(conversation('now', 2));
  const written = JSON.parse(readFileSync(store.path, 'utf8')) as { version: number; conversations: { id: string }[] };
  assert.equal(written.version, 1);
  assert.deepEqual(written.conversations.map((c) => c.id), ['now']);
}));
