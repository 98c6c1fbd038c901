import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barsView, confidenceLevel, formatPercent, surpriseLevel } from '../../../src/core/probabilities/bars';
import { reshapeDistribution } from '../../../src/core/probabilities/distribution';
import { confidenceHoverMarkdown, placeScores, scoreAt, scoresBefore, spansByLevel, surpriseHoverMarkdown } from '../../../src/core/probabilities/lensView';
import { isNextTokenFromWebview } from '../../../src/core/webview/nextTokenProtocol';

test('percentages keep rare and certain apart from 0% and 100%', () => {
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(1), '100%');
  assert.equal(formatPercent(0.0004), '<0.1%');
  assert.equal(formatPercent(0.99995), '>99.9%');
  assert.equal(formatPercent(0.1234), '12.3%');
});

test('bars: sampling chance as width, excluded rows greyed with their tempered chance, other tokens, visible labels', () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => 5 - i * 0.2);
  const distribution = reshapeDistribution(logits, { temperature: 1, topP: 1, topK: 3 }, 6);
  const tokens = distribution.tokens.map((token, i) => ({ ...token, text: i === 0 ? ' ' : `t${i}`, display: i === 0 ? '·' : i === 1 ? '' : `t${i}` }));
  const view = barsView({ ...distribution, tokens });
  assert.equal(view.rows.length, 6);
  assert.equal(view.rows[0].label, '·');
  assert.equal(view.rows[1].label, '(empty)');
  assert.deepEqual(
    view.rows.map((row) => row.excluded),
    [false, false, false, true, true, true],
  );
  assert.equal(view.rows[3].percent, '0%');
  assert.ok(view.rows[3].width > 0, 'an excluded row still shows its tempered chance');
  assert.ok(Math.abs(view.rows[0].width - tokens[0].probability * 100) < 0.1);
  assert.equal(view.other, 'other tokens: 0%');
  assert.equal(view.candidates, '3 of 50 tokens can be sampled');
  assert.match(view.rows[4].title, /Excluded/);
});

test('colour scales: surprise by bits, confidence by probability, at their steps', () => {
  assert.deepEqual([0, 2, 2.01, 5, 6, 9, 10, 14, 30].map(surpriseLevel), [0, 0, 1, 1, 2, 2, 3, 3, 4]);
  assert.deepEqual([0.01, 0.1, 0.29, 0.3, 0.6, 0.89, 0.9, 1].map(confidenceLevel), [0, 1, 1, 2, 3, 3, 4, 4]);
  const scores = placeScores(
    [
      { id: 1, start: 0, end: 3, logprob: Math.log(0.9), top: [] },
      { id: 2, start: 3, end: 3, logprob: Math.log(0.9), top: [] },
      { id: 3, start: 3, end: 7, logprob: Math.log(2 ** -12), top: [] },
    ],
    100,
  );
  assert.equal(scores.length, 2, 'empty spans (a partial character) are not coloured');
  const byLevel = spansByLevel(scores, 'surprise');
  assert.deepEqual(byLevel[0], [{ start: 100, end: 103 }]);
  assert.deepEqual(byLevel[3], [{ start: 103, end: 107 }]);
  assert.deepEqual(spansByLevel(scores, 'confidence')[4], [{ start: 100, end: 103 }]);
  assert.equal(scoreAt(scores, 104)?.start, 103);
  assert.equal(scoreAt(scores, 99), undefined);
  assert.equal(scoreAt(scores, 107), undefined);
  // An edit at 105 leaves only the token that ended before it.
  assert.deepEqual(
    scoresBefore(scores, 105).map((score) => score.start),
    [100],
  );
});

