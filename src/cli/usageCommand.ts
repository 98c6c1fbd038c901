import { formatUSD } from '../core/pricing/cost';
import { CUSTOM_MODELS_SETTING, STALE_AFTER_DAYS } from '../core/pricing/staleness';
import { defaultLedgerCandidates, LEDGER_ENV, resolveLedgerPath } from '../core/cost/ledgerPath';
import { readLedger } from '../core/cost/usageLedger';
import { summarizeUsage } from '../core/cost/usageSummary';
import { numberFlag, parseFlags, UsageError, type CliCommand, type CliIO } from './command';
import { customModelsUsage, priceTableFromFlags } from './customModelsOption';
import { formatTable } from './table';

const usage = `Usage: tokenscope usage [--days N] [--json] [--ledger FILE] [--custom-models file.json]

What Tokenscope's completions, chat and explain read and generated over the last N days (default
7, today included), local or remote, and what the same tokens would have cost on each priced API
model at the table's dated prices. Reads the usage ledger the extension keeps; nothing is sent
anywhere.

Options:
  --days N                  days ending today (1-400, default 7)
  --json                    print {ledger, from, to, days, totals, byFeature, byDay, byModel}
  --ledger FILE             the ledger file (default: $${LEDGER_ENV}, else the first that exists of
                            ${defaultLedgerCandidates()
                              .map((path) => path.replace(/\\/g, '/'))
                              .join('\n                            ')})
${customModelsUsage}

Costs price prompt tokens as input and generated tokens as output; the counts are the serving
model's tokens, so an API model's own tokenizer would count the same text a little differently.`;

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const { strings, booleans, positionals } = parseFlags(args, { strings: ['days', 'ledger', 'custom-models'], booleans: ['json'] });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const days = numberFlag(strings, 'days', 7, { min: 1, max: 400, integer: true });
  const table = await priceTableFromFlags(strings, io);
  const ledger = resolveLedgerPath(strings.get('ledger'));
  let recorded;
  try {
    recorded = await readLedger(ledger.path, { warn: (message) => io.stderr.write(`warning: ${message}\n`) });
  } catch (error) {
    io.stderr.write(`tokenscope usage: ${(error as Error).message}\n`);
    return 1;
  }
  const summary = summarizeUsage(recorded, { days, models: table.models });
  if (booleans.has('json')) {
    io.stdout.write(`${JSON.stringify({ ledger: ledger.path, ...summary })}\n`);
    return 0;
  }
  const count = (value: number) => value.toLocaleString('en-US');
  const header = `Usage ${summary.from} to ${summary.to} (${days} day${days === 1 ? '' : 's'}), from ${ledger.path} (${ledger.how})`;
  let lines: string[];
  if (summary.totals.requests === 0) {
    lines = [header, 'Nothing recorded in this period.'];
  } else {
    const features = formatTable(
      ['feature', 'backend', 'requests', 'tokens read', 'tokens generated'],
      summary.byFeature.map((row) => [row.feature, row.backend, count(row.requests), count(row.read), count(row.generated)]).concat([['total', '', count(summary.totals.requests), count(summary.totals.read), count(summary.totals.generated)]]),
      new Set([2, 3, 4]),
    );
    const models = formatTable(
      ['model', 'cost', 'as of'],
      summary.byModel.map((row) => [row.label, formatUSD(row.usd), `${row.asOf}${row.possiblyStale ? ' *' : ''}`]),
      new Set([1]),
    );
    const stale = summary.byModel.some((row) => row.possiblyStale) ? [`* possibly stale: priced over ${STALE_AFTER_DAYS} days ago; put current prices in ${CUSTOM_MODELS_SETTING} (or --custom-models)`] : [];
    lines = [header, ''].concat(features, ['', 'What the same tokens would have cost (read as input, generated as output):'], models, stale);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export const usageCommand: CliCommand = {
  name: 'usage',
  summary: 'Tokens Tokenscope read and generated per day, and what they would have cost on API models',
  usage,
  run,
};
