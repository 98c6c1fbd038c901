import * as vscode from 'vscode';
import { catalogModelForRepo, findCachedModel, recommendedModel } from '../../core/models/catalog';
import { deleteCachedRevision, scanHubCache } from '../../core/hub/cache';
import { formatBytes } from '../../core/hub/units';
import { hubCacheDir } from '../../core/hub/settings';
import type { CommandRegistry } from '../commandRegistry';
import { readConfig, updateSetting } from '../config';
import { builtInModelId, chooseModel, downloadAndUse, modelLabel } from '../modelCommands';
import { ModelDownloads, hubTokenSecret } from './downloads';

/** What the models feature needs from the extension; activate() passes it to registerModels. */
export interface ModelsServices {
  readonly log: vscode.LogOutputChannel;
  readonly commands: CommandRegistry;
}

/** What registerModels gives the other features. */
export interface ModelsRegistration {
  /** On first use of chat or Explain with the built-in model: offer the recommended chat model. */
  /** Offers the recommended chat model once per window while the built-in model is active; true when it did. */
  offerChatModel(trigger: 'chat' | 'explain'): boolean;
}

/**
 * Choose Model (catalog, cache, folder), downloads with progress, the model manager, the Hub token
 * commands, and the offer of a chat model when the built-in one is asked to chat.
 */
export function registerModels(context: vscode.ExtensionContext, { log, commands }: ModelsServices): ModelsRegistration {
  const version = String((context.extension.packageJSON as { version?: string }).version ?? '0');
  const downloads = new ModelDownloads(context.secrets, log, version);
  commands.register('tokenscope.chooseModel', () => chooseModel(downloads));
  commands.register('tokenscope.manageModels', () => manageModels());
  commands.register('tokenscope.setHubToken', async () => {
    const token = await vscode.window.showInputBox({
      title: 'Hugging Face access token',
      prompt: 'A "read" token from huggingface.co/settings/tokens, for gated or private models. Kept in VS Code\'s secret storage, never in settings or logs.',
      placeHolder: 'hf_…',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (/\s/.test(value.trim()) ? 'A token has no spaces.' : undefined),
    });
    if (!token?.trim()) return false;
    await context.secrets.store(hubTokenSecret, token.trim());
    log.info('Hugging Face token saved in secret storage.');
    void vscode.window.showInformationMessage('Tokenscope: Hugging Face token saved (in VS Code\'s secret storage).');
    return true;
  });
  commands.register('tokenscope.clearHubToken', async () => {
    await context.secrets.delete(hubTokenSecret);
    log.info('Hugging Face token removed from secret storage.');
    void vscode.window.showInformationMessage('Tokenscope: Hugging Face token removed.');
  });

  let offered = false;
  return {
    offerChatModel(trigger) {
      if (offered || readConfig().model !== builtInModelId) return false;
      offered = true;
      const model = recommendedModel('chat');
      const what = trigger === 'explain' ? 'Explain Selection needs' : 'Chat needs';
      const cached = findCachedModel(model.id);
      const size = model.download.variants[model.download.defaultVariant]?.approxBytes;
      const sizeText = size ? `~${formatBytes(size)}` : 'size shown when it starts';
      const message = cached
        ? `Tokenscope: ${what} a chat model; the built-in tokenscope-mini only completes code. ${model.label} is already in your Hugging Face cache.`
        : `Tokenscope: ${what} a chat model; the built-in tokenscope-mini only completes code. Download ${model.label} (${sizeText}, ${model.licence})? It runs on your CPU and works offline once downloaded.`;
      const primary = cached ? `Use ${model.label}` : `Download (${sizeText})`;
      void vscode.window.showInformationMessage(message, primary, 'Choose…').then(async (choice) => {
        if (choice === primary) {
          if (cached) await updateSetting('model', model.id);
          else await downloadAndUse(model, downloads, { variant: model.download.defaultVariant });
        } else if (choice === 'Choose…') await vscode.commands.executeCommand('tokenscope.chooseModel');
      });
      return true;
    },
  };
}

