import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { countInChunks, encodeInChunks } from '../core/tokenizers/documentTokens';
import { displayToken } from '../core/tokenizers/display';
import { loadTokenizerFromFolder } from '../core/tokenizers/huggingface';
import { BUILTIN_TOKENIZERS, MODEL_TOKENIZER_ID, TokenizerRegistry } from '../core/tokenizers/registry';
import type { Tokenizer } from '../core/tokenizers/types';
import { parseFlags, UsageError, writeOut, type CliCommand, type CliIO } from './command';

const ids = BUILTIN_TOKENIZERS.map((entry) => entry.id);

const usage = `Usage: tokenscope tokenize --tokenizer <id|dir> [--json] < file

Splits standard input into tokens the way a model sees it.

Options:
  --tokenizer <id|dir>  one of ${ids.join(', ')}, or a model folder with tokenizer.json
  --json                print {"tokenizer": id, "count": n, "tokens": [{"id": n, "start": n, "end": n}]}

start/end are UTF-16 offsets into the input (as editors count), and the tokens tile it: each starts
where the previous ends. A token holding only the first bytes of a character that the next token
completes (a split emoji or CJK character) has start === end.
Special-token strings in the input (e.g. <|im_end|>) are encoded as plain text.

Examples:
  echo 'def hello(): pass' | tokenscope tokenize --tokenizer qwen2.5
  tokenscope tokenize --tokenizer o200k_base --json < src/main.ts`;

/** A tokenizer by registry id, or from a model folder given as a path. */
export async function resolveCliTokenizer(value: string, registry = new TokenizerRegistry()): Promise<Tokenizer> {
  if (ids.includes(value)) return registry.get(value);
  const dir = resolve(value);
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    if (!existsSync(join(dir, 'tokenizer.json'))) throw new UsageError(`${dir} has no tokenizer.json: give a Hugging Face model folder or one of ${ids.join(', ')}`);
    return loadTokenizerFromFolder(dir, { id: value, label: dir });
  }
  if (value === MODEL_TOKENIZER_ID) throw new UsageError(`"model" means the editor's active model; on the command line give the model folder instead (--tokenizer path/to/model)`);
  throw new UsageError(`unknown tokenizer "${value}": use one of ${ids.join(', ')}, or a model folder with tokenizer.json`);
}

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const { strings, booleans, positionals } = parseFlags(args, { strings: ['tokenizer'], booleans: ['json'] });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": the text comes from standard input`);
  const id = strings.get('tokenizer');
  if (!id) throw new UsageError('--tokenizer is required');
  const tokenizer = await resolveCliTokenizer(id);
  const text = await io.readStdin();
  // Output is streamed chunk by chunk (encodeInChunks gives exactly the whole text's tokens): 50 MB of
  // input makes ~12 M tokens, whose JSON or table would not fit in one string.
  const count = countInChunks(tokenizer, text);
  if (booleans.has('json')) {
    await writeOut(io.stdout, `{"tokenizer":${JSON.stringify(id)},"count":${count},"tokens":[`);
    let first = true;
    for (const spans of encodeInChunks(tokenizer, text)) {
      if (io.signal.aborted) return 130;
      let out = '';
      for (const span of spans) {
        out += `${first ? '' : ','}{"id":${span.id},"start":${span.start},"end":${span.end}}`;
        first = false;
      }
      await writeOut(io.stdout, out);
    }
    await writeOut(io.stdout, ']}\n');
    return 0;
  }
  const perToken = count > 0 ? ` (${(text.length / count).toFixed(2)} characters per token)` : '';
  await writeOut(io.stdout, `${tokenizer.label}${tokenizer.estimate ? ' [estimate]' : ''}: ${count} tokens for ${text.length} characters${perToken}\n`);
  if (count === 0) return 0;
  const width = Math.max(5, String(text.length).length);
  const idWidth = Math.max(2, String(Math.max(1, tokenizer.vocabSize - 1)).length);
  await writeOut(io.stdout, `${'start'.padStart(width)} ${'end'.padStart(width)}  ${'id'.padStart(idWidth)}  bytes  token\n`);
  for (const spans of encodeInChunks(tokenizer, text)) {
    if (io.signal.aborted) return 130;
    let out = '';
    for (const span of spans) {
      const shown = displayToken(tokenizer, span.id);
      out += `${String(span.start).padStart(width)} ${String(span.end).padStart(width)}  ${String(span.id).padStart(idWidth)}  ${String(shown.byteLength).padStart(5)}  ${shown.text}\n`;
    }
    await writeOut(io.stdout, out);
  }
  return 0;
}

export const tokenizeCommand: CliCommand = {
  name: 'tokenize',
  summary: 'Split standard input into tokens (ids, UTF-16 offsets) with any tokenizer',
  usage,
  run,
};
