// Runs every benchmark (bench/*.bench.ts) one after another with tsx, so their timings never share
// the CPU, and lets each print its own table. `npm run bench -- tokenizers` runs only the files
// whose name contains "tokenizers". Each writes bench/results/<name>.json; afterwards every result
// there is gathered into bench/results/latest.json. Exit status: the first failing benchmark's, else 0.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

// Names first, then options for the benchmarks themselves (`npm run bench -- activation --compare ../old`):
// everything from the first argument starting with '-' on is passed to each benchmark.
const args = process.argv.slice(2);
const firstOption = args.findIndex((arg) => arg.startsWith('-'));
const filters = firstOption === -1 ? args : args.slice(0, firstOption);
const benchOptions = firstOption === -1 ? [] : args.slice(firstOption);
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
  // ORT_DISABLE_TELEMETRY: transformers.js loads ONNX Runtime too, and its telemetry is on by default.
  const result = spawnSync(process.execPath, ['--import', 'tsx', join('bench', name), ...benchOptions], { stdio: 'inherit', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
  console.log(`=== ${name}: ${result.status === 0 ? 'done' : `failed (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s ===`);
  if (result.status !== 0 && status === 0) status = result.status ?? 1;
}
// One file with the newest result of every benchmark (a filtered run keeps the others' last results).
const resultsDir = join('bench', 'results');
if (existsSync(resultsDir)) {
  const results = Object.fromEntries(
    readdirSync(resultsDir)
      .filter((name) => name.endsWith('.json') && name !== 'latest.json')
      .sort()
      .map((name) => [name.replace(/\.json$/, ''), JSON.parse(readFileSync(join(resultsDir, name), 'utf8'))]),
  );
  const latest = { writtenAt: new Date().toISOString(), machine: { cpus: cpus().length, loadAverageAtEnd: loadavg()[0] }, results };
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(latest, null, 1)}\n`);
  console.log(`\nAll results: ${join(resultsDir, 'latest.json')} (${Object.keys(results).join(', ')})`);
}
process.exit(status);
