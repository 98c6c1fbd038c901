/**
 * The tokenizers Tokenscope offers, by the id used in settings and the CLI: names and descriptions
 * only, no loaders, so the extension host can list them without bundling the tokenizer code (which
 * runs in the tokenizer worker). The registry (registry.ts) loads them.
 */

export interface TokenizerDescriptor {
  readonly id: string;
  readonly label: string;
  /** True where counts only approximate the real tokenizer. */
  readonly estimate: boolean;
  /** One line for pickers: which models use it. */
  readonly description: string;
}

/** The id of the active local model's own tokenizer. */
export const MODEL_TOKENIZER_ID = 'model';

export const BUILTIN_TOKENIZERS: readonly TokenizerDescriptor[] = [
  { id: 'mini', label: 'Tokenscope mini', estimate: false, description: 'The built-in model (8k byte-level BPE)' },
  { id: 'qwen2.5', label: 'Qwen2.5 / Qwen3', estimate: false, description: 'Qwen2.5(-Coder), Qwen3, DeepSeek-R1-Distill-Qwen (151k)' },
  { id: 'llama3', label: 'Llama 3', estimate: false, description: 'Llama 3, 3.1, 3.2, 3.3 (128k)' },
  { id: 'deepseek-v3', label: 'DeepSeek-V3 / R1', estimate: false, description: 'DeepSeek-V3, DeepSeek-R1 API models (128k)' },
  { id: 'o200k_base', label: 'OpenAI o200k_base', estimate: false, description: 'GPT-4o, GPT-4.1, o1/o3/o4, GPT-5 (200k)' },
  { id: 'cl100k_base', label: 'OpenAI cl100k_base', estimate: false, description: 'GPT-4, GPT-4 Turbo, GPT-3.5 (100k)' },
  { id: 'claude', label: 'Claude (estimate)', estimate: true, description: 'Legacy Claude 2 tokenizer: current Claude models differ, an estimate only' },
];
