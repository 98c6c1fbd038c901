/**
 * Resolves what the user typed in `tokenscope.model` / `--model` to a model folder: a built-in id
 * (`mini`), a catalog id (`qwen2.5-coder-0.5b-instruct`) or a Hub repo id (`org/name`) found in the
 * Hugging Face cache, or a folder path. The catalog itself is data: referenceModels.json.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { findCachedSnapshot } from '../hub/cache';
import { hubCacheDir, isRepoId } from '../hub/settings';
import { ModelError } from './errors';
import type { ConcreteVariant } from './modelFolder';
import catalogData from './referenceModels.json';

export interface BuiltinModel {
  readonly id: string;
  readonly label: string;
  /** Folder relative to the extension (package) root. */
  readonly folder: string;
  readonly description: string;
}

export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  {
    id: 'mini',
    label: 'Tokenscope mini (built-in)',
    folder: join('models', 'tokenscope-mini'),
    description: 'A small code model trained for Tokenscope, shipped with the extension: runs anywhere, completes code, cannot chat.',
  },
];

export type ModelUse = 'completion' | 'chat';

export interface CatalogVariant {
  /** Repo paths of the variant's ONNX file(s), as the Hub listed them (see `checked`). */
  readonly files: readonly string[];
  /** Their size as the Hub's file list shows it (rounded); null where it could not be checked. */
  readonly approxBytes: number | null;
}

/** A downloadable model of the catalog (one entry of referenceModels.json). */
export interface CatalogModel {
  readonly id: string;
  readonly label: string;
  /** The Hub repo of its ONNX export. */
  readonly repo: string;
  readonly licence: string;
  readonly uses: readonly ModelUse[];
  /** The fill-in-the-middle format it was trained with, or null (completion then uses the prefix only). */
  readonly fim: string | null;
  /** Writes <think> traces. */
  readonly thinking: boolean;
  /** The model offered first for this use. */
  readonly recommended?: ModelUse;
  readonly goodFor: string;
  readonly contextLength: number;
  readonly download: {
    /** A pinned commit, or "main" where no commit could be verified (`revisionVerified`). */
    readonly revision: string;
    readonly revisionVerified: boolean;
    readonly defaultVariant: ConcreteVariant;
    readonly variants: Readonly<Partial<Record<ConcreteVariant, CatalogVariant>>>;
    /** Where the files and sizes were checked, or that they could not be. */
    readonly checked: string;
  };
}

interface CatalogEntryData {
  readonly id: string;
  readonly label: string;
  readonly repo: string;
  readonly licence: string;
  readonly uses?: readonly ModelUse[];
  readonly fim?: string | null;
  readonly thinking?: boolean;
  readonly recommended?: ModelUse;
  readonly goodFor?: string;
  readonly config: { readonly max_position_embeddings?: number };
  readonly download?: CatalogModel['download'];
}

export const CATALOG: readonly CatalogModel[] = (catalogData as unknown as { models: CatalogEntryData[] }).models
  .filter((entry) => entry.download && entry.uses)
  .map((entry) => ({
    id: entry.id,
    label: entry.label,
    repo: entry.repo,
    licence: entry.licence,
    uses: entry.uses!,
    fim: entry.fim ?? null,
    thinking: entry.thinking === true,
    ...(entry.recommended ? { recommended: entry.recommended } : {}),
    goodFor: entry.goodFor ?? '',
    contextLength: entry.config.max_position_embeddings ?? 0,
    download: entry.download!,
  }));

export function catalogModel(id: string): CatalogModel | undefined {
  const wanted = id.trim().toLowerCase();
  return CATALOG.find((model) => model.id === wanted);
}

/** The catalog entry whose repo this is, if any. */
export function catalogModelForRepo(repo: string): CatalogModel | undefined {
  return CATALOG.find((model) => model.repo.toLowerCase() === repo.trim().toLowerCase());
}

/** The model offered first for chat (and explanations) in place of the built-in one. */
export function recommendedModel(use: ModelUse): CatalogModel {
  return CATALOG.find((model) => model.recommended === use) ?? CATALOG.find((model) => model.uses.includes(use))!;
}