/**
 * The model manager: every model in the Hugging Face cache with its disk use, variants and
 * revision; pick one to use it, or use its buttons to reveal or delete it.
 */
async function manageModels(): Promise<void> {
  const cacheDir = hubCacheDir();
  const repos = scanHubCache(cacheDir);
  if (repos.length === 0) {
    const choice = await vscode.window.showInformationMessage(`Tokenscope: no models in the Hugging Face cache (${cacheDir}) yet.`, 'Choose Model…');
    if (choice) await vscode.commands.executeCommand('tokenscope.chooseModel');
    return;
  }
  const current = readConfig().model;
  const reveal: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('folder-opened'), tooltip: 'Reveal the folder' };
  const remove: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('trash'), tooltip: 'Delete from the cache' };
  type Item = vscode.QuickPickItem & { readonly repo: string; readonly commit?: string; readonly dir: string; readonly bytes: number; readonly id?: string; readonly usable: boolean };
  const build = (): Item[] =>
    scanHubCache(cacheDir).flatMap((repo): Item[] => {
      const catalog = catalogModelForRepo(repo.repo);
      const id = catalog?.id ?? repo.repo;
      const name = catalog?.label ?? repo.repo;
      if (repo.revisions.length === 0) {
        return [{ label: `$(history) ${name}`, description: `unfinished download · ${formatBytes(repo.partialBytes)}`, detail: repo.dir, repo: repo.repo, dir: repo.dir, bytes: repo.bytes, usable: false, buttons: [remove] }];
      }
      return repo.revisions.map((revision) => ({
        label: `${revision.usable ? '$(database)' : '$(warning)'} ${name}`,
        description: [revision.variants.join(', ') || 'no ONNX model', formatBytes(revision.bytes), `${revision.commit.slice(0, 7)}${revision.refs.length ? ` (${revision.refs.join(', ')})` : ''}`, current === id ? 'active' : '', repo.partialBytes > 0 ? `${formatBytes(repo.partialBytes)} unfinished` : ''].filter(Boolean).join(' · '),
        detail: revision.dir,
        repo: repo.repo,
        commit: revision.commit,
        dir: revision.dir,
        bytes: revision.bytes,
        id,
        usable: revision.usable,
        buttons: [reveal, remove],
      }));
    });
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = `Tokenscope: Downloaded Models (${cacheDir})`;
  pick.placeholder = 'Pick a model to use it; the buttons reveal or delete it';
  pick.matchOnDescription = true;
  pick.items = build();
  const done = new Promise<void>((resolve) => pick.onDidHide(() => resolve()));
  pick.onDidTriggerItemButton(async ({ item, button }) => {
    if (button === reveal) {
      if (vscode.env.remoteName) {
        await vscode.env.clipboard.writeText(item.dir);
        void vscode.window.showInformationMessage(`Tokenscope: the folder is on the remote machine; its path was copied: ${item.dir}`);
      } else await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(item.dir));
      return;
    }
    const confirm = await vscode.window.showWarningMessage(`Delete ${item.label.replace(/^\$\([^)]*\) /, '')} (${formatBytes(item.bytes)}) from the Hugging Face cache? Other tools that use it would download it again.`, { modal: true }, 'Delete');
    if (confirm !== 'Delete') return;
    const freed = item.commit ? await deleteCachedRevision(cacheDir, item.repo, item.commit) : await deleteCachedRevision(cacheDir, item.repo, '');
    if (item.id && (current === item.id || current === item.repo) && !findCachedModel(item.id)) {
      await updateSetting('model', builtInModelId);
      void vscode.window.showInformationMessage(`Tokenscope: deleted (${formatBytes(freed)} freed). ${modelLabel(item.id)} was the active model: back to the built-in tokenscope-mini.`);
    } else void vscode.window.showInformationMessage(`Tokenscope: deleted (${formatBytes(freed)} freed).`);
    pick.items = build();
    if (pick.items.length === 0) pick.hide();
  });
  pick.onDidAccept(async () => {
    const item = pick.selectedItems[0];
    pick.hide();
    if (item?.usable && item.id) await updateSetting('model', item.id);
  });
  pick.show();
  await done;
  pick.dispose();
}
