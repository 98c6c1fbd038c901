import * as vscode from 'vscode';
import { normalizeBaseUrl, ServerError, serverName } from '../../core/openai/client';
import type { ServerModel } from '../../core/openai/server';
import type { CommandRegistry } from '../commandRegistry';
import { readConfig, updateSetting } from '../config';
import { ServerService } from './serverService';

/** What the servers feature needs from the extension; activate() passes it to registerServers. */
export interface ServersServices {
  readonly log: vscode.LogOutputChannel;
  readonly commands: CommandRegistry;
}

type UseFor = 'both' | 'chat' | 'completions';

/** Known local servers offered by Connect to a Server… (their default ports). */
const knownServers: readonly { readonly label: string; readonly url: string; readonly detail: string }[] = [
  { label: 'tokenscope serve', url: 'http://127.0.0.1:8765/v1', detail: 'tokenscope serve --model <folder> (another editor or machine shares one model)' },
  { label: 'Ollama', url: 'http://127.0.0.1:11434/v1', detail: 'ollama serve; models from ollama pull' },
  { label: 'llama.cpp server', url: 'http://127.0.0.1:8080/v1', detail: 'llama-server -m model.gguf' },
  { label: 'vLLM', url: 'http://127.0.0.1:8000/v1', detail: 'vllm serve <model>' },
  { label: 'LM Studio', url: 'http://127.0.0.1:1234/v1', detail: 'its local server (Developer tab)' },
];

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
      if (error instanceof ServerError && error.kind === 'auth') {
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

/**
 * OpenAI-compatible servers: the service every feature on a server uses (connections made on
 * first use) and the commands Connect to a Server…, Set Server API Key and Use the Local Model.
 * Called once from activate(); returns the service for chat and completions.
 */
export function registerServers(context: vscode.ExtensionContext, { log, commands }: ServersServices): ServerService {
  const service = new ServerService(context, log);
  context.subscriptions.push(service);
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
  return service;
}
