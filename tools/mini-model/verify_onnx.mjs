// Verifies models/tokenscope-mini/onnx/model.onnx with onnxruntime-node (the extension's runtime):
//  1. logits equal PyTorch's (work/onnx_ref.json, written by export.py) within 1e-4, empty KV cache;
//  2. cached generation (prefill, then one token at a time with past_key_values) gives the same
//     logits as one uncached pass over the whole sequence;
//  3. greedy generation speed (tokens/s) on "def fibonacci(n):" with the KV cache.
// Usage: node tools/mini-model/verify_onnx.mjs [--threads N]   (exit code 1 on any mismatch)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const here = dirname(fileURLToPath(import.meta.url));
const dirArg = process.argv.indexOf('--dir');
const modelDir = dirArg > 0 ? process.argv[dirArg + 1] : join(here, '..', '..', 'models', 'tokenscope-mini');
const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 2;
const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));
const layers = config.num_hidden_layers;
const kvHeads = config.num_key_value_heads;
const headDim = config.hidden_size / config.num_attention_heads;
const vocab = config.vocab_size;
const TOL = 1e-4;

const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'), {
  intraOpNumThreads: threads,
  graphOptimizationLevel: 'all',
});

const i64 = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);

/** One forward pass. `past` is null (empty cache) or the previous call's presents. */
async function forward(ids, pastLen, past) {
  const b = ids.length;
  const s = ids[0].length;
  const feeds = {
    input_ids: i64(ids),
    attention_mask: i64(ids.map(() => Array(pastLen + s).fill(1))),
    position_ids: i64(ids.map(() => Array.from({ length: s }, (_, k) => pastLen + k))),
  };
  for (let i = 0; i < layers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] = past
        ? past[`present.${i}.${kind}`]
        : new ort.Tensor('float32', new Float32Array(0), [b, kvHeads, 0, headDim]);
    }
  }
  return session.run(feeds);
}

let failures = 0;
const ref = JSON.parse(readFileSync(join(here, 'work', 'onnx_ref.json'), 'utf8'));
const full = await forward(ref.input_ids, 0, null);
let maxDiff = 0;
const L = full.logits.data;
ref.logits.forEach((seq, bi) => seq.forEach((row, si) => row.forEach((v, vi) => {
  const d = Math.abs(L[(bi * seq.length + si) * vocab + vi] - v);
  if (d > maxDiff) maxDiff = d;
})));
console.log(`onnx vs pytorch: max |logit diff| = ${maxDiff.toExponential(2)} over ${ref.input_ids.length}x${ref.input_ids[0].length} tokens`);
if (!(maxDiff <= TOL)) failures++;

// Cached vs uncached on the first reference sequence.
const seq = ref.input_ids[0];
const split = 48;
let out = await forward([seq.slice(0, split)], 0, null);
let cacheDiff = 0;
const compareRow = (logits, row, pos) => {
  for (let v = 0; v < vocab; v++) {
    const d = Math.abs(logits[row * vocab + v] - L[pos * vocab + v]);
    if (d > cacheDiff) cacheDiff = d;
  }
};
for (let p = 0; p < split; p++) compareRow(out.logits.data, p, p);
for (let p = split; p < seq.length; p++) {
  out = await forward([[seq[p]]], p, out);
  compareRow(out.logits.data, 0, p);
}
console.log(`cached vs uncached: max |logit diff| = ${cacheDiff.toExponential(2)} (prefill ${split}, then ${seq.length - split} single steps)`);
if (!(cacheDiff <= TOL)) failures++;

// Generation speed with the KV cache.
const tok = new Tokenizer(
  JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')),
  JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')),
);
const prompt = 'def fibonacci(n):';
const ids = tok.encode(prompt).ids;
const argmax = (data, row) => {
  let best = 0;
  for (let v = 1; v < vocab; v++) if (data[row * vocab + v] > data[row * vocab + best]) best = v;
  return best;
};
const t0 = performance.now();
out = await forward([ids], 0, null);
const tPrefill = performance.now();
const gen = [];
let next = argmax(out.logits.data, ids.length - 1);
const N = 64;
for (let k = 0; k < N; k++) {
  gen.push(next);
  out = await forward([[next]], ids.length + k, out);
  next = argmax(out.logits.data, 0);
}
const t1 = performance.now();
const tps = N / ((t1 - tPrefill) / 1000);
console.log(`generation: ${tps.toFixed(0)} tokens/s (${threads} threads, prefill ${ids.length} tokens ${(tPrefill - t0).toFixed(1)} ms)`);
console.log(JSON.stringify(prompt + tok.decode(gen, { skip_special_tokens: false })));
console.log(failures ? `FAILED (${failures})` : 'OK');
process.exit(failures ? 1 : 0);
