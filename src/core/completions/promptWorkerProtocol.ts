import type { FimFamily } from './fimTemplates';
import type { PromptIds, PromptRequest } from './promptBuilder';

/** Messages from the extension host to the prompt worker (worker_threads; plain data). */
export type PromptWorkerRequest =
  /** Loads the tokenizer of a model folder and chooses the template (sent once per worker). */
  | { readonly type: 'load'; readonly dir: string; readonly family: FimFamily; readonly supportsRepoContext: boolean }
  | { readonly type: 'build'; readonly id: number; readonly request: PromptRequest };

export type PromptWorkerReply =
  | { readonly type: 'loaded'; readonly loadMs: number }
  | { readonly type: 'built'; readonly id: number; readonly prompt: PromptIds }
  /** `id` absent: the load failed. */
  | { readonly type: 'error'; readonly id?: number; readonly message: string };
