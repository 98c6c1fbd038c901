/**
 * Resolves what the user typed in `tokenscope.model` / `--model` to a model folder: a built-in id
 * (`mini`) or a folder path.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ModelError } from './errors';

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

export interface ResolvedModel {
  /** The id as given (`mini`) or the absolute folder path. */
  readonly id: string;
  readonly label: string;
  readonly dir: string;
  readonly builtin: boolean;
}

/**
 * `reference` is a built-in id or a folder path (relative paths resolve against `cwd`, which the
 * CLI sets; the extension passes absolute paths). `packageRoot` is where `models/` lives: the
 * extension folder, or the npm package root for the CLI.
 */
export function resolveModelReference(reference: string, options: { readonly packageRoot: string; readonly cwd?: string }): ResolvedModel {
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
  const looksLikePath = isAbsolute(trimmed) || trimmed.includes('/') || trimmed.includes('\\') || trimmed.startsWith('.');
  if (!looksLikePath) {
    throw new ModelError(
      'not-found',
      `Unknown model "${trimmed}". Use ${BUILTIN_MODELS.map((model) => `\`${model.id}\``).join(', ')} or the path of a Hugging Face ONNX model folder (with config.json, tokenizer.json and onnx/).`,
    );
  }
  const dir = isAbsolute(trimmed) ? trimmed : resolve(options.cwd ?? process.cwd(), trimmed);
  return { id: dir, label: dir, dir, builtin: false };
}
