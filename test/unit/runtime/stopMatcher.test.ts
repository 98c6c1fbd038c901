import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopMatcher } from '../../../src/core/runtime/stopMatcher';

function run(stops: string[], pieces: string[]): { released: string[]; stop?: string } {
  const matcher = new StopMatcher<number>(stops);
  const released: string[] = [];
  for (const [i, piece] of pieces.entries()) {
    const result = matcher.push(i, piece);
    released.push(...result.release.map((entry) => `${entry.token}:${entry.text}`));
    if (result.stop) return { released, stop: result.stop };
  }
  released.push(...matcher.flush().map((entry) => `${entry.token}:${entry.text}`));
  return { released };
}

test('without stops every token passes straight through', () => {
  assert.deepEqual(run([], ['a', 'b']), { released: ['0:a', '1:b'] });
});

test('a stop inside one token cuts that token and ends', () => {
  assert.deepEqual(run(['\n\n'], ['foo', 'bar\n\nbaz', 'never']), { released: ['0:foo', '1:bar'], stop: '\n\n' });
});

test('a stop spanning tokens holds them back, then drops them', () => {
  assert.deepEqual(run(['</s>'], ['x', '<', '/', 's>', 'y']), { released: ['0:x'], stop: '</s>' });
});

test('held-back text is released when it turns out not to be a stop', () => {
  assert.deepEqual(run(['</s>'], ['x', '<', '/', 'b>', 'y']), { released: ['0:x', '1:<', '2:/', '3:b>', '4:y'] });
  // Flushed at the end when the stream stops for another reason.
  assert.deepEqual(run(['</s>'], ['x', '</']), { released: ['0:x', '1:</'] });
});

test('the earliest of several stops wins', () => {
  assert.deepEqual(run(['bc', 'ab'], ['zabc']), { released: ['0:z'], stop: 'ab' });
});

test('a stop at the very start releases nothing', () => {
  assert.deepEqual(run(['END'], ['END']), { released: [], stop: 'END' });
});
