import * as vscode from 'vscode';
import { isLoopbackHost, normalizeBaseUrl, type ServerError, serverName } from '../core/openai/client';
import type { RemoteChatBackend, RemoteChatOptions } from '../core/openai/remoteChatBackend';
import type { ServerConnection, ServerModel } from '../core/openai/server';
import type { CommandRegistry } from './commandRegistry';
import { affectsSetting, readConfig, updateSetting, type TokenscopeConfig } from './config';
import { lazyModule } from './lazyModule';

/** Known local servers offered by Connect to a Server… (their default ports). */
const knownServers: readonly { readonly label: string; readonly url: string; readonly detail: string }[] = [
  { label: 'tokenscope serve', url: 'http://127.0.0.1:8765/v1', detail: 'tokenscope serve --model <folder> (another editor or machine shares one model)' },
  { label: 'Ollama', url: 'http://127.0.0.1:11434/v1', detail: 'ollama serve; models from ollama pull' },
  { label: 'llama.cpp server', url: 'http://127.0.0.1:8080/v1', detail: 'llama-server -m model.gguf' },
  { label: 'vLLM', url: 'http://127.0.0.1:8000/v1', detail: 'vllm serve <model>' },
  { label: 'LM Studio', url: 'http://127.0.0.1:1234/v1', detail: 'its local server (Developer tab)' },
];

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
  private readonly connectionModule: () => typeof import('./serverConnections');
  private readonly changes = new vscode.EventEmitter<void>();
  /** Fires when a connection was rebuilt (key, headers, proxy changed): backends built on it must be rebuilt. */
  readonly onDidChange = this.changes.event;
  private readonly consentAsked = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.connectionModule = lazyModule<typeof import('./serverConnections')>(context.extensionPath, 'servers');
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

type UseFor = 'both' | 'chat' | 'completions';

