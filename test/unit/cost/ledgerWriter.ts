// One writer process for usageLedger.test.ts (not a test itself): a window (or the CLI) with its own
// UsageLedger on a shared ledger file. Modes:
//   burst FILE NAME COUNT GOFILE  - waits for GOFILE, then records COUNT requests spread over 5 days,
//                                   flushing after each, and prints {"errors": [...]} at the end.
//   loop FILE                     - records and flushes forever, printing "flushed N" after each
//                                   flush that reached the disk (the test kills it mid-write).
import { existsSync } from 'node:fs';
import { UsageLedger } from '../../../src/core/cost/usageLedger';

const [mode, file, name, countText, goFile] = process.argv.slice(2);
const quiet = { warn: () => undefined };

async function burst(): Promise<void> {
  const ledger = new UsageLedger(file, quiet, { flushDelayMs: 60_000, lockTimeoutMs: 60_000 });
  while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 5));
  const errors: string[] = [];
  for (let index = 0; index < Number(countText); index++) {
    ledger.record({ feature: name === 'A' ? 'completions' : 'chat', backend: 'local', promptTokens: 100, generatedTokens: 10, at: new Date(2026, 11, 1 + (index % 5), 12) });
    try {
      await ledger.flush();
    } catch (error) {
      errors.push(String(error));
    }
  }
  process.stdout.write(`${JSON.stringify({ errors })}\n`);
}

async function loop(): Promise<void> {
  const ledger = new UsageLedger(file, quiet, { flushDelayMs: 60_000 });
  for (let flushed = 1; ; flushed++) {
    ledger.record({ feature: 'explain', backend: 'remote', promptTokens: 7, generatedTokens: 3, at: new Date(2026, 11, 3, 12) });
    await ledger.flush();
    process.stdout.write(`flushed ${flushed}\n`);
  }
}

(mode === 'burst' ? burst() : loop()).catch((error: unknown) => {
  process.stderr.write(`writer failed: ${String(error)}\n`);
  process.exit(1);
});
