/**
 * What the usage ledger's last N days add up to: requests and tokens by feature and backend, a
 * series per day (for the bar chart), and what the same tokens would have cost on each priced API
 * model at the table's dated prices (prompt tokens as input, generated as output; the counts are
 * the serving model's, so this answers "the same tokens", as labelled). The Usage & Cost view and
 * `tokenscope usage` both show this. Pure.
 */
import { usageCost } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';
import { priceAge } from '../pricing/staleness';
import { dayKey, parseUsageKey, type LedgerFile, type UsageBackend, type UsageFeature } from './usageFormat';

export interface UsageTotals {
  readonly requests: number;
  readonly read: number;
  readonly generated: number;
}

export interface UsageSummary {
  /** First and last day of the period (local dates), `days` days ending today. */
  readonly from: string;
  readonly to: string;
  readonly days: number;
  readonly totals: UsageTotals;
  /** Every feature and backend with traffic, features in their fixed order. */
  readonly byFeature: readonly (UsageTotals & { readonly feature: UsageFeature; readonly backend: UsageBackend })[];
  /** Every day of the period, oldest first, zeros included. */
  readonly byDay: readonly (UsageTotals & { readonly day: string; readonly referenceUSD?: number })[];
  /** Each priced model, in the table's order: the period's tokens priced there. */
  readonly byModel: readonly { readonly id: string; readonly label: string; readonly usd: number; readonly asOf: string; readonly possiblyStale: boolean }[];
}

const zero = (): { requests: number; read: number; generated: number } => ({ requests: 0, read: 0, generated: 0 });

/** The `days` local days ending on `now`'s, summed; `reference` (a model id) prices each day for the chart. */
export function summarizeUsage(ledger: LedgerFile['days'], options: { readonly days: number; readonly now?: Date; readonly models: readonly PricedModel[]; readonly reference?: string }): UsageSummary {
  const now = options.now ?? new Date();
  const dayCount = Math.max(1, Math.floor(options.days));
  const dayList: string[] = [];
  for (let back = dayCount - 1; back >= 0; back--) {
    // Noon steps over daylight-saving changes without skipping or repeating a date.
    const at = new Date(now.getFullYear(), now.getMonth(), now.getDate() - back, 12);
    dayList.push(dayKey(at));
  }
  const reference = options.models.find((model) => model.id === options.reference);
  const totals = zero();
  const features = new Map<string, ReturnType<typeof zero>>();
  const byDay = dayList.map((day) => {
    const sum = zero();
    for (const [key, counts] of Object.entries(ledger[day] ?? {})) {
      if (!parseUsageKey(key)) continue;
      const feature = features.get(key) ?? zero();
      features.set(key, feature);
      for (const target of [sum, totals, feature]) {
        target.requests += counts.requests;
        target.read += counts.read;
        target.generated += counts.generated;
      }
    }
    return { day, ...sum, ...(reference ? { referenceUSD: usageCost({ promptTokens: sum.read, generatedTokens: sum.generated }, reference).usd } : {}) };
  });
  const order = ['completions', 'chat', 'explain'];
  const byFeature = [...features.entries()]
    .map(([key, counts]) => ({ ...(parseUsageKey(key) as { feature: UsageFeature; backend: UsageBackend }), ...counts }))
    .sort((a, b) => order.indexOf(a.feature) - order.indexOf(b.feature) || a.backend.localeCompare(b.backend));
  const byModel = options.models.map((model) => ({
    id: model.id,
    label: model.label,
    usd: usageCost({ promptTokens: totals.read, generatedTokens: totals.generated }, model).usd,
    asOf: model.asOf,
    possiblyStale: priceAge(model, now).stale,
  }));
  return { from: dayList[0], to: dayList[dayList.length - 1], days: dayCount, totals, byFeature, byDay, byModel };
}
