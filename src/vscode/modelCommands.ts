import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG, catalogModel, catalogModelForRepo, findCachedModel, type CatalogModel } from '../core/models/catalog';
import { AUTO_ORDER, listVariants, type ConcreteVariant } from '../core/models/modelFolder';
import { scanHubCache } from '../core/hub/cache';
import { formatBytes } from '../core/hub/units';
import { hubCacheDir } from '../core/hub/settings';
import { readConfig, updateSetting } from './config';
import type { ModelDownloads } from './models/downloads';

/** The built-in model's id, the default of `tokenscope.model`. */
export const builtInModelId = 'mini';

/** A short name for the configured model, for the status bar and the chat header. */
export function modelLabel(model: string): string {
  if (model === builtInModelId) return 'tokenscope-mini';
  const catalog = catalogModel(model);
  if (catalog) return catalog.label;
  const parts = model.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? model;
}

const variantNotes: Readonly<Record<ConcreteVariant, string>> = {
  q4: 'fastest on a CPU (4-bit weights, int8 compute)',
  int8: '8-bit weights',
  q4f16: 'smallest; 16-bit activations run slower on a CPU',
  fp16: '16-bit weights; slow on a CPU',
  fp32: 'exact, largest',
};

function approxSize(model: CatalogModel, variant: ConcreteVariant): string {
  const bytes = model.download.variants[variant]?.approxBytes;
  return bytes ? `~${formatBytes(bytes)}` : 'size shown when the download starts';
}

/** "completion + chat · ~862 MB · Apache-2.0". */
function catalogDescription(model: CatalogModel): string {
  const uses = model.uses.map((use) => (use === 'completion' ? 'completion' : 'chat')).join(' + ') + (model.thinking ? ' (thinks)' : '');
  return `${uses} · ${approxSize(model, model.download.defaultVariant)} · ${model.licence}`;
}

/** Sets the model (and a variant setting the folder cannot satisfy back to auto), and says so. */
async function switchTo(id: string, label: string, dir: string): Promise<void> {
  const config = readConfig();
  if (config.modelVariant !== 'auto' && !listVariants(dir).has(config.modelVariant)) await updateSetting('modelVariant', 'auto');
  await updateSetting('model', id);
  void vscode.window.showInformationMessage(`Tokenscope: now using ${label}. Completions and chat switch to it as it loads.`);
}

/**
 * Offers a catalog model's variants (recommended first, with sizes), downloads the one picked with
 * a progress notification, then switches completions and chat to it. Resolves to whether it
 * switched.
 */
export async function downloadAndUse(model: CatalogModel, downloads: ModelDownloads, options: { readonly variant?: ConcreteVariant } = {}): Promise<boolean> {
  let variant = options.variant;
  if (!variant) {
    const variants = AUTO_ORDER.filter((candidate) => model.download.variants[candidate]);
    type Item = vscode.QuickPickItem & { readonly variant: ConcreteVariant };
    const items: Item[] = variants.map((candidate) => ({
      label: `${candidate === model.download.defaultVariant ? '$(star-full) ' : ''}${candidate}`,
      description: `${approxSize(model, candidate)}${candidate === model.download.defaultVariant ? ' · recommended' : ''}`,
      detail: variantNotes[candidate],
      variant: candidate,
    }));
    const host = new URL((await downloads.hubSettings().catch(() => undefined))?.endpoint ?? 'https://huggingface.co').host;
    const picked = await vscode.window.showQuickPick(items, {
      title: `Download ${model.label} (${model.licence}) from ${host}`,
      placeHolder: `Which variant? It goes to the Hugging Face cache (${hubCacheDir()}), shared with other tools.`,
    });
    if (!picked) return false;
    variant = picked.variant;
  }
  const result = await downloads.download({ repo: model.repo, revision: model.download.revision, variant, label: model.label, catalog: model });
  if (!result) return false;
  await switchTo(model.id, model.label, result.dir);
  return true;
}

/**
 * The one model picker: the built-in model, the catalog (size, licence, what each is good for,
 * whether it is downloaded), other ONNX models already in the Hugging Face cache, a folder, and the
 * model manager. Picking a catalog model that is not downloaded offers the download, then switches.
 */
