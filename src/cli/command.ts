/** One `tokenscope` subcommand. Each lives in its own file and is listed in main.ts. */
export interface CliCommand {
  readonly name: string;
  /** One line for `tokenscope --help`. */
  readonly summary: string;
  /** Full usage text for `tokenscope <name> --help`. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: readonly string[], io: CliIO): Promise<number>;
}

export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Reads all of standard input as UTF-8. */
  readStdin(): Promise<string>;
  readonly signal: AbortSignal;
}

/**
 * Decodes input bytes as UTF-8 the way TextDecoder does (each invalid sequence becomes U+FFFD) and
 * says how many sequences were invalid and where the first one starts, so the CLI can warn instead
 * of silently changing the text (and the offsets of everything after it).
 */
export function decodeUtf8Input(bytes: Uint8Array): { text: string; invalidSequences: number; firstInvalidByte?: number } {
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes);
  let invalidSequences = 0;
  let firstInvalidByte: number | undefined;
  for (let index = 0; index < bytes.length; ) {
    const length = validSequenceLength(bytes, index);
    if (length > 0) {
      index += length;
      continue;
    }
    invalidSequences++;
    firstInvalidByte ??= index;
    index += Math.max(1, maximalSubpart(bytes, index));
  }
  return { text, invalidSequences, ...(firstInvalidByte !== undefined ? { firstInvalidByte } : {}) };
}

/** Bytes of the well-formed UTF-8 sequence at `index` (Unicode table 3-7), or 0. */
function validSequenceLength(bytes: Uint8Array, index: number): number {
  const b0 = bytes[index] ?? 0;
  if (b0 < 0x80) return 1;
  const cont = (i: number, low = 0x80, high = 0xbf) => {
    const b = bytes[index + i];
    return b !== undefined && b >= low && b <= high;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const low = b0 === 0xe0 ? 0xa0 : 0x80;
    const high = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, low, high) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const low = b0 === 0xf0 ? 0x90 : 0x80;
    const high = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, low, high) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Bytes TextDecoder replaces with one U+FFFD at an invalid position: the start of a sequence that broke off. */
function maximalSubpart(bytes: Uint8Array, index: number): number {
  const b0 = bytes[index] ?? 0;
  const expected = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 1;
  let length = 1;
  while (length < expected) {
    const b = bytes[index + length];
    const low = length === 1 && b0 === 0xe0 ? 0xa0 : length === 1 && b0 === 0xf0 ? 0x90 : 0x80;
    const high = length === 1 && b0 === 0xed ? 0x9f : length === 1 && b0 === 0xf4 ? 0x8f : 0xbf;
    if (b === undefined || b < low || b > high) break;
    length++;
  }
  return length;
}

/** Writes to an output stream, waiting while it is full: large outputs never pile up in memory. */
export async function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (text.length === 0 || stream.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', done);
      stream.off('close', onDrain);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    stream.once('drain', onDrain);
    stream.once('error', done);
    stream.once('close', onDrain);
  });
}

/** A usage mistake: printed with the command's usage and exit code 2. */
export class UsageError extends Error {}

/**
 * Minimal flag parser shared by all subcommands: `--name value`, `--name=value` and boolean
 * `--flag`. Unknown flags are an error so typos never pass silently.
 */
export function parseFlags(
  args: readonly string[],
  spec: { readonly strings?: readonly string[]; readonly booleans?: readonly string[] },
): { strings: Map<string, string>; booleans: Set<string>; positionals: string[] } {
  const strings = new Map<string, string>();
  const booleans = new Set<string>();
  const positionals: string[] = [];
  const stringNames = new Set(spec.strings ?? []);
  const booleanNames = new Set(spec.booleans ?? []);
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (booleanNames.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      booleans.add(name);
    } else if (stringNames.has(name)) {
      const value = eq === -1 ? args[++index] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      strings.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { strings, booleans, positionals };
}

/** Parses a numeric flag, with a clear message on bad input. */
export function numberFlag(flags: Map<string, string>, name: string, fallback: number, range?: { min?: number; max?: number; integer?: boolean }): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (range?.integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${range?.integer ? 'an integer' : 'a number'}, got "${raw}"`);
  }
  if (range?.min !== undefined && value < range.min) throw new UsageError(`--${name} must be at least ${range.min}, got ${value}`);
  if (range?.max !== undefined && value > range.max) throw new UsageError(`--${name} must be at most ${range.max}, got ${value}`);
  return value;
}