test('hovers: bits, probability, logprob and the alternatives as bars, the actual token marked', () => {
  const score = { start: 0, end: 6, logprob: Math.log(0.001), top: [{ id: 5, text: ' return', display: '·return', logprob: Math.log(0.6) }, { id: 6, text: ' retrun', display: '·retrun', logprob: Math.log(0.001) }] };
  const surprise = surpriseHoverMarkdown(score, ' retrun', '·retrun');
  assert.match(surprise, /10\.0 bits/);
  assert.match(surprise, /very surprising/);
  assert.match(surprise, /p = 0\.1%/);
  assert.match(surprise, /`·return` \| `████████████░░░░░░░░` \| 60\.0%/);
  assert.match(surprise, /`·retrun` ✓/);
  const expected = surpriseHoverMarkdown({ ...score, logprob: Math.log(0.8), top: [] }, ' return', '·return');
  assert.match(expected, /0\.3 bits\*\*, what the model expected/);
  assert.doesNotMatch(expected, /The model expected:/);
  const confidence = confidenceHoverMarkdown(score, ' retrun', '·retrun');
  assert.match(confidence, /0\.1%\*\* · logprob -6\.908/);
  assert.match(confidence, /Top alternatives/);
});

test('the panel protocol accepts only well-formed messages', () => {
  assert.ok(isNextTokenFromWebview({ type: 'ready' }));
  assert.ok(isNextTokenFromWebview({ type: 'reshape', reshaping: { temperature: 0.7, topP: 0.9, topK: 0 } }));
  assert.ok(isNextTokenFromWebview({ type: 'choose', id: 12 }));
  assert.ok(isNextTokenFromWebview({ type: 'sample', seed: 42 }));
  for (const bad of [null, {}, { type: 'choose', id: -1 }, { type: 'choose', id: 1.5 }, { type: 'reshape', reshaping: { temperature: -1, topP: 1, topK: 0 } }, { type: 'reshape', reshaping: { temperature: 1, topP: 0, topK: 0 } }, { type: 'sample', seed: 'x' }, { type: 'eval' }]) {
    assert.equal(isNextTokenFromWebview(bad), false, JSON.stringify(bad));
  }
});

test('confidence colouring: an accepted completion placed in the document (typing along: its rest), edits drop what they touch and move the rest', async () => {
  const { acceptedScores, scoresAfterEdit } = await import('../../../src/core/probabilities/lensView');
  const scores = { generated: 'tal = x;', tokens: [0, 3, 4, 5, 6, 7].map((start, i, all) => ({ start, end: all[i + 1] ?? 8, logprob: Math.log(0.5), top: [{ text: ' =', logprob: Math.log(0.4) }] })) };
  const placed = acceptedScores('tal = x;', scores, 100);
  assert.deepEqual(
    placed.map((score) => [score.start, score.end]),
    [
      [100, 103],
      [103, 104],
      [104, 105],
      [105, 106],
      [106, 107],
      [107, 108],
    ],
  );
  assert.equal(placed[0].top[0].display, '·=');
  // Typing along accepted only "= x;": the tokens of the typed part are not placed.
  assert.deepEqual(
    acceptedScores('= x;', scores, 200).map((score) => score.start),
    [200, 201, 202, 203],
  );
  assert.deepEqual(acceptedScores('other', scores, 0), [], 'a text that is not the generated one gets no colours');
  assert.deepEqual(acceptedScores('x', undefined, 0), []);
  // Replacing [104, 106) with 3 characters: tokens 104-105 and 105-106 go, the later ones move by +1.
  assert.deepEqual(
    scoresAfterEdit(placed, 104, 2, 3).map((score) => [score.start, score.end]),
    [
      [100, 103],
      [103, 104],
      [107, 108],
      [108, 109],
    ],
  );
  // Typing inside a token drops it; typing at a token's start keeps it (moved).
  assert.deepEqual(
    scoresAfterEdit(placed, 101, 0, 1).map((score) => score.start),
    [104, 105, 106, 107, 108],
  );
  assert.deepEqual(
    scoresAfterEdit(placed, 103, 0, 2).map((score) => score.start),
    [100, 105, 106, 107, 108, 109],
  );
});
