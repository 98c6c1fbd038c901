/**
 * Puts a local model's numbers (the built-in mini, or the folder the user chose) next to the real
 * models of referenceModels.json: layers, heads, parameters and where they sit, vocabulary, context,
 * KV cache per token, tokens trained. One description for the editor view and the CLI, plus the
 * sentences that say what the numbers mean.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { modelAnatomy, type ModelAnatomy } from './anatomy';
import { BUILTIN_MODELS, resolveModelReference } from './catalog';
import { ModelError } from './errors';
import referenceData from './referenceModels.json';

export interface ComparedModel {
  readonly id: string;
  readonly label: string;
  readonly role: string;
  readonly licence?: string;
  /** Hugging Face repository of the ONNX export. */
  readonly repo?: string;
  readonly anatomy: ModelAnatomy;
  /** Published count for reference models, else the count computed from config.json (null if unknown). */
  readonly parameters: number | null;
  readonly trainingTokens?: number;
  /** Held-out bits per byte, from a model card that reports it (the built-in model's). */
  readonly heldoutBitsPerByte?: number;
  /** The same held-out text under a unigram model of the training tokens (the card's baseline). */
  readonly unigramBitsPerByte?: number;
  /** The model Tokenscope is configured to run. */
  readonly active: boolean;
  /** Ships with Tokenscope. */
  readonly builtin: boolean;
}

export interface ModelComparison {
  /** Local models first (the built-in one, and the active folder model if it is another), then the references by size. */
  readonly models: readonly ComparedModel[];
  /** Plain sentences about the numbers, for learners. */
  readonly insights: readonly string[];
}

/** What a model folder says about itself: config.json, and model-card.json where present (tokenscope-mini). */
export interface LocalModelFacts {
  readonly id: string;
  readonly label: string;
  readonly config: unknown;
  readonly card?: { readonly training?: { readonly tokens?: number }; readonly metrics?: { readonly heldout_bits_per_byte?: number; readonly unigram_bits_per_byte?: number }; readonly limits?: string };
  readonly builtin: boolean;
  readonly active: boolean;
}

interface ReferenceEntry {
  readonly id: string;
  readonly label: string;
  readonly repo: string;
  readonly licence: string;
  readonly role: string;
  readonly trainingTokens?: number;
  readonly parameters: number;
  readonly config: Record<string, unknown>;
}

export const REFERENCE_MODELS: readonly ReferenceEntry[] = (referenceData as { models: ReferenceEntry[] }).models;

