import * as vscode from 'vscode';
import { isLoopbackHost, normalizeBaseUrl, serverName } from '../../core/openai/client';
import type { RemoteChatBackend, RemoteChatOptions } from '../../core/openai/remoteChatBackend';
import type { ServerConnection } from '../../core/openai/server';
import { affectsSetting, readConfig, type TokenscopeConfig } from '../config';
import { lazyModule } from '../lazyModule';


const recentKey = 'tokenscope.server.recent';
const allowedKey = 'tokenscope.server.allowedOrigins';
const secretKey = (baseUrl: string) => `tokenscope.server.apiKey:${new URL(baseUrl).origin}`;

/** Raised when code would go to a server the user has not allowed (yet); the message says where to allow it. */
export class ConsentNeededError extends Error {
  constructor(readonly baseUrl: string) {
    super(`Tokenscope has not sent code to ${serverName(baseUrl)}: that server is not on this machine and you have not allowed it yet. Allow it in the notification, or run "Tokenscope: Connect to a Server…" again.`);
    this.name = 'ConsentNeededError';
  }
}

/**
 * The servers the editor talks to: one ServerConnection per base URL (with its API key from
 * SecretStorage, the extra headers, the editor's proxy), the "send code to this server?" consent
 * kept per server, and the recently used servers.
 */
export class ServerService implements vscode.Disposable {
  private readonly connections = new Map<string, ServerConnection>();
  /** The connection code (OpenAI client, tokenizers) loads with the first connection, not at activation. */
  private readonly connectionModule: () => typeof import('./connections');
  private readonly changes = new vscode.EventEmitter<void>();
  /** Fires when a connection was rebuilt (key, headers, proxy changed): backends built on it must be rebuilt. */
  readonly onDidChange = this.changes.event;
  private readonly consentAsked = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.connectionModule = lazyModule<typeof import('./connections')>(context.extensionPath, 'servers');
    context.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsSetting(event, 'server')) this.reset();
        // A local model was chosen (Choose Model…) while a feature still uses a server: say so, offer to switch.
        if (affectsSetting(event, 'model')) {
          const config = readConfig();
          const onServer = [config.completions.backend === 'server' ? 'completions' : '', config.chat.backend === 'server' ? 'chat' : ''].filter(Boolean);
          if (onServer.length > 0) {
            void vscode.window.showInformationMessage(`Tokenscope: ${onServer.join(' and ')} still use${onServer.length === 1 && onServer[0] === 'chat' ? 's' : ''} a server (${serverLabel(config.completions.backend === 'server' ? config.completions : config.chat)}). Use the local model for ${onServer.length > 1 ? 'both' : 'it'} too?`, 'Use the Local Model').then((choice) => {
              if (choice) void vscode.commands.executeCommand('tokenscope.useLocalModel');
            });
          }
        }
      }),
      context.secrets.onDidChange(() => this.reset()),
    );
  }

  /** The connection to a server (created on first use). */
  async connection(baseUrl: string): Promise<ServerConnection> {
    const url = normalizeBaseUrl(baseUrl);
    const existing = this.connections.get(url);
    if (existing) return existing;
    const config = readConfig();
    const apiKey = await this.context.secrets.get(secretKey(url));
    const timeoutMs = config.server.timeoutSeconds * 1000;
    const connection = this.connectionModule().createServerConnection(this.context.extensionPath, {
      baseUrl: url,
      apiKey,
      // No proxy here: VS Code's fetch applies http.proxy, http.proxyStrictSSL and http.noProxy itself.
      headers: config.server.headers,
      timeouts: { firstByteMs: timeoutMs, stallMs: Math.max(5000, timeoutMs / 2) },
      cacheDir: vscode.Uri.joinPath(this.context.globalStorageUri, 'server-tokenizers').fsPath,
      onRetry: ({ attempt, delayMs, status, message }) => this.log.warn(`${serverName(url)} answered HTTP ${status} (${message}); retry ${attempt} in ${delayMs} ms.`),
    });
    this.connections.set(url, connection);
    return connection;
  }

  /** Chat on one of the server's models (the chat code loads with it). */
  async chatBackend(baseUrl: string, options: Omit<RemoteChatOptions, 'connection'>): Promise<RemoteChatBackend> {
    const connection = await this.connection(baseUrl);
    return this.connectionModule().createRemoteChatBackend({ ...options, connection });
  }

  /**
   * Whether code may go to this server: always for servers on this machine; otherwise asked once
   * per server (modal when the user is waiting for it, a notification while typing).
   */
  async ensureAllowed(baseUrl: string, modal: boolean): Promise<void> {
    const url = normalizeBaseUrl(baseUrl);
    const origin = new URL(url).origin;
    if (isLoopbackHost(new URL(url).hostname) || this.allowed().includes(origin)) return;
    const detail = `Completions send the code around your cursor (and bits of other open files) to ${origin}; chat and Explain send your messages and the code you attach. Whoever runs that server can read it. You are asked once per server.`;
    if (modal) {
      const choice = await vscode.window.showWarningMessage(`Send code to ${serverName(url)}?`, { modal: true, detail }, 'Send Code to This Server');
      if (choice !== 'Send Code to This Server') throw new ConsentNeededError(url);
      await this.allow(origin);
      return;
    }
    if (!this.consentAsked.has(origin)) {
      this.consentAsked.add(origin);
      // Asked once per session: "Not Now" is not asked again at every keystroke (Connect to a
      // Server… asks again, and the status bar says why completions are paused).
      void vscode.window.showWarningMessage(`Tokenscope: send code to ${serverName(url)} for completions? ${detail}`, 'Allow', 'Not Now').then(async (choice) => {
        if (choice === 'Allow') await this.allow(origin);
      });
    }
    throw new ConsentNeededError(url);
  }

  async setApiKey(baseUrl: string, key: string | undefined): Promise<void> {
    const url = normalizeBaseUrl(baseUrl);
    if (key) await this.context.secrets.store(secretKey(url), key);
    else await this.context.secrets.delete(secretKey(url));
    this.reset();
  }

  recent(): string[] {
    const value = this.context.globalState.get<unknown>(recentKey);
    return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
  }

  async remember(baseUrl: string): Promise<void> {
    await this.context.globalState.update(recentKey, [baseUrl, ...this.recent().filter((entry) => entry !== baseUrl)].slice(0, 8));
  }

  dispose(): void {
    this.reset();
    this.changes.dispose();
  }

  private allowed(): string[] {
    const value = this.context.globalState.get<unknown>(allowedKey);
    return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
  }

  private async allow(origin: string): Promise<void> {
    await this.context.globalState.update(allowedKey, [...new Set([...this.allowed(), origin])]);
    this.log.info(`Allowed sending code to ${origin}.`);
    this.changes.fire();
  }

  private reset(): void {
    for (const connection of this.connections.values()) void connection.close();
    this.connections.clear();
    this.changes.fire();
  }
}

/** `qwen2.5-coder:1.5b @ 127.0.0.1:11434` for a feature on a server, else undefined. */
export function serverLabel(backend: Pick<TokenscopeConfig['chat'], 'backend' | 'serverUrl' | 'serverModel'>): string | undefined {
  if (backend.backend !== 'server' || !backend.serverUrl) return undefined;
  return `${backend.serverModel || 'server'} @ ${serverName(backend.serverUrl)}`;
}
