import * as vscode from 'vscode';
import { SHADE_LEVELS, selectionLabel, shadedTokens, stepHead, stepLayer, summarizeHeads, type AttentionSelection } from '../../core/inside/attentionView';
import { embeddingHoverMarkdown } from '../../core/inside/embeddingHover';
import { insidePageHtml } from '../../core/inside/insidePage';
import { inspectModel } from '../../core/modelProcess/client';
import { attentionRow, attentionWindow, charsBefore, type AttentionResult, type InspectRequest, type InspectResultFor, type LensResult } from '../../core/runtime/inspectTypes';
import { newNonce } from '../../core/webview/nonce';
import type { InsideServices } from './register';

const ATTENTION_CONTEXT_KEY = 'tokenscope.attentionShown';
const CURSOR_DEBOUNCE_MS = 150;

interface ShownAttention {
  readonly editor: vscode.TextEditor;
  /** Where the window starts in the document. */
  readonly base: number;
  readonly text: string;
  readonly result: AttentionResult;
}

/**
 * The Inside the Model views (see register.ts), loaded from dist/inside.js on first use. Every
 * forward pass runs in the model process; this only asks, and draws the answer.
 */
export class InsideFeature implements vscode.Disposable {
  private readonly levels = Array.from({ length: SHADE_LEVELS }, (_, i) => vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor(`tokenscope.attention${i + 1}`) }));
  private readonly cursorDecoration = vscode.window.createTextEditorDecorationType({ borderWidth: '1px', borderStyle: 'solid', borderColor: new vscode.ThemeColor('tokenscope.attentionCursorBorder') });
  private readonly status = vscode.window.createStatusBarItem('tokenscope.attention', vscode.StatusBarAlignment.Right, 90);
  private readonly listeners: vscode.Disposable[] = [];
  private shown = false;
  private selection: AttentionSelection = {};
  private current: ShownAttention | undefined;
  private request: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private panel: vscode.WebviewPanel | undefined;
  private drawnIn: vscode.TextEditor | undefined;

  constructor(private readonly services: InsideServices) {
    this.status.name = 'Tokenscope Attention';
    this.status.command = 'tokenscope.chooseAttentionHead';
    this.listeners.push(
      vscode.window.onDidChangeTextEditorSelection((event) => this.onCursor(event.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.onCursor(editor)),
    );
  }

  private async ask<R extends InspectRequest>(request: R, signal?: AbortSignal): Promise<InspectResultFor<R>> {
    await this.services.runtime.ensureLoaded();
    return inspectModel(this.services.runtime.client, request, signal);
  }

  async toggleAttention(): Promise<void> {
    this.shown = !this.shown;
    await vscode.commands.executeCommand('setContext', ATTENTION_CONTEXT_KEY, this.shown);
    if (!this.shown) {
      this.clear();
      return;
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Tokenscope: open a file and put the cursor on a token to see what it attends to.');
      return;
    }
    await this.refresh(editor);
  }

  private onCursor(editor: vscode.TextEditor): void {
    if (!this.shown && !this.panel) return;
    if (editor.document.uri.scheme === 'output') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh(editor).catch((error: unknown) => this.services.log.warn(`Attention: ${error instanceof Error ? error.message : String(error)}`));
    }, CURSOR_DEBOUNCE_MS);
  }

  /** Asks for the cursor token's attention (and the page's lens) and draws it; a newer request cancels this one. */
  private async refresh(editor: vscode.TextEditor): Promise<void> {
    this.request?.abort();
    const request = new AbortController();
    this.request = request;
    const document = editor.document;
    const version = document.version;
    const offset = document.offsetAt(editor.selection.active);
    const info = await this.services.runtime.ensureLoaded();
    if (request.signal.aborted) return;
    const window = attentionWindow(document.getText(), offset, info.contextLength);
    const started = performance.now();
    try {
      const result = await this.ask({ kind: 'attention', text: window.text, offset: window.offset }, request.signal);
      if (request.signal.aborted || document.version !== version) return;
      this.current = { editor, base: window.base, text: window.text, result };
      this.services.log.debug(`Attention at ${offset}: ${result.tokens.length} tokens in ${(performance.now() - started).toFixed(0)} ms (model ${result.elapsedMs} ms)`);
      if (this.shown) {
        if (result.unavailable) {
          this.shown = false;
          await vscode.commands.executeCommand('setContext', ATTENTION_CONTEXT_KEY, false);
          void vscode.window.showWarningMessage(`Tokenscope: ${result.unavailable}`);
        } else this.draw();
      }
      if (this.panel) await this.renderPage(document, offset, request.signal);
    } finally {
      if (this.request === request) this.request = undefined;
    }
  }

  private draw(): void {
    const shown = this.current;
    if (!shown || !this.shown) return;
    const { editor, base, result, text } = shown;
    // One editor shaded at a time: the one the cursor token is in.
    if (this.drawnIn && this.drawnIn !== editor) this.clearEditor(this.drawnIn);
    this.drawnIn = editor;
    const range = (index: number) => new vscode.Range(editor.document.positionAt(base + result.tokens[index].start), editor.document.positionAt(base + Math.max(result.tokens[index].end, result.tokens[index].start)));
    const cursorText = JSON.stringify(text.slice(result.tokens[result.position].start, result.tokens[result.position].end)).replace(/`/g, 'ˋ');
    const byLevel: vscode.DecorationOptions[][] = this.levels.map(() => []);
    const label = selectionLabel(this.selection);
    for (const token of shadedTokens(result, this.selection)) {
      byLevel[token.level - 1].push({ range: range(token.index), hoverMessage: new vscode.MarkdownString(`**Attention** ${(100 * token.weight).toFixed(1)}% from \`${cursorText}\` (${label})`) });
    }
    this.levels.forEach((type, level) => editor.setDecorations(type, byLevel[level]));
    const self = attentionRow(result, this.selection.layer, this.selection.head)[result.position];
    editor.setDecorations(this.cursorDecoration, [{ range: range(result.position), hoverMessage: new vscode.MarkdownString(`**Attention to itself** ${(100 * self).toFixed(1)}% (${label})`) }]);
    this.status.text = `$(eye) Attention: ${label}`;
    this.status.tooltip = `What ${cursorText} attends to (${result.layers} layers × ${result.heads} heads). Ctrl+Shift+Alt+Up/Down: layer, Left/Right: head. Click to choose.`;
    this.status.show();
  }

  private clearEditor(editor: vscode.TextEditor): void {
    for (const type of this.levels) editor.setDecorations(type, []);
    editor.setDecorations(this.cursorDecoration, []);
  }

  private clear(): void {
    this.request?.abort();
    for (const editor of vscode.window.visibleTextEditors) this.clearEditor(editor);
    this.drawnIn = undefined;
    this.status.hide();
  }

  step(what: 'layer' | 'head', delta: number): void {
    const shown = this.current;
    if (!shown || !this.shown) return;
    this.selection = what === 'layer' ? stepLayer(this.selection, delta, shown.result.layers) : stepHead(this.selection, delta, shown.result.heads);
    this.draw();
    if (this.panel) void this.renderPage(shown.editor.document, shown.editor.document.offsetAt(shown.editor.selection.active));
  }

  async chooseHead(): Promise<void> {
    const result = this.current?.result;
    if (!result) {
      if (!this.shown) await this.toggleAttention();
      return;
    }
    type Item = vscode.QuickPickItem & { readonly selection: AttentionSelection };
    const items: Item[] = [{ label: 'All layers, mean of heads', selection: {} }];
    for (let layer = 1; layer <= result.layers; layer++) {
      items.push({ label: `Layer ${layer}`, kind: vscode.QuickPickItemKind.Separator, selection: {} });
      items.push({ label: `Layer ${layer}, mean of heads`, selection: { layer } });
      for (let head = 1; head <= result.heads; head++) items.push({ label: `Layer ${layer}, head ${head}`, selection: { layer, head } });
    }
    const picked = await vscode.window.showQuickPick(items, { title: 'Attention: which layer and head' });
    if (!picked) return;
    this.selection = picked.selection;
    if (!this.shown) await this.toggleAttention();
    else this.draw();
  }

  async showPage(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('tokenscope.inside', 'Inside the Model', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: false, localResourceRoots: [] });
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else this.panel.reveal(undefined, true);
    if (editor) await this.refresh(editor);
  }

  private async renderPage(document: vscode.TextDocument, offset: number, signal?: AbortSignal): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    const before = document.getText().slice(Math.max(0, offset - charsBefore(this.services.runtime.client.model?.contextLength)), offset);
    let lens: LensResult | undefined;
    let problem: string | undefined;
    try {
      lens = before.length > 0 ? await this.ask({ kind: 'lens', prompt: before, top: 5 }, signal) : undefined;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (signal?.aborted || this.panel !== panel) return;
    const shown = this.current;
    const result = shown?.result;
    panel.webview.html = insidePageHtml({
      cspSource: panel.webview.cspSource,
      nonce: newNonce(),
      modelLabel: this.services.runtime.client.model?.label ?? 'the model',
      context: before.slice(-40),
      lens,
      problem,
      ...(result && !result.unavailable && shown
        ? {
            grid: summarizeHeads(result, shown.text),
            tokenText: (index: number) => shown.text.slice(result.tokens[index].start, result.tokens[index].end),
            cursorToken: shown.text.slice(result.tokens[result.position].start, result.tokens[result.position].end),
          }
        : {}),
      attentionUnavailable: result?.unavailable,
      selection: this.shown ? this.selection : undefined,
    });
  }

  async embeddingHover(document: vscode.TextDocument, position: vscode.Position, cancellation: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    // The token under the mouse, as the model tokenizes its line and the lines around it.
    const start = document.offsetAt(new vscode.Position(Math.max(0, position.line - 2), 0));
    const end = document.offsetAt(document.lineAt(Math.min(document.lineCount - 1, position.line + 2)).range.end);
    const controller = new AbortController();
    const subscription = cancellation.onCancellationRequested(() => controller.abort());
    try {
      const result = await this.ask({ kind: 'neighbours', token: '', top: 8, at: { text: document.getText(new vscode.Range(document.positionAt(start), document.positionAt(end))), offset: document.offsetAt(position) - start } }, controller.signal);
      if (cancellation.isCancellationRequested || !result.span) return undefined;
      const markdown = new vscode.MarkdownString(embeddingHoverMarkdown(result, this.services.runtime.client.model?.label ?? 'the model'));
      return new vscode.Hover(markdown, new vscode.Range(document.positionAt(start + result.span.start), document.positionAt(start + result.span.end)));
    } catch (error) {
      this.services.log.debug(`Embedding hover: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    } finally {
      subscription.dispose();
    }
  }

  async findSimilar(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
    const wordRange = editor && !selected ? editor.document.getWordRangeAtPosition(editor.selection.active) : undefined;
    const word = wordRange ? editor?.document.getText(wordRange) : undefined;
    const token = await vscode.window.showInputBox({ title: 'Find Similar Tokens', prompt: 'A token or any text (its first token is used). A leading space matters: " return" and "return" are different tokens.', value: selected ?? word ?? '' });
    if (!token) return;
    const result = await this.ask({ kind: 'neighbours', token, top: 20 });
    const items = result.neighbours.map((neighbour) => ({ label: JSON.stringify(neighbour.text), description: `cosine ${neighbour.cosine.toFixed(3)}`, detail: `token ${neighbour.id}` }));
    await vscode.window.showQuickPick(items, {
      title: `Nearest to ${JSON.stringify(result.token)} (token ${result.id}${result.encodedAs ? `, first of ${result.encodedAs.length}` : ''}): [${result.vector.map((value) => value.toFixed(2)).join(', ')}, …] norm ${result.norm.toFixed(2)}`,
    });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.request?.abort();
    for (const listener of this.listeners) listener.dispose();
    for (const type of this.levels) type.dispose();
    this.cursorDecoration.dispose();
    this.status.dispose();
    this.panel?.dispose();
  }
}
