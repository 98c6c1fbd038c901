// A scripted misbehaving server: every fault of a real one (hangs, stalls, rate limits, 5xx, bad
// streams, captive portals, dropped connections, cancellation) ends the request cleanly, within
// its timeout, with a message that names the server and says what to do. Each test has a hard
// timeout (node:test fails it if anything hangs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerClient, ServerError, retryAfterMs, retryDelayMs, defaultRetryPolicy } from '../../../src/core/openai/client';
import { RemoteChatBackend } from '../../../src/core/openai/remoteChatBackend';
import { ServerConnection } from '../../../src/core/openai/server';
import { runChatTurn } from '../../../src/core/chat/chatTurn';
import { chatDelta, sse, startScriptedServer } from './scriptedServer';

const fast = { timeouts: { connectMs: 1000, firstByteMs: 400, stallMs: 400 }, retry: { baseDelayMs: 5, maxDelayMs: 20 } };

async function drain(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<ServerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ServerError, `expected a ServerError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the request to fail');
}

const OPTIONS = { timeout: 5000 };

test('nothing listening: unreachable, says to start the server', OPTIONS, async () => {
  const server = await startScriptedServer(() => undefined);
  const url = server.baseUrl;
  await server.close();
  // A first-byte timeout well past the refusals: at load 13 the retried refusals outlasted 400 ms and
  // the timeout (reported first when it fires) named the wrong fault.
  const client = new ServerClient({ baseUrl: url, ...fast, timeouts: { ...fast.timeouts, firstByteMs: 4000 } });
  const error = await failure(drain(client.stream('/chat/completions', {})));
  assert.equal(error.kind, 'unreachable');
  assert.match(error.message, /Nothing is listening at http:\/\/127\.0\.0\.1:\d+\/v1 .*Start the server/);
});

test('a server that accepts but never answers: first-byte timeout names it', OPTIONS, async () => {
  const server = await startScriptedServer(() => undefined);
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
    const error = await failure(drain(client.stream('/chat/completions', {})));
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /127\.0\.0\.1:\d+ accepted the request but sent nothing for 0\.4 s/);
  } finally {
    await server.close();
  }
});

test('a stream that stalls after its first tokens: stall timeout, what arrived is kept by the caller', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => sse(res, [chatDelta('Hel'), chatDelta('lo')], false));
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
    const got: unknown[] = [];
    const error = await failure(
      (async () => {
        for await (const event of client.stream('/chat/completions', {})) got.push(event);
      })(),
    );
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /stopped sending in the middle of the answer \(nothing for 0\.4 s\)/);
    assert.equal(got.length, 2);
  } finally {
    await server.close();
  }
});

test('429 with Retry-After is retried after the asked delay, then succeeds', OPTIONS, async () => {
  const waits: number[] = [];
  const server = await startScriptedServer((req, res, body, index) => {
    if (index === 0) {
      res.writeHead(429, { 'Retry-After': '0.05', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }));
      return;
    }
    sse(res, [chatDelta('ok'), 'data: [DONE]']);
  });
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast, onRetry: (info) => waits.push(info.delayMs) });
    const events = await drain(client.stream('/chat/completions', {}));
    assert.equal(events.length, 1);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(waits, [50]);
  } finally {
    await server.close();
  }
});

test('5xx before the first byte is retried with backoff; still failing, the error says how often it tried', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'model is loading', type: 'unavailable_error', code: 503 } }));
  });
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast, retry: { ...fast.retry, maxRetries: 2 } });
    const error = await failure(drain(client.stream('/chat/completions', {})));
    assert.equal(error.kind, 'server-error');
    assert.equal(server.requests.length, 3);
    assert.match(error.message, /HTTP 503: model is loading\) failed \(tried 3 times\)/);
  } finally {
    await server.close();
  }
});

test('a Retry-After too long is not waited for: the error says how long the server asked', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => {
    res.writeHead(429, { 'Retry-After': '120' });
    res.end('{"error":{"message":"quota"}}');
  });
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
    const error = await failure(drain(client.stream('/chat/completions', {})));
    assert.equal(error.kind, 'rate-limited');
    assert.match(error.message, /asks to wait 120 s/);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

test('never retried after the first byte: a stream that drops mid-answer fails once, no second request', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => {
    sse(res, [chatDelta('par')], false);
    setTimeout(() => res.socket?.destroy(), 30);
  });
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
    const error = await failure(drain(client.stream('/chat/completions', {})));
    assert.equal(error.kind, 'dropped');
    assert.match(error.message, /The connection to 127\.0\.0\.1:\d+ dropped in the middle of the answer/);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

test('malformed SSE data, a stream without [DONE], an error object in the stream, an HTML body: each a clear error', OPTIONS, async () => {
  const cases: { respond: Parameters<typeof startScriptedServer>[0]; kind: ServerError['kind']; message: RegExp }[] = [
    { respond: (req, res) => sse(res, [chatDelta('a'), 'data: {"choices": [ oops']), kind: 'protocol', message: /sent a malformed stream event \(not JSON/ },
    { respond: (req, res) => sse(res, [chatDelta('a'), chatDelta('b')]), kind: 'dropped', message: /ended the stream before it finished \(no "data: \[DONE\]"\)/ },
    { respond: (req, res) => sse(res, [chatDelta('a'), 'data: {"error":{"message":"CUDA out of memory","type":"server_error"}}']), kind: 'stream-error', message: /reported an error in the middle of the answer: CUDA out of memory/ },
    { respond: (req, res) => sse(res, [chatDelta('a'), '{"error":"model runner has unexpectedly stopped"}']), kind: 'stream-error', message: /model runner has unexpectedly stopped/ },
    {
      respond: (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><title>Hotel Wi-Fi</title><form>Accept terms</form>');
      },
      kind: 'protocol',
      message: /answered \/chat\/completions with a web page, not the API \(HTTP 200, HTML\): a captive portal/,
    },
  ];
  for (const entry of cases) {
    const server = await startScriptedServer(entry.respond);
    try {
      const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
      const error = await failure(drain(client.stream('/chat/completions', {})));
      assert.equal(error.kind, entry.kind, error.message);
      assert.match(error.message, entry.message);
      assert.match(error.message, /127\.0\.0\.1:\d+/);
    } finally {
      await server.close();
    }
  }
});

test('401 and 404 say what to do (API key; base URL and model name)', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => {
    const status = req.url?.includes('completions') ? 401 : 404;
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { message: status === 401 ? 'Invalid API Key' : 'Not Found' } }));
  });
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
    const auth = await failure(drain(client.stream('/chat/completions', {})));
    assert.equal(auth.kind, 'auth');
    assert.match(auth.message, /Set Server API Key.*TOKENSCOPE_API_KEY/);
    const missing = await failure(client.getJson('/models'));
    assert.equal(missing.kind, 'not-found');
    assert.match(missing.message, /usually ends in \/v1/);
  } finally {
    await server.close();
  }
});

test('cancelling aborts the HTTP request at once: the server sees the connection close', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => {
    sse(res, [chatDelta('x')], false);
    const timer = setInterval(() => res.write(`${chatDelta('y')}\n\n`), 20);
    res.on('close', () => clearInterval(timer));
  });
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
    const controller = new AbortController();
    const closed = server.nextClose();
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const event of client.stream('/chat/completions', {}, controller.signal)) {
          void event;
          if (++seen === 3) controller.abort();
        }
      })(),
      (error: Error) => error.name === 'AbortError',
    );
    await closed;
  } finally {
    await server.close();
  }
});

test('stopping early (break) also closes the request', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => {
    sse(res, [chatDelta('x')], false);
    const timer = setInterval(() => res.write(`${chatDelta('y')}\n\n`), 20);
    res.on('close', () => clearInterval(timer));
  });
  try {
    const client = new ServerClient({ baseUrl: server.baseUrl, ...fast });
    const closed = server.nextClose();
    for await (const event of client.stream('/chat/completions', {})) {
      void event;
      break;
    }
    await closed;
  } finally {
    await server.close();
  }
});

test('a chat turn against a failing server ends with the error and keeps what streamed', OPTIONS, async () => {
  const server = await startScriptedServer((req, res) => {
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'm', owned_by: 'vllm' }] }));
      return;
    }
    sse(res, [chatDelta('Hello'), chatDelta(' wor')], false);
    setTimeout(() => res.socket?.destroy(), 20);
  });
  try {
    const connection = new ServerConnection({ baseUrl: server.baseUrl, ...fast });
    const backend = new RemoteChatBackend({ connection, model: 'm' });
    const streamed: string[] = [];
    await assert.rejects(
      runChatTurn(backend, { messages: [{ role: 'user', content: 'hi' }], thinking: 'auto', temperature: 0, topP: 1, maxTokens: 8 }, new AbortController().signal, { onDelta: (delta) => 'text' in delta && streamed.push(delta.text) }),
      /dropped in the middle of the answer/,
    );
    assert.equal(streamed.join(''), 'Hello wor');
  } finally {
    await server.close();
  }
});

test('Retry-After parsing and backoff with jitter', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  assert.equal(retryAfterMs('soon'), undefined);
  const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(retryDelayMs(1, policy, () => 0), 50);
  assert.equal(retryDelayMs(1, policy, () => 0.999), 100);
  assert.equal(retryDelayMs(5, policy, () => 1), 1000);
  assert.equal(retryDelayMs(2, policy, () => 0.5, 7000), 7000);
});

test('a completion whose server fails mid-stream ends the request (the status bar leaves "generating")', OPTIONS, async () => {
  const { CompletionEngine } = await import('../../../src/core/completions/engine');
  const { TextLines } = await import('../../../src/core/completions/document');
  const { remoteCompletionModel } = await import('../../../src/core/openai/remoteCompletionBackend');
  const server = await startScriptedServer((req, res) => {
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'qwen2.5-coder:1.5b', owned_by: 'library' }] }));
      return;
    }
    sse(res, [`data: ${JSON.stringify({ choices: [{ index: 0, text: 'ret', finish_reason: null }] })}`], false);
    setTimeout(() => res.socket?.destroy(), 20);
  });
  try {
    const model = await remoteCompletionModel({ connection: new ServerConnection({ baseUrl: server.baseUrl, ...fast }), model: '' });
    const events: string[] = [];
    let ended: { error?: unknown; cancelled: boolean } | undefined;
    const engine = new CompletionEngine({
      getModel: () => model,
      settings: { debounceMs: 0, speculative: false, extraContext: false },
      onRequestStart: () => events.push('start'),
      onRequestEnd: (outcome) => {
        events.push('end');
        ended = outcome;
      },
    });
    await assert.rejects(engine.complete({ document: new TextLines('def f():\n    \n'), position: { line: 1, character: 4 }, path: 'f.py', trigger: 'explicit' }), /dropped/);
    assert.deepEqual(events, ['start', 'end']);
    assert.match(String((ended?.error as Error).message), /127\.0\.0\.1:\d+/);
  } finally {
    await server.close();
  }
});

test('a server that rejects logprobs on chat is asked once more without them, before anything streamed', OPTIONS, async () => {
  const server = await startScriptedServer((req, res, body) => {
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'gw-model', owned_by: 'someone' }] }));
      return;
    }
    if ((JSON.parse(body) as { logprobs?: boolean }).logprobs) {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'logprobs is not supported for this model', type: 'invalid_request_error', param: 'logprobs' } }));
      return;
    }
    sse(res, [chatDelta('fine'), 'data: [DONE]']);
  });
  try {
    const logs: string[] = [];
    const backend = new RemoteChatBackend({ connection: new ServerConnection({ baseUrl: server.baseUrl, ...fast }), model: '', log: (line) => logs.push(line) });
    const request = { messages: [{ role: 'user' as const, content: 'hi' }], thinking: 'auto' as const, temperature: 0, topP: 1, maxTokens: 8 };
    const result = await runChatTurn(backend, request, new AbortController().signal);
    assert.equal(result.answer, 'fine');
    assert.equal(result.stats.confidence, undefined);
    assert.match(logs.join('\n'), /rejected logprobs/);
    const chatRequests = () => server.requests.filter((entry) => entry.path.endsWith('/chat/completions')).length;
    assert.equal(chatRequests(), 2);
    await runChatTurn(backend, request, new AbortController().signal);
    assert.equal(chatRequests(), 3, 'remembered: not asked with logprobs again');
  } finally {
    await server.close();
  }
});
