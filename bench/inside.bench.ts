/**
 * Inside the model (#17): how long the editor waits for what it shows, with the built-in model.
 * - attention for the cursor token (every layer and head) over a short file and a full 511-token
 *   window, in process and through the model process (what the editor does: IPC and JSON included);
 * - the logit lens at the end of the same prompts;
 * - the same prompts' plain forward pass (the normal graph, no cache), to see what the inspection
 *   graph's extra outputs cost;
 * - nearest neighbours over the whole vocabulary: mini's 8,192 x 192 and Qwen2.5's 151,936 x 896
 *   shape (random values, same code);
 * - the size of the shipped model files (the inspection graph is built in memory: nothing is added).
 * Goals (issue #17): attention and lens < 100 ms each, neighbours < 20 ms for mini.
 *
 *   node --import tsx bench/inside.bench.ts      (or: npm run bench -- inside)
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { EmbeddingIndex } from '../src/core/runtime/embeddings';
import { attentionWindow, charsBefore } from '../src/core/runtime/inspectTypes';
import { LocalModel } from '../src/core/runtime/localModel';
import { resolveThreads } from '../src/core/runtime/threads';
import { ModelProcessClient, inspectModel } from '../src/core/modelProcess/client';
import { mulberry32 } from '../src/core/random';

const root = resolve(__dirname, '..');
const threads = resolveThreads(0);
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

async function timed(runs: number, work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => {
    const path = join(dir, name);
    return sum + (statSync(path).isDirectory() ? folderBytes(path) : statSync(path).size);
  }, 0);
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0];
  const short = readFileSync(join(root, 'test', 'fixtures', 'workspace', 'src', 'inventory.ts'), 'utf8');
  const long = ['runtime/localModel.ts', 'runtime/sampling.ts'].map((file) => readFileSync(join(root, 'src', 'core', file), 'utf8')).join('\n');
  const model = await LocalModel.load({ model: 'mini', threads }, { packageRoot: root });
  const rows: Record<string, number | string>[] = [];
  try {
    const firstStarted = performance.now();
    await model.inspect({ kind: 'lens', prompt: 'x' });
    const sessionMs = performance.now() - firstStarted;
    for (const [name, text] of [['inventory.ts (short file)', short], ['511-token window (full context)', long]] as const) {
      // The cursor near the end: the model runs over everything before it (up to the context) and 16 tokens after.
      const offset = name.startsWith('511') ? 20_000 : text.lastIndexOf('quantity');
      const window = attentionWindow(text, offset, model.info.contextLength);
      const first = await model.inspect({ kind: 'attention', text: window.text, offset: window.offset });
      const ids = first.tokens.map((token) => token.id);
      const attentionMs = await timed(10, () => model.inspect({ kind: 'attention', text: window.text, offset: window.offset }));
      // What the editor sends for the lens: the text before the cursor that can fill the context.
      const prompt = text.slice(Math.max(0, offset - charsBefore(model.info.contextLength)), offset);
      const lensResult = await model.inspect({ kind: 'lens', prompt });
      const lensMs = await timed(10, () => model.inspect({ kind: 'lens', prompt }));
      const plainMs = await timed(10, () => model.nextTokenLogits(ids, { reuseCache: false }));
      rows.push({ prompt: name, tokens: ids.length, lensTokens: lensResult.promptTokens, attentionMs: round(attentionMs), lensMs: round(lensMs), plainForwardMs: round(plainMs), inspectionOverPlain: round(attentionMs / plainMs, 2) });
    }
    // What the editor waits for: the same request through the model process (IPC, JSON of every layer's and head's row).
    const client = new ModelProcessClient({ entry: join(root, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: root });
    try {
      await client.load({ model: 'mini', threads });
      const window = attentionWindow(long, 20_000, model.info.contextLength);
      await inspectModel(client, { kind: 'attention', text: window.text, offset: window.offset });
      const viaProcessMs = await timed(10, () => inspectModel(client, { kind: 'attention', text: window.text, offset: window.offset }));
      const lensViaProcessMs = await timed(10, () => inspectModel(client, { kind: 'lens', prompt: long.slice(20_000 - charsBefore(model.info.contextLength), 20_000) }));
      rows.push({ prompt: '511-token window, through the model process', attentionMs: round(viaProcessMs), lensMs: round(lensViaProcessMs) });
    } finally {
      await client.dispose();
    }
    console.log(`Built-in model, ${threads} threads; the inspection session is created on first use in ${round(sessionMs)} ms.`);
    console.table(rows);

    // Neighbours over the whole vocabulary.
    const neighbourRows: Record<string, number | string>[] = [];
    const miniFirst = performance.now();
    await model.inspect({ kind: 'neighbours', token: ' return' });
    const miniLoadMs = performance.now() - miniFirst;
    const miniRequestMs = await timed(20, () => model.inspect({ kind: 'neighbours', token: ' return' }));
    neighbourRows.push({ matrix: 'mini 8,192 x 192 (request, in process)', ms: round(miniRequestMs, 2), firstUseMs: round(miniLoadMs) });
    for (const [label, rowsCount, dims, runs] of [['mini shape 8,192 x 192 (index only)', 8192, 192, 20], ['Qwen2.5 shape 151,936 x 896 (index only)', 151_936, 896, 3]] as const) {
      const random = mulberry32(7);
      const data = new Float32Array(rowsCount * dims);
      for (let i = 0; i < data.length; i++) data[i] = random() - 0.5;
      const built = performance.now();
      const index = new EmbeddingIndex({ rows: rowsCount, dims, data, storage: 'float32' });
      const normsMs = performance.now() - built;
      let id = 0;
      const ms = await timed(runs, async () => index.nearest(index.vector((id = (id + 7919) % rowsCount)), 10, new Set([id])));
      neighbourRows.push({ matrix: label, ms: round(ms, 2), firstUseMs: round(normsMs), megabytes: round(data.byteLength / 1e6) });
    }
    console.table(neighbourRows);
    const shippedBytes = folderBytes(join(root, 'models', 'tokenscope-mini'));
    console.log(`Shipped model files: ${round(shippedBytes / 1e6, 2)} MB (budget 16 MB); the inspection graph adds nothing on disk.`);
    const loadAtEnd = loadavg()[0];
    console.log(`Load average: ${round(loadAtStart, 2)} at start, ${round(loadAtEnd, 2)} at end.`);
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'inside.json'), `${JSON.stringify({ threads, sessionMs: round(sessionMs), rows, neighbours: neighbourRows, shippedBytes, loadAtStart, loadAtEnd }, null, 1)}\n`);
  } finally {
    await model.dispose();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
