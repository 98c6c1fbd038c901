// Step 5: evaluates the SHIPPED model (models/tokenscope-mini, ONNX + tokenizer) on the held-out files
// (work/corpus/eval.jsonl, rebuilt by `corpus.py` in seconds) with onnxruntime-node, the extension's
// runtime. Writes work/eval.json, which card.py turns into the model card.
//  - bits per byte: -log2 p(token) summed over every held-out file, divided by its UTF-8 bytes;
//    baseline: a unigram model of the training split's token counts (work/data/unigram.json).
//  - single-line fill-in-the-middle: --lines-per-file lines of each file masked, one at a time
//    (deterministic choice, distinct lines), the model sees
//    <|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|> and decodes greedily to the first newline;
//    baseline: the same model with the prefix only (plain next-token completion, no suffix).
//    Exact match and edit similarity compare trimmed lines.
// Usage: node tools/mini-model/eval.mjs [--threads 2] [--fim-cases 120] [--max-new 40]
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const here = dirname(fileURLToPath(import.meta.url));
const dirArg = process.argv.indexOf('--dir');
const modelDir = dirArg > 0 ? process.argv[dirArg + 1] : join(here, '..', '..', 'models', 'tokenscope-mini');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const threads = arg('threads', 2);
const fimCases = arg('fim-cases', 400);
const linesPerFile = arg('lines-per-file', 3);
const maxNew = arg('max-new', 40);
const PREFIX_TOKENS = arg('prefix-tokens', 320);
const SUFFIX_TOKENS = arg('suffix-tokens', 128);
// --fim-only: skip bits per byte and samples; FIM figures go to work/eval-fim-trial.json (for trials).
const fimOnly = process.argv.includes('--fim-only');

const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));
const { num_hidden_layers: layers, num_key_value_heads: kvHeads, vocab_size: vocab } = config;
const headDim = config.hidden_size / config.num_attention_heads;
const ctx = config.max_position_embeddings;
const tok = new Tokenizer(
  JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')),
  JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')),
);
const special = (s) => {
  const id = tok.token_to_id(s);
  if (id === undefined || id === null) throw new Error(`tokenizer lacks ${s}`);
  return id;
};
const EOT = special('<|endoftext|>');
const PRE = special('<|fim_prefix|>');
const SUF = special('<|fim_suffix|>');
const MID = special('<|fim_middle|>');
const STOP = new Set(['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'].map(special));

let evalPath = join(here, 'work', 'corpus', 'eval.jsonl');
let docs;
try {
  docs = readFileSync(evalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
} catch {
  console.error(`Cannot read ${evalPath}: run "/usr/bin/python3 tools/mini-model/corpus.py" first.`);
  process.exit(2);
}
docs.sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
const maxFiles = arg('max-files', 0); // for quick trials only: the model card uses all files
if (maxFiles > 0) docs = docs.slice(0, maxFiles);

const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'), { intraOpNumThreads: threads });
const i64 = (row) => new ort.Tensor('int64', BigInt64Array.from(row.map(BigInt)), [1, row.length]);
async function forward(ids, pastLen, past) {
  const feeds = {
    input_ids: i64(ids),
    attention_mask: i64(Array(pastLen + ids.length).fill(1)),
    position_ids: i64(ids.map((_, k) => pastLen + k)),
  };
  for (let i = 0; i < layers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] = past ? past[`present.${i}.${kind}`] : new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
    }
  }
  return session.run(feeds);
}
const logSoftmaxAt = (data, row, target) => {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, data[row * vocab + v]);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(data[row * vocab + v] - max);
  return data[row * vocab + target] - max - Math.log(sum);
};

