/**
 * When the server client tries a request again: the policy (how many retries, the backoff's base
 * and cap, the longest Retry-After worth waiting for), the server's Retry-After header read as
 * milliseconds, and the delay before retry N (exponential backoff with jitter, or what the server
 * asked for). Only answers that carry no generated text (429, 5xx) are retried; the client decides.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (default 2). */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the request fails and says how long the server asked for. */
  readonly maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Backoff for retry `attempt` (1-based): exponential with full jitter, or the server's Retry-After. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number, retryAfter?: number): number {
  if (retryAfter !== undefined) return retryAfter;
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Half fixed, half random: clients that failed together do not retry together.
  return Math.round(cap / 2 + (random() * cap) / 2);
}
