import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LineAnnotation } from '../../../src/core/chat/annotations';
import type { ChatBackend, ChatBackendInfo, ChatGenerateRequest, ChatMessage, ChatStreamEvent } from '../../../src/core/chat/backend';
import { ChatSession, type AnnotationOwner, type ChatSessionDeps, type ChatSettings } from '../../../src/core/chat/chatSession';
import { userMessageFrom } from '../../../src/core/chat/conversation';
import { ChatHistoryStore, HistorySaveError } from '../../../src/core/chat/historyStore';
import type { ExtensionToWebview } from '../../../src/core/webview/chatProtocol';

/** A backend that streams `answer` word by word; each prompt message counts `tokensPerMessage`. */
class ScriptedBackend implements ChatBackend {
  readonly requests: ChatGenerateRequest[] = [];
  /** While set, the stream waits before its last piece (to act mid-answer). */
  gate: Promise<void> | undefined;
  failWith: Error | undefined;
  notices: readonly string[] = [];

  constructor(
    readonly info: ChatBackendInfo,
    private readonly answer = 'The answer is here.',
    private readonly tokensPerMessage = 10,
  ) {}

  async countTokens(text: string): Promise<number> {
    return text.length;
  }

  async countPromptTokens(messages: readonly ChatMessage[]): Promise<number> {
    return messages.length * this.tokensPerMessage;
  }

  async *generate(request: ChatGenerateRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    this.requests.push(request);
    yield { type: 'start', promptTokens: request.messages.length * this.tokensPerMessage, promptOpensThinking: false, notices: this.notices };
    const pieces = this.answer.split(/(?<= )/);
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && this.gate) await this.gate;
      if (signal.aborted) {
        yield { type: 'end', generatedTokens: index, stopReason: 'aborted' };
        return;
      }
      if (this.failWith && index === 1) throw this.failWith;
      yield { type: 'text', text: piece, tokens: 1 };
    }
    yield { type: 'end', generatedTokens: pieces.length, stopReason: 'stop' };
  }
}

const chatInfo: ChatBackendInfo = { label: 'Scripted', canChat: true, supportsThinking: false, contextWindow: 0 };
const settings: ChatSettings = { thinking: 'auto', temperature: 0.2, topP: 0.9, maxTokens: 64, historyLimit: 50 };

interface Harness {
  readonly session: ChatSession;
  readonly posts: ExtensionToWebview[];
  readonly history: ChatHistoryStore;
  readonly annotations: { uri: string; annotations: readonly LineAnnotation[]; owner: AnnotationOwner }[];
  readonly saveFailures: string[];
  readonly refused: string[];
  readonly logs: string[];
}

function withSession(backend: ChatBackend, run: (harness: Harness) => Promise<void>, overrides: Partial<ChatSessionDeps> = {}): () => Promise<void> {
  return async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tokenscope-session-'));
    const logs: string[] = [];
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: (m: string) => logs.push(m) };
    const history = new ChatHistoryStore(join(folder, 'chat-history.json'), 50, log);
    const posts: ExtensionToWebview[] = [];
    const annotations: Harness['annotations'] = [];
    const saveFailures: string[] = [];
    const refused: string[] = [];
    const session = new ChatSession({
      post: (message) => posts.push(message),
      history,
      backend: () => backend,
      settings: () => settings,
      estimateCost: () => undefined,
      log,
      annotate: (uri, list, owner) => annotations.push({ uri, annotations: list, owner }),
      onCannotChat: (_backend, trigger) => refused.push(trigger),
      onSaveFailed: (message) => saveFailures.push(message),
      ...overrides,
    });
    try {
      await run({ session, posts, history, annotations, saveFailures, refused, logs });
    } finally {
      session.dispose();
      await history.flush().catch(() => undefined);
      rmSync(folder, { recursive: true, force: true });
    }
  };
}

const ask = (text: string) => userMessageFrom(text, []) ?? assert.fail('a message');
const ofType = <T extends ExtensionToWebview['type']>(posts: readonly ExtensionToWebview[], type: T) => posts.filter((post): post is Extract<ExtensionToWebview, { type: T }> => post.type === type);
const notices = (posts: readonly ExtensionToWebview[]) => ofType(posts, 'notice').map((post) => post.text);

test('a message streams its answer to the view, and question and answer are on disk', async () => {
  const backend = new ScriptedBackend(chatInfo);
  await withSession(backend, async ({ session, posts, history }) => {
    await session.send('r1', ask('What does retry do?'));
    assert.deepEqual(
      posts.map((post) => post.type),
      ['turnStart', 'delta', 'delta', 'delta', 'delta', 'turnEnd'],
    );
    assert.equal(
      ofType(posts, 'delta')
        .map((post) => post.text)
        .join(''),
      'The answer is here.',
    );
    const end = ofType(posts, 'turnEnd')[0];
    assert.equal(end?.message.text, 'The answer is here.');
    assert.equal(end?.message.stopReason, 'stop');
    await history.flush();
    const [stored] = await history.list();
    assert.equal(stored?.id, session.conversationId);
    assert.equal(stored?.title, 'What does retry do?');
    assert.deepEqual(
      stored?.messages.map((message) => [message.role, message.text]),
      [
        ['user', 'What does retry do?'],
        ['assistant', 'The answer is here.'],
      ],
    );
    // The next turn sends the earlier exchange along.
    await session.send('r2', ask('And then?'));
    assert.deepEqual(
      backend.requests[1]?.messages.map((message) => message.content),
      ['What does retry do?', 'The answer is here.', 'And then?'],
    );
  })();
});

