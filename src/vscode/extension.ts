import * as vscode from 'vscode';
import { join } from 'node:path';
import { TokenizerWorkerClient } from '../core/tokenizerWorker/client';
import { CommandRegistry } from './commandRegistry';
import { chatViewId } from './chat/chatView';
import { registerChat } from './chat/register';
import { registerCompletions } from './completions/register';
import { affectsSetting, onConfigChange, readConfig, updateSetting } from './config';
import { modelLabel } from './modelCommands';
import { registerModels } from './models/register';
import { registerInside } from './inside/register';
import { registerModelInfo } from './modelInfo/register';
import { registerProbabilities } from './probabilities/register';
import { registerPromptTokens } from './promptTokens/register';
import { registerSamples } from './samples/register';
import { ModelService } from './modelService';
import { unsupportedPlatformMessage } from './platform';
import { registerServers } from './servers/register';
import { serverLabel } from './servers/serverService';
import { ModelStatusItem } from './statusBar';
import { registerTokenLens } from './tokenLens/register';
import { registerCost } from './cost/register';

/** Set by the esbuild banner as the bundle starts loading, so activation time includes module load. */
declare const __tokenscopeBundleStart: number | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const activationStart = typeof __tokenscopeBundleStart === 'number' ? __tokenscopeBundleStart : performance.now();
  const log = vscode.window.createOutputChannel('Tokenscope', { log: true });
  context.subscriptions.push(log);

  const platformProblem = unsupportedPlatformMessage();
  if (platformProblem) {
    log.warn(platformProblem);
    void vscode.window.showWarningMessage(platformProblem);
  }

  const commands = new CommandRegistry(context.subscriptions, log);
  const status = new ModelStatusItem();
  context.subscriptions.push(status);

  // One model process for every feature; forked on first use, so activation stays cheap.
  const models = new ModelService(context.extensionPath, log);
  context.subscriptions.push(models);
  commands.register('tokenscope.restartModel', () => models.restart());

  // Each feature's share of activation goes to the debug log, so a slow start can be traced.
  const timed = <T>(feature: string, register: () => T): T => {
    const started = performance.now();
    const result = register();
    log.debug(`Activation: ${feature} registered in ${(performance.now() - started).toFixed(1)} ms`);
    return result;
  };
  // One tokenizer worker thread for the Token lens and completion prompts, started on first use.
  const tokenizerWorker = new TokenizerWorkerClient({ entry: join(context.extensionPath, 'dist', 'tokenizerWorker.js'), rootDir: context.extensionPath, log: (level, message) => log[level](message) });
  context.subscriptions.push({ dispose: () => tokenizerWorker.dispose() });
  // Choose Model, downloads, the model manager; chat asks it to offer a chat model in place of mini.
  const catalog = timed('models', () => registerModels(context, { log, commands }));
  // OpenAI-compatible servers (Connect to a Server…): connections made on first use.
  const servers = timed('servers', () => registerServers(context, { log, commands }));
  // The Token lens and cost first: chat and completions record their usage into the cost feature's ledger.
  const lens = timed('token lens', () => registerTokenLens(context, { log, commands, tokenizerWorker }));
  const cost = timed('cost', () => registerCost(context, { log, commands, tokenizers: lens.tokenizers, documents: lens.documents }));
  flushUsage = cost.flush;
  const chat = timed('chat', () => registerChat(context, { log, commands, runtime: models, offerChatModel: catalog.offerChatModel, servers, recordUsage: cost.recordUsage }));
  // What Comes Next?, the surprise lens and confidence colouring: requests to the same model process.
  const probabilities = timed('probabilities', () => registerProbabilities(context, { log, commands, runtime: models }));
  // Completions own the status item's state (loading, generating, idle with latency, error).
  timed('completions', () =>
    registerCompletions(context, {
      log,
      status,
      commands,
      runtime: models,
      servers,
      tokenizerWorker,
      onAccepted: (document, insertStart, result) => probabilities.completionAccepted(document, insertStart, result.text, result.tokenScores),
      // Every model request but a failed one read its prompt: the ledger counts it.
      onRecord: (record) => {
        if (record.outcome !== 'error') cost.recordUsage({ feature: 'completions', backend: readConfig().completions.backend === 'server' ? 'remote' : 'local', promptTokens: record.promptTokens, generatedTokens: record.generatedTokens });
      },
    }),
  );
  timed('model info', () => registerModelInfo(context, { log, commands }));
  timed('inside', () => registerInside(context, { log, commands, runtime: models }));
  timed('samples', () => registerSamples(context, { log, commands, runtime: models, extensionUri: context.extensionUri }));
  timed('prompt tokens', () => registerPromptTokens(context, { log, commands, runtime: models }));

  const applyConfig = () => {
    const config = readConfig();
    status.setModel(serverLabel(config.completions) ?? modelLabel(config.model));
    chat.refreshStatus();
  };
  applyConfig();
  context.subscriptions.push(
    onConfigChange((config, event) => {
      if (affectsSetting(event, 'model')) log.info(`Model set to ${config.model}`);
      if (affectsSetting(event, 'completions.backend', 'chat.backend')) log.info(`Completions: ${serverLabel(config.completions) ?? 'local model'}; chat: ${serverLabel(config.chat) ?? 'local model'}.`);
      applyConfig();
    }),
  );

  commands.register('tokenscope.showLogs', () => log.show());
  commands.register('tokenscope.openChat', () => vscode.commands.executeCommand(`${chatViewId}.focus`));
  commands.register('tokenscope.toggleCompletions', () => updateSetting('completions.enabled', !readConfig().completions.enabled));
  commands.register('tokenscope.showStatusMenu', showStatusMenu);

  const declared = (context.extension.packageJSON as { contributes?: { commands?: { command: string; title: string }[] } }).contributes?.commands ?? [];
  const pending = commands.registerPendingFrom(declared);
  if (pending.length > 0) log.debug(`Commands not available yet: ${pending.join(', ')}`);

  const activationMs = performance.now() - activationStart;
  log.info(`Tokenscope ${String((context.extension.packageJSON as { version?: string }).version)} activated in ${activationMs.toFixed(1)} ms (${process.platform}-${process.arch}, VS Code ${vscode.version})`);
}

