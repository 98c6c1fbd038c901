import * as vscode from 'vscode';
import { barsView } from '../../core/probabilities/bars';
import { DEFAULT_RESHAPING, textBeforeCursor, type NextTokenResult } from '../../core/probabilities/modelProbabilities';
import type { Reshaping } from '../../core/probabilities/distribution';
import { requestNextToken } from '../../core/modelProcess/probabilityRequests';
import { visibleWhitespace } from '../../core/tokenizers/display';
import { isNextTokenFromWebview, type NextTokenFromWebview, type NextTokenToWebview, type NextTokenViewState } from '../../core/webview/nextTokenProtocol';
import { webviewHtml, webviewResourceRoots } from '../webviewHtml';
import type { ProbabilityServices } from './register';

const SHOWN_TOKENS = 20;
const CONTEXT_TAIL_CHARS = 120;

/**
 * "What comes next?": a panel beside the editor with the model's most likely next tokens at the
 * cursor as bars. Choosing one (or "Sample one", or "Greedy") inserts it at the cursor and shows
 * the next distribution, so a user generates step by step; the sampling controls re-shape the bars
 * live (the model process keeps the logits, so a re-shape runs no forward pass). One panel at a
 * time; it follows the editor and position it was opened on.
 */
export class NextTokenPanel implements vscode.Disposable {
  private static current: NextTokenPanel | undefined;
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private reshaping: Reshaping = DEFAULT_RESHAPING;
  private seed = 1;
  private steps: string[] = [];
  private result: NextTokenResult | undefined;
  private controller: AbortController | undefined;
  private state: NextTokenViewState;
  /** Requests started; an answer to an older one is dropped. */
  private generation = 0;