test('the history comes back: the latest conversation is the session\'s after a reload', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'tokenscope-session-'));
  try {
    const log = { info() {}, warn() {}, error() {}, debug() {} };
    const history = new ChatHistoryStore(join(folder, 'chat-history.json'), 50, log);
    const deps = (posts: ExtensionToWebview[]): ChatSessionDeps => ({ post: (message) => posts.push(message), history, backend: () => new ScriptedBackend(chatInfo), settings: () => settings, estimateCost: () => undefined, log, annotate() {}, onSaveFailed() {} });
    const first = new ChatSession(deps([]));
    await first.send('r1', ask('Remember me'));
    await history.flush();
    const posts: ExtensionToWebview[] = [];
    const second = new ChatSession(deps(posts));
    await second.ready();
    const init = ofType(posts, 'init')[0];
    assert.equal(init?.conversation.id, first.conversationId);
    assert.equal(init?.conversation.messages.length, 2);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a second message while an answer streams is refused with a notice; a reloaded view gets the pending answer', async () => {
  const backend = new ScriptedBackend(chatInfo);
  let release!: () => void;
  backend.gate = new Promise((resolve) => (release = resolve));
  await withSession(backend, async ({ session, posts }) => {
    const first = session.send('r1', ask('first'));
    while (ofType(posts, 'delta').length < 3) await new Promise((resolve) => setImmediate(resolve));
    await session.send('r2', ask('second'));
    assert.deepEqual(notices(posts), ['An answer is still being generated. Stop it (or wait) before sending another message.']);
    await session.ready();
    const pending = ofType(posts, 'init')[0]?.pending;
    assert.equal(pending?.requestId, 'r1');
    assert.equal(pending?.answer, 'The answer is ');
    release();
    await first;
    assert.equal(backend.requests.length, 1);
  })();
});

test(
  'a model that cannot chat says why in the chat, lets the glue offer a chat model, and generates nothing',
  withSession(new ScriptedBackend({ ...chatInfo, canChat: false, notice: 'tokenscope-mini completes code only.' }), async ({ session, posts, refused }) => {
    await session.send('r1', ask('hello'));
    assert.deepEqual(ofType(posts, 'notice'), [{ type: 'notice', text: 'tokenscope-mini completes code only.', action: 'chooseModel' }]);
    assert.deepEqual(refused, ['chat']);
    assert.equal(ofType(posts, 'turnStart').length, 0);
    await session.explain({ path: 'a.ts', languageId: 'typescript', startLine: 1, text: 'x' }, 'file:///a.ts');
    assert.deepEqual(refused, ['chat', 'explain']);
  }),
);

test('older exchanges are left out to fit the context window; a message too large alone is refused', async () => {
  // 10 tokens a message, a 50-token window with 25 kept for the answer: two messages fit, three do not.
  const backend = new ScriptedBackend({ ...chatInfo, contextWindow: 50 });
  await withSession(backend, async ({ session, posts, logs }) => {
    await session.send('r1', ask('one'));
    await session.send('r2', ask('two'));
    assert.deepEqual(
      backend.requests[1]?.messages.map((message) => message.content),
      ['two'],
    );
    assert.ok(logs.includes('Chat: left 2 older message(s) out of the prompt to fit the 50-token context window.'), logs.join('\n'));
    assert.deepEqual(notices(posts), []);
  })();
  const tiny = new ScriptedBackend({ ...chatInfo, contextWindow: 12 }, 'x', 10);
  await withSession(tiny, async ({ session, posts }) => {
    await session.send('r1', ask('too big'));
    assert.deepEqual(notices(posts), ['This message is about 10 tokens, but Scripted has room for 6 prompt tokens (a 12-token window, less room for the answer). Remove attachments or select less code.']);
    assert.equal(tiny.requests.length, 0);
  })();
});

