/**
 * llama.cpp as a benchmark runner, through node-llama-cpp (pinned 3.21.1, installed on first use
 * into .cache/bench-deps by tools/bench-deps.mjs, this platform's CPU build only): its prebuilt
 * binary, loaded with `build: "never"` so a missing or unloadable binary is an error here, never a
 * download or a compile. Greedy (temperature 0), no repetition penalty, the same thread count as
 * Tokenscope; prompts as token ids, or text tokenized by llama.cpp's own tokenizer from the GGUF
 * vocabulary. With `reuse`, the cached prefix shared with the previous prompt is kept (what
 * llama-server's prompt cache and llama.vscode do while typing).
 */
import { ensureNodeLlamaCpp } from '../../tools/bench-deps.mjs';
import { summarize, type Runner } from './runners';

// The part of node-llama-cpp's API this runner uses (its own types live with the package, which
// `npm ci` does not install; these follow its 3.21.1 declarations).
type Token = number & { readonly __token?: never };
interface LlamaContextSequence {
  readonly nextTokenIndex: number;
  clearHistory(): Promise<void>;
  compareContextTokens(tokens: readonly Token[]): { firstDifferentIndex: number };
  eraseContextTokenRanges(ranges: readonly { start: number; end: number }[]): Promise<void>;
  evaluate(tokens: readonly Token[], options: { temperature: number }): AsyncIterable<Token>;
}
interface LlamaContext {
  getSequence(): LlamaContextSequence;
  dispose(): Promise<void>;
}
interface LlamaModel {
  tokenize(text: string): Token[];
  createContext(options: { contextSize: number; batchSize: number; sequences: number; threads: { ideal: number; min: number }; flashAttention: boolean }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
interface Llama {
  readonly llamaCppRelease: { readonly release: string };
  readonly buildType: string;
  readonly systemInfo: string;
  loadModel(options: { modelPath: string; gpuLayers: number }): Promise<LlamaModel>;
}
interface NodeLlamaCpp {
  getLlama(options: { gpu: false; build: 'never'; skipDownload: boolean; progressLogs: boolean; logLevel: unknown; maxThreads: number }): Promise<Llama>;
  readonly LlamaLogLevel: { readonly error: unknown };
}

export interface LlamaCppRunner extends Runner {
  /** llama.cpp's tokenization of text (to check it against Tokenscope's). */
  tokenize(text: string): number[];
  /** The build the binding loaded (llama.cpp release, CPU features). */
  readonly build: string;
}

let shared: Promise<Llama> | undefined;

async function llama(threads: number): Promise<Llama> {
  const { getLlama, LlamaLogLevel } = (await import(ensureNodeLlamaCpp())) as NodeLlamaCpp;
  shared ??= getLlama({ gpu: false, build: 'never', skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error, maxThreads: threads });
  return shared;
}

export async function llamaCppRunner(ggufPath: string, options: { threads: number; contextSize: number; name?: string }): Promise<LlamaCppRunner> {
  const instance = await llama(options.threads);
  const model: LlamaModel = await instance.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
  // One sequence; batch 512 (llama.cpp's default ubatch), flash attention off (its CPU default).
  const context: LlamaContext = await model.createContext({ contextSize: options.contextSize, batchSize: 512, sequences: 1, threads: { ideal: options.threads, min: options.threads }, flashAttention: false });
  const sequence: LlamaContextSequence = context.getSequence();
  return {
    name: options.name ?? 'llama.cpp',
    build: `llama.cpp ${instance.llamaCppRelease.release} (${instance.buildType}); ${instance.systemInfo.trim()}`,
    tokenize: (text) => model.tokenize(text).map(Number),
    async run(prompt, newTokens, reuse) {
      const started = performance.now();
      let ids = (prompt.ids ? [...prompt.ids] : model.tokenize(prompt.text ?? '').map(Number)) as Token[];
      if (!reuse) {
        await sequence.clearHistory();
      } else {
        // Keep the shared prefix, but always evaluate at least the last prompt token (for its logits).
        const keep = Math.min(sequence.compareContextTokens(ids).firstDifferentIndex, ids.length - 1);
        if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
        ids = ids.slice(keep);
      }
      const stamps: number[] = [];
      const out: number[] = [];
      for await (const token of sequence.evaluate(ids, { temperature: 0 })) {
        stamps.push(performance.now());
        out.push(Number(token));
        if (out.length >= newTokens) break;
      }
      return summarize(started, stamps, out);
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}
