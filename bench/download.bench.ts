/**
 * Hub downloads (`npm run bench -- download`): Tokenscope's pull against a plain HTTP copy of the
 * same file from the same local server, interleaved in one run, and the bytes fetched twice after
 * an interrupted download resumes.
 *
 * - Server: test/support/fakeHub.ts on 127.0.0.1 (the Hub API, a 302 to a separate CDN origin,
 *   Range/206), serving a repo whose weights are BENCH_MB of random bytes.
 * - Plain copy: node:http GET of the CDN URL piped into a file (no hashing, no metadata).
 * - Tokenscope: pullModel() into an empty Hugging Face cache: metadata calls, the redirect, SHA-256
 *   of every byte, the write, the rename, the snapshot links (what the editor and the CLI run).
 * - Resume: the pull is cancelled at 50%, then run again; re-fetched = bytes received for offsets
 *   already on disk (the pull's own count). Also printed: everything the CDN sent minus the size,
 *   which includes what sat in socket buffers at the cancel (a few MB whatever the file's size).
 *
 * Results: a table here and bench/results/download.json. Goals: throughput >= 90% of the plain
 * copy; re-fetched < 1% of the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pullModel, type PullResult } from '../src/core/hub/pull';
import { resolveHubSettings } from '../src/core/hub/settings';
import { startFakeHub } from '../test/support/fakeHub';

const root = join(__dirname, '..');
const megabytes = Number(process.env.BENCH_MB ?? 256);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const repo = 'bench/Big-ONNX';
const commit = 'b'.repeat(40);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function plainCopy(url: string, target: string): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    get(url, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`plain copy: ${response.statusCode}`));
      pipeline(response, createWriteStream(target)).then(resolve, reject);
    }).on('error', reject);
  });
  return performance.now() - started;
}

async function pull(endpoint: string, cacheDir: string, signal?: AbortSignal, onProgress?: (fraction: number) => void): Promise<PullResult> {
  const settings = resolveHubSettings({ endpoint, cacheDir }, {});
  let result: PullResult | undefined;
  for await (const event of pullModel({ repo }, { settings, signal })) {
    if (event.type === 'progress' && event.file === 'onnx/model_q4.onnx') onProgress?.(event.fileBytes / event.fileTotal);
    if (event.type === 'done') result = event.result;
  }
  if (!result) throw new Error('no result');
  return result;
}

async function main(): Promise<void> {
  const weights = randomBytes(megabytes * 1024 * 1024);
  const files = new Map<string, Buffer>([
    ['config.json', Buffer.from(JSON.stringify({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] }))],
    ['tokenizer.json', Buffer.from('{}')],
    ['onnx/model_q4.onnx', weights],
  ]);
  const hub = await startFakeHub([{ repo, commit, files }]);
  const sha = createHash('sha256').update(weights).digest('hex');
  const cdnUrl = `${hub.cdnOrigin}/lfs/${sha}?X-Amz-Signature=bench`;
  const scratch = mkdtempSync(join(tmpdir(), 'tokenscope-bench-download-'));
  const load = [loadavg()[0]];
  try {
    // SHA-256 alone on this machine, for reading the figures.
    const hashStarted = performance.now();
    createHash('sha256').update(weights).digest();
    const sha256MBps = megabytes / ((performance.now() - hashStarted) / 1000);

    const plainMs: number[] = [];
    const pullMs: number[] = [];
    // Warm-up (page cache, JIT), not counted.
    await plainCopy(cdnUrl, join(scratch, 'warm.bin'));
    await pull(hub.endpoint, join(scratch, 'warm-cache'));
    for (let round = 0; round < rounds; round++) {
      const target = join(scratch, `plain-${round}.bin`);
      plainMs.push(await plainCopy(cdnUrl, target));
      rmSync(target, { force: true });
      const cacheDir = join(scratch, `cache-${round}`);
      const result = await pull(hub.endpoint, cacheDir);
      pullMs.push(result.elapsedMs);
      rmSync(cacheDir, { recursive: true, force: true });
      load.push(loadavg()[0]);
    }
    const plainMBps = megabytes / (median(plainMs) / 1000);
    const pullMBps = (weights.length + 100) / 1024 / 1024 / (median(pullMs) / 1000);
    const ratio = pullMBps / plainMBps;

    // Resume: cancel at 50%, resume, count what came twice.
    hub.reset();
    const resumeCache = join(scratch, 'resume-cache');
    const controller = new AbortController();
    await pull(hub.endpoint, resumeCache, controller.signal, (fraction) => {
      if (fraction >= 0.5) controller.abort();
    }).then(
      () => {
        throw new Error('the cancelled pull finished');
      },
      () => undefined,
    );
    const resumed = await pull(hub.endpoint, resumeCache);
    const wire = hub.requests.filter((request) => request.origin === 'cdn' && request.path.endsWith(sha)).reduce((sum, request) => sum + request.bodyBytes, 0);
    const refetchedPercent = (100 * resumed.refetchedBytes) / weights.length;
    const wireExtraPercent = (100 * (wire - weights.length)) / weights.length;

    console.log(`Download of a ${megabytes} MB file from a local Hub (127.0.0.1), median of ${rounds} interleaved rounds, load average ${load.map((value) => value.toFixed(1)).join(' → ')}:`);
    console.log('| path | median time | throughput |');
    console.log('|------|-------------|------------|');
    console.log(`| plain HTTP copy (node:http → file) | ${median(plainMs).toFixed(0)} ms | ${plainMBps.toFixed(0)} MB/s |`);
    console.log(`| Tokenscope pull (metadata, 302, SHA-256, write, rename, links) | ${median(pullMs).toFixed(0)} ms | ${pullMBps.toFixed(0)} MB/s |`);
    console.log(`Throughput ratio: ${(100 * ratio).toFixed(1)}% of the plain copy (goal: >= 90%). SHA-256 alone: ${sha256MBps.toFixed(0)} MB/s.`);
    console.log(`Resume after a cancel at 50%: ${(resumed.resumedBytes / 1024 / 1024).toFixed(1)} MB resumed, re-fetched ${resumed.refetchedBytes} bytes (${refetchedPercent.toFixed(3)}%; goal: < 1%).`);
    console.log(`On the wire the CDN sent ${(100 * wire / weights.length).toFixed(2)}% of the file over both pulls: +${((wire - weights.length) / 1024 / 1024).toFixed(1)} MB (${wireExtraPercent.toFixed(2)}%) were in socket buffers when the first pull was cancelled and never reached the file; that amount is the buffers' size, not a share of the file.`);
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(root, 'bench', 'results', 'download.json'),
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, megabytes, rounds, loadAverage: load, plainMs, pullMs, plainMBps, pullMBps, ratio, sha256MBps, resume: { resumedBytes: resumed.resumedBytes, refetchedBytes: resumed.refetchedBytes, refetchedPercent, wireBytes: wire, wireExtraPercent } }, null, 2)}\n`,
    );
    console.log('written to bench/results/download.json');
    if (ratio < 0.9 || refetchedPercent >= 1) process.exitCode = 1;
  } finally {
    await hub.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

void main();
