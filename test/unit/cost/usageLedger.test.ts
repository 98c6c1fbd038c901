import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usageCommand } from '../../../src/cli/usageCommand';
import { UsageLedger } from '../../../src/core/cost/usageLedger';
import { addUsage, type LedgerFile } from '../../../src/core/cost/usageFormat';
import { summarizeUsage } from '../../../src/core/cost/usageSummary';
import { buildPriceTable } from '../../../src/core/pricing/cost';
import { fakeIO } from '../cli/fakeIO';

const repoRoot = join(__dirname, '..', '..', '..');
const quiet = { warn: () => undefined };
const models = buildPriceTable([]).models;

function withFolder(body: (folder: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tokenscope-ledger-'));
    try {
      await body(folder);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
}

function writer(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'unit', 'cost', 'ledgerWriter.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

const onDisk = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as LedgerFile).days;
const requestsIn = (days: LedgerFile['days']) => Object.values(days).reduce((sum, day) => sum + Object.values(day).reduce((inner, counts) => inner + counts.requests, 0), 0);

test('records add up per local day, feature and backend; the summary prices them on every model', withFolder(async (folder) => {
  const ledger = UsageLedger.inFolder(folder, quiet, { flushDelayMs: 60_000 });
  const today = new Date(2026, 11, 3, 15);
  ledger.record({ feature: 'completions', backend: 'local', promptTokens: 900_000, generatedTokens: 50_000, at: today });
  ledger.record({ feature: 'completions', backend: 'local', promptTokens: 100_000, generatedTokens: 50_000, at: today });
  ledger.record({ feature: 'chat', backend: 'remote', promptTokens: 1000, generatedTokens: 500, at: new Date(2026, 11, 1, 9) });
  ledger.record({ feature: 'explain', backend: 'local', promptTokens: 5, generatedTokens: 5, at: new Date(2026, 10, 1, 9) }); // 32 days back
  // Not written yet, but read() includes this process's pending counts.
  assert.equal(requestsIn(await ledger.read()), 4);
  await ledger.flush();
  const days = onDisk(ledger.path);
  assert.deepEqual(days['2026-12-03'], { 'completions/local': { requests: 2, read: 1_000_000, generated: 100_000 } });
  assert.deepEqual(days['2026-12-01'], { 'chat/remote': { requests: 1, read: 1000, generated: 500 } });
  assert.throws(() => ledger.record({ feature: 'chat', backend: 'local', promptTokens: -1, generatedTokens: 0 }), /whole numbers/);

  const week = summarizeUsage(days, { days: 7, now: today, models, reference: 'gpt-4o' });
  assert.equal(week.from, '2026-11-27');
  assert.equal(week.to, '2026-12-03');
  assert.equal(week.byDay.length, 7);
  assert.deepEqual(week.totals, { requests: 3, read: 1_001_000, generated: 100_500 });
  assert.deepEqual(
    week.byFeature.map((row) => `${row.feature}/${row.backend}:${row.requests}`),
    ['completions/local:2', 'chat/remote:1'],
  );
  // GPT-4o at $2.50 in / $10 out per million: 1,001,000 read + 100,500 generated = $2.5025 + $1.005.
  const gpt4o = week.byModel.find((row) => row.id === 'gpt-4o');
  assert.ok(gpt4o);
  assert.ok(Math.abs(gpt4o.usd - 3.5075) < 1e-9, String(gpt4o.usd));
  assert.equal(gpt4o.asOf, '2024-10-01');
  assert.equal(gpt4o.possiblyStale, true);
  assert.ok(Math.abs((week.byDay[6].referenceUSD ?? 0) - 3.5) < 1e-9);
  // Today alone, and 30 days (the explain request 32 days back stays out).
  assert.equal(summarizeUsage(days, { days: 1, now: today, models }).totals.requests, 2);
  assert.equal(summarizeUsage(days, { days: 30, now: today, models }).totals.requests, 3);
  assert.equal(summarizeUsage(days, { days: 40, now: today, models }).totals.requests, 4);
}));

test('the ledger is bounded: only the newest days are kept', withFolder(async (folder) => {
  const ledger = UsageLedger.inFolder(folder, quiet, { flushDelayMs: 60_000, maxDays: 3 });
  for (let day = 1; day <= 5; day++) ledger.record({ feature: 'chat', backend: 'local', promptTokens: day, generatedTokens: 0, at: new Date(2026, 11, day, 12) });
  await ledger.flush();
  assert.deepEqual(Object.keys(onDisk(ledger.path)), ['2026-12-03', '2026-12-04', '2026-12-05']);
  assert.deepEqual(Object.keys(addUsage({ '2026-01-01': {} }, { '2026-01-02': {} }, 1)), ['2026-01-02']);
}));

test('a file that is not a ledger is moved aside, not lost; a failed write keeps the counts for the next flush', withFolder(async (folder) => {
  const warnings: string[] = [];
  const ledger = UsageLedger.inFolder(folder, { warn: (message) => warnings.push(message) }, { flushDelayMs: 60_000 });
  writeFileSync(ledger.path, '{"days": [1, 2');
  ledger.record({ feature: 'chat', backend: 'local', promptTokens: 3, generatedTokens: 4, at: new Date(2026, 11, 3, 12) });
  await ledger.flush();
  const aside = readdirSync(folder).filter((name) => name.includes('.corrupt-'));
  assert.equal(aside.length, 1);
  assert.equal(readFileSync(join(folder, aside[0]), 'utf8'), '{"days": [1, 2');
  assert.match(warnings.join('\n'), /kept it as .*corrupt/);
  assert.equal(requestsIn(onDisk(ledger.path)), 1);
  // The ledger's path is now a folder: the write fails, the count waits and lands once it can.
  rmSync(ledger.path);
  const blocked = new UsageLedger(join(folder, 'blocked', 'usage-ledger.json'), quiet, { flushDelayMs: 60_000 });
  writeFileSync(join(folder, 'blocked'), 'a file where the folder should be');
  blocked.record({ feature: 'explain', backend: 'local', promptTokens: 1, generatedTokens: 1 });
  await assert.rejects(blocked.flush(), /could not be written/);
  rmSync(join(folder, 'blocked'));
  blocked.record({ feature: 'explain', backend: 'local', promptTokens: 1, generatedTokens: 1 });
  await blocked.flush();
  assert.equal(requestsIn(onDisk(blocked.path)), 2);
}));

test('two processes writing at once lose no day and no count', { timeout: 120_000 }, withFolder(async (folder) => {
  const file = join(folder, 'usage-ledger.json');
  const go = join(folder, 'go');
  const count = 40;
  const writers = ['A', 'B'].map((name) => writer(['burst', file, name, String(count), go]));
  // Both are up (tsx compiled) before they may write.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  writeFileSync(go, '');
  for (const w of writers) {
    const result = await w.done;
    assert.equal(result.code, 0, w.stderr());
    assert.deepEqual(JSON.parse(w.stdout()).errors, []);
  }
  const days = onDisk(file);
  assert.deepEqual(Object.keys(days).sort(), ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05']);
  for (const day of Object.values(days)) {
    assert.deepEqual(day['completions/local'], { requests: count / 5, read: (count / 5) * 100, generated: (count / 5) * 10 });
    assert.deepEqual(day['chat/local'], { requests: count / 5, read: (count / 5) * 100, generated: (count / 5) * 10 });
  }
  assert.deepEqual(readdirSync(folder).sort(), ['go', 'usage-ledger.json'], 'no temp or lock files left');
}));

test('a writer killed mid-write leaves a whole ledger; the next writer takes over its lock and keeps every day', { timeout: 120_000 }, withFolder(async (folder) => {
  const file = join(folder, 'usage-ledger.json');
  // A full year of history, so each write is large (about 60 KB) and a kill often lands inside one.
  const history: Record<string, LedgerFile['days'][string]> = {};
  for (let back = 1; back <= 365; back++) {
    const at = new Date(2026, 11, 3 - back, 12);
    history[`${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}`] = {
      'completions/local': { requests: 1, read: 1000 + back, generated: 10 },
      'chat/remote': { requests: 1, read: 2000, generated: 200 },
    };
  }
  writeFileSync(file, JSON.stringify({ version: 1, days: history }));
  const killedAfter: number[] = [];
  for (let round = 0; round < 3; round++) {
    const w = writer(['loop', file]);
    // Kill it at a moment that varies: after a few flushes, in the middle of whatever it is doing.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        const flushed = (w.stdout().match(/flushed \d+/g) ?? []).length;
        if (flushed >= 3 + round * 2) {
          clearInterval(check);
          w.child.kill('SIGKILL');
          resolve();
        }
      }, 1);
    });
    await w.done;
    killedAfter.push((w.stdout().match(/flushed \d+/g) ?? []).length);
    // Whatever the moment, the file is a whole ledger with every day of the history in it.
    const days = onDisk(file);
    for (const day of Object.keys(history)) assert.ok(days[day], `day ${day} kept`);
    const explain = days['2026-12-03']?.['explain/remote']?.requests ?? 0;
    const reported = killedAfter.reduce((sum, value) => sum + value, 0);
    // The flush in flight when it was killed either landed whole or not at all.
    assert.ok(explain >= reported && explain <= reported + killedAfter.length, `explain requests ${explain}, reported ${reported}`);
  }
  // The next writer: the dead writer's lock and temp file do not block it, and nothing is lost.
  const before = requestsIn(onDisk(file));
  const next = new UsageLedger(file, quiet, { flushDelayMs: 60_000, lockTimeoutMs: 5000 });
  next.record({ feature: 'chat', backend: 'local', promptTokens: 1, generatedTokens: 1, at: new Date(2026, 11, 3, 12) });
  await next.flush();
  assert.equal(requestsIn(onDisk(file)), before + 1);
  assert.deepEqual(readdirSync(folder), ['usage-ledger.json'], 'no temp or lock files left');
}));

