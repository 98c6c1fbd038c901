import type { ChatBackend } from '../../core/chat/backend';
import { RuntimeChatBackend, type ChatRuntime } from '../../core/chat/runtimeChatBackend';
import type { ModelService } from '../modelService';
import { modelLabel } from '../modelCommands';

/** ModelService (the one model process of the extension) seen through chat's narrow interface. */
export function chatRuntimeFrom(models: ModelService): ChatRuntime {
  return {
    get loadedModel() {
      return models.client.model;
    },
    ensureLoaded: () => models.ensureLoaded(),
    encodePrompt: (prompt, signal) => models.client.encodePrompt(prompt, signal),
    generate: (request, signal) => models.client.generate(request, signal),
  };
}

/** Chat with a model folder, through the shared model process (the same one completions use). */
export function createRuntimeChatBackend(model: string, runtime: ChatRuntime): ChatBackend {
  return new RuntimeChatBackend(model, modelLabel(model), runtime);
}
