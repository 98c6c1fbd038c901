import * as vscode from 'vscode';

/** What the model status item shows. Every request path sets `idle` again in a `finally`. */
export type ModelState =
  | {
      readonly kind: 'idle';
      readonly lastLatencyMs?: number;
      readonly tokensPerSecond?: number;
      /** The last suggestion's confidence (geometric mean of its token probabilities). */
      readonly confidence?: number;
      /** Set when the last automatic suggestion was hidden for being below this confidence. */
      readonly hiddenBelow?: number;
      /** Why there is no confidence (a server that sends no logprobs). */
      readonly noConfidence?: string;
    }
  | { readonly kind: 'loading'; readonly progress?: string }
  | { readonly kind: 'generating' }
  | { readonly kind: 'disabled' }
  /** `restartModel`: the model process stopped restarting; a click runs "Restart Model Process". */
  | { readonly kind: 'error'; readonly reason: string; readonly action?: 'restartModel' };

/**
 * The model item in the status bar: model name and state; a click opens the status menu. State is
 * derived only from what it is told, so it can never be stuck on a state nobody sets.
 */
export class ModelStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tokenscope.model', vscode.StatusBarAlignment.Right, 100);
  private modelLabel = '';
  private state: ModelState = { kind: 'idle' };

  constructor() {
    this.item.name = 'Tokenscope Model';
    this.item.command = 'tokenscope.showStatusMenu';
    this.render();
    this.item.show();
  }

  setModel(label: string): void {
    this.modelLabel = label;
    this.render();
  }

  setState(state: ModelState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const state = this.state;
    const name = this.modelLabel || 'no model';
    this.item.backgroundColor = undefined;
    this.item.command = 'tokenscope.showStatusMenu';
    switch (state.kind) {
      case 'idle': {
        const speed = state.lastLatencyMs === undefined ? '' : ` ${Math.round(state.lastLatencyMs)} ms`;
        const rate = state.tokensPerSecond === undefined ? '' : ` · ${state.tokensPerSecond.toFixed(0)} tok/s`;
        const percent = (value: number) => `${Math.round(value * 100)}%`;
        const sure = state.confidence === undefined ? '' : ` · ${state.hiddenBelow !== undefined ? '$(eye-closed) ' : ''}${percent(state.confidence)} sure`;
        this.item.text = `$(sparkle) ${name}${speed}${rate}${sure}`;
        const lines = [`Tokenscope: ${name} is ready.${speed ? ` Last completion took${speed}${rate}.` : ''}`];
        if (state.confidence !== undefined && state.hiddenBelow !== undefined) {
          lines.push(`The last suggestion was hidden: the model gave its tokens ${percent(state.confidence)} probability on average, below tokenscope.completions.minConfidence (${percent(state.hiddenBelow)}). Press Alt+\\ to see it anyway.`);
        } else if (state.confidence !== undefined) {
          lines.push(`The model gave the last suggestion's tokens ${percent(state.confidence)} probability on average (geometric mean).`);
        } else if (state.noConfidence) {
          lines.push(state.noConfidence);
        }
        lines.push('Click for options.');
        this.item.tooltip = lines.join('\n');
        break;
      }
      case 'loading':
        this.item.text = `$(loading~spin) ${name}${state.progress ? ` ${state.progress}` : ''}`;
        this.item.tooltip = `Tokenscope: loading ${name}…`;
        break;
      case 'generating':
        this.item.text = `$(loading~spin) ${name}`;
        this.item.tooltip = `Tokenscope: ${name} is generating.`;
        break;
      case 'disabled':
        this.item.text = `$(circle-slash) ${name}`;
        this.item.tooltip = 'Tokenscope: inline completions are disabled. Click to enable.';
        break;
      case 'error':
        this.item.text = state.action === 'restartModel' ? `$(error) ${name} stopped` : `$(error) ${name}`;
        this.item.tooltip = state.action === 'restartModel' ? `Tokenscope: ${state.reason}\nClick to run Restart Model Process.` : `Tokenscope: ${state.reason}`;
        if (state.action === 'restartModel') this.item.command = 'tokenscope.restartModel';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
