/**
 * Translates the Oniguruma regexes of Hugging Face `tokenizer.json` pre-tokenizers (Rust `onig`
 * syntax) into JavaScript `u`-flag regexes with the same meaning, the way `@huggingface/tokenizers`
 * does, so that our pre-tokenisation splits text exactly where the reference does:
 *
 * - `(?i:...)`: JavaScript before Node 23 has no inline modifiers; the pretokenizer patterns use it
 *   only for ASCII contractions (`'s|'t|'re...`), so letters inside are folded (`[sS]`). With
 *   `unicodeCaseFold` (Rust's regex, as tiktoken runs it) the two non-ASCII characters whose case
 *   folds to an ASCII letter join in: U+017F `ſ` for s, U+212A (Kelvin) for k. The
 *   `@huggingface/tokenizers` reference folds ASCII only, so tokenizer.json patterns do not.
 * - `\s`/`\S` mean Unicode White_Space (JavaScript's `\s` wrongly adds U+FEFF and lacks U+0085);
 *   `\d` is `\p{Nd}`, `\w` Unicode word characters, `.` anything but `\n`, `^`/`$` line anchors.
 * - Possessive quantifiers (`a++`, `a*+`, `a?+`) and atomic groups `(?>...)` become greedy ones, as
 *   the reference does; `X{n,m}+` is a repeated interval in Oniguruma, not possessive.
 * - `\x{HHHH}` → `\u{HHHH}`; `\p{Han}`-style script names → `\p{Script=Han}` where needed.
 *
 * Constructs we cannot translate faithfully (nested classes, `&&`, inline flag switches other than
 * `(?i:`) throw {@link UnsupportedRegexError} rather than silently splitting differently.
 */
export class UnsupportedRegexError extends Error {}

const WORD_CHARS = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}';
const WORD_CLASS = `[${WORD_CHARS}]`;
const NON_WORD_CLASS = `[^${WORD_CHARS}]`;

/** Control-character escapes, spelled the same inside and outside character classes. */
const CONTROL_CHARACTER_ESCAPES: readonly (readonly [string, string])[] = [
  ['n', '\\n'],
  ['r', '\\r'],
  ['t', '\\t'],
  ['f', '\\f'],
  ['v', '\\v'],
  ['a', '\\x07'],
  ['e', '\\x1B'],
];

const ESCAPES_OUTSIDE_CLASS: ReadonlyMap<string, string> = new Map([
  ['s', '\\p{White_Space}'],
  ['S', '\\P{White_Space}'],
  ['d', '\\p{Nd}'],
  ['D', '\\P{Nd}'],
  ['w', WORD_CLASS],
  ['W', NON_WORD_CLASS],
  ['h', '[0-9A-Fa-f]'],
  ['H', '[^0-9A-Fa-f]'],
  ['A', '(?<![\\s\\S])'],
  ['z', '(?![\\s\\S])'],
  ['Z', '(?=\\n?(?![\\s\\S]))'],
  ['b', `(?:(?<!${WORD_CLASS})(?=${WORD_CLASS})|(?<=${WORD_CLASS})(?!${WORD_CLASS}))`],
  ['B', `(?:(?<!${WORD_CLASS})(?!${WORD_CLASS})|(?<=${WORD_CLASS})(?=${WORD_CLASS}))`],
  ...CONTROL_CHARACTER_ESCAPES,
  ['0', '\\0'],
]);

const ESCAPES_IN_CLASS: ReadonlyMap<string, string> = new Map([
  ['s', '\\p{White_Space}'],
  ['S', '\\P{White_Space}'],
  ['d', '\\p{Nd}'],
  ['D', '\\P{Nd}'],
  ['w', WORD_CHARS],
  ['h', '0-9A-Fa-f'],
  ...CONTROL_CHARACTER_ESCAPES,
]);

const RAW_WHITESPACE: ReadonlyMap<string, string> = new Map([
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
  ['\f', '\\f'],
  ['\v', '\\v'],
]);

/** Characters that must stay escaped in a `u`-flag regex (an identity escape of anything else is a syntax error there). */
const JS_SYNTAX_CHARS = '^$\\.*+?()[]{}|/';

const isAsciiLetter = (char: string): boolean => /^[A-Za-z]$/.test(char);
const otherCase = (char: string): string => (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase());

export interface RegexTranslationOptions {
  /** Fold `(?i:...)` letters as Unicode simple case folding does (Rust regex / tiktoken), not ASCII only. */
  readonly unicodeCaseFold?: boolean;
}

/** Non-ASCII characters whose simple case folding is an ASCII letter. */
const UNICODE_FOLDS: Readonly<Record<string, string>> = { s: '\u017F', k: '\u212A' };

function foldedLetter(char: string, unicode: boolean): string {
  return char.toLowerCase() + char.toUpperCase() + (unicode ? (UNICODE_FOLDS[char.toLowerCase()] ?? '') : '');
}

