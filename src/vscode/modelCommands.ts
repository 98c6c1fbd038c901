import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig, updateSetting } from './config';

/** The built-in model's id, the default of `tokenscope.model`. */
export const builtInModelId = 'mini';

/** A short name for the configured model, for the status bar and the chat header. */
export function modelLabel(model: string): string {
  if (model === builtInModelId) return 'tokenscope-mini';
  const parts = model.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? model;
}

/**
 * Lets the user pick the built-in model or a Hugging Face ONNX model folder. A folder is checked
 * for the files the runtime needs before it is saved, so a wrong pick fails here, with the reason,
 * rather than later in the model process.
 */
export async function chooseModel(): Promise<void> {
  const current = readConfig().model;
  type Item = vscode.QuickPickItem & { readonly action: 'builtin' | 'folder' | 'server' };
  const items: Item[] = [
    { label: '$(package) tokenscope-mini', description: current === builtInModelId ? 'built-in · active' : 'built-in', detail: 'Ships with Tokenscope: small, offline, completes code (cannot chat).', action: 'builtin' },
    { label: '$(folder-opened) Open a model folder…', description: current !== builtInModelId ? `active: ${modelLabel(current)}` : undefined, detail: 'A Hugging Face ONNX export: config.json, tokenizer.json and onnx/model*.onnx.', action: 'folder' },
    { label: '$(remote) Connect to a server…', detail: 'vLLM, llama.cpp, Ollama, LM Studio, a hosted API or tokenscope serve (OpenAI-compatible).', action: 'server' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Tokenscope: Choose Local Model', placeHolder: 'Which model should complete and chat?' });
  if (!picked) return;
  if (picked.action === 'server') {
    await vscode.commands.executeCommand('tokenscope.connectServer');
    return;
  }
  if (picked.action === 'builtin') {
    await updateSetting('model', builtInModelId);
    return;
  }
  const folders = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use this model' });
  const folder = folders?.[0]?.fsPath;
  if (!folder) return;
  const missing = ['config.json', 'tokenizer.json', 'onnx'].filter((name) => !existsSync(join(folder, name)));
  if (missing.length > 0) {
    void vscode.window.showErrorMessage(`"${folder}" is not a Hugging Face ONNX model folder: ${missing.join(', ')} missing. Pick the folder that holds config.json, tokenizer.json and onnx/.`);
    return;
  }
  await updateSetting('model', folder);
}
