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
