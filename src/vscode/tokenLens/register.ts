import * as vscode from 'vscode';
import type { TokenizerWorkerClient } from '../../core/tokenizerWorker/client';
import type { CommandRegistry } from '../commandRegistry';
import { affectsSetting, onConfigChange, readConfig, updateSetting } from '../config';
import { BoundaryDecorations } from './boundaries';
import { lazyModule } from '../lazyModule';
import { TokenHoverProvider } from './hover';
import { LensDocuments } from './lensDocuments';
import { LensTokenizers } from './lensTokenizers';
import { TOKEN_LENS_MENU_COMMAND, TokenStatusItem } from './statusItem';

/** After activation, the tokenizers start loading this much later: the workbench is still starting up. */
const PRELOAD_DELAY_MS = 500;

export interface TokenLensServices {
  readonly log: vscode.LogOutputChannel;
  readonly commands: CommandRegistry;
  /** The tokenizer worker thread, shared with completion prompts: every tokenizer lives there. */
  readonly tokenizerWorker: TokenizerWorkerClient;
}

/**
 * The Token lens: token boundaries in the editor, the token hover with counts and costs, the token
 * status item, and the commands `tokenscope.toggleTokenBoundaries`, `tokenscope.chooseTokenizer`,
 * `tokenscope.chooseReferenceModel` and `tokenscope.compareTokenizers`. Everything it creates is
 * disposed with the extension.
 */
/** What other features use of the Token lens (the cost decorations count through the same documents). */
export interface TokenLensRegistration {
  readonly tokenizers: LensTokenizers;
  readonly documents: LensDocuments;
}

export function registerTokenLens(context: vscode.ExtensionContext, services: TokenLensServices): TokenLensRegistration {
  const { log, commands } = services;
  const tokenizers = new LensTokenizers(context.extensionPath, log, services.tokenizerWorker);
  const documents = new LensDocuments(tokenizers);
  const boundaries = new BoundaryDecorations(tokenizers, documents, log);
  const status = new TokenStatusItem(tokenizers, documents);
  context.subscriptions.push(tokenizers, documents, boundaries, status);
  context.subscriptions.push(
    vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], new TokenHoverProvider(tokenizers, documents, log)),
    onConfigChange((_config, event) => {
      // A new chosen tokenizer or size limit re-mirrors each document on its next question (see LensDocuments).
      tokenizers.onConfigChange(event);
      if (affectsSetting(event, 'tokenLens', 'model')) boundaries.refresh();
      status.schedule();
    }),
  );

  commands.register('tokenscope.toggleTokenBoundaries', async () => {
    const show = !readConfig().tokenLens.showBoundaries;
    await updateSetting('tokenLens.showBoundaries', show);
    log.info(`Token lens: boundaries ${show ? 'shown' : 'hidden'} (${tokenizers.chosenId})`);
  });
  commands.register('tokenscope.chooseTokenizer', () => chooseTokenizer(tokenizers));
  commands.register('tokenscope.chooseReferenceModel', () => chooseReferenceModel(tokenizers));
  // Compare Tokenizers loads from its own bundle (dist/comparePanel.js) on first use.
  const compare = lazyModule<typeof import('./comparePanel')>(context.extensionPath, 'comparePanel');
  commands.register('tokenscope.compareTokenizers', () => compare().showComparePanel(tokenizers, log));
  commands.register(TOKEN_LENS_MENU_COMMAND, () => showMenu(tokenizers));

  // The tokenizers load in the worker soon after activation, in the background, so the first hover
  // is complete and the first toggle quick; starting the thread waits until activation is over.
  const warmUp = setTimeout(() => tokenizers.preload(), PRELOAD_DELAY_MS);
  context.subscriptions.push({ dispose: () => clearTimeout(warmUp) });
  boundaries.refresh();
  return { tokenizers, documents };
}

async function chooseTokenizer(tokenizers: LensTokenizers): Promise<void> {
  const chosen = tokenizers.chosenId;
  const items = tokenizers.list().map((entry) => ({
    label: `${entry.id === chosen ? '$(check) ' : ''}${entry.label}`,
    description: `${entry.id}${entry.estimate ? ' · estimate' : ''}`,
    detail: tokenizers.failure(entry.id) ? `Unavailable: ${tokenizers.failure(entry.id)}` : entry.description,
    id: entry.id,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Tokenizer for boundaries, hovers and counts', matchOnDescription: true });
  if (picked) await updateSetting('tokenLens.tokenizer', picked.id);
}

async function chooseReferenceModel(tokenizers: LensTokenizers): Promise<void> {
  const current = tokenizers.referenceModel.id;
  type Item = vscode.QuickPickItem & { readonly id?: string };
  const items: Item[] = [];
  let provider = '';
  for (const model of tokenizers.prices.models) {
    if (model.provider !== provider) {
      provider = model.provider;
      items.push({ label: provider, kind: vscode.QuickPickItemKind.Separator });
    }
    items.push({
      label: `${model.id === current ? '$(check) ' : ''}${model.label}`,
      description: `$${model.inputPerMTok} in · $${model.outputPerMTok} out per M tokens · as of ${model.asOf}`,
      detail: `${model.tokenizer}${model.tokenizerEstimate ? ' (estimate)' : ''} · ${model.contextWindow.toLocaleString('en-US')}-token context${model.notes ? ` · ${model.notes}` : ''}`,
      id: model.id,
    });
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'Reference model for costs', matchOnDescription: true, matchOnDetail: true });
  if (picked?.id) await updateSetting('cost.referenceModel', picked.id);
}

async function showMenu(tokenizers: LensTokenizers): Promise<void> {
  const config = readConfig();
  const items: (vscode.QuickPickItem & { readonly command: string })[] = [
    { label: '$(symbol-key) Choose tokenizer…', description: tokenizers.list().find((entry) => entry.id === config.tokenLens.tokenizer)?.label ?? config.tokenLens.tokenizer, command: 'tokenscope.chooseTokenizer' },
    { label: '$(credit-card) Choose reference model…', description: tokenizers.referenceModel.label, command: 'tokenscope.chooseReferenceModel' },
    { label: config.tokenLens.showBoundaries ? '$(eye-closed) Hide token boundaries' : '$(eye) Show token boundaries', command: 'tokenscope.toggleTokenBoundaries' },
    { label: config.cost.showBlockCosts ? '$(eye-closed) Hide cost estimates beside the code' : '$(credit-card) Show cost estimates beside the code', description: 'tokens and input cost per block and selection', command: 'tokenscope.toggleBlockCosts' },
    { label: '$(graph) Usage & Cost', description: 'today, 7 and 30 days', command: 'tokenscope.showUsage' },
    { label: '$(table) Compare tokenizers', command: 'tokenscope.compareTokenizers' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Tokenscope tokens' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
