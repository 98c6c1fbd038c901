import type * as vscode from 'vscode';
import type { ChatBackend, ChatBackendInfo, ChatGenerateRequest, ChatMessage, ChatStreamEvent, ThinkingMode } from '../../core/chat/backend';
import { serverName } from '../../core/openai/client';
import type { RemoteChatBackend } from '../../core/openai/remoteChatBackend';
import type { ServerService } from '../servers/serverService';

/**
 * Chat on a server (`tokenscope.chat.backend: server`): the core's RemoteChatBackend, with the
 * editor's part around it: the connection (API key from SecretStorage, headers, proxy) is made on
 * first use, and nothing is sent to a server off this machine before the user allowed it.
 */
export class ServerChatBackend implements ChatBackend {
  private inner: RemoteChatBackend | undefined;
  private readonly ready: Promise<RemoteChatBackend>;

  constructor(
    private readonly servers: ServerService,
    private readonly baseUrl: string,
    private readonly model: string,
    log: vscode.LogOutputChannel,
    /** Called once the server said what the model can do (context window, thinking): the chat header refreshes. */
    onResolved: () => void,
  ) {
    this.ready = servers.chatBackend(baseUrl, { model, log: (message) => log.warn(message) }).then((inner) => {
      this.inner = inner;
      return inner;
    });
    void this.ready
      .then((inner) => inner.resolve())
      .then(
        () => onResolved(),
        (error: unknown) => log.warn(`Chat server ${serverName(baseUrl)}: ${error instanceof Error ? error.message : String(error)}`),
      );
  }

  get info(): ChatBackendInfo {
    return this.inner?.info ?? { label: `${this.model || 'model'} @ ${serverName(this.baseUrl)}`, canChat: true, supportsThinking: false, contextWindow: 0 };
  }

  async countTokens(text: string): Promise<number> {
    return (await this.ready).countTokens(text);
  }

  async countPromptTokens(messages: readonly ChatMessage[], thinking: ThinkingMode): Promise<number> {
    return (await this.ready).countPromptTokens(messages, thinking);
  }

  async *generate(request: ChatGenerateRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    await this.servers.ensureAllowed(this.baseUrl, true);
    yield* (await this.ready).generate(request, signal);
  }
}
