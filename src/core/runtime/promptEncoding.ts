/**
 * A request's prompt as the token ids the model is fed (chat template applied), from the model's
 * tokenizer and folder alone: LocalModel uses it, and so does `tokenscope serve`, which keeps a
 * tokenizer copy beside its model process so it can check and count prompts without a round trip.
 */
import { ModelError } from '../models/errors';
import { tokenString, type ModelFolder } from '../models/modelFolder';
import { encodeChat } from '../prompt/chatTemplate';
import type { ModelTokenizer } from '../tokenizers/types';
import type { ModelInfo, PromptInput } from './types';

export interface PromptEncodingModel {
  readonly info: Pick<ModelInfo, 'label' | 'dir' | 'vocabSize'>;
  readonly tokenizer: ModelTokenizer;
  readonly folder: Pick<ModelFolder, 'chatTemplate' | 'tokenizerConfig'>;
}

/** Prompt token ids of a request's prompt (before context-window truncation). */
export function encodePromptInput(model: PromptEncodingModel, prompt: PromptInput): number[] {
  const { info, tokenizer, folder } = model;
  switch (prompt.kind) {
    case 'text':
      return tokenizer.encode(prompt.text);
    case 'tokens':
      for (const id of prompt.ids) {
        if (!Number.isInteger(id) || id < 0 || id >= info.vocabSize) throw new RangeError(`Prompt token id ${id} is outside the vocabulary (0..${info.vocabSize - 1}).`);
      }
      return [...prompt.ids];
    case 'chat': {
      if (!folder.chatTemplate) {
        throw new ModelError('invalid-config', `${info.label} has no chat template (tokenizer_config.json "chat_template"): it is not a chat model. Use it for completions, or choose an instruct model.`, `${info.dir}/tokenizer_config.json`);
      }
      return encodeChat(tokenizer, folder.chatTemplate, {
        messages: prompt.messages,
        addGenerationPrompt: prompt.addGenerationPrompt ?? true,
        variables: prompt.variables,
        bosToken: tokenString(folder.tokenizerConfig.bos_token),
        eosToken: tokenString(folder.tokenizerConfig.eos_token),
      }).ids;
    }
  }
}
