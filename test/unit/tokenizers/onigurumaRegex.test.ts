import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileOnigurumaRegex, onigurumaToJs, UnsupportedRegexError } from '../../../src/core/tokenizers/onigurumaRegex';

const split = (pattern: string, text: string): string[] => text.match(compileOnigurumaRegex(pattern)) ?? [];

test('(?i:...) folds ASCII letters, as JavaScript before Node 23 has no inline modifiers', () => {
  assert.equal(onigurumaToJs("(?i:'s|'t)"), "(?:'[sS]|'[tT])");
  assert.deepEqual(split("(?i:'s|'ll)|\\p{L}+", "IT'S WE'LL it's"), ['IT', "'S", 'WE', "'LL", 'it', "'s"]);
});

test('\\s is Unicode White_Space: U+0085 is a space, U+FEFF is not (JavaScript\'s \\s has it the other way)', () => {
  assert.equal(split('\\s+', 'a\u0085b').length, 1);
  assert.equal(split('\\s+', 'a\uFEFFb').length, 0);
  assert.deepEqual(split('[^\\s]+', 'a\uFEFFb c'), ['a\uFEFFb', 'c']);
});

test('possessive quantifiers and atomic groups read greedy; X{n,m}+ repeats the interval', () => {
  assert.equal(onigurumaToJs('a++b*+c?+'), 'a+b*c?');
  assert.equal(onigurumaToJs('(?>ab)'), '(?:ab)');
  assert.equal(onigurumaToJs('\\p{N}{1,3}+'), '(?:\\p{N}{1,3})+');
  assert.deepEqual(split('\\p{N}{1,3}', '1234567'), ['123', '456', '7']);
});

test('DeepSeek-V3 style classes: escaped punctuation, raw CR/LF and CJK ranges compile', () => {
  const pattern = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";
  assert.deepEqual(split(pattern, 'foo.bar(x)\r\n  y'), ['foo', '.bar', '(x', ')\r\n', ' ', ' y']);
  assert.deepEqual(split('[一-龥぀-ゟ゠-ヿ]+', 'ab漢字かなカナcd'), ['漢字かなカナ']);
  assert.equal(onigurumaToJs('\\x{4E00}'), '\\u{4E00}');
  assert.equal(onigurumaToJs('a.b^$'), 'a[^\\n]b(?:(?<![\\s\\S])|(?<=\\n))(?:(?=\\n)|(?![\\s\\S]))');
});

test('script names become Script= properties', () => {
  assert.deepEqual(split('\\p{Han}+', 'ab漢字cd'), ['漢字']);
});

test('untranslatable constructs fail loudly instead of splitting differently', () => {
  assert.throws(() => onigurumaToJs('[a[b]]'), UnsupportedRegexError);
  assert.throws(() => onigurumaToJs('[a-z&&[^aeiou]]'), UnsupportedRegexError);
  assert.throws(() => onigurumaToJs('(?x) a'), UnsupportedRegexError);
  assert.throws(() => onigurumaToJs('(ab'), UnsupportedRegexError);
  assert.throws(() => onigurumaToJs('\\K'), /unsupported regex construct \\K/);
});

test('unicodeCaseFold adds the non-ASCII folds of s and k (Rust regex, as tiktoken runs it)', () => {
  assert.deepEqual(split("(?i:'s)|\\p{L}+", "it'ſa"), ['it', 'ſa']);
  assert.deepEqual("it'ſa".match(compileOnigurumaRegex("(?i:'s)|\\p{L}+", { unicodeCaseFold: true })), ['it', "'ſ", 'a']);
  assert.equal(onigurumaToJs('(?i:[a-z])', { unicodeCaseFold: true }), '(?:[a-zA-Z\u017F\u212A])');
});
