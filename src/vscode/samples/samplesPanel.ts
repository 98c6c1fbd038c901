import * as vscode from 'vscode';
import type { PromptInput } from '../../core/runtime/types';
import { parseSamplePlan, sampleMaxTokens, samplePlanSyntax, SamplePlanError, samplePresets, type SampleSettings } from '../../core/samples/samplePlan';
import { runSamples, type SampleRun } from '../../core/samples/runSamples';
import { samplesLiveHtml, samplesPageHtml } from '../../core/samples/samplesPage';
import { isSamplesReady, type SamplesToWebview } from '../../core/webview/samplesProtocol';
import { newNonce } from '../../core/webview/nonce';
import { builtInModelId, modelLabel } from '../modelCommands';
import { webviewResourceRoots } from '../webviewHtml';
import type { SamplesServices } from './register';

/** The page is rebuilt at most this often while tokens stream in (a full static re-render). */
const renderIntervalMs = 150;

/** The prompt: the selection, or (no selection) a line the user types. */
async function promptText(): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor && !editor.selection.isEmpty) return editor.document.getText(editor.selection);
  return vscode.window.showInputBox({
    title: 'Sample Side by Side: the prompt',
    prompt: 'Select code first to sample its continuation, or type a prompt here.',
    placeHolder: 'def is_prime(n):',
    validateInput: (value) => (value.trim() === '' ? 'Type a prompt (or select some code and run the command again).' : undefined),
  });
}

/** The runs: a preset, or a plan the user writes. */
async function choosePlan(): Promise<SampleSettings[] | undefined> {
  const custom = { label: 'Custom…', detail: samplePlanSyntax, plan: '' };
  const picked = await vscode.window.showQuickPick([...samplePresets, custom], { title: 'Sample Side by Side: which runs?', matchOnDetail: true });
  if (!picked) return undefined;
  if (picked !== custom) return parseSamplePlan(picked.plan);
  const typed = await vscode.window.showInputBox({
    title: 'Sample Side by Side: your runs',
    prompt: samplePlanSyntax,
    value: '0, 0.8@1, 0.8@2, 1.2/0.9@7',
    validateInput: (value) => {
      try {
        parseSamplePlan(value);
        return undefined;
      } catch (error) {
        return error instanceof SamplePlanError ? error.message : String(error);
      }
    },
  });
  return typed === undefined ? undefined : parseSamplePlan(typed);
}

/**
 * Tokenscope: Sample Side by Side…: the prompt run once per chosen setting on the local model, the
 * answers in columns in one panel that fills in as tokens arrive. Closing the panel or Cancel stops
 * the model; what was generated stays on the page.
 */
export async function sampleSideBySide(services: SamplesServices): Promise<void> {
  const text = await promptText();
  if (text === undefined) return;
  const plan = await choosePlan();
  if (!plan) return;
  const info = await services.runtime.ensureLoaded();
  const label = modelLabel(info.id);
  // A chat model answers the text as a message; a completion model continues it. The built-in model
  // has a template in its tokenizer but was never trained to chat (as chat says: backendSelection.ts).
  const chats = info.hasChatTemplate && info.id !== builtInModelId;
  const promptKind = chats ? 'chat' : 'continuation';
  const prompt: PromptInput = chats ? { kind: 'chat', messages: [{ role: 'user', content: text }] } : { kind: 'text', text };

  const panel = vscode.window.createWebviewPanel('tokenscope.samples', 'Sample side by side', vscode.ViewColumn.Beside, { enableScripts: true, localResourceRoots: webviewResourceRoots(services.extensionUri) });
  const controller = new AbortController();
  let disposed = false;
  let ready = false;
  let runs: readonly SampleRun[] = plan.map((settings) => ({ settings, status: 'waiting', tokens: [] }));
  let renderedAt = 0;
  // The page loads once; the runs stream into it (see samplesProtocol.ts for why).
  const render = () => {
    renderedAt = performance.now();
    if (disposed || !ready) return;
    void panel.webview.postMessage({ type: 'update', html: samplesLiveHtml(runs) } satisfies SamplesToWebview);
  };
  const received = panel.webview.onDidReceiveMessage((message: unknown) => {
    if (!isSamplesReady(message)) return;
    ready = true;
    render();
  });
  panel.onDidDispose(() => {
    disposed = true;
    received.dispose();
    controller.abort();
  });
  const script = { src: panel.webview.asWebviewUri(vscode.Uri.joinPath(services.extensionUri, 'dist', 'media', 'samples.js')).toString(), cspSource: panel.webview.cspSource };
  panel.webview.html = samplesPageHtml({ modelLabel: label, promptText: text, promptKind, maxTokens: sampleMaxTokens, runs, nonce: newNonce() }, script);
  const started = performance.now();
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tokenscope: sampling ${plan.length} runs on ${label}…`, cancellable: true }, async (progress, token) => {
    const cancel = token.onCancellationRequested(() => controller.abort());
    try {
      let reported = 0;
      for await (const snapshot of runSamples({ generate: (request, signal) => services.runtime.client.generate(request, signal), prompt, plan, maxTokens: sampleMaxTokens, signal: controller.signal })) {
        runs = snapshot;
        const finished = runs.filter((run) => run.status !== 'waiting' && run.status !== 'running').length;
        if (finished > reported) {
          progress.report({ message: `${finished} of ${plan.length} done`, increment: ((finished - reported) / plan.length) * 100 });
          reported = finished;
        }
        if (performance.now() - renderedAt >= renderIntervalMs) render();
      }
    } finally {
      cancel.dispose();
    }
  });
  render();
  const outcome = runs.map((run) => `${run.status}${run.status === 'done' ? ` ${run.tokens.length} tok` : ''}`).join(', ');
  services.log.info(`Sample side by side: ${plan.length} runs on ${label} in ${(performance.now() - started).toFixed(0)} ms (${outcome})`);
}

