import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeWithOffsets, type NormalizationForm } from '../../../src/core/tokenizers/normalization';

const TEXTS = [
  'plain ascii only',
  'cafe\u0301 re\u0301sume\u0301',
  'a\u0308\u0304 o\u0323\u0302 q\u0307\u0323',
  '\u1100\u1161\u11a8 \u1100\u1161 x\u1161',
  'ﬁle ﬂow Ａｂｃ １２３ ㍻ ½ ℌ x²',
  '\u00a0\u3000\u2028 \uFEFF',
  'e\u0301\u0301\u0301 é\u0301',
  '你好 😀 e\u0301',
];

for (const form of ['NFC', 'NFD', 'NFKC', 'NFKD'] as NormalizationForm[]) {
  test(`${form}: normalizing the non-ASCII runs alone equals normalizing the whole text, with a monotone offset map`, () => {
    for (const text of TEXTS) {
      const { text: normalized, map } = normalizeWithOffsets(text, [form]);
      assert.equal(normalized, text.normalize(form), JSON.stringify(text));
      if (normalized === text) {
        assert.equal(map, null);
        continue;
      }
      assert.ok(map);
      assert.equal(map.toOriginal(0), 0);
      assert.equal(map.toOriginal(normalized.length), text.length);
      let previous = 0;
      for (let offset = 0; offset <= normalized.length; offset++) {
        const original = map.toOriginal(offset);
        assert.ok(original >= previous && original <= text.length, `monotone at ${offset}`);
        previous = original;
      }
    }
  });
}

test('unchanged ASCII around a changed run maps exactly', () => {
  const text = 'ab cafe\u0301 xy';
  const { text: normalized, map } = normalizeWithOffsets(text, ['NFC']);
  assert.equal(normalized, 'ab café xy');
  assert.ok(map);
  assert.equal(map.toOriginal(2), 2, 'before the run');
  assert.equal(map.toOriginal(normalized.indexOf(' xy')), text.indexOf(' xy'), 'after the run');
});
