// The model process's token messages with `coalesceMs` (what tokenscope serve asks for): the same
// events in the same order as one message each, in fewer messages; a line's end and the end never wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientMessage, ProcessMessage } from '../../../src/core/modelProcess/protocol';
import type { GenerateRequest, GenerationEvent } from '../../../src/core/runtime/types';
import { ModelServer } from '../../../src/model-process/server';
import { repoRoot } from './helpers';

/** Runs one model server in this process; `request` resolves with the messages that answered id. */
function inProcessServer() {
  const messages: ProcessMessage[] = [];
  const waiting = new Map<number, () => void>();
  const server = new ModelServer({
    send: (message) => {
      messages.push(message);
      if ('id' in message && (message.type === 'done' || message.type === 'loaded' || message.type === 'error')) waiting.get(message.id)?.();
    },
    packageRoot: repoRoot,
    testHooks: false,
    exit: () => undefined,
  });
  const request = (message: ClientMessage): Promise<ProcessMessage[]> =>
    new Promise((resolve) => {
      waiting.set(message.id, () => resolve(messages.filter((sent) => 'id' in sent && sent.id === message.id)));
      server.handle(message);
    });
  return { server, request };
}

const eventsOf = (messages: readonly ProcessMessage[]): GenerationEvent[] => messages.flatMap((message) => (message.type === 'event' ? [message.event] : message.type === 'events' ? [...message.events] : []));
const tokensOf = (events: readonly GenerationEvent[]) => events.filter((event) => event.type === 'token');

test('coalesced token messages carry the same tokens in order, in fewer messages; a line end and the end are never held', async () => {
  const { server, request } = inProcessServer();
  try {
    const loaded = await request({ type: 'load', id: 1, request: { model: 'mini', threads: 1 } });
    assert.equal(loaded.at(-1)?.type, 'loaded');
    const generate: GenerateRequest = { prompt: { kind: 'text', text: 'import os\nimport sys\n' }, maxTokens: 48, sampling: { temperature: 0 }, ignoreEos: true, topLogprobs: 2, reuseCache: false };
    const plain = await request({ type: 'generate', id: 2, request: generate });
    // Far longer than the whole generation: only the first token, line ends and the end bound the messages.
    const coalesced = await request({ type: 'generate', id: 3, request: generate, coalesceMs: 60_000 });
    const plainEvents = eventsOf(plain);
    const coalescedEvents = eventsOf(coalesced);
    assert.ok(plain.every((message) => message.type !== 'events'), 'without coalesceMs: one message per event');
    assert.deepEqual(tokensOf(coalescedEvents), tokensOf(plainEvents), 'the same tokens, in order');
    assert.deepEqual(coalescedEvents.map((event) => event.type), plainEvents.map((event) => event.type));
    const tokens = tokensOf(plainEvents);
    assert.equal(tokens.length, 48);
    const lineEnds = tokens.filter((event) => event.type === 'token' && event.text.includes('\n')).length;
    const tokenMessages = coalesced.filter((message) => message.type === 'events' || (message.type === 'event' && message.event.type === 'token'));
    // The first token goes at once; each line end carries out what waited; the rest waits for the end.
    assert.ok(tokenMessages.length <= lineEnds + 2, `${tokenMessages.length} token messages for ${tokens.length} tokens and ${lineEnds} line ends`);
    assert.ok(tokenMessages.length < tokens.length / 2);
    assert.ok(lineEnds > 0, 'the answer has line ends');
    for (const message of tokenMessages) {
      const carried = message.type === 'events' ? message.events : message.type === 'event' ? [message.event] : [];
      // A line end goes out at once: never followed by another token in its message.
      assert.ok(carried.slice(0, -1).every((event) => event.type !== 'token' || !event.text.includes('\n')), 'a line end waited for later tokens');
      const last = message.type === 'events' ? message.events.at(-1) : message.type === 'event' ? message.event : undefined;
      const index = coalesced.indexOf(message);
      const next = coalesced[index + 1];
      // Every message of tokens ends at a line end, or is followed by the end (nothing held past it).
      assert.ok((last?.type === 'token' && last.text.includes('\n')) || index === coalesced.indexOf(tokenMessages[0]) || (next?.type === 'event' && next.event.type === 'end'), `message ${index}`);
    }
  } finally {
    await server.dispose();
  }
});