/** Reads a model folder's config.json (required) and model-card.json (optional). */
export async function readLocalModelFacts(dir: string, identity: Omit<LocalModelFacts, 'config' | 'card'>): Promise<LocalModelFacts> {
  const configFile = join(dir, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(await readFile(configFile, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelError(
      missing ? 'not-found' : 'invalid-config',
      missing ? `${configFile} does not exist: choose a Hugging Face model folder (with config.json).` : `${configFile} is not valid JSON (${(error as Error).message}): download the model's config.json again.`,
      configFile,
    );
  }
  let card: LocalModelFacts['card'];
  try {
    card = JSON.parse(await readFile(join(dir, 'model-card.json'), 'utf8')) as LocalModelFacts['card'];
  } catch {
    card = undefined; // Only Tokenscope's own models have one; its absence is normal.
  }
  return { ...identity, config, card };
}

/**
 * The local models to compare: the built-in one, and the model `reference` names (a folder, or a
 * built-in id) when it is another. A folder that cannot be resolved, read or understood does not stop
 * the comparison: it comes back as `problem`, with the reason (the editor shows it on the page, the
 * CLI fails with it). The built-in model itself missing is an error.
 */
export async function readModelsToCompare(options: { readonly packageRoot: string; readonly reference?: string; readonly cwd?: string }): Promise<{ readonly locals: LocalModelFacts[]; readonly problem?: string }> {
  const builtinId = BUILTIN_MODELS[0].id;
  const mini = resolveModelReference(builtinId, { packageRoot: options.packageRoot });
  const reference = options.reference?.trim();
  const locals: LocalModelFacts[] = [];
  let problem: string | undefined;
  if (reference && reference !== builtinId) {
    try {
      const resolved = resolveModelReference(reference, { packageRoot: options.packageRoot, cwd: options.cwd });
      const facts = await readLocalModelFacts(resolved.dir, { id: resolved.id, label: basename(resolved.dir), builtin: false, active: true });
      modelAnatomy(facts.config, join(resolved.dir, 'config.json')); // fails here, with the reason, if it is unusable
      locals.push(facts);
    } catch (error) {
      problem = `The configured model (${reference}) cannot be shown: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  locals.unshift(await readLocalModelFacts(mini.dir, { id: mini.id, label: basename(mini.dir), builtin: true, active: locals.length === 0 }));
  return { locals, problem };
}

function localModel(facts: LocalModelFacts): ComparedModel {
  const anatomy = modelAnatomy(facts.config, `${facts.label}: config.json`);
  return {
    id: facts.id,
    label: facts.label,
    role: facts.card?.limits ? 'code completion (built-in)' : 'local model folder',
    anatomy,
    parameters: anatomy.parameters?.total ?? null,
    trainingTokens: facts.card?.training?.tokens,
    heldoutBitsPerByte: facts.card?.metrics?.heldout_bits_per_byte,
    unigramBitsPerByte: facts.card?.metrics?.unigram_bits_per_byte,
    active: facts.active,
    builtin: facts.builtin,
  };
}

function referenceModel(entry: ReferenceEntry): ComparedModel {
  return {
    id: entry.id,
    label: entry.label,
    role: entry.role,
    licence: entry.licence,
    repo: entry.repo,
    anatomy: modelAnatomy(entry.config, `${entry.label}: config.json`),
    parameters: entry.parameters,
    trainingTokens: entry.trainingTokens,
    active: false,
    builtin: false,
  };
}

/** Same shape: a local folder holding one of the reference models is shown as that model, once. */
function sameShape(a: ModelAnatomy, b: ModelAnatomy): boolean {
  return a.modelType === b.modelType && a.numLayers === b.numLayers && a.hiddenSize === b.hiddenSize && a.numHeads === b.numHeads &&
    a.numKvHeads === b.numKvHeads && a.vocabSize === b.vocabSize && a.intermediateSize === b.intermediateSize &&
    // DeepSeek-R1-Distill-Qwen-1.5B has Qwen2.5-Coder-1.5B's blocks; its untied head and context tell them apart.
    a.tiedEmbeddings === b.tiedEmbeddings && a.contextLength === b.contextLength;
}

export function compareModels(locals: readonly LocalModelFacts[]): ModelComparison {
  const references = REFERENCE_MODELS.map(referenceModel);
  const models: ComparedModel[] = [];
  for (const facts of locals) {
    const local = localModel(facts);
    const twin = local.builtin ? undefined : references.findIndex((reference) => sameShape(reference.anatomy, local.anatomy));
    if (twin !== undefined && twin >= 0) {
      // The user's folder is (an export of) a catalog model: mark that row instead of repeating it.
      references[twin] = { ...references[twin], active: local.active, label: `${references[twin].label} (${local.label})` };
    } else {
      models.push(local);
    }
  }
  references.sort((a, b) => (a.parameters ?? 0) - (b.parameters ?? 0));
  const all = [...models, ...references];
  return { models: all, insights: insights(models[0] ?? all.find((model) => model.active) ?? all[0], references) };
}

/** 3542656 → "3.5 M", 494032768 → "494 M", 1.5437e9 → "1.54 B", 5.5e12 → "5.5 T". */
export function formatCount(value: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [size, unit] of units) {
    if (value >= size) {
      const scaled = value / size;
      const digits = scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2;
      return `${Number(scaled.toFixed(digits))} ${unit}`;
    }
  }
  return String(value);
}

/** Bytes in binary units: 2560 → "2.5 KiB", 402653184 → "384 MiB". */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [[2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const scaled = bytes / size;
      return `${Number(scaled.toFixed(scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2))} ${unit}`;
    }
  }
  return `${bytes} B`;
}

const percent = (part: number, whole: number): string => `${Math.round((100 * part) / whole)}%`;
const times = (ratio: number): string => `${ratio >= 100 ? Math.round(ratio).toLocaleString('en-US') : Number(ratio.toFixed(1))}×`;

function insights(subject: ComparedModel, references: readonly ComparedModel[]): string[] {
  const out: string[] = [];
  const a = subject.anatomy;
  const sized = references.filter((model) => model.parameters !== null);
  const largest = sized[sized.length - 1];
  const smallest = sized[0];
  if (subject.parameters && smallest && largest) {
    out.push(
      `${subject.label} has ${formatCount(subject.parameters)} parameters. ${smallest.label} has ${times(smallest.parameters! / subject.parameters)} as many, ` +
        `${largest.label} ${times(largest.parameters! / subject.parameters)}: every generated token reads every parameter once, so size sets both quality and speed.`,
    );
  }
  const coder = [...references].reverse().find((model) => model.anatomy.parameters && /code/i.test(model.role));
  if (a.parameters && coder?.anatomy.parameters) {
    out.push(
      `${percent(a.parameters.embedding, a.parameters.total)} of ${subject.label}'s parameters are its embedding table (${a.vocabSize.toLocaleString('en-US')} tokens × ${a.hiddenSize} numbers each); ` +
        `in ${coder.label} it is ${percent(coder.anatomy.parameters.embedding, coder.anatomy.parameters.total)}. The vocabulary is a fixed cost, so small models spend most of their size on it.`,
    );
  }
  if (a.numKvHeads < a.numHeads) {
    out.push(
      `${subject.label}'s ${a.numHeads} query heads share ${a.numKvHeads} key/value head${a.numKvHeads === 1 ? '' : 's'} (grouped-query attention): ` +
        `its KV cache is ${a.numHeads / a.numKvHeads}× smaller than with one key/value head per query head, ${formatBytes(a.kvCacheBytesPerToken)} per token of context.`,
    );
  }
  const longest = [...references].sort((x, y) => y.anatomy.contextLength - x.anatomy.contextLength)[0];
  if (longest) {
    out.push(
      `A full context window costs ${formatBytes(a.contextLength * a.kvCacheBytesPerToken)} of KV cache for ${subject.label} (${a.contextLength.toLocaleString('en-US')} tokens) ` +
        `and ${formatBytes(longest.anatomy.contextLength * longest.anatomy.kvCacheBytesPerToken)} for ${longest.label} (${longest.anatomy.contextLength.toLocaleString('en-US')} tokens): long contexts cost memory, not only compute.`,
    );
  }
  const trained = references.filter((model) => model.trainingTokens && /code/i.test(model.role))[0];
  if (subject.trainingTokens && trained?.trainingTokens) {
    out.push(
      `${subject.label} was trained on ${formatCount(subject.trainingTokens)} tokens; ${trained.label} on ${formatCount(trained.trainingTokens)}, ` +
        `${times(trained.trainingTokens / subject.trainingTokens)} more. Training data, more than architecture, is what makes the big models' suggestions good.`,
    );
  }
  return out;
}