/** `\p{..}`, `\x{..}` or `\u{..}` at `index`, or null. */
function bracedEscape(source: string, index: number): { kind: string; body: string; length: number } | null {
  const match = /^\\([pPxu])\{([^}]*)\}/.exec(source.slice(index, index + 64));
  return match ? { kind: match[1], body: match[2], length: match[0].length } : null;
}

function translateBraced(kind: string, body: string): string {
  if (kind === 'x' || kind === 'u') return `\\u{${body}}`;
  return `\\${kind}{${body}}`;
}

function unsupported(source: string, index: number, what: string): never {
  throw new UnsupportedRegexError(`unsupported regex construct ${what} at index ${index} of /${source}/`);
}

/** Translates a character class starting at `start` (the `[`); returns its JS text and the index after `]`. */
function translateClass(source: string, start: number, asciiFold: boolean, unicodeFold: boolean): { text: string; end: number } {
  let index = start + 1;
  let out = '[';
  if (source[index] === '^') {
    out += '^';
    index++;
  }
  if (source[index] === ']') {
    out += '\\]';
    index++;
  }
  // Literal ASCII letters and letter ranges seen inside (?i:...), to add their other case.
  let foldAdditions = '';
  while (index < source.length) {
    const char = String.fromCodePoint(source.codePointAt(index) as number);
    if (char === ']') {
      return { text: `${out}${foldAdditions}]`, end: index + 1 };
    }
    if (char === '[') unsupported(source, index, 'nested character class');
    if (char === '&' && source[index + 1] === '&') unsupported(source, index, 'class intersection &&');
    if (char === '\\') {
      const braced = bracedEscape(source, index);
      if (braced) {
        out += translateBraced(braced.kind, braced.body);
        index += braced.length;
        continue;
      }
      const next = source[index + 1];
      if (next === undefined) unsupported(source, index, 'trailing backslash');
      const mapped = ESCAPES_IN_CLASS.get(next);
      if (mapped !== undefined) {
        out += mapped;
      } else if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(source.slice(index + 2, index + 4))) {
        out += source.slice(index, index + 4);
        index += 4;
        continue;
      } else if (/[A-Za-z0-9]/.test(next)) {
        unsupported(source, index, `\\${next} in a character class`);
      } else if (JS_SYNTAX_CHARS.includes(next) || next === '-') {
        out += `\\${next}`;
      } else {
        out += next;
      }
      index += 2;
      continue;
    }
    const raw = RAW_WHITESPACE.get(char);
    if (raw !== undefined) {
      out += raw;
      index += char.length;
      continue;
    }
    if (asciiFold && isAsciiLetter(char)) {
      // A range `a-z` folds to `A-Z` too; a single letter to its other case.
      if (source[index + 1] === '-' && isAsciiLetter(source[index + 2] ?? '') && source[index + 3] !== undefined) {
        const end = source[index + 2];
        out += `${char}-${end}`;
        if ((char === char.toLowerCase()) === (end === end.toLowerCase())) foldAdditions += `${otherCase(char)}-${otherCase(end)}`;
        if (unicodeFold) {
          for (const [letter, folded] of Object.entries(UNICODE_FOLDS)) {
            if (letter >= char.toLowerCase() && letter <= end.toLowerCase()) foldAdditions += folded;
          }
        }
        index += 3;
        continue;
      }
      out += char;
      foldAdditions += otherCase(char) + (unicodeFold ? (UNICODE_FOLDS[char.toLowerCase()] ?? '') : '');
      index += 1;
      continue;
    }
    out += char;
    index += char.length;
  }
  return unsupported(source, start, 'unterminated character class');
}

