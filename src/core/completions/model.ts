import { BUILTIN_MODELS } from '../models/catalog';
import type { ModelTokenizer } from '../tokenizers/types';
import type { CompletionBackend } from './backend';
import type { CompletionModel } from './engine';
import { detectFimTemplate } from './fimTemplates';

/** Raised when a model cannot complete at the cursor; the message is for the user. */
export class NoFimSupportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoFimSupportError';
  }
}

export interface CompletionModelParts {
  readonly id: string;
  readonly label: string;
  /** config.json `model_type`. */
  readonly modelType: string;
  /** Tokenscope's built-in model, as the model catalog resolved it. */
  readonly builtin?: boolean;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
  readonly tokenizer: ModelTokenizer;
  readonly backend: CompletionBackend;
}

/**
 * Assembles the engine's model: the FIM format comes from the vocabulary (and model_type for the
 * built-in model), never from the name; a model without FIM tokens is refused with the reason.
 */
export function completionModelFrom(parts: CompletionModelParts): CompletionModel {
  const { tokenizer } = parts;
  const detection = detectFimTemplate({
    modelType: parts.modelType,
    builtin: parts.builtin,
    hasToken: (token) => tokenizer.specialTokens.has(token) || tokenizer.tokenToId(token) !== undefined,
  });
  if (!detection.ok) throw new NoFimSupportError(`${parts.label}: ${detection.reason}`);
  return { id: parts.id, label: parts.label, tokenizer, template: detection.template, contextLength: parts.contextLength, eosTokenIds: parts.eosTokenIds, backend: parts.backend };
}

/** The catalog's answer to "is this loaded model one of Tokenscope's built-in models" (ModelInfo.id). */
export function isBuiltinModel(id: string): boolean {
  return BUILTIN_MODELS.some((model) => model.id === id);
}