test('an answer that finishes after New Chat is stored in its own conversation; after Clear History, nowhere', async () => {
  const backend = new ScriptedBackend(chatInfo);
  let release!: () => void;
  backend.gate = new Promise((resolve) => (release = resolve));
  await withSession(backend, async ({ session, posts, history }) => {
    const turn = session.send('r1', ask('kept'));
    while (ofType(posts, 'delta').length < 3) await new Promise((resolve) => setImmediate(resolve));
    const firstId = session.conversationId;
    await history.flush();
    session.newChat();
    release();
    await turn;
    await history.flush();
    assert.notEqual(session.conversationId, firstId);
    const stored = await history.get(firstId);
    assert.deepEqual(
      stored?.messages.map((message) => message.role),
      ['user', 'assistant'],
    );
    // New Chat stopped the answer: what arrived is kept, marked aborted.
    assert.equal(stored?.messages[1]?.role === 'assistant' && stored.messages[1].stopReason, 'aborted');
  })();

  const second = new ScriptedBackend(chatInfo);
  second.gate = new Promise((resolve) => (release = resolve));
  await withSession(second, async ({ session, posts, history }) => {
    const turn = session.send('r1', ask('forgotten'));
    while (ofType(posts, 'delta').length < 3) await new Promise((resolve) => setImmediate(resolve));
    // The answer ends while the history is being deleted: it must not write its conversation back.
    const clearing = session.clearHistory();
    release();
    await Promise.all([turn, clearing]);
    await history.flush();
    assert.deepEqual(await history.list(), []);
  })();
});

test('a failed generation keeps what arrived, says why, and is stored as an error', async () => {
  const backend = new ScriptedBackend(chatInfo);
  backend.failWith = new Error('The model process stopped.');
  await withSession(backend, async ({ session, posts, history }) => {
    await session.send('r1', ask('boom'));
    const end = ofType(posts, 'turnEnd')[0]?.message;
    assert.equal(end?.stopReason, 'error');
    assert.equal(end?.text, 'The ');
    assert.equal(end?.error, 'The model process stopped. See the Tokenscope log for details.');
    await history.flush();
    assert.equal((await history.list())[0]?.messages.length, 2);
    // An unanswered question is not sent again as context.
    backend.failWith = undefined;
    await session.send('r2', ask('again'));
    assert.deepEqual(
      backend.requests[1]?.messages.map((message) => message.content),
      ['again'],
    );
  })();
});

test('a setting the backend changed to fit the model is noticed once per setting', async () => {
  const backend = new ScriptedBackend(chatInfo);
  backend.notices = ['tokenscope.chat.topP is 0, which samples nothing: 1 was used.'];
  await withSession(backend, async ({ session, posts }) => {
    await session.send('r1', ask('one'));
    await session.send('r2', ask('two'));
    assert.deepEqual(notices(posts), ['tokenscope.chat.topP is 0, which samples nothing: 1 was used. Change it in Settings.']);
  })();
});

test(
  'a save that fails is reported with the store\'s own sentence',
  withSession(new ScriptedBackend(chatInfo), async ({ session, saveFailures }) => {
    await session.send('r1', ask('hi'));
    assert.deepEqual([...new Set(saveFailures)], ['The disk is full: free some space.']);
  }, {
    history: {
      path: '/nowhere/chat-history.json',
      list: async () => [],
      get: async () => undefined,
      save: async () => {
        throw new HistorySaveError('The disk is full: free some space.');
      },
      clear: async () => undefined,
      setLimit: () => undefined,
    },
  }),
);

test(
  'Explain sends the numbered selection, annotates the file from the answer\'s citations, and finds the explain request again',
  withSession(new ScriptedBackend(chatInfo, 'L2 retries the call. '), async ({ session, posts, annotations }) => {
    await session.explain({ path: 'src/retry.ts', languageId: 'typescript', startLine: 1, text: 'const a = 1;\nretry(call);\n' }, 'file:///w/src/retry.ts');
    assert.deepEqual(annotations[0], { uri: 'file:///w/src/retry.ts', annotations: [], owner: { conversationId: session.conversationId, messageId: '' } });
    const last = annotations.at(-1);
    assert.equal(last?.uri, 'file:///w/src/retry.ts');
    assert.deepEqual(
      last?.annotations.map((annotation) => annotation.line),
      [2],
    );
    const user = ofType(posts, 'turnStart')[0]?.user;
    assert.match(user?.prompt ?? '', /L2: retry\(call\);/);
    assert.deepEqual(user?.explain, { uri: 'file:///w/src/retry.ts', path: 'src/retry.ts', languageId: 'typescript', startLine: 1, endLine: 2 });
    const answerId = session.latestAnswerId() ?? assert.fail('an answer');
    assert.equal(last?.owner.messageId, answerId);
    assert.deepEqual(session.explainRefFor(answerId), user?.explain);
    assert.equal((await session.findAnswer(session.conversationId, answerId))?.answer, 'L2 retries the call. ');
  }),
);

test(
  'measure reports the prompt with the draft and its chips; a model that cannot chat is not measured',
  withSession(new ScriptedBackend({ ...chatInfo, contextWindow: 4096 }), async ({ session, posts }) => {
    await session.measure(7, 'draft', []);
    assert.deepEqual(ofType(posts, 'promptInfo'), [{ type: 'promptInfo', measureId: 7, promptTokens: 10, contextWindow: 4096, maxTokens: 64 }]);
  }),
);