/** Asks for the base URL: recent servers, the usual local ones, or what the user types. */
async function pickBaseUrl(service: ServerService): Promise<string | undefined> {
  const config = readConfig();
  const current = [config.completions.backend === 'server' ? config.completions.serverUrl : '', config.chat.backend === 'server' ? config.chat.serverUrl : ''].filter(Boolean);
  type Item = vscode.QuickPickItem & { readonly url: string };
  const recent = service.recent();
  const fixed: Item[] = [
    ...recent.map((url) => ({ label: `$(history) ${url}`, description: current.includes(url) ? 'in use' : 'recent', url })),
    ...knownServers.filter((known) => !recent.includes(known.url)).map((known) => ({ label: `$(server) ${known.label}`, description: known.url, detail: known.detail, url: known.url })),
  ];
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = 'Tokenscope: Connect to a Server (1/3)';
  pick.placeholder = 'Type the server\'s base URL (e.g. http://gpu-box:8000/v1) or pick one';
  pick.items = fixed;
  pick.matchOnDescription = true;
  const typed = (value: string): Item[] => {
    const trimmed = value.trim();
    if (!/^https?:\/\//i.test(trimmed)) return fixed;
    return [{ label: `$(plug) ${trimmed}`, description: 'connect to this URL', url: trimmed, alwaysShow: true }, ...fixed];
  };
  return new Promise<string | undefined>((resolve) => {
    pick.onDidChangeValue((value) => (pick.items = typed(value)));
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0]?.url ?? (/^https?:\/\//i.test(pick.value.trim()) ? pick.value.trim() : undefined);
      resolve(chosen);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

/** GET /models with a progress notification; a 401 asks for the API key and tries again. */
async function listModelsWithKey(service: ServerService, baseUrl: string): Promise<ServerModel[] | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const connection = await service.connection(baseUrl);
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tokenscope: connecting to ${serverName(baseUrl)}…`, cancellable: true }, (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return connection.listModels(controller.signal, true);
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') return undefined;
      // By name: the error comes from the connection's own bundle, whose ServerError class is another copy.
      if (error instanceof Error && error.name === 'ServerError' && (error as ServerError).kind === 'auth') {
        const key = await vscode.window.showInputBox({ title: `API key for ${serverName(baseUrl)}`, prompt: `${error.message.split('.')[0]}. Enter its API key (kept in the editor's secret storage).`, password: true, ignoreFocusOut: true });
        if (!key) return undefined;
        await service.setApiKey(baseUrl, key);
        continue;
      }
      throw error;
    }
  }
  return undefined;
}

/** The whole Connect to a Server… flow: URL, model (from /models), what for, consent, settings. */
export async function connectToServer(service: ServerService, log: vscode.LogOutputChannel): Promise<void> {
  const raw = await pickBaseUrl(service);
  if (!raw) return;
  let baseUrl: string;
  try {
    baseUrl = normalizeBaseUrl(raw);
  } catch (error) {
    void vscode.window.showErrorMessage(`Tokenscope: ${(error as Error).message}`);
    return;
  }
  let models: ServerModel[] | undefined;
  try {
    models = await listModelsWithKey(service, baseUrl);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(`Connecting to ${baseUrl} failed: ${message}`);
    const choice = await vscode.window.showErrorMessage(`Tokenscope: ${message}`, 'Try Again', 'Show Logs');
    if (choice === 'Try Again') return connectToServer(service, log);
    if (choice === 'Show Logs') log.show(true);
    return;
  }
  if (!models) return;
  if (models.length === 0) {
    void vscode.window.showErrorMessage(`Tokenscope: ${serverName(baseUrl)} lists no models at /models. Load one on the server first (e.g. ollama pull qwen2.5-coder:1.5b).`);
    return;
  }
  type ModelItem = vscode.QuickPickItem & { readonly model: ServerModel };
  const modelPick = await vscode.window.showQuickPick<ModelItem>(
    models.map((model) => ({ label: model.id, description: [model.ownedBy, model.contextLength ? `${model.contextLength.toLocaleString('en-US')}-token context` : undefined].filter(Boolean).join(' · '), model })),
    { title: `Tokenscope: Connect to a Server (2/3): ${serverName(baseUrl)}`, placeHolder: `Which model? (${models.length} on the server)`, ignoreFocusOut: true },
  );
  if (!modelPick) return;
  type UseItem = vscode.QuickPickItem & { readonly use: UseFor };
  const usePick = await vscode.window.showQuickPick<UseItem>(
    [
      { label: 'Completions and chat', detail: 'Inline completions, chat and Explain Selection all use it.', use: 'both' },
      { label: 'Chat only', detail: 'Chat and Explain use it; completions stay as they are.', use: 'chat' },
      { label: 'Completions only', detail: 'Inline completions use it; chat stays as it is.', use: 'completions' },
    ],
    { title: `Tokenscope: Connect to a Server (3/3): ${modelPick.model.id}`, placeHolder: 'Use it for…', ignoreFocusOut: true },
  );
  if (!usePick) return;
  try {
    await service.ensureAllowed(baseUrl, true);
  } catch {
    return;
  }
  const model = modelPick.model.id;
  if (usePick.use !== 'chat') {
    await updateSetting('completions.serverUrl', baseUrl);
    await updateSetting('completions.serverModel', model);
    await updateSetting('completions.backend', 'server');
  }
  if (usePick.use !== 'completions') {
    await updateSetting('chat.serverUrl', baseUrl);
    await updateSetting('chat.serverModel', model);
    await updateSetting('chat.backend', 'server');
  }
  await service.remember(baseUrl);
  const what = usePick.use === 'both' ? 'Completions and chat' : usePick.use === 'chat' ? 'Chat' : 'Completions';
  const verb = usePick.use === 'chat' ? 'uses' : 'use';
  log.info(`${what} now ${verb} ${model} on ${baseUrl}.`);
  void vscode.window.showInformationMessage(`Tokenscope: ${what} now ${verb} ${model} on ${serverName(baseUrl)}.`);
}

export function registerServerCommands(commands: CommandRegistry, service: ServerService, log: vscode.LogOutputChannel): void {
  commands.register('tokenscope.connectServer', () => connectToServer(service, log));
  commands.register('tokenscope.setServerApiKey', async () => {
    const config = readConfig();
    const candidates = [...new Set([config.completions.serverUrl, config.chat.serverUrl, ...service.recent()].filter(Boolean))];
    const url = candidates.length === 1 ? candidates[0] : await vscode.window.showQuickPick(candidates.length > 0 ? candidates : knownServers.map((known) => known.url), { title: 'Tokenscope: API key for which server?' });
    if (!url) return;
    const key = await vscode.window.showInputBox({ title: `API key for ${serverName(url)}`, prompt: 'Kept in the editor\'s secret storage and sent as "Authorization: Bearer …". Leave empty to remove it.', password: true, ignoreFocusOut: true });
    if (key === undefined) return;
    await service.setApiKey(url, key.trim() || undefined);
    void vscode.window.showInformationMessage(key.trim() ? `Tokenscope: API key for ${serverName(url)} saved.` : `Tokenscope: API key for ${serverName(url)} removed.`);
  });
  commands.register('tokenscope.useLocalModel', async () => {
    await updateSetting('completions.backend', 'local');
    await updateSetting('chat.backend', 'local');
    void vscode.window.showInformationMessage('Tokenscope: completions and chat use the local model again.');
  });
}