// 1. Bits per byte over all held-out files, windows of `ctx` tokens overlapping by one token.
const t0 = performance.now();
const bpbDocs = fimOnly ? [] : docs;
let nats = 0;
let bytes = 0;
let tokens = 0;
const unigram = JSON.parse(readFileSync(join(here, 'work', 'data', 'unigram.json'), 'utf8')).counts;
const uniTotal = unigram.reduce((a, b) => a + b, 0) + unigram.length;
let uniNats = 0;
for (const d of bpbDocs) {
  const ids = [EOT, ...tok.encode(d.text).ids];
  bytes += Buffer.byteLength(d.text, 'utf8');
  tokens += ids.length - 1;
  for (let s = 0; s + 1 < ids.length; s += ctx - 1) {
    const win = ids.slice(s, s + ctx);
    const out = await forward(win, 0, null);
    for (let k = 0; k + 1 < win.length; k++) nats -= logSoftmaxAt(out.logits.data, k, win[k + 1]);
  }
  for (let k = 1; k < ids.length; k++) uniNats -= Math.log((unigram[ids[k]] + 1) / uniTotal);
}
const bpb = nats / Math.LN2 / bytes;
const uniBpb = uniNats / Math.LN2 / bytes;
if (!fimOnly) console.log(`held-out: ${docs.length} files, ${bytes} bytes, ${tokens} tokens: ${bpb.toFixed(3)} bits/byte (${(nats / tokens).toFixed(3)} nats/token); unigram ${uniBpb.toFixed(3)} bits/byte (${((performance.now() - t0) / 1000).toFixed(0)} s)`);

