/**
 * Reads Hugging Face `tokenizer.json` files (byte-level BPE: GPT-2, Qwen2/2.5/3, Llama 3,
 * DeepSeek-V3, SmolLM2 style) into our fast engine ({@link BytePairTokenizer}). Ids equal
 * `@huggingface/tokenizers` (tested on code, CJK, emoji, combining characters, whitespace runs).
 *
 * What is read: `model` (BPE vocab + merges as "a b" strings or [a, b] pairs, `ignore_merges`),
 * `pre_tokenizer` (Split with Oniguruma regexes, Digits, ByteLevel, in a Sequence), `normalizer`
 * (NFC/NFD/NFKC/NFKD or none) and `added_tokens`. The post-processor is not applied: `encode()`
 * returns content tokens only, no BOS/EOS (for the Qwen, Llama 3 and DeepSeek-V3 files the
 * reference adds none either). Added tokens marked `normalized` are matched on the raw text.
 * Anything else fails with an "unsupported tokenizer" error naming the file and the field.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BYTE_TO_CHAR } from './byteLevel';
import { MergeTable } from './bpe';
import { BytePairTokenizer, type AddedToken } from './bytePairTokenizer';
import { compileOnigurumaRegex, UnsupportedRegexError } from './onigurumaRegex';
import type { NormalizationForm } from './normalization';

export class TokenizerLoadError extends Error {}

export interface HuggingFaceTokenizerInfo {
  readonly id: string;
  readonly label: string;
  /** Names the tokenizer file in error messages (defaults to `tokenizer.json`). */
  readonly source?: string;
}