/** Translates an Oniguruma pattern (as found in tokenizer.json) to JavaScript `u`-flag regex source. */
export function onigurumaToJs(source: string, options: RegexTranslationOptions = {}): string {
  const unicodeFold = options.unicodeCaseFold === true;
  let out = '';
  // Where the last atom began in `out`, to wrap it when `X{n}+` needs `(?:X{n})+`.
  let atomStart = -1;
  let lastWasQuantifier = false;
  let asciiFold = false;
  const groups: { atomStart: number; asciiFold: boolean }[] = [];
  const emitAtom = (text: string): void => {
    atomStart = out.length;
    out += text;
    lastWasQuantifier = false;
  };

  for (let index = 0; index < source.length; ) {
    const char = String.fromCodePoint(source.codePointAt(index) as number);
    switch (char) {
      case '\\': {
        const braced = bracedEscape(source, index);
        if (braced) {
          emitAtom(translateBraced(braced.kind, braced.body));
          index += braced.length;
          continue;
        }
        const next = source[index + 1];
        if (next === undefined) unsupported(source, index, 'trailing backslash');
        const mapped = ESCAPES_OUTSIDE_CLASS.get(next);
        if (mapped !== undefined) {
          emitAtom(mapped);
          index += 2;
        } else if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(source.slice(index + 2, index + 4))) {
          emitAtom(source.slice(index, index + 4));
          index += 4;
        } else if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(source.slice(index + 2, index + 6))) {
          emitAtom(source.slice(index, index + 6));
          index += 6;
        } else if (/[1-9]/.test(next)) {
          emitAtom(`\\${next}`);
          index += 2;
        } else if (/[A-Za-z0-9]/.test(next)) {
          unsupported(source, index, `\\${next}`);
        } else {
          const literal = String.fromCodePoint(source.codePointAt(index + 1) as number);
          emitAtom(JS_SYNTAX_CHARS.includes(literal) ? `\\${literal}` : literal);
          index += 1 + literal.length;
        }
        continue;
      }
      case '[': {
        const translated = translateClass(source, index, asciiFold, unicodeFold);
        emitAtom(translated.text);
        index = translated.end;
        continue;
      }
      case '.':
        emitAtom('[^\\n]');
        index++;
        continue;
      case '^':
        emitAtom('(?:(?<![\\s\\S])|(?<=\\n))');
        index++;
        continue;
      case '$':
        emitAtom('(?:(?=\\n)|(?![\\s\\S]))');
        index++;
        continue;
      case '(': {
        const rest = source.slice(index, index + 4);
        let prefix: string;
        let replacement: string;
        if (rest.startsWith('(?i:')) {
          prefix = '(?i:';
          replacement = '(?:';
        } else if (rest.startsWith('(?>')) {
          prefix = '(?>';
          replacement = '(?:';
        } else {
          const named = /^\(\?<[A-Za-z_][A-Za-z0-9_]*>/.exec(source.slice(index, index + 64));
          const plain = /^\(\?(?:<[=!]|[:=!])/.exec(rest);
          if (named) prefix = named[0];
          else if (plain) prefix = plain[0];
          else if (rest.startsWith('(?')) unsupported(source, index, `group ${rest}`);
          else prefix = '(';
          replacement = prefix;
        }
        groups.push({ atomStart: out.length, asciiFold });
        if (prefix === '(?i:') asciiFold = true;
        out += replacement;
        lastWasQuantifier = false;
        index += prefix.length;
        continue;
      }
      case ')': {
        const group = groups.pop();
        if (!group) unsupported(source, index, 'unbalanced )');
        out += ')';
        atomStart = group.atomStart;
        asciiFold = group.asciiFold;
        lastWasQuantifier = false;
        index++;
        continue;
      }
      case '|':
        out += '|';
        atomStart = -1;
        lastWasQuantifier = false;
        index++;
        continue;
      case '{': {
        const quantifier = /^\{(\d+(?:,\d*)?|,\d+)\}/.exec(source.slice(index, index + 32));
        if (!quantifier || atomStart < 0) {
          emitAtom('\\{');
          index++;
          continue;
        }
        const body = quantifier[1].startsWith(',') ? `0${quantifier[1]}` : quantifier[1];
        index += quantifier[0].length;
        const following = source[index];
        if (following === '+' || following === '*') {
          // Oniguruma reads `X{n,m}+` as `(?:X{n,m})+`, not as a possessive interval.
          out = `${out.slice(0, atomStart)}(?:${out.slice(atomStart)}{${body}})${following}`;
          index++;
        } else {
          out += `{${body}}`;
        }
        lastWasQuantifier = true;
        continue;
      }
      case '}':
        emitAtom('\\}');
        index++;
        continue;
      case ']':
        emitAtom('\\]');
        index++;
        continue;
      case '+':
        // `X++` is possessive in Oniguruma; JavaScript has none, and the reference reads it greedy.
        if (!lastWasQuantifier) out += '+';
        lastWasQuantifier = true;
        index++;
        continue;
      case '*':
      case '?':
        out += char;
        lastWasQuantifier = true;
        index++;
        continue;
      default: {
        const raw = RAW_WHITESPACE.get(char);
        if (raw !== undefined) emitAtom(raw);
        else if (asciiFold && isAsciiLetter(char)) emitAtom(`[${foldedLetter(char, unicodeFold)}]`);
        else emitAtom(char);
        index += char.length;
      }
    }
  }
  if (groups.length > 0) unsupported(source, source.length, 'unclosed group');
  return out;
}

/**
 * Compiles a tokenizer.json pattern to a global, Unicode JS regex. Property names that JavaScript
 * knows only as scripts (`\p{Han}`) are retried as `\p{Script=Han}`.
 */
export function compileOnigurumaRegex(source: string, options: RegexTranslationOptions = {}): RegExp {
  const translated = onigurumaToJs(source, options);
  try {
    return new RegExp(translated, 'gu');
  } catch (error) {
    const withScripts = translated.replace(/(^|[^\\])(\\[pP])\{([^}=]+)\}/g, (text, before: string, escape: string, name: string) => {
      try {
        new RegExp(`\\p{${name}}`, 'u');
        return text;
      } catch {
        return `${before}${escape}{Script=${name}}`;
      }
    });
    try {
      return new RegExp(withScripts, 'gu');
    } catch {
      throw new UnsupportedRegexError(`cannot compile /${source}/ as a JavaScript regex (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}