export async function chooseModel(downloads: ModelDownloads): Promise<void> {
  const current = readConfig().model;
  type Item = vscode.QuickPickItem & { readonly run?: () => PromiseLike<unknown> };
  const cacheDir = hubCacheDir();
  const items: Item[] = [
    { label: '$(package) tokenscope-mini', description: current === builtInModelId ? 'built-in · active' : 'built-in', detail: 'Ships with Tokenscope: small, offline, completes code (cannot chat).', run: () => updateSetting('model', builtInModelId) },
    { label: 'Download from the Hugging Face Hub', kind: vscode.QuickPickItemKind.Separator },
  ];
  // The recommended models first, then the catalog's order (smallest first).
  for (const model of [...CATALOG].sort((a, b) => Number(Boolean(b.recommended)) - Number(Boolean(a.recommended)))) {
    const cached = findCachedModel(model.id, { cacheDir });
    const active = current === model.id || current === model.repo;
    const state = [cached ? 'downloaded' : undefined, active ? 'active' : undefined, model.recommended ? `recommended for ${model.recommended}` : undefined].filter(Boolean).join(' · ');
    items.push({
      label: `${cached ? '$(check)' : '$(cloud-download)'} ${model.label}`,
      description: `${catalogDescription(model)}${state ? ` · ${state}` : ''}`,
      detail: model.goodFor,
      run: async () => (cached ? switchTo(model.id, model.label, cached.dir) : downloadAndUse(model, downloads)),
    });
  }
  const others = scanHubCache(cacheDir).filter((repo) => !catalogModelForRepo(repo.repo) && repo.revisions.some((revision) => revision.usable));
  if (others.length > 0) {
    items.push({ label: 'Already in your Hugging Face cache', kind: vscode.QuickPickItemKind.Separator });
    for (const repo of others) {
      const revision = repo.revisions.find((candidate) => candidate.usable)!;
      items.push({ label: `$(database) ${repo.repo}`, description: `${revision.variants.join(', ')} · ${formatBytes(repo.bytes)}${current === repo.repo ? ' · active' : ''}`, detail: 'Downloaded by you or another tool (huggingface-cli, transformers, llama.cpp…).', run: () => switchTo(repo.repo, repo.repo, revision.dir) });
    }
  }
  items.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(folder-opened) Open a model folder…', description: !catalogModel(current) && current !== builtInModelId && !current.includes('/') ? `active: ${modelLabel(current)}` : undefined, detail: 'A Hugging Face ONNX export on disk: config.json, tokenizer.json and onnx/model*.onnx.', run: openModelFolder },
    { label: '$(remote) Connect to a server…', detail: 'vLLM, llama.cpp, Ollama, LM Studio, a hosted API or tokenscope serve (OpenAI-compatible).', run: () => vscode.commands.executeCommand('tokenscope.connectServer') },
    { label: '$(trash) Manage downloaded models…', detail: 'Disk use, variant and revision of each; delete or reveal them.', run: () => vscode.commands.executeCommand('tokenscope.manageModels') },
  );
  const picked = await vscode.window.showQuickPick(items, { title: 'Tokenscope: Choose Model', placeHolder: 'Which model should complete and chat?', matchOnDescription: true, matchOnDetail: true });
  await picked?.run?.();
}

/**
 * A folder is checked for the files the runtime needs before it is saved, so a wrong pick fails
 * here, with the reason, rather than later in the model process.
 */
async function openModelFolder(): Promise<void> {
  const folders = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use this model' });
  const folder = folders?.[0]?.fsPath;
  if (!folder) return;
  const missing = ['config.json', 'tokenizer.json'].filter((name) => !existsSync(join(folder, name)));
  if (missing.length > 0 || listVariants(folder).size === 0) {
    void vscode.window.showErrorMessage(`"${folder}" is not a Hugging Face ONNX model folder: ${[...missing, ...(listVariants(folder).size === 0 ? ['onnx/model*.onnx'] : [])].join(', ')} missing. Pick the folder that holds config.json, tokenizer.json and onnx/.`);
    return;
  }
  await updateSetting('model', folder);
}