/** GPT-2's split regex, used by a ByteLevel pre-tokenizer with `use_regex: true`; written as the reference writes it (JS `\s`). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tokenizer read from tokenizer.json; `tokenizerConfig` keeps tokenizer_config.json for prompt builders. */
export class HuggingFaceTokenizer extends BytePairTokenizer {
  /** The parsed tokenizer_config.json (chat template, bos/eos names), `{}` when none was given. */
  readonly tokenizerConfig: Readonly<JsonObject>;

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown, info: HuggingFaceTokenizerInfo) {
    const source = info.source ?? 'tokenizer.json';
    const fail = (message: string): never => {
      throw new TokenizerLoadError(`${source}: ${message}`);
    };
    const unsupported = (what: string): never =>
      fail(`unsupported tokenizer: ${what}. Tokenscope reads byte-level BPE tokenizers (GPT-2, Qwen2/2.5/3, Llama 3, DeepSeek-V3, SmolLM2 style); choose a model with one of those.`);
    if (!isObject(tokenizerJson)) fail('not a tokenizer.json object; re-download the file');
    const json = tokenizerJson as JsonObject;
    if (tokenizerConfig !== undefined && tokenizerConfig !== null && !isObject(tokenizerConfig)) {
      throw new TokenizerLoadError('tokenizer_config.json: not a JSON object; re-download the file');
    }
    const config = (tokenizerConfig as JsonObject | null | undefined) ?? {};

    // Model: BPE with vocab and merges.
    const model = json.model;
    if (!isObject(model)) fail('missing "model" section; re-download the file');
    const modelObject = model as JsonObject;
    if (modelObject.type !== undefined && modelObject.type !== 'BPE') unsupported(`model.type "${String(modelObject.type)}"`);
    if (!isObject(modelObject.vocab)) fail('"model.vocab" is missing or not an object; re-download the file');
    if (!Array.isArray(modelObject.merges)) fail('"model.merges" is missing or not an array; re-download the file');
    if (typeof modelObject.continuing_subword_prefix === 'string' && modelObject.continuing_subword_prefix !== '') unsupported('model.continuing_subword_prefix');
    if (typeof modelObject.end_of_word_suffix === 'string' && modelObject.end_of_word_suffix !== '') unsupported('model.end_of_word_suffix');
    const ignoreMerges = modelObject.ignore_merges === true;

    const vocab = new Map<string, number>();
    const vocabObject = modelObject.vocab as JsonObject;
    for (const token in vocabObject) {
      const id = vocabObject[token];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) fail(`vocabulary entry ${JSON.stringify(token)} has a bad id ${JSON.stringify(id)}; re-download the file`);
      vocab.set(token, id as number);
    }

    // Added tokens (special or not): matched only by encodeWithSpecialTokens.
    const addedTokens: AddedToken[] = [];
    const rawAdded = json.added_tokens ?? [];
    if (!Array.isArray(rawAdded)) fail('"added_tokens" is not an array; re-download the file');
    for (const entry of rawAdded as unknown[]) {
      if (!isObject(entry) || typeof entry.content !== 'string' || typeof entry.id !== 'number' || !Number.isInteger(entry.id) || entry.id < 0) {
        fail(`bad entry in "added_tokens": ${JSON.stringify(entry)}; re-download the file`);
      }
      const token = entry as JsonObject;
      addedTokens.push({
        id: token.id as number,
        content: token.content as string,
        special: token.special === true,
        lstrip: token.lstrip === true,
        rstrip: token.rstrip === true,
      });
    }
    // Pre-tokenizer: Split / Digits / ByteLevel, possibly in a Sequence.
    const regexes: RegExp[] = [];
    let byteLevel = false;
    const addPreTokenizer = (pre: unknown, path: string): void => {
      if (pre === null || pre === undefined) return;
      if (!isObject(pre)) fail(`${path} is not an object`);
      const step = pre as JsonObject;
      if (byteLevel) unsupported(`${path} (${String(step.type)}) after the ByteLevel pre-tokenizer`);
      switch (step.type) {
        case 'Sequence': {
          const list = step.pretokenizers;
          if (!Array.isArray(list)) fail(`${path}.pretokenizers is not an array`);
          (list as unknown[]).forEach((child, index) => addPreTokenizer(child, `${path}.pretokenizers[${index}]`));
          return;
        }
        case 'Split': {
          const pattern = step.pattern;
          if (step.invert === true) unsupported(`${path}: Split with invert: true`);
          const behavior = typeof step.behavior === 'string' ? step.behavior.toLowerCase() : 'isolated';
          if (behavior !== 'isolated') unsupported(`${path}: Split behavior "${String(step.behavior)}"`);
          if (!isObject(pattern)) fail(`${path}.pattern is missing`);
          const patternObject = pattern as JsonObject;
          if (typeof patternObject.Regex === 'string') {
            try {
              regexes.push(compileOnigurumaRegex(patternObject.Regex));
            } catch (error) {
              if (error instanceof UnsupportedRegexError) unsupported(`${path}: ${error.message}`);
              throw error;
            }
          } else if (typeof patternObject.String === 'string') {
            regexes.push(new RegExp(patternObject.String.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'gu'));
          } else {
            fail(`${path}.pattern needs "Regex" or "String"`);
          }
          return;
        }
        case 'Digits':
          regexes.push(step.individual_digits === true ? /[^\d]+|\d/gu : /[^\d]+|\d+/gu);
          return;
        case 'ByteLevel':
          if (step.add_prefix_space === true) unsupported(`${path}: ByteLevel with add_prefix_space: true`);
          if (step.use_regex !== false) regexes.push(new RegExp(GPT2_SPLIT.source, 'gu'));
          byteLevel = true;
          return;
        default:
          unsupported(`${path}.type "${String(step.type)}"`);
      }
    };
    addPreTokenizer(json.pre_tokenizer, 'pre_tokenizer');
    if (!byteLevel) unsupported('no ByteLevel pre-tokenizer (this is not a byte-level BPE; e.g. a SentencePiece/Metaspace model)');
    

    // Normalizer: Unicode normalization forms only (possibly none, in a Sequence).
    const forms: NormalizationForm[] = [];
    const addNormalizer = (normalizer: unknown, path: string): void => {
      if (normalizer === null || normalizer === undefined) return;
      if (!isObject(normalizer)) fail(`${path} is not an object`);
      const step = normalizer as JsonObject;
      if (step.type === 'Sequence') {
        if (!Array.isArray(step.normalizers)) fail(`${path}.normalizers is not an array`);
        (step.normalizers as unknown[]).forEach((child, index) => addNormalizer(child, `${path}.normalizers[${index}]`));
      } else if (step.type === 'NFC' || step.type === 'NFD' || step.type === 'NFKC' || step.type === 'NFKD') {
        forms.push(step.type);
      } else {
        unsupported(`${path}.type "${String(step.type)}"`);
      }
    };
    addNormalizer(json.normalizer, 'normalizer');
    

    // The 256 single-byte tokens every byte-level vocabulary has.
    const byteToId = new Int32Array(256);
    for (let byte = 0; byte < 256; byte++) {
      const id = vocab.get(BYTE_TO_CHAR[byte]);
      if (id === undefined) unsupported(`the vocabulary lacks the byte-level token for byte 0x${byte.toString(16)}`);
      byteToId[byte] = id as number;
    }

    // Merges, as "a b" strings or [a, b] pairs.
    const merges = modelObject.merges as unknown[];
    const mergeTable = new MergeTable(merges.length, merges.length);
    merges.forEach((merge, rank) => {
      let left: string;
      let right: string;
      if (typeof merge === 'string') {
        const space = merge.indexOf(' ');
        if (space < 0) fail(`merge ${rank} ${JSON.stringify(merge)} is not "a b"; re-download the file`);
        left = merge.slice(0, space);
        right = merge.slice(space + 1);
      } else if (Array.isArray(merge) && merge.length === 2 && typeof merge[0] === 'string' && typeof merge[1] === 'string') {
        [left, right] = merge as [string, string];
      } else {
        return fail(`merge ${rank} ${JSON.stringify(merge)} is neither "a b" nor ["a", "b"]; re-download the file`);
      }
      const leftId = vocab.get(left);
      const rightId = vocab.get(right);
      const mergedId = vocab.get(left + right);
      // A merge whose parts or result are not in the vocabulary can never produce a known token.
      if (leftId === undefined || rightId === undefined || mergedId === undefined) return;
      mergeTable.set(leftId, rightId, rank, mergedId);
    });
      super({
      id: info.id,
      label: info.label,
      estimate: false,
      vocab,
      merges: mergeTable,
      byteToId,
      splitRegexes: regexes,
      normalization: forms,
      wholePieceLookup: ignoreMerges,
      addedTokens,
    });
    this.tokenizerConfig = config;
  }
}

