import { RemoteChatBackend, type RemoteChatOptions } from '../../core/openai/remoteChatBackend';
import { ServerConnection, type ServerConnectionOptions } from '../../core/openai/server';
import { TokenizerRegistry } from '../../core/tokenizers/registry';

// Loaded on first use (lazyModule 'servers'): a server's connection brings the OpenAI client and the
// tokenizer code that token-id prompts need, which activation should not compile.

let registry: TokenizerRegistry | undefined;

/** A connection to one server, with the shipped tokenizers for models named after their family. */
export function createServerConnection(extensionPath: string, options: Omit<ServerConnectionOptions, 'tokenizers'>): ServerConnection {
  registry ??= new TokenizerRegistry({ rootDir: extensionPath });
  return new ServerConnection({ ...options, tokenizers: registry });
}

/** Chat on a server's model, over a connection made by createServerConnection. */
export function createRemoteChatBackend(options: RemoteChatOptions): RemoteChatBackend {
  return new RemoteChatBackend(options);
}
