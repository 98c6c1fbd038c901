/**
 * The usage ledger's file format and its check on reading: per local day (`2026-12-03`), per
 * feature and backend, the requests and the tokens read (prompt) and generated. Only counts are
 * kept, never text, and nothing leaves the machine. Pure.
 */

export const USAGE_FEATURES = ['completions', 'chat', 'explain'] as const;
export type UsageFeature = (typeof USAGE_FEATURES)[number];
export const USAGE_BACKENDS = ['local', 'remote'] as const;
export type UsageBackend = (typeof USAGE_BACKENDS)[number];

/** One feature and backend's traffic on one day. */
export interface UsageCounts {
  readonly requests: number;
  /** Prompt tokens sent to the model. */
  readonly read: number;
  /** Tokens the model generated. */
  readonly generated: number;
}

/** `completions/local` → counts. */
export type DayUsage = Readonly<Record<string, UsageCounts>>;

export interface LedgerFile {
  readonly version: 1;
  /** Local dates (YYYY-MM-DD) → that day's usage. */
  readonly days: Readonly<Record<string, DayUsage>>;
}

/** Days kept: older ones are dropped at the next write (about 13 months). */
export const MAX_LEDGER_DAYS = 400;

export const usageKey = (feature: UsageFeature, backend: UsageBackend): string => `${feature}/${backend}`;

export function parseUsageKey(key: string): { feature: UsageFeature; backend: UsageBackend } | undefined {
  const [feature, backend, extra] = key.split('/');
  if (extra !== undefined || !USAGE_FEATURES.includes(feature as UsageFeature) || !USAGE_BACKENDS.includes(backend as UsageBackend)) return undefined;
  return { feature: feature as UsageFeature, backend: backend as UsageBackend };
}

/** The local date of a moment, as the ledger's day key. */
export function dayKey(at: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/**
 * The ledger in `text`: undefined when it is not a ledger at all (moved aside by the store), else
 * the sound days and entries, with a count of what was left out.
 */
export function parseLedger(text: string): { readonly file: LedgerFile; readonly dropped: number } | { readonly otherVersion: unknown } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const record = raw as Record<string, unknown>;
  if (record.version !== 1) return record.version === undefined ? undefined : { otherVersion: record.version };
  if (typeof record.days !== 'object' || record.days === null || Array.isArray(record.days)) return undefined;
  const days: Record<string, DayUsage> = {};
  let dropped = 0;
  for (const [day, usage] of Object.entries(record.days as Record<string, unknown>)) {
    if (!DAY.test(day) || typeof usage !== 'object' || usage === null || Array.isArray(usage)) {
      dropped++;
      continue;
    }
    const entries: Record<string, UsageCounts> = {};
    for (const [key, counts] of Object.entries(usage as Record<string, unknown>)) {
      const value = counts as Partial<UsageCounts> | null;
      if (parseUsageKey(key) === undefined || typeof value !== 'object' || value === null || !isCount(value.requests) || !isCount(value.read) || !isCount(value.generated)) {
        dropped++;
        continue;
      }
      entries[key] = { requests: value.requests, read: value.read, generated: value.generated };
    }
    days[day] = entries;
  }
  return { file: { version: 1, days }, dropped };
}

/** `base` plus `delta`, entry by entry, keeping only the newest {@link MAX_LEDGER_DAYS} days. */
export function addUsage(base: LedgerFile['days'], delta: LedgerFile['days'], maxDays = MAX_LEDGER_DAYS): Record<string, DayUsage> {
  const days: Record<string, Record<string, UsageCounts>> = {};
  for (const [day, usage] of Object.entries(base)) days[day] = { ...usage };
  for (const [day, usage] of Object.entries(delta)) {
    const target = (days[day] ??= {});
    for (const [key, counts] of Object.entries(usage)) {
      const before = target[key];
      target[key] = before ? { requests: before.requests + counts.requests, read: before.read + counts.read, generated: before.generated + counts.generated } : counts;
    }
  }
  const kept = Object.keys(days).sort().slice(-maxDays);
  return Object.fromEntries(kept.map((day) => [day, days[day]]));
}
