/**
 * The completion defaults, in a module of their own (promptBuilder.ts re-exports the prompt budget)
 * so that reading settings (src/vscode/config.ts) does not load the engine: the extension loads it
 * on the first request. package.json's declared defaults are kept equal to these by a unit test.
 */
import type { EngineSettings } from './types';
import type { PromptBudget } from './promptBuilder';

export const defaultPromptBudget: PromptBudget = { linesBefore: 256, linesAfter: 64, windowTokens: 1024, prefixShare: 0.75, extraContextTokens: 512 };

export const defaultEngineSettings: EngineSettings = {
  debounceMs: 100,
  maxTokens: 48,
  linesBefore: defaultPromptBudget.linesBefore,
  linesAfter: defaultPromptBudget.linesAfter,
  triggerInMiddleOfWord: false,
  extraContext: true,
  windowTokens: defaultPromptBudget.windowTokens,
  extraContextTokens: defaultPromptBudget.extraContextTokens,
  cacheSize: 250,
  speculative: true,
  maxLines: 16,
  prefillTargetMs: 250,
  minConfidence: 0.15,
};
