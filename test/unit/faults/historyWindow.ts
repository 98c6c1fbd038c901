// One "window" for historyFaults.test.ts (not a test itself): a separate process with its own
// ChatHistoryStore on a shared history file, as two VS Code windows sharing global storage have.
// Waits until the go file exists (so both windows write at the same moment), then saves its
// conversations in parallel and prints one JSON line with what it saved or the errors it got.
import { existsSync } from 'node:fs';
import type { StoredConversation } from '../../../src/core/chat/historyFormat';
import { ChatHistoryStore } from '../../../src/core/chat/historyStore';

const [folder, windowName, countText, goFile, sharedId] = process.argv.slice(2);
const count = Number(countText);

function conversation(id: string, updatedAt: number, text: string): StoredConversation {
  return {
    id,
    title: id,
    createdAt: updatedAt,
    updatedAt,
    messages: [
      { id: `${id}-${windowName}-q`, role: 'user', text: `question from ${windowName}: ${text}`, createdAt: updatedAt },
      { id: `${id}-${windowName}-a`, role: 'assistant', text: `answer in ${windowName}`, stopReason: 'stop', model: 'm', createdAt: updatedAt + 1 },
    ],
  };
}

async function main(): Promise<void> {
  const warnings: string[] = [];
  const store = ChatHistoryStore.inFolder(folder, 1000, { warn: (message) => warnings.push(message) });
  await store.list();
  while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 5));
  const saves: Promise<void>[] = [];
  for (let index = 0; index < count; index++) saves.push(store.save(conversation(`${windowName}-${index}`, Date.now() + index, String(index))));
  // Both windows continue the same conversation with their own messages.
  if (sharedId) saves.push(store.save(conversation(sharedId, Date.now(), 'shared')));
  const results = await Promise.allSettled(saves);
  const errors = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  process.stdout.write(`${JSON.stringify({ errors, warnings })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`window failed: ${String(error)}\n`);
  process.exit(1);
});
