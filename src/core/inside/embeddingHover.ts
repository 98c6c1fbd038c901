/**
 * The learning-mode hover of a token's embedding: the first numbers of its vector (every token is a
 * learned vector), its norm and its nearest tokens by cosine similarity. Markdown, built in core.
 */
import type { NeighboursResult } from '../runtime/inspectTypes';

const shown = (text: string) => `\`${JSON.stringify(text).slice(1, -1).replace(/`/g, 'ˋ')}\``;

export function embeddingHoverMarkdown(result: NeighboursResult, modelLabel: string): string {
  const vector = `[${result.vector.map((value) => value.toFixed(2)).join(', ')}, …]`;
  const nearest = result.neighbours.slice(0, 8).map((neighbour) => `${shown(neighbour.text)} ${neighbour.cosine.toFixed(2)}`).join(' · ');
  return [
    `**Embedding of ${shown(result.token)}** (token ${result.id} in ${modelLabel})`,
    '',
    `\`${vector}\` — ${result.dimensions} numbers, norm ${result.norm.toFixed(2)}${result.storage === 'float32' ? '' : ` (stored ${result.storage}, dequantized)`}`,
    '',
    `Nearest tokens (cosine): ${nearest}`,
    '',
    '*Every token enters the model as this learned vector; tokens used alike end up pointing the same way.*',
  ].join('\n');
}
