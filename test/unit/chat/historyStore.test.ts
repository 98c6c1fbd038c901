import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatHistoryStore, maxMessagesPerConversation, titleFrom, type StoredConversation } from '../../../src/core/chat/historyStore';

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

test('history: malformed conversations are skipped with a warning, good ones kept', withFolder(async (folder) => {
  const { log, warnings } = quietLog();
  const store = ChatHistoryStore.inFolder(folder, 10, log);
  writeFileSync(store.path, JSON.stringify({ version: 1, conversations: [conversation('ok', 1), { id: 'bad' }] }), 'utf8');
  assert.deepEqual((await store.list()).map((c) => c.id), ['ok']);
  assert.match(warnings[0] ?? '', /skipped 1 malformed/);
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