  /** Opens the panel on the active editor's cursor (or moves the existing one there). */
  static show(extensionUri: vscode.Uri, services: ProbabilityServices): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Tokenscope: open a file and put the cursor where the model should continue, then run "What Comes Next?".');
      return;
    }
    const panel = (NextTokenPanel.current ??= new NextTokenPanel(extensionUri, services));
    panel.follow(editor.document, editor.selection.active);
    panel.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  private document!: vscode.TextDocument;
  private position!: vscode.Position;
  /** Set while the panel inserts a token (its own edit moves the position itself). */
  private inserting = false;
  /** Offset of the followed position, as of the document's last version seen. */
  private offset = 0;
  /** The document's version right after the panel's last insertion. */
  private ownVersion = -1;

  private constructor(
    extensionUri: vscode.Uri,
    private readonly services: ProbabilityServices,
  ) {
    this.panel = vscode.window.createWebviewPanel('tokenscope.nextToken', 'What Comes Next?', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: webviewResourceRoots(extensionUri) });
    this.panel.webview.html = webviewHtml(this.panel.webview, extensionUri, { title: 'What Comes Next?', script: 'dist/media/nextToken.js', styles: ['media/nextToken/nextToken.css'] });
    this.state = { modelLabel: '', contextTail: '', reshaping: this.reshaping, seed: this.seed, steps: [], rows: [], other: '', candidates: '', busy: true };
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isNextTokenFromWebview(message)) {
          services.log.warn(`What comes next: ignored a malformed message from the panel: ${JSON.stringify(message)?.slice(0, 200)}`);
          return;
        }
        void this.handle(message);
      }),
      // Edits before the followed position (typing elsewhere in the file) move it with the text.
      vscode.workspace.onDidChangeTextDocument((event) => {
        // The panel's own insertions move the position themselves (their event may come before or after applyEdit resolves).
        if (event.document !== this.document || this.inserting || event.document.version <= this.ownVersion) return;
        let offset = this.offset;
        for (const change of event.contentChanges) {
          if (change.rangeOffset + change.rangeLength <= offset) offset += change.text.length - change.rangeLength;
          else if (change.rangeOffset < offset) offset = change.rangeOffset + change.text.length;
        }
        if (offset === this.offset) return;
        this.position = this.document.positionAt(offset);
        void this.refresh();
      }),
      vscode.workspace.onDidCloseTextDocument((closed) => {
        if (closed === this.document) this.setState({ notice: 'The file was closed: run "What Comes Next?" in an editor again.', rows: [], busy: false });
      }),
    );
  }

  dispose(): void {
    if (NextTokenPanel.current === this) NextTokenPanel.current = undefined;
    this.controller?.abort();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }

  private follow(document: vscode.TextDocument, position: vscode.Position): void {
    this.document = document;
    this.position = position;
    this.steps = [];
    void this.refresh();
  }

  private async handle(message: NextTokenFromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.post();
        return;
      case 'reshape':
        this.reshaping = message.reshaping;
        await this.refresh();
        return;
      case 'greedy': {
        const top = this.result?.tokens[0];
        if (top) await this.insert(top.text, top.display);
        return;
      }
      case 'choose': {
        const token = this.result?.tokens.find((candidate) => candidate.id === message.id);
        if (token) await this.insert(token.text, token.display);
        return;
      }
      case 'sample': {
        this.seed = message.seed;
        const result = await this.refresh(this.seed);
        const sampled = result?.sampled;
        if (!sampled) return;
        this.setState({ lastSample: { label: sampled.display || '(empty)', seed: sampled.seed } });
        this.seed = (this.seed + 1) % 2 ** 31;
        await this.insert(sampled.text, sampled.display);
        return;
      }
    }
  }

  /** Inserts a token's text at the followed position and moves past it. */
  private async insert(text: string, display: string): Promise<void> {
    if (this.document.isClosed) return;
    if (text.length === 0) {
      this.setState({ notice: `The token ${display || '(a control token)'} has no text to insert: for this model it usually means "stop here".` });
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.insert(this.document.uri, this.position, text);
    const before = this.offset;
    this.inserting = true;
    let applied: boolean;
    try {
      applied = await vscode.workspace.applyEdit(edit);
    } finally {
      this.inserting = false;
    }
    if (!applied) {
      this.setState({ notice: 'The file could not be edited (read-only?).' });
      return;
    }
    this.ownVersion = this.document.version;
    this.position = this.document.positionAt(before + text.length);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document === this.document) editor.selection = new vscode.Selection(this.position, this.position);
    }
    this.steps.push(display);
    await this.refresh();
  }

  /** Asks the model process for the distribution at the followed position; posts the new state. */
  private async refresh(sampleSeed?: number): Promise<NextTokenResult | undefined> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const generation = ++this.generation;
    const document = this.document;
    this.offset = document.offsetAt(this.position);
    const lines = { lineCount: document.lineCount, lineText: (line: number) => document.lineAt(line).text };
    const text = textBeforeCursor(lines, this.position);
    this.setState({ busy: true, notice: undefined, contextTail: visibleWhitespace(text.slice(-CONTEXT_TAIL_CHARS)), reshaping: this.reshaping, seed: this.seed, steps: this.steps.slice() });
    const started = performance.now();
    try {
      const info = await this.services.runtime.ensureLoaded();
      const result = await requestNextToken(this.services.runtime.client, { prompt: { kind: 'text', text }, top: SHOWN_TOKENS, reshaping: this.reshaping, sampleSeed }, controller.signal);
      if (generation !== this.generation) return undefined;
      this.result = result;
      const bars = barsView(result);
      this.setState({ modelLabel: info.label, rows: bars.rows, other: bars.other, candidates: bars.candidates, busy: false, refreshMs: Math.round(performance.now() - started) });
      return result;
    } catch (error) {
      if (generation !== this.generation || controller.signal.aborted) return undefined;
      this.result = undefined;
      this.setState({ busy: false, rows: [], other: '', candidates: '', notice: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  private setState(change: Partial<NextTokenViewState>): void {
    this.state = { ...this.state, ...change };
    this.post();
  }

  private post(): void {
    const message: NextTokenToWebview = { type: 'state', state: this.state };
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }
}
