/**
 * The pipeline's two gates: which positions are worth asking the model about (prefiltering), and
 * which answers are sure enough to show without being asked (the confidence gate).
 */
import type { CompletionRequest, CompletionResult, EngineSettings } from './types';

/** Word characters for the mid-word rule. */
const wordChar = /[\p{L}\p{N}_$]/u;

/**
 * An automatic request with the cursor inside a word (a word character right after it, and more
 * text on the line) is skipped unless tokenscope.completions.triggerInMiddleOfWord; an explicit
 * one (Alt+\) never is.
 */
export function skipsPosition(request: CompletionRequest, settings: Pick<EngineSettings, 'triggerInMiddleOfWord'>): boolean {
  if (request.trigger !== 'automatic' || settings.triggerInMiddleOfWord) return false;
  const line = request.document.lineText(request.position.line);
  return wordChar.test(line.charAt(request.position.character)) && line.slice(request.position.character).trim().length > 0;
}

/**
 * An automatic suggestion the model was less sure of than `minConfidence` is held back, whatever
 * its source (model, cache, typing-along, speculation); an explicit request shows it anyway.
 */
export function holdsBack(result: CompletionResult, trigger: CompletionRequest['trigger'], minConfidence: number): boolean {
  return trigger === 'automatic' && result.confidence !== undefined && result.confidence < minConfidence;
}
