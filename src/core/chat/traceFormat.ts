import type { ThinkingSummary } from './chatTurn';
import { formatDuration, formatStats, type ChatStats } from './stats';

/** Section rules of the trace document; the TextMate grammar (syntaxes/) keys on them. */
export const traceRule = '━━';

export interface TraceDocumentInput {
  readonly title: string;
  readonly model: string;
  readonly createdAt: number;
  readonly thinking?: ThinkingSummary;
  readonly answer: string;
  readonly stats?: ChatStats;
  readonly stopReason: string;
  /** Set while the answer is still streaming. */
  readonly streaming?: boolean;
}

/**
 * The plain-text document behind `tokenscope-trace:` URIs: a header, the whole reasoning trace,
 * then the answer, each under a rule line the grammar highlights.
 */
export function formatTraceDocument(input: TraceDocumentInput): string {
  const lines = [
    'Tokenscope reasoning trace',
    `Prompt: ${input.title}`,
    `Model: ${input.model}`,
    `Date: ${new Date(input.createdAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`,
  ];
  if (input.stats) lines.push(`Stats: ${formatStats(input.stats)}`);
  if (input.streaming) lines.push('Status: still generating (reopen for the rest)');
  else if (input.stopReason !== 'stop') lines.push(`Status: stopped (${input.stopReason})`);
  lines.push('');
  if (input.thinking) {
    const complete = input.thinking.complete ? '' : ' · unfinished';
    lines.push(`${traceRule} Thinking · ${input.thinking.tokens} tokens · ${formatDuration(input.thinking.durationMs)}${complete} ${traceRule}`, input.thinking.text || '(empty)', '');
  } else {
    lines.push(`${traceRule} Thinking ${traceRule}`, '(this model wrote no reasoning trace; annotations come from the answer)', '');
  }
  lines.push(`${traceRule} Answer ${traceRule}`, input.answer || '(no answer)', '');
  return lines.join('\n');
}
