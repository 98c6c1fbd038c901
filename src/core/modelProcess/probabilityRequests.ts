/**
 * The probability views' requests to the model process: the next-token distribution after a
 * prompt and the per-token scores of a text (ModelProbabilities answers both there). Apart from
 * client.ts, which keeps the process's life cycle; these go through its `call`.
 */
import type { NextTokenRequest, NextTokenResult, ScoredSpan, ScoreTextRequest, ScoreTextResult } from '../probabilities/modelProbabilities';
import type { ModelProcessClient } from './client';

export type ProbabilityClient = Pick<ModelProcessClient, 'call'>;

export function requestNextToken(client: ProbabilityClient, request: NextTokenRequest, signal?: AbortSignal): Promise<NextTokenResult> {
  return client.call({ type: 'next-token', request }, 'computing the next-token distribution', (message) => (message.type === 'next-token-result' ? message.result : undefined), signal);
}

/** The answer comes in parts (protocol.ts, scoredMessages): joined here, in order. */
export function requestScore(client: ProbabilityClient, request: ScoreTextRequest, signal?: AbortSignal): Promise<ScoreTextResult> {
  const parts: ScoredSpan[][] = [];
  return client.call(
    { type: 'score', request },
    'scoring a text',
    (message) => {
      if (message.type === 'scored-part') parts.push([...message.tokens]);
      return message.type === 'scored' ? { ...message.result, tokens: [...parts, message.result.tokens].flat() } : undefined;
    },
    signal,
  );
}