export interface ResolvedModel {
  /** The id as given (`mini`, a catalog id, `org/name`) or the absolute folder path. */
  readonly id: string;
  readonly label: string;
  readonly dir: string;
  readonly builtin: boolean;
  /** Where a catalog or repo id was found in the Hugging Face cache. */
  readonly hub?: { readonly repo: string; readonly commit: string };
}

/** Is the catalog model (or `org/name`) in the cache, and where; no network. */
export function findCachedModel(reference: string, options: { readonly cacheDir?: string; readonly variant?: ConcreteVariant } = {}): ReturnType<typeof findCachedSnapshot> {
  const catalog = catalogModel(reference);
  const repo = catalog?.repo ?? reference.trim();
  if (!catalog && !isRepoId(repo)) return undefined;
  return findCachedSnapshot(options.cacheDir ?? hubCacheDir(), repo, { revision: catalog?.download.revision, variant: options.variant });
}

/**
 * `reference` is a built-in id or a folder path (relative paths resolve against `cwd`, which the
 * CLI sets; the extension passes absolute paths). `packageRoot` is where `models/` lives: the
 * extension folder, or the npm package root for the CLI.
 */
export function resolveModelReference(reference: string, options: { readonly packageRoot: string; readonly cwd?: string; readonly cacheDir?: string }): ResolvedModel {
  const trimmed = reference.trim();
  if (!trimmed) throw new ModelError('not-found', 'No model given: use `mini` for the built-in model or the path of a Hugging Face ONNX model folder.');
  const builtin = BUILTIN_MODELS.find((model) => model.id === trimmed);
  if (builtin) {
    const dir = join(options.packageRoot, builtin.folder);
    if (!existsSync(join(dir, 'config.json'))) {
      throw new ModelError(
        'not-found',
        `The built-in model "${builtin.id}" is missing from ${dir}. Reinstall Tokenscope (or, from a source checkout, build the mini model: see tools/mini-model), or set the model to a Hugging Face ONNX model folder.`,
        dir,
      );
    }
    return { id: builtin.id, label: builtin.label, dir, builtin: true };
  }
  const catalog = catalogModel(trimmed);
  const cacheDir = options.cacheDir ?? hubCacheDir();
  if (catalog) {
    const cached = findCachedSnapshot(cacheDir, catalog.repo, { revision: catalog.download.revision });
    if (!cached) {
      throw new ModelError(
        'not-downloaded',
        `${catalog.label} is not downloaded yet (looked for ${catalog.repo} in ${cacheDir}). Download it with "Tokenscope: Choose Model…" in the editor or \`tokenscope pull ${catalog.id}\`.`,
      );
    }
    return { id: catalog.id, label: catalog.label, dir: cached.dir, builtin: false, hub: { repo: catalog.repo, commit: cached.commit } };
  }
  const cwd = options.cwd ?? process.cwd();
  const isFolder = (path: string) => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  };
  // `org/name`: a repo in the Hugging Face cache, unless a folder of that name exists here.
  if (isRepoId(trimmed) && trimmed.includes('/') && !trimmed.startsWith('.') && !isFolder(resolve(cwd, trimmed))) {
    const cached = findCachedSnapshot(cacheDir, trimmed);
    if (!cached) {
      throw new ModelError(
        'not-downloaded',
        `${trimmed} is not in the Hugging Face cache (${cacheDir}) and no folder of that name exists. Download it with \`tokenscope pull ${trimmed}\` (or huggingface-cli), or give the path of a model folder.`,
      );
    }
    const name = trimmed.split('/').pop() ?? trimmed;
    return { id: trimmed, label: catalogModelForRepo(trimmed)?.label ?? name, dir: cached.dir, builtin: false, hub: { repo: trimmed, commit: cached.commit } };
  }
  const looksLikePath = isAbsolute(trimmed) || trimmed.includes('/') || trimmed.includes('\\') || trimmed.startsWith('.');
  if (!looksLikePath) {
    throw new ModelError(
      'not-found',
      `Unknown model "${trimmed}". Use ${[...BUILTIN_MODELS, ...CATALOG].map((model) => `\`${model.id}\``).join(', ')}, a Hugging Face model id (org/name) in the cache, or the path of a Hugging Face ONNX model folder (with config.json, tokenizer.json and onnx/).`,
    );
  }
  const dir = isAbsolute(trimmed) ? trimmed : resolve(cwd, trimmed);
  return { id: dir, label: dir, dir, builtin: false };
}
