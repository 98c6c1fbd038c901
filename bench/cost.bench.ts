/**
 * Cost decorations benchmark: the extension host's time to redraw the block labels of a
 * 10,000-line file after a keystroke (goal: under 16 ms), as src/vscode/cost/blockDecorations.ts
 * does it: find the blocks touching the visible lines (60 lines and a 20-line margin each side),
 * take their text, look their counts up in the cache (core/cost/blockCosts.ts) and build the
 * labels. Counting the one block the keystroke changed happens in the tokenizer worker, not on
 * the host: its time is shown apart, next to counting every visible block again without the cache.
 * Not included: VS Code's own cost of setDecorations and of the language's symbol provider (the
 * glue keeps its measured host time per redraw in BlockCostDecorations.recentRedrawMs).
 *
 * Two files: the first 10,000 lines of TypeScript's compiler (node_modules/typescript/lib/
 * typescript.js) labelled by blank-line paragraphs (no symbols), and a generated 10,000-line file of
 * 1,000 ten-line functions labelled by their symbols. Tokenizer: o200k_base (GPT-4o's).
 *
 *   npm run bench -- cost          (or: node --import tsx bench/cost.bench.ts)
 *
 * Results: the table here and bench/results/cost.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BlockCountCache, blockCostLabel, countBlocks } from '../src/core/cost/blockCosts';
import { detectBlocks, type Block, type LineSource, type SymbolData } from '../src/core/cost/blocks';
import { buildPriceTable } from '../src/core/pricing/cost';
import { TokenizerRegistry } from '../src/core/tokenizers/registry';

const root = resolve(__dirname, '..');
const VISIBLE_LINES = 60;
const MARGIN = 20;
const KEYSTROKES = 300;

/** A document as the editor holds it: lines and their start offsets (VS Code keeps the same). */
class Lines implements LineSource {
  starts: number[] = [];
  constructor(public lines: string[]) {
    this.reindex();
  }
  get lineCount(): number {
    return this.lines.length;
  }
  lineText(line: number): string {
    return this.lines[line];
  }
  lineStart(line: number): number {
    return this.starts[line];
  }
  reindex(): void {
    this.starts = new Array<number>(this.lines.length);
    let offset = 0;
    for (let line = 0; line < this.lines.length; line++) {
      this.starts[line] = offset;
      offset += this.lines[line].length + 1;
    }
  }
  /** The text of a block, as document.getText(range) gives it. */
  textOf(block: Block): string {
    return this.lines.slice(block.startLine, block.endLine + 1).join('\n');
  }
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))];
}

async function run(name: string, lines: Lines, symbols: SymbolData[] | undefined): Promise<Record<string, number | string>> {
  const registry = new TokenizerRegistry({ rootDir: root });
  const tokenizer = await registry.get('o200k_base');
  const reference = buildPriceTable([]).models.find((model) => model.id === 'gpt-4o');
  if (!reference) throw new Error('no gpt-4o');
  const cache = new BlockCountCache();
  let workerMs = 0;
  const counter = async (_id: string, blocks: readonly Block[]) => {
    const started = performance.now();
    const counts = blocks.map((block) => tokenizer.count(lines.textOf(block)));
    workerMs += performance.now() - started;
    return counts;
  };
  const host: number[] = [];
  const worker: number[] = [];
  const uncached: number[] = [];
  let blocksShown = 0;
  let random = 12345;
  const next = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let keystroke = -1; keystroke < KEYSTROKES; keystroke++) {
    const top = Math.floor(next() * (lines.lineCount - VISIBLE_LINES));
    // A keystroke: one character typed into a visible line (the first pass fills the cache).
    if (keystroke >= 0) {
      const line = top + Math.floor(next() * VISIBLE_LINES);
      lines.lines[line] = `${lines.lines[line]}x`;
      lines.reindex(); // the editor's own bookkeeping of line offsets: it does this whatever we draw, so not timed
    }
    workerMs = 0;
    const started = performance.now();
    const blocks = detectBlocks(lines, symbols, { firstLine: top - MARGIN, lastLine: top + VISIBLE_LINES + MARGIN });
    const result = await countBlocks(blocks, (block) => lines.textOf(block), ['o200k_base'], cache, counter);
    const labels = blocks.map((block, index) => blockCostLabel({ chosenCount: result.counts[index].o200k_base, chosenTokenizer: 'o200k_base', referenceCount: result.counts[index].o200k_base, reference }).text);
    // Host time: everything but the worker's counting.
    const totalMs = performance.now() - started;
    if (keystroke < 0 || labels.length === 0) continue;
    host.push(totalMs - workerMs);
    worker.push(workerMs);
    blocksShown += blocks.length;
    const all = performance.now();
    for (const block of blocks) tokenizer.count(lines.textOf(block));
    uncached.push(performance.now() - all);
  }
  const row = {
    file: name,
    lines: lines.lineCount,
    blocksPerRedraw: Math.round((blocksShown / host.length) * 10) / 10,
    hostMedianMs: Math.round(percentile(host, 0.5) * 100) / 100,
    hostP95Ms: Math.round(percentile(host, 0.95) * 100) / 100,
    workerMedianMs: Math.round(percentile(worker, 0.5) * 100) / 100,
    recountAllVisibleMedianMs: Math.round(percentile(uncached, 0.5) * 100) / 100,
    goalMs: 16,
  };
  return row;
}

async function main(): Promise<void> {
  const compiler = readFileSync(join(root, 'node_modules/typescript/lib/typescript.js'), 'utf8').split('\n').slice(0, 10_000);
  const generated: string[] = [];
  const symbols: SymbolData[] = [];
  for (let fn = 0; fn < 1000; fn++) {
    symbols.push({ name: `step${fn}`, kind: 'function', startLine: generated.length, endLine: generated.length + 8 });
    generated.push(`export function step${fn}(input: number[], scale = ${fn}): number[] {`, '  const out: number[] = [];', '  for (const value of input) {', `    if (value % ${(fn % 7) + 2} === 0) continue;`, '    out.push(value * scale + 1);', '  }', `  // step ${fn} of the pipeline`, '  return out;', '}', '');
  }
  const rows = [await run('typescript.js (paragraphs)', new Lines(compiler), undefined), await run('generated (1,000 function symbols)', new Lines(generated), symbols)];
  console.log(`Cost decorations after a keystroke, 10,000-line files, ${KEYSTROKES} keystrokes each (load average ${loadavg()[0].toFixed(1)}):`);
  console.table(rows);
  for (const row of rows) console.log(`${row.file}: host ${row.hostMedianMs} ms median, ${row.hostP95Ms} ms p95 (goal < 16 ms: ${Number(row.hostP95Ms) < 16 ? 'met' : 'NOT met'}); worker ${row.workerMedianMs} ms for the changed block vs ${row.recountAllVisibleMedianMs} ms to count every visible block (${(Number(row.recountAllVisibleMedianMs) / Math.max(0.001, Number(row.workerMedianMs))).toFixed(1)}x)`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'cost.json'), JSON.stringify({ loadAverage: loadavg()[0], rows }, null, 2));
}

void main();