async function showStatusMenu(): Promise<void> {
  const config = readConfig();
  type Item = vscode.QuickPickItem & { readonly run: () => unknown };
  const items: Item[] = [
    { label: config.completions.enabled ? '$(circle-slash) Disable inline completions' : '$(check) Enable inline completions', run: () => updateSetting('completions.enabled', !config.completions.enabled) },
    { label: '$(arrow-swap) Switch model…', description: serverLabel(config.completions) ?? modelLabel(config.model), run: () => vscode.commands.executeCommand('tokenscope.chooseModel') },
    { label: '$(info) Show model architecture', description: 'layers, heads, parameters vs real models', run: () => vscode.commands.executeCommand('tokenscope.showModelInfo') },
    { label: '$(symbol-key) Toggle token boundaries', run: () => vscode.commands.executeCommand('tokenscope.toggleTokenBoundaries') },
    { label: '$(graph) What comes next?', description: 'the next-token distribution at the cursor', run: () => vscode.commands.executeCommand('tokenscope.whatComesNext') },
    { label: '$(flame) Toggle surprise lens', description: 'colour code by how surprised the model is', run: () => vscode.commands.executeCommand('tokenscope.toggleSurpriseLens') },
    { label: config.completions.confidenceColouring ? '$(eye-closed) Hide confidence colouring' : '$(eye) Colour accepted completions by confidence', description: 'each token by its probability', run: () => vscode.commands.executeCommand('tokenscope.toggleConfidenceColouring') },
    { label: '$(credit-card) Toggle cost estimates beside the code', run: () => vscode.commands.executeCommand('tokenscope.toggleBlockCosts') },
    { label: '$(graph) Usage & Cost', description: 'what your work would have cost on API models', run: () => vscode.commands.executeCommand('tokenscope.showUsage') },
    { label: '$(output) Show logs', run: () => vscode.commands.executeCommand('tokenscope.showLogs') },
    { label: '$(debug-restart) Restart model process', description: 'reloads the model', run: () => vscode.commands.executeCommand('tokenscope.restartModel') },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Tokenscope' });
  await picked?.run();
}

/** Writes the usage ledger's last counts (VS Code waits for deactivate's promise, not for disposables'). */
let flushUsage: (() => Promise<void>) | undefined;

export function deactivate(): Promise<void> | undefined {
  // Everything else is owned by context.subscriptions and disposed by VS Code.
  return flushUsage?.().catch(() => undefined);
}
