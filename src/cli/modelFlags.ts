import { MODEL_VARIANTS, type ModelVariant } from '../core/models/modelFolder';
import { LocalModel } from '../core/runtime/localModel';
import { numberFlag, UsageError } from './command';
import { packageRoot } from './packageRoot';

/** `--variant`: one of the ONNX variants (default `auto`), or a usage error naming them. */
export function variantFlag(strings: Map<string, string>): ModelVariant {
  const variant = strings.get('variant') ?? 'auto';
  if (!(MODEL_VARIANTS as readonly string[]).includes(variant)) throw new UsageError(`--variant must be one of ${MODEL_VARIANTS.join(', ')}, got "${variant}"`);
  return variant as ModelVariant;
}

/** `--threads`: ONNX Runtime threads, 0 (default) for the physical cores, at most 4. */
export function threadsFlag(strings: Map<string, string>): number {
  return numberFlag(strings, 'threads', 0, { min: 0, max: 64, integer: true });
}

/** The local model `--model` names (`model` when the flag is absent), loaded with `--variant` and `--threads`. */
export function loadModelFromFlags(strings: Map<string, string>, model: string): Promise<LocalModel> {
  return LocalModel.load({ model: strings.get('model') ?? model, variant: variantFlag(strings), threads: threadsFlag(strings) }, { packageRoot: packageRoot(), cwd: process.cwd() });
}
