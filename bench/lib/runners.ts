/**
 * The runtimes the runtime benchmark compares, behind one shape: Tokenscope's LocalModel,
 * transformers.js (same onnxruntime-node, same ONNX file) and llama.cpp (node-llama-cpp's prebuilt
 * CPU build, the same weights as GGUF). Each generates exactly N tokens greedily and stamps every
 * token as it arrives.
 */
import { resolve } from 'node:path';
import type { Tensor as TjsTensor } from '@huggingface/transformers';
import { LocalModel } from '../../src/core/runtime/localModel';
import type { GenerateRequest } from '../../src/core/runtime/types';

export interface RunResult {
  /** ms from the call to the first generated token. */
  readonly firstTokenMs: number;
  /** ms from the call to the last token. */
  readonly totalMs: number;
  readonly generated: number;
  /** Decode tokens/s after the first token. */
  readonly decodeTokensPerSecond: number;
  /** ms between consecutive tokens (the decode steps). */
  readonly intervals: number[];
  readonly ids: number[];
}

export interface Prompt {
  readonly ids?: readonly number[];
  readonly text?: string;
}

export interface Runner {
  readonly name: string;
  /** Generates exactly `newTokens` tokens greedily after `prompt` (ids, or text each runtime tokenizes itself). */
  run(prompt: Prompt, newTokens: number, reuse: boolean): Promise<RunResult>;
  dispose(): Promise<void>;
}

export function summarize(started: number, stamps: number[], ids: number[]): RunResult {
  const generated = stamps.length;
  const decodeMs = stamps[generated - 1] - stamps[0];
  const intervals = stamps.slice(1).map((stamp, i) => stamp - stamps[i]);
  return { firstTokenMs: stamps[0] - started, totalMs: stamps[generated - 1] - started, generated, decodeTokensPerSecond: generated > 1 ? ((generated - 1) * 1000) / decodeMs : 0, intervals, ids };
}

/**
 * Pause before each run, so worker threads that spin-wait after a pass (ONNX Runtime's and
 * llama.cpp's both do) have gone idle before the next runtime starts on the same 2 cores.
 */
const SETTLE_MS = 100;

/** Runs `work` for each runner `reps` times, alternating the order, so background load hits all alike. */
export async function interleaved<T>(runners: readonly Runner[], reps: number, work: (runner: Runner, rep: number) => Promise<T>): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(runners.map((runner) => [runner.name, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? runners : [...runners].reverse();
    for (const runner of order) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      results.get(runner.name)!.push(await work(runner, rep));
    }
  }
  return results;
}

export async function tokenscopeRunner(dir: string, options: { packageRoot: string; threads: number; variant: 'q4' | 'fp32'; matmulPrecision?: 'fast' | 'exact'; name?: string }): Promise<Runner & { model: LocalModel }> {
  const model = await LocalModel.load({ model: dir, variant: options.variant, threads: options.threads, matmulPrecision: options.matmulPrecision ?? 'fast' }, { packageRoot: options.packageRoot });
  return {
    name: options.name ?? 'tokenscope',
    model,
    async run(prompt, newTokens, reuse) {
      const request: GenerateRequest = {
        prompt: prompt.ids ? { kind: 'tokens', ids: prompt.ids } : { kind: 'text', text: prompt.text ?? '' },
        maxTokens: newTokens,
        sampling: { temperature: 0 },
        ignoreEos: true,
        reuseCache: reuse,
      };
      const stamps: number[] = [];
      const ids: number[] = [];
      const started = performance.now();
      for await (const event of model.generate(request)) {
        if (event.type === 'token') {
          stamps.push(performance.now());
          ids.push(event.id);
        }
      }
      return summarize(started, stamps, ids);
    },
    dispose: () => model.dispose(),
  };
}

interface TjsModel {
  generate(options: Record<string, unknown>): Promise<unknown>;
  dispose(): Promise<unknown>;
}
interface TjsTokenizer {
  (text: string): { input_ids: TjsTensor; attention_mask: TjsTensor };
}

/** transformers.js on the same ONNX file: it keeps no cache between calls (every prompt is run in full). */
export async function transformersRunner(dir: string, options: { threads: number; dtype: 'q4' | 'fp32' }): Promise<Runner> {
  const { AutoModelForCausalLM, AutoTokenizer, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = `${resolve(dir, '..')}/`;
  const name = resolve(dir).split('/').pop()!;
  const model = (await AutoModelForCausalLM.from_pretrained(name, { dtype: options.dtype, device: 'cpu', session_options: { intraOpNumThreads: options.threads } })) as unknown as TjsModel;
  const tokenizer = (await AutoTokenizer.from_pretrained(name)) as unknown as TjsTokenizer;
  return {
    name: 'transformers.js',
    async run(prompt, newTokens) {
      const started = performance.now();
      let inputs: { input_ids: TjsTensor; attention_mask: TjsTensor };
      if (prompt.ids) {
        const ids = BigInt64Array.from(prompt.ids.map((id) => BigInt(id)));
        inputs = { input_ids: new Tensor('int64', ids, [1, ids.length]), attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]) };
      } else {
        inputs = tokenizer(prompt.text ?? '');
      }
      const stamps: number[] = [];
      const ids: number[] = [];
      let promptSeen = false;
      const streamer = {
        put: (value: bigint[][]) => {
          // The first put is the prompt; every later one a generated token.
          if (!promptSeen) {
            promptSeen = true;
            return;
          }
          stamps.push(performance.now());
          ids.push(Number(value[0][0]));
        },
        end: () => undefined,
      };
      await model.generate({ ...inputs, max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false, streamer });
      return summarize(started, stamps, ids);
    },
    dispose: async () => {
      await model.dispose();
    },
  };
}
