// tokenscope serve's SSE writer: tokens coalesced into one event while they come within the
// interval of the previous write; the first token and the end never wait.
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { TokenEvent } from '../../../src/core/runtime/types';
import { SseStream } from '../../../src/server/sseStream';

/** Just enough of a ServerResponse: records what was written. */
class FakeResponse extends EventEmitter {
  readonly writes: string[] = [];
  status: number | undefined;
  writableEnded = false;
  destroyed = false;
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
  end(text?: string): this {
    if (text) this.writes.push(text);
    this.writableEnded = true;
    return this;
  }
}

const token = (index: number, text: string): TokenEvent => ({ type: 'token', index, id: 100 + index, text, logprob: -0.5, top: [] });

function open(intervalMs: number, streaming = true) {
  const res = new FakeResponse();
  const stream = new SseStream(res as unknown as ServerResponse, { streaming, intervalMs, renderTokens: (tokens) => ({ text: tokens.map((t) => t.text).join(''), n: tokens.length }) });
  const events = () => res.writes.map((write) => write.replace(/^data: /, '').trim());
  return { res, stream, events };
}

describe('SseStream', () => {
  it('writes the first token at once and sends what comes within the interval together, before the next event', () => {
    const { res, stream, events } = open(1000);
    stream.token(token(0, 'a'));
    assert.deepEqual(events(), ['{"text":"a","n":1}'], 'the first token does not wait');
    assert.equal(res.status, 200);
    stream.token(token(1, 'b'));
    stream.token(token(2, 'c'));
    assert.equal(events().length, 1, 'the next tokens wait for the interval');
    stream.event({ finish: true });
    stream.done();
    assert.deepEqual(events(), ['{"text":"a","n":1}', '{"text":"bc","n":2}', '{"finish":true}', '[DONE]']);
    assert.ok(res.writableEnded);
  });

  it('a token that ends a line goes out at once, with the tokens that waited (a completion engine stops at a finished line)', () => {
    const { stream, events } = open(1000);
    stream.token(token(0, 'return'));
    stream.token(token(1, ' x'));
    stream.token(token(2, ';\n'));
    stream.token(token(3, '  y'));
    assert.deepEqual(events(), ['{"text":"return","n":1}', '{"text":" x;\\n","n":2}']);
    stream.done();
    assert.deepEqual(events().slice(2), ['{"text":"  y","n":1}', '[DONE]']);
  });

  it('with interval 0 every token is its own event', () => {
    const { stream, events } = open(0);
    for (const [index, text] of ['a', 'b', 'c'].entries()) stream.token(token(index, text));
    stream.done();
    assert.deepEqual(events(), ['{"text":"a","n":1}', '{"text":"b","n":1}', '{"text":"c","n":1}', '[DONE]']);
  });

  it('a token never waits longer than the interval', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { stream, events } = open(20);
      stream.token(token(0, 'a'));
      stream.token(token(1, 'b'));
      assert.equal(events().length, 1);
      mock.timers.tick(20);
      assert.deepEqual(events(), ['{"text":"a","n":1}', '{"text":"b","n":1}'], 'the waiting token went out when its interval was up');
    } finally {
      mock.timers.reset();
    }
  });

  it('flush() sends what waits (a failing generation keeps what it made); a closed response gets nothing more', () => {
    const { res, stream, events } = open(1000);
    stream.token(token(0, 'a'));
    stream.token(token(1, 'b'));
    stream.flush();
    assert.deepEqual(events(), ['{"text":"a","n":1}', '{"text":"b","n":1}']);
    stream.token(token(2, 'c'));
    res.destroyed = true;
    res.emit('close');
    stream.flush();
    assert.equal(events().length, 2);
  });

  it('a non-streaming request gets nothing from the stream (its JSON answer comes at the end)', () => {
    const { res, stream } = open(10, false);
    stream.comment('queued: 1 waiting');
    stream.token(token(0, 'a'));
    stream.event({ finish: true });
    stream.done();
    assert.deepEqual(res.writes, []);
    assert.equal(res.status, undefined);
    assert.equal(res.writableEnded, false);
  });
});
