/**
 * Whether a price may be out of date. Every price carries the date it was known to be current
 * (`asOf`); one older than {@link STALE_AFTER_DAYS} days is shown as "possibly stale", with a pointer
 * to the setting where the user puts the current price. Pure.
 */
import type { PricedModel } from './prices';

export const STALE_AFTER_DAYS = 180;
export const CUSTOM_MODELS_SETTING = 'tokenscope.cost.customModels';

export interface PriceAge {
  /** The price's date as the table has it (`2024-10-01`, or `your settings`). */
  readonly asOf: string;
  /** Whole days since `asOf`; undefined when it is not a date (a price from the user's settings). */
  readonly ageDays?: number;
  readonly stale: boolean;
  /** `prices as of 2024-10-01` or `prices as of 2024-10-01, possibly stale (792 days old): set current ones in tokenscope.cost.customModels`. */
  readonly note: string;
}

const DAY_MS = 86_400_000;

export function priceAge(model: Pick<PricedModel, 'asOf'>, now: Date = new Date()): PriceAge {
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(model.asOf) ? Date.parse(`${model.asOf}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(parsed)) return { asOf: model.asOf, stale: false, note: `prices as of ${model.asOf}` };
  const ageDays = Math.floor((now.getTime() - parsed) / DAY_MS);
  const stale = ageDays > STALE_AFTER_DAYS;
  return {
    asOf: model.asOf,
    ageDays,
    stale,
    note: stale ? `prices as of ${model.asOf}, possibly stale (${ageDays} days old): set current ones in ${CUSTOM_MODELS_SETTING}` : `prices as of ${model.asOf}`,
  };
}
