// Run by historyFaults.test.ts inside `unshare -m` (a private mount namespace; not a test itself):
// mounts a 256 KB tmpfs as the extension's global storage, saves history, fills the disk, saves
// again (ENOSPC), frees the space, saves once more. Prints one JSON line with what it saw.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredConversation } from '../../../src/core/chat/historyFormat';
import { ChatHistoryStore } from '../../../src/core/chat/historyStore';

function conversation(id: string, updatedAt: number, messages = 2): StoredConversation {
  return {
    id,
    title: id,
    createdAt: updatedAt,
    updatedAt,
    messages: Array.from({ length: messages }, (_, index) =>
      index % 2 === 0
        ? { id: `${id}-q${index}`, role: 'user' as const, text: `question ${index} ${'x'.repeat(200)}`, createdAt: updatedAt + index }
        : { id: `${id}-a${index}`, role: 'assistant' as const, text: `answer ${index} ${'y'.repeat(2000)}`, stopReason: 'stop' as const, model: 'm', createdAt: updatedAt + index },
    ),
  };
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'tokenscope-full-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', folder]);
  try {
    const log = { warn: () => undefined };
    const store = ChatHistoryStore.inFolder(folder, 50, log);
    await store.save(conversation('old-0', 1));
    await store.save(conversation('old-1', 2));
    // Fill the disk to the last byte.
    try {
      writeFileSync(join(folder, 'filler'), Buffer.alloc(1024 * 1024));
    } catch {
      // ENOSPC once the tmpfs is full: what we wanted.
    }
    let error = '';
    try {
      await store.save(conversation('new', 3));
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
    }
    const afterFailure = (await ChatHistoryStore.inFolder(folder, 50, log).list()).map((c) => c.id);
    const filesAfterFailure = readdirSync(folder).sort();
    rmSync(join(folder, 'filler'));
    await store.save(conversation('new', 4));
    const reloaded = await ChatHistoryStore.inFolder(folder, 50, log).list();
    process.stdout.write(`${JSON.stringify({ error, afterFailure, filesAfterFailure, afterFreeing: reloaded.map((c) => c.id), kept: reloaded.find((c) => c.id === 'new')?.messages.length })}\n`);
  } finally {
    execFileSync('umount', [folder]);
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`disk-full probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
