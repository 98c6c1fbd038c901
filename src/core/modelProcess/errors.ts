/**
 * The errors of the model process boundary: `ModelProcessStoppedError` (restarting gave up after
 * repeated crashes) and `deserializeError`, which turns an error the process sent back over IPC
 * into the class the caller can check (`GenerationAbortedError`, `ModelError`, or a plain Error
 * with its name).
 */
import { errorBrand } from '../errorBrand';
import { ModelError } from '../models/errors';
import { GenerationAbortedError } from '../runtime/types';
import type { SerializedError } from './protocol';

const modelProcessStoppedBrand = errorBrand('ModelProcessStoppedError');

/**
 * Restarting stopped after repeated crashes (the `failed` state's error, and what every request
 * fails with until the user restarts the process or picks another model). A class of its own so
 * the editor can say it once, with the way out, instead of once per failed request.
 */
export class ModelProcessStoppedError extends ModelError {
  /** Thrown by the extension's model process client, checked in the completions bundle (see errorBrand). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return modelProcessStoppedBrand.has(value);
  }

  constructor(message: string) {
    super('process', message);
    modelProcessStoppedBrand.mark(this);
  }
}

export function deserializeError(error: SerializedError): Error {
  if (error.name === 'AbortError') return new GenerationAbortedError(error.message);
  if (error.code) return new ModelError(error.code, error.message, error.file);
  const result = new Error(error.message);
  result.name = error.name;
  return result;
}