test('tokenscope usage reads the same ledger (--ledger, --days, --json) and prices it with dated prices', withFolder(async (folder) => {
  const ledger = UsageLedger.inFolder(folder, quiet, { flushDelayMs: 60_000 });
  ledger.record({ feature: 'completions', backend: 'local', promptTokens: 2000, generatedTokens: 100 });
  ledger.record({ feature: 'chat', backend: 'remote', promptTokens: 500, generatedTokens: 250 });
  await ledger.flush();
  const run = async (args: string[]) => {
    const io = fakeIO('');
    const code = await usageCommand.run(args, io.io);
    await new Promise((resolve) => setImmediate(resolve));
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };
  const json = await run(['--json', '--days', '1', '--ledger', ledger.path]);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { ledger: string; days: number; totals: { requests: number; read: number; generated: number }; byModel: { id: string; usd: number; asOf: string }[] };
  assert.equal(parsed.ledger, ledger.path);
  assert.equal(parsed.days, 1);
  assert.deepEqual(parsed.totals, { requests: 2, read: 2500, generated: 350 });
  const gpt4o = parsed.byModel.find((row) => row.id === 'gpt-4o');
  assert.ok(gpt4o && Math.abs(gpt4o.usd - (2500 * 2.5 + 350 * 10) / 1e6) < 1e-12);
  const text = await run(['--ledger', ledger.path]);
  assert.match(text.stdout, /completions\s+local\s+1\s+2,000\s+100/);
  assert.match(text.stdout, /GPT-4o\s+\$0\.0097\s+2024-10-01 \*/);
  assert.match(text.stdout, /possibly stale: .*tokenscope\.cost\.customModels/);
  const empty = await run(['--ledger', join(folder, 'none.json')]);
  assert.match(empty.stdout, /Nothing recorded in this period/);
  await assert.rejects(run(['--days', '0']), /--days must be at least 1/);
}));
