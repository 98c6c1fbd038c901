/**
 * `tokenscope next --server`: the next-token distribution as an OpenAI-compatible server reports
 * it, one token generated with `logprobs` (the legacy /completions shape; the chat shape is read
 * too). Only what the alternatives it sends determine is shown (src/core/probabilities/remoteDistribution.ts).
 */
import { inertText } from '../core/completions/fimTemplates';
import type { CompletionRequestBody, WireChatLogprobEntry, WireChatLogprobs, WireLegacyLogprobs } from '../core/openai/protocol';
import { remoteDistribution, type RemoteAlternative } from '../core/probabilities/remoteDistribution';
import type { Reshaping } from '../core/probabilities/distribution';
import { visibleWhitespace } from '../core/tokenizers/display';
import { UsageError, type CliIO } from './command';
import type { ServerChoice } from './serverOption';

/** What servers send at most (OpenAI's and vLLM's limit for top_logprobs). */
const SERVER_MAX_ALTERNATIVES = 20;

interface CompletionAnswer {
  readonly choices?: readonly { readonly logprobs?: WireLegacyLogprobs | WireChatLogprobs | null }[];
}

/** The first generated token's alternatives from either logprobs shape; undefined when there are none. */
export function firstTokenAlternatives(answer: CompletionAnswer): RemoteAlternative[] | undefined {
  const logprobs = answer.choices?.[0]?.logprobs;
  if (!logprobs) return undefined;
  const chat = (logprobs as WireChatLogprobs).content;
  if (Array.isArray(chat)) {
    const first = (chat as readonly WireChatLogprobEntry[])[0];
    return first?.top_logprobs?.length ? first.top_logprobs.map((alt) => ({ text: alt.token, logprob: alt.logprob })) : undefined;
  }
  const top = (logprobs as WireLegacyLogprobs).top_logprobs?.[0];
  return top && Object.keys(top).length > 0 ? Object.entries(top).map(([text, logprob]) => ({ text, logprob })) : undefined;
}

export async function nextOnServer(choice: ServerChoice, options: { readonly prompt: string; readonly top: number; readonly reshaping: Reshaping; readonly json: boolean }, io: CliIO): Promise<number> {
  const { connection } = choice;
  try {
    const model = await connection.model(choice.model, io.signal);
    const asked = Math.min(SERVER_MAX_ALTERNATIVES, options.top);
    const body: CompletionRequestBody = { model: model.id, prompt: inertText(options.prompt), max_tokens: 1, temperature: 0, logprobs: asked };
    const answer = await connection.client.postJson<CompletionAnswer>('/completions', body, io.signal);
    const alternatives = firstTokenAlternatives(answer);
    if (!alternatives) throw new Error(`${connection.name} (${model.id}) returned no logprobs for the next token: this server cannot show the distribution. Use a local model (--model), or a server that returns logprobs (vLLM, llama.cpp's server, tokenscope serve).`);
    let distribution;
    try {
      distribution = remoteDistribution(alternatives.slice(0, options.top), options.reshaping);
    } catch (error) {
      throw new UsageError(`--server: ${error instanceof Error ? error.message : String(error)}`);
    }
    const round = (value: number) => Math.round(value * 1e6) / 1e6;
    if (options.json) {
      const tokens = distribution.tokens.map((token) => ({ id: null, text: token.text, logprob: round(token.logprob), probability: round(token.probability), excluded: token.excluded }));
      io.stdout.write(`${JSON.stringify({ tokens, temperature: distribution.temperature, topP: distribution.topP, topK: distribution.topK, other: round(distribution.otherProbability), server: { url: connection.baseUrl, model: model.id, alternativesSent: alternatives.length } })}\n`);
      return 0;
    }
    const width = distribution.tokens.reduce((widest, token) => Math.max(widest, visibleWhitespace(token.text).length), 0);
    for (const token of distribution.tokens) io.stdout.write(`${visibleWhitespace(token.text).padEnd(width)}  ${(token.probability * 100).toFixed(1).padStart(5)}%  ${token.excluded ? '(excluded)' : '█'.repeat(Math.round(token.probability * 40))}\n`);
    io.stdout.write(`other tokens: ${(distribution.otherProbability * 100).toFixed(1)}%\n`);
    io.stderr.write(`(${model.id} on ${connection.name}: the ${alternatives.length} alternatives it sent)\n`);
    return 0;
  } finally {
    await connection.close();
  }
}
