// Runs every unit test (test/unit/**/*.test.ts) with Node's built-in test runner, TypeScript loaded
// through tsx. Extra arguments are passed to the runner (e.g. a file or --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

// The slowest files start first (each 10-20 s on 2 cores, measured with the suite's spec output), so
// the two lanes finish together instead of one of them running a long file alone at the end; the
// rest keep their alphabetical order. Order only: every file still runs.
const slowestFirst = ['openai/serve', 'cli/largeInput', 'privacy/noNetwork', 'hub/pull', 'cli/badInput', 'pricing/cost'];
const slowRank = (file) => {
  const index = slowestFirst.findIndex((name) => file.replaceAll('\\', '/').endsWith(`${name}.test.ts`));
  return index < 0 ? slowestFirst.length : index;
};

const extra = process.argv.slice(2);
const files = extra.some((arg) => arg.endsWith('.ts')) ? [] : findTests('test/unit').sort().sort((a, b) => slowRank(a) - slowRank(b));
// ORT_DISABLE_TELEMETRY: ONNX Runtime uploads telemetry by default (src/core/runtime/ortTelemetry.ts);
// the tests that load it directly get it off here too.
// Two files at a time: Node's default is one fewer than the cores, so on a 2-core machine (CI's) the
// files ran one after another while most of them wait on child processes, timers or I/O
// (252 s -> 160 s for the whole suite here, at load 0.1-1.6).
const concurrency = extra.some((arg) => arg.startsWith('--test-concurrency')) ? [] : ['--test-concurrency=2'];
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...concurrency, ...extra, ...files], { stdio: 'inherit', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
process.exit(result.status ?? 1);
