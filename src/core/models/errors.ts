/**
 * Every way loading or running a local model can fail, each with the file at fault and what the
 * user can do. The message is complete on its own: UIs show it as is.
 */
export type ModelErrorCode =
  /** The model id or folder does not exist. */
  | 'not-found'
  /** A catalog or Hub model that is not in the Hugging Face cache yet (download it). */
  | 'not-downloaded'
  /** A required file of the folder is missing. */
  | 'missing-file'
  /** A JSON file is truncated or not JSON. */
  | 'invalid-json'
  /** A JSON file parses but lacks what a decoder needs. */
  | 'invalid-config'
  /** The .onnx file (or its external data) is truncated or corrupt. */
  | 'corrupt-onnx'
  /** config.json names an architecture the runtime does not run. */
  | 'unsupported-architecture'
  /** The ONNX graph's inputs/outputs are not those of a text decoder export. */
  | 'unexpected-graph'
  /** No ONNX file for the requested variant. */
  | 'missing-variant'
  /** Memory ran out while loading or running. */
  | 'out-of-memory'
  /** The tokenizer files could not be loaded. */
  | 'tokenizer'
  /** ONNX Runtime failed during a forward pass. */
  | 'inference'
  /** The model process died or stopped answering. */
  | 'process';

export class ModelError extends Error {
  override readonly name = 'ModelError';

  constructor(
    readonly code: ModelErrorCode,
    message: string,
    /** The file (or folder) at fault, when there is one. */
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Heuristic: does an ONNX Runtime / V8 error mean memory ran out? */
export function isOutOfMemory(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /bad_alloc|bad allocation|out of memory|failed to allocate|Array buffer allocation failed|Invalid array length|allocation failed/i.test(message);
}

/**
 * A model file that exists but cannot be read. Permission errors get the way out; anything else
 * keeps the system's message.
 */
export function cannotReadError(path: string, error: unknown, modelDir: string): ModelError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new ModelError('missing-file', `Cannot read ${path}: permission denied (${code}). Make the model folder readable by your user (for example chmod -R a+rX ${modelDir}) or copy it to a folder you own.`, path);
  }
  return new ModelError('missing-file', `Cannot read ${path}: ${errorMessage(error)}.`, path);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
