import { estimateCost, formatUSD } from '../core/pricing/cost';
import { CUSTOM_MODELS_SETTING, priceAge, STALE_AFTER_DAYS } from '../core/pricing/staleness';
import { TokenizerRegistry } from '../core/tokenizers/registry';
import { parseFlags, UsageError, type CliCommand, type CliIO } from './command';
import { customModelsUsage, priceTableFromFlags } from './customModelsOption';
import { formatTable } from './table';

const usage = `Usage: tokenscope cost [--json] [--custom-models file.json] < file

Counts standard input in every priced API model's tokenizer and prints what sending it as input
would cost, with the date each price is known from (prices change: check the source).

Options:
  --json                    print {"characters", "models": [{id, label, provider, tokenizer,
                            tokenizerEstimate, tokens, inputUSD, cachedInputUSD, outputUSD,
                            inputPerMTok, outputPerMTok, contextWindow, asOf, possiblyStale,
                            source}]}
${customModelsUsage}

Counts marked "~" use a stand-in tokenizer (Claude, Gemini, Mistral): estimates.
outputUSD is what generating the same number of tokens would cost.

Example:
  tokenscope cost < src/main.ts`;

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const { strings, booleans, positionals } = parseFlags(args, { strings: ['custom-models'], booleans: ['json'] });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": the text comes from standard input`);
  const table = await priceTableFromFlags(strings, io);
  const text = await io.readStdin();

  // Count once per tokenizer, then price every model that uses it.
  const registry = new TokenizerRegistry();
  const counts = new Map<string, number>();
  for (const tokenizerId of new Set(table.models.map((model) => model.tokenizer))) {
    counts.set(tokenizerId, (await registry.get(tokenizerId)).count(text));
  }
  const rows = table.models.map((model) => {
    const estimate = estimateCost(model, counts.get(model.tokenizer) as number);
    return {
      id: model.id,
      label: model.label,
      provider: model.provider,
      tokenizer: model.tokenizer,
      tokenizerEstimate: model.tokenizerEstimate,
      tokens: estimate.tokens,
      inputUSD: estimate.inputUSD,
      cachedInputUSD: estimate.cachedInputUSD ?? null,
      outputUSD: estimate.outputUSD,
      inputPerMTok: model.inputPerMTok,
      outputPerMTok: model.outputPerMTok,
      contextWindow: model.contextWindow,
      asOf: model.asOf,
      possiblyStale: priceAge(model).stale,
      source: model.source,
    };
  });
  if (booleans.has('json')) {
    io.stdout.write(`${JSON.stringify({ characters: text.length, models: rows })}\n`);
    return 0;
  }
  const header = ['model', 'tokenizer', 'tokens', 'input cost', '$/M in', '$/M out', 'context', 'as of'];
  const body = rows.map((row) => [
    row.label,
    row.tokenizer,
    `${row.tokenizerEstimate ? '~' : ''}${row.tokens.toLocaleString('en-US')}`,
    formatUSD(row.inputUSD),
    String(row.inputPerMTok),
    String(row.outputPerMTok),
    contextPercent(row.tokens / row.contextWindow),
    `${row.asOf}${row.possiblyStale ? ' *' : ''}`,
  ]);
  const staleNote = rows.some((row) => row.possiblyStale) ? [`* possibly stale: priced over ${STALE_AFTER_DAYS} days ago; put current prices in ${CUSTOM_MODELS_SETTING} (or --custom-models)`] : [];
  io.stdout.write(`${[`${text.length.toLocaleString('en-US')} characters; cost of sending them as input (USD; ~ = estimated count)`, ...formatTable(header, body, new Set([2, 3, 4, 5, 6])), ...staleNote].join('\n')}\n`);
  return 0;
}

function contextPercent(share: number): string {
  if (share > 0 && share < 0.0001) return '<0.01%';
  return `${(share * 100).toFixed(share < 0.01 ? 2 : 1)}%`;
}

export const costCommand: CliCommand = {
  name: 'cost',
  summary: 'Token count and input cost of standard input on every priced API model',
  usage,
  run,
};
