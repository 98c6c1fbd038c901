/**
 * Reads a Hugging Face ONNX model folder (transformers.js / Optimum layout):
 *
 *   config.json  generation_config.json  tokenizer.json  tokenizer_config.json
 *   onnx/model.onnx | model_fp16.onnx | model_q4.onnx | model_q4f16.onnx | model_int8.onnx | model_quantized.onnx
 *        (+ <file>_data / <file>.onnx_data external weights)
 *
 * and picks the ONNX file for the requested variant. Everything that can be checked without ONNX
 * Runtime is checked here, with errors that name the file and the fix.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readArchitecture, type ModelArchitecture } from './architecture';
import { ModelError, cannotReadError } from './errors';

export const MODEL_VARIANTS = ['auto', 'q4', 'q4f16', 'int8', 'fp16', 'fp32'] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];
export type ConcreteVariant = Exclude<ModelVariant, 'auto'>;

/** File stems per variant, best first (Optimum's older `decoder_model_merged` names last). */
const VARIANT_FILES: Readonly<Record<ConcreteVariant, readonly string[]>> = {
  q4: ['model_q4', 'model_bnb4', 'decoder_model_merged_q4'],
  q4f16: ['model_q4f16', 'decoder_model_merged_q4f16'],
  int8: ['model_int8', 'model_quantized', 'model_uint8', 'decoder_model_merged_quantized', 'decoder_model_merged_int8'],
  fp16: ['model_fp16', 'decoder_model_merged_fp16'],
  fp32: ['model', 'decoder_model_merged'],
};

/** The ONNX file stems a variant may be stored under, best first (`model_q4` → `onnx/model_q4.onnx`). */
export function variantFileStems(variant: ConcreteVariant): readonly string[] {
  return VARIANT_FILES[variant];
}

/**
 * What `auto` tries on a CPU, in order: 4-bit MatMulNBits is the fastest CPU path and the smallest;
 * int8 next; fp32 is exact but large; fp16 graphs run on ONNX Runtime's CPU provider mostly
 * through casts, so they come last.
 */
export const AUTO_ORDER: readonly ConcreteVariant[] = ['q4', 'int8', 'fp32', 'q4f16', 'fp16'];

export interface GenerationDefaults {
  /** Token ids that end generation (generation_config.json, else config.json, else the tokenizer's eos). */
  readonly eosTokenIds: readonly number[];
  readonly doSample: boolean;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly repetitionPenalty?: number;
}

export interface ModelFolder {
  readonly dir: string;
  readonly architecture: ModelArchitecture;
  readonly generation: GenerationDefaults;
  /** Parsed tokenizer_config.json ({} when absent). */
  readonly tokenizerConfig: Readonly<Record<string, unknown>>;
  readonly chatTemplate?: string;
  readonly onnxPath: string;
  readonly variant: ConcreteVariant;
  /** Variants present in the folder. */
  readonly availableVariants: readonly ConcreteVariant[];
  /** Bytes of the ONNX file plus its external data. */
  readonly weightBytes: number;
}

/** Reads and parses a JSON file; `undefined` when optional and absent. */
export async function readJsonFile(path: string, required: boolean, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new ModelError('missing-file', `${path} is missing: ${what}. Download the complete model folder (config.json, tokenizer.json, tokenizer_config.json, onnx/).`, path);
    }
    throw cannotReadError(path, error, dirname(path));
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelError('invalid-json', `${path} is not valid JSON (${(error as Error).message}): the file is truncated or corrupt. Download it again.`, path);
  }
}

function onnxDir(dir: string): string {
  return existsSync(join(dir, 'onnx')) ? join(dir, 'onnx') : dir;
}

/** Variants present in a folder, with their files. */
export function listVariants(dir: string): Map<ConcreteVariant, string> {
  const folder = onnxDir(dir);
  const files = new Set(existsSync(folder) ? readdirSync(folder) : []);
  const found = new Map<ConcreteVariant, string>();
  for (const [variant, stems] of Object.entries(VARIANT_FILES) as [ConcreteVariant, readonly string[]][]) {
    const stem = stems.find((candidate) => files.has(`${candidate}.onnx`));
    if (stem) found.set(variant, join(folder, `${stem}.onnx`));
  }
  return found;
}

export function chooseVariant(dir: string, requested: ModelVariant): { variant: ConcreteVariant; path: string; available: ConcreteVariant[] } {
  const found = listVariants(dir);
  const available = [...found.keys()];
  if (available.length === 0) {
    throw new ModelError(
      'missing-file',
      `${join(dir, 'onnx')} holds no ONNX model (expected onnx/model.onnx, model_q4.onnx, model_int8.onnx, ...). Download the model's onnx/ folder from a Hugging Face ONNX export (e.g. onnx-community/Qwen2.5-Coder-0.5B-Instruct).`,
      join(dir, 'onnx'),
    );
  }
  if (requested === 'auto') {
    const variant = AUTO_ORDER.find((candidate) => found.has(candidate))!;
    return { variant, path: found.get(variant)!, available };
  }
  const path = found.get(requested);
  if (!path) {
    throw new ModelError(
      'missing-variant',
      `${dir} has no ${requested} variant (${VARIANT_FILES[requested].map((stem) => `onnx/${stem}.onnx`).join(' or ')}). Available: ${available.join(', ')}. Set the model variant to one of these or to auto.`,
      dir,
    );
  }
  return { variant: requested, path, available };
}

