// Runs every benchmark (bench/*.bench.ts) one after another with tsx, so their timings never share
// the CPU, and lets each print its own table. `npm run bench -- tokenizers` runs only the files
// whose name contains "tokenizers". Exit status: the first failing benchmark's, else 0.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const files = readdirSync('bench')
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')} in bench/`);
  process.exit(2);
}

let status = 0;
for (const name of files) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', join('bench', name)], { stdio: 'inherit' });
  console.log(`=== ${name}: ${result.status === 0 ? 'done' : `failed (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s ===`);
  if (result.status !== 0 && status === 0) status = result.status ?? 1;
}
process.exit(status);
