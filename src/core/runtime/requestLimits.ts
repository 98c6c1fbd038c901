/**
 * Generation settings fitted to the model that runs them, at the edge where the user gave them
 * (the CLI's flags, the chat's settings): every change comes back as a sentence to show, so nothing
 * is changed silently. Without this the runtime either throws (topP 0: every chat fails) or keeps
 * room for maxTokens by cutting the prompt (5,000 new tokens on a 512-token model kept 1 prompt token).
 */

export interface GenerationSettings {
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topP?: number;
}

export interface GenerationLimits {
  /** How the model is called in messages. */
  readonly modelLabel: string;
  readonly contextLength: number;
  readonly promptTokens: number;
}

/** What the user calls each setting where they set it: `--max-tokens`, `tokenscope.chat.maxTokens`. */
export interface SettingNames {
  readonly maxTokens: string;
  readonly temperature: string;
  readonly topP: string;
}

/** topP for "only the most likely token": the smallest nucleus (the runtime needs topP > 0). */
export const SMALLEST_TOP_P = 1e-6;

export function fitGenerationSettings(requested: GenerationSettings, limits: GenerationLimits, names: SettingNames): { settings: GenerationSettings; changes: string[] } {
  const changes: string[] = [];
  let { maxTokens, temperature, topP } = requested;
  if (topP !== undefined) {
    if (!Number.isFinite(topP) || topP <= 0) {
      changes.push(`${names.topP} is ${topP}, but nucleus sampling needs more than 0 (it is the share of probability to sample from; 1 keeps every token): the smallest nucleus was used, which always picks the most likely token.`);
      topP = SMALLEST_TOP_P;
    } else if (topP > 1) {
      changes.push(`${names.topP} is ${topP}, but it is a share of probability (at most 1): 1 was used.`);
      topP = 1;
    }
  }
  if (temperature !== undefined && (!Number.isFinite(temperature) || temperature < 0)) {
    changes.push(`${names.temperature} is ${temperature}, but it cannot be negative: 0 was used (always the most likely token).`);
    temperature = 0;
  }
  const { contextLength, promptTokens, modelLabel } = limits;
  if (!Number.isFinite(maxTokens) || maxTokens < 1) {
    changes.push(`${names.maxTokens} is ${maxTokens}, but at least 1 token must be generated: 1 was used.`);
    maxTokens = 1;
  }
  maxTokens = Math.floor(maxTokens);
  if (contextLength > 0 && promptTokens + maxTokens > contextLength) {
    const room = contextLength - promptTokens;
    if (room >= 1) {
      changes.push(`${names.maxTokens} ${maxTokens} does not fit: ${modelLabel}'s context is ${contextLength} tokens and the prompt takes ${promptTokens}, so at most ${room} tokens are generated.`);
      maxTokens = room;
    } else {
      // The prompt alone fills the context: the runtime keeps its newest tokens; leave it a quarter for the answer.
      const answer = Math.min(maxTokens, Math.max(1, Math.floor(contextLength / 4)));
      changes.push(`The prompt (${promptTokens} tokens) does not fit ${modelLabel}'s ${contextLength}-token context: its oldest ${promptTokens - (contextLength - answer)} tokens are left out and at most ${answer} tokens are generated.`);
      maxTokens = answer;
    }
  }
  return { settings: { maxTokens, ...(temperature !== undefined ? { temperature } : {}), ...(topP !== undefined ? { topP } : {}) }, changes };
}