/** External data files an ONNX file may reference, by the names exporters use. */
export function externalDataCandidates(onnxPath: string): string[] {
  const dir = onnxPath.slice(0, onnxPath.length - basename(onnxPath).length);
  const stem = basename(onnxPath, '.onnx');
  const names = new Set([`${stem}.onnx_data`, `${stem}.onnx.data`, `${stem}_data`]);
  const files = existsSync(dir) ? readdirSync(dir) : [];
  // Large exports split weights: model.onnx_data, model.onnx_data_1, ...
  for (const file of files) if (file.startsWith(`${stem}.onnx_data`)) names.add(file);
  return [...names].map((name) => join(dir, name)).filter((path) => existsSync(path));
}

function idList(value: unknown): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v));
  return [];
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function readGenerationDefaults(generationConfig: unknown, config: Record<string, unknown>, tokenizerEos: number | undefined): GenerationDefaults {
  const gen = typeof generationConfig === 'object' && generationConfig !== null ? (generationConfig as Record<string, unknown>) : {};
  const eos = new Set([...idList(gen.eos_token_id), ...(idList(gen.eos_token_id).length ? [] : idList(config.eos_token_id))]);
  if (eos.size === 0 && tokenizerEos !== undefined) eos.add(tokenizerEos);
  return {
    eosTokenIds: [...eos],
    doSample: gen.do_sample === true,
    temperature: optionalNumber(gen.temperature),
    topP: optionalNumber(gen.top_p),
    topK: optionalNumber(gen.top_k),
    repetitionPenalty: optionalNumber(gen.repetition_penalty),
  };
}

/** The token string named by a tokenizer_config field (string or `{content}` object). */
export function tokenString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

/**
 * Reads everything but the tokenizer and the ONNX session. `eosLookup` maps the tokenizer's
 * eos_token string to its id (the caller has the tokenizer).
 */
export async function readModelFolder(dir: string, variant: ModelVariant, eosLookup?: (token: string) => number | undefined): Promise<ModelFolder> {
  if (!existsSync(dir)) {
    throw new ModelError('not-found', `Model folder ${dir} does not exist. Set tokenscope.model to \`mini\` or to the absolute path of a Hugging Face ONNX model folder.`, dir);
  }
  if (!statSync(dir).isDirectory()) {
    const owner = modelFolderHolding(dir);
    throw new ModelError('not-found', `${dir} is a file, not a model folder: give the folder that holds config.json, tokenizer.json and onnx/${owner ? ` (this file is in ${owner})` : ''}.`, dir);
  }
  const configPath = join(dir, 'config.json');
  const config = await readJsonFile(configPath, true, "the model's architecture (config.json)");
  const architecture = readArchitecture(config, configPath);
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    throw new ModelError('missing-file', `${join(dir, 'tokenizer.json')} is missing: the model's tokenizer is needed to read and write text. Download tokenizer.json with the model.`, join(dir, 'tokenizer.json'));
  }
  const generationConfig = await readJsonFile(join(dir, 'generation_config.json'), false, 'generation settings');
  const tokenizerConfigRaw = await readJsonFile(join(dir, 'tokenizer_config.json'), false, 'tokenizer settings');
  const tokenizerConfig = typeof tokenizerConfigRaw === 'object' && tokenizerConfigRaw !== null ? (tokenizerConfigRaw as Record<string, unknown>) : {};
  const eosString = tokenString(tokenizerConfig.eos_token);
  const generation = readGenerationDefaults(generationConfig, config as Record<string, unknown>, eosString && eosLookup ? eosLookup(eosString) : undefined);
  const chosen = chooseVariant(dir, variant);
  const onnxSize = statSync(chosen.path).size;
  if (onnxSize === 0) {
    throw new ModelError('corrupt-onnx', `${chosen.path} is empty: the download did not finish. Delete it and download it again.`, chosen.path);
  }
  const weightBytes = onnxSize + externalDataCandidates(chosen.path).reduce((sum, path) => sum + statSync(path).size, 0);
  return {
    dir,
    architecture,
    generation,
    tokenizerConfig,
    chatTemplate: chatTemplateOf(tokenizerConfig),
    onnxPath: chosen.path,
    variant: chosen.variant,
    availableVariants: chosen.available,
    weightBytes,
  };
}

/** The model folder a file belongs to (the nearest folder above it with a config.json), if any. */
function modelFolderHolding(file: string): string | undefined {
  let dir = dirname(file);
  for (let depth = 0; depth < 3; depth++) {
    if (existsSync(join(dir, 'config.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** tokenizer_config.json's chat_template: a string, or a list of named templates ("default" first). */
function chatTemplateOf(tokenizerConfig: Record<string, unknown>): string | undefined {
  const template = tokenizerConfig.chat_template;
  if (typeof template === 'string') return template;
  if (Array.isArray(template)) {
    const named = template.filter((entry): entry is { name: string; template: string } => typeof entry?.name === 'string' && typeof entry?.template === 'string');
    return (named.find((entry) => entry.name === 'default') ?? named[0])?.template;
  }
  return undefined;
}