// 2. Single-line FIM vs prefix-only.
async function greedyLine(prompt) {
  let out = await forward(prompt, 0, null);
  let row = prompt.length - 1;
  const gen = [];
  let text = '';
  let logprob = 0; // of every token chosen, the stop token included: the model's confidence in the line
  let scored = 0;
  for (let k = 0; k < maxNew; k++) {
    let best = 0;
    const data = out.logits.data;
    for (let v = 1; v < vocab; v++) if (data[row * vocab + v] > data[row * vocab + best]) best = v;
    logprob += logSoftmaxAt(data, row, best);
    scored += 1;
    if (STOP.has(best)) break;
    gen.push(best);
    text = tok.decode(gen, { skip_special_tokens: false });
    if (text.includes('\n') || prompt.length + gen.length >= ctx) break;
    out = await forward([best], prompt.length + gen.length - 1, out);
    row = 0;
  }
  const nl = text.indexOf('\n');
  return { text: nl >= 0 ? text.slice(0, nl) : text, tokens: gen.length, meanLogprob: scored ? logprob / scored : 0 };
}
function levenshtein(a, b) {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
const editSim = (a, b) => (a.length || b.length ? 1 - levenshtein(a, b) / Math.max(a.length, b.length) : 1);

const cases = [];
for (const d of docs) {
  const lines = d.text.split('\n');
  const candidates = [];
  for (let i = 3; i < lines.length - 3; i++) {
    const t = lines[i].trim();
    if (t.length >= 4 && t.length <= 100) candidates.push(i);
  }
  if (!candidates.length) continue;
  // Deterministic picks: hashes of the path (and the pick's number) choose distinct lines.
  const picks = new Set();
  for (let k = 0; picks.size < Math.min(linesPerFile, candidates.length) && k < 50; k++) {
    picks.add(candidates[createHash('sha256').update(k === 0 ? d.path : `${d.path}#${k}`).digest().readUInt32BE(0) % candidates.length]);
  }
  for (const pick of picks) {
    const prefix = lines.slice(0, pick).join('\n') + '\n';
    const suffix = '\n' + lines.slice(pick + 1).join('\n');
    cases.push({ path: d.path, line: pick + 1, target: lines[pick], prefix, suffix });
  }
  if (cases.length >= fimCases) break;
}
const t1 = performance.now();
const results = [];
let genTokens = 0;
let genMs = 0;
for (const c of cases) {
  const pre = tok.encode(c.prefix).ids.slice(-PREFIX_TOKENS);
  const suf = tok.encode(c.suffix).ids.slice(0, SUFFIX_TOKENS);
  const ts = performance.now();
  const fim = await greedyLine([PRE, ...pre, SUF, ...suf, MID]);
  genMs += performance.now() - ts;
  genTokens += fim.tokens;
  const plain = await greedyLine([EOT, ...pre]);
  const target = c.target.trim();
  results.push({
    path: c.path, line: c.line, target: c.target,
    fim: fim.text, fim_exact: fim.text.trim() === target, fim_edit_sim: editSim(fim.text.trim(), target), fim_mean_logprob: fim.meanLogprob,
    prefix_only: plain.text, prefix_only_exact: plain.text.trim() === target, prefix_only_edit_sim: editSim(plain.text.trim(), target),
  });
}
const mean = (k) => results.reduce((a, r) => a + Number(r[k]), 0) / results.length;
const fimSummary = {
  cases: results.length, files: new Set(results.map((r) => r.path)).size, lines_per_file: linesPerFile, prefix_tokens: PREFIX_TOKENS, suffix_tokens: SUFFIX_TOKENS, max_new_tokens: maxNew,
  fim_exact_match: mean('fim_exact'), fim_edit_similarity: mean('fim_edit_sim'),
  prefix_only_exact_match: mean('prefix_only_exact'), prefix_only_edit_similarity: mean('prefix_only_edit_sim'),
};
console.log(`single-line FIM on ${results.length} held-out lines of ${fimSummary.files} files: EM ${(100 * fimSummary.fim_exact_match).toFixed(1)}%, edit sim ${fimSummary.fim_edit_similarity.toFixed(3)}; prefix-only EM ${(100 * fimSummary.prefix_only_exact_match).toFixed(1)}%, edit sim ${fimSummary.prefix_only_edit_similarity.toFixed(3)} (${((performance.now() - t1) / 1000).toFixed(0)} s)`);

if (fimOnly) {
  writeFileSync(join(here, 'work', 'eval-fim-trial.json'), JSON.stringify({ fim: fimSummary, fim_results: results }, null, 1));
  console.log('wrote tools/mini-model/work/eval-fim-trial.json');
  process.exit(0);
}

// 3. Free generations for the model card, with speed.
const prompts = ['def fibonacci(n):\n', 'import os\n\ndef list_files(path):\n', 'export function add(a: number, b: number): number {\n', 'class Stack:\n    def __init__(self):\n'];
const samples = [];
let speed = null;
for (const p of prompts) {
  const ids = tok.encode(p).ids;
  let out = await forward(ids, 0, null);
  let row = ids.length - 1;
  const gen = [];
  const ts = performance.now();
  for (let k = 0; k < 48; k++) {
    let best = 0;
    const data = out.logits.data;
    for (let v = 1; v < vocab; v++) if (data[row * vocab + v] > data[row * vocab + best]) best = v;
    if (STOP.has(best)) break;
    gen.push(best);
    out = await forward([best], ids.length + gen.length - 1, out);
    row = 0;
  }
  const ms = performance.now() - ts;
  if (!speed) speed = { tokens: gen.length, ms };
  samples.push({ prompt: p, completion: tok.decode(gen, { skip_special_tokens: false }) });
}
const tokensPerSecond = (1000 * speed.tokens) / speed.ms;
console.log(`generation: ${tokensPerSecond.toFixed(0)} tokens/s greedy with KV cache, ${threads} threads`);
const report = {
  heldout: { files: docs.length, bytes, tokens, bits_per_byte: bpb, nats_per_token: nats / tokens, unigram_bits_per_byte: uniBpb },
  fim: fimSummary, fim_results: results, samples, generation_tokens_per_second: tokensPerSecond, threads,
};
writeFileSync(join(here, 'work', 'eval.json'), JSON.stringify(report, null, 1));
console.log('wrote tools/mini-model/work/eval.json');
