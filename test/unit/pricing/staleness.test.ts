import { test } from 'node:test';
import assert from 'node:assert/strict';
import { priceAge, STALE_AFTER_DAYS } from '../../../src/core/pricing/staleness';

test('a price older than 180 days is possibly stale and points at tokenscope.cost.customModels', () => {
  const now = new Date('2026-12-03T10:00:00Z');
  assert.equal(STALE_AFTER_DAYS, 180);
  const edge = priceAge({ asOf: '2026-06-06' }, now); // 180 days: not yet
  assert.equal(edge.ageDays, 180);
  assert.equal(edge.stale, false);
  assert.equal(edge.note, 'prices as of 2026-06-06');
  const old = priceAge({ asOf: '2026-06-05' }, now);
  assert.equal(old.ageDays, 181);
  assert.equal(old.stale, true);
  assert.equal(old.note, 'prices as of 2026-06-05, possibly stale (181 days old): set current ones in tokenscope.cost.customModels');
  // A price from the user's settings has no date to age.
  const user = priceAge({ asOf: 'your settings' }, now);
  assert.equal(user.stale, false);
  assert.equal(user.ageDays, undefined);
});
