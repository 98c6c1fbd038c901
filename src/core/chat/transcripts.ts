import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ThinkingMode } from './backend';

/**
 * A recorded model answer for the replay backend (test/fixtures/transcripts/*.json). `output` is the
 * raw text exactly as the model streams it, tags included.
 */
export interface Transcript {
  readonly id: string;
  /** Which model's format the output follows. */
  readonly model: string;
  /** Where the text came from (recorded, or written by hand in a model's format). */
  readonly source: string;
  /** True for DeepSeek-R1-style templates that end the prompt with `<think>\n`. */
  readonly promptOpensThinking: boolean;
  readonly match: {
    /** Replays when the last user message contains one of these (case-insensitive). */
    readonly promptIncludes?: readonly string[];
    /** Replays only for these thinking settings. */
    readonly thinking?: readonly ThinkingMode[];
    /** The transcript to use when no other matches. */
    readonly default?: boolean;
  };
  readonly output: string;
}

const thinkingModes = new Set<string>(['auto', 'on', 'off']);

function stringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Checks one parsed file; the error says which field is wrong and how to fix it. */
export function parseTranscript(value: unknown, origin: string): Transcript {
  const fail = (problem: string): never => {
    throw new Error(`Transcript ${origin}: ${problem}. Expected { id, model, source, promptOpensThinking, match: { promptIncludes?, thinking?, default? }, output }.`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of ['id', 'model', 'source', 'output'] as const) {
    if (typeof record[key] !== 'string' || record[key] === '') fail(`"${key}" must be a non-empty string`);
  }
  if (typeof record.promptOpensThinking !== 'boolean') fail('"promptOpensThinking" must be true or false');
  const match = record.match;
  if (typeof match !== 'object' || match === null || Array.isArray(match)) return fail('"match" must be an object');
  const { promptIncludes, thinking, default: isDefault } = match as Record<string, unknown>;
  if (promptIncludes !== undefined && !stringArray(promptIncludes)) fail('"match.promptIncludes" must be an array of strings');
  if (thinking !== undefined && !(stringArray(thinking) && thinking.every((mode) => thinkingModes.has(mode)))) fail('"match.thinking" must list "auto", "on" or "off"');
  if (isDefault !== undefined && typeof isDefault !== 'boolean') fail('"match.default" must be a boolean');
  return {
    id: record.id as string,
    model: record.model as string,
    source: record.source as string,
    promptOpensThinking: record.promptOpensThinking as boolean,
    match: {
      ...(promptIncludes !== undefined ? { promptIncludes: promptIncludes as string[] } : {}),
      ...(thinking !== undefined ? { thinking: thinking as ThinkingMode[] } : {}),
      ...(isDefault !== undefined ? { default: isDefault as boolean } : {}),
    },
    output: record.output as string,
  };
}

/** Every `*.json` transcript in `dir`, in file-name order. */
export function loadTranscripts(dir: string): Transcript[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    throw new Error(`Cannot read the transcript folder ${dir} (${(error as Error).message}). Point TOKENSCOPE_CHAT_REPLAY at a folder of transcript .json files.`);
  }
  if (names.length === 0) throw new Error(`The transcript folder ${dir} holds no .json files.`);
  return names.map((name) => {
    const path = join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`Transcript ${path} is not valid JSON: ${(error as Error).message}`);
    }
    return parseTranscript(parsed, path);
  });
}

/** The transcript to replay for a prompt: first match in file order, else the default, else the first. */
export function pickTranscript(transcripts: readonly Transcript[], lastUserMessage: string, thinking: ThinkingMode): Transcript {
  const prompt = lastUserMessage.toLowerCase();
  const allowed = transcripts.filter((transcript) => !transcript.match.thinking || transcript.match.thinking.includes(thinking));
  const matching = allowed.find((transcript) => transcript.match.promptIncludes?.some((needle) => prompt.includes(needle.toLowerCase())));
  const picked = matching ?? allowed.find((transcript) => transcript.match.default) ?? allowed[0] ?? transcripts[0];
  if (!picked) throw new Error('The replay backend has no transcripts.');
  return picked;
}