/**
 * Builds a tokenizer from parsed tokenizer.json and tokenizer_config.json contents (the config may
 * be `{}`/undefined: encoding needs only tokenizer.json).
 */
export function loadHuggingFaceTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, info: HuggingFaceTokenizerInfo): HuggingFaceTokenizer {
  return new HuggingFaceTokenizer(tokenizerJson, tokenizerConfig, info);
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    if (code === 'ENOENT') {
      throw new TokenizerLoadError(`${path} not found: a model folder needs the Hugging Face tokenizer.json next to config.json; download it with the model files.`);
    }
    // The cause keeps the errno, so a model load can say what to do about permissions.
    throw new TokenizerLoadError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerLoadError(`${path} is not valid JSON (${(error as Error).message}); the file is corrupt or truncated: download it again.`);
  }
}

/**
 * Loads `tokenizer.json` (required) and `tokenizer_config.json` (optional: it carries the chat
 * template, not what encoding needs) from a model folder.
 */
export async function loadTokenizerFromFolder(dir: string, info?: { id?: string; label?: string }): Promise<HuggingFaceTokenizer> {
  const tokenizerPath = join(dir, 'tokenizer.json');
  const [tokenizerJson, tokenizerConfig] = await Promise.all([readJson(tokenizerPath, true), readJson(join(dir, 'tokenizer_config.json'), false)]);
  return loadHuggingFaceTokenizer(tokenizerJson, tokenizerConfig, { id: info?.id ?? 'model', label: info?.label ?? dir, source: tokenizerPath });
}

const sharedFolderTokenizers = new Map<string, Promise<HuggingFaceTokenizer>>();

/**
 * {@link loadTokenizerFromFolder}, loaded once per folder and process: the Token lens and
 * completions both need the active model's tokenizer, and a 150k vocabulary costs tens of
 * megabytes. A failed load is forgotten so that the next call retries.
 */
export function loadSharedTokenizerFromFolder(dir: string, info?: { id?: string; label?: string }): Promise<HuggingFaceTokenizer> {
  let pending = sharedFolderTokenizers.get(dir);
  if (!pending) {
    pending = loadTokenizerFromFolder(dir, info);
    sharedFolderTokenizers.set(dir, pending);
    pending.catch(() => {
      if (sharedFolderTokenizers.get(dir) === pending) sharedFolderTokenizers.delete(dir);
    });
  }
  return pending;
}
