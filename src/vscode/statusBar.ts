import * as vscode from 'vscode';
import { describeLastAnswer, type CompletionStatusView } from '../core/completions/status';

/** What the model status item shows: the completion status core's view (src/core/completions/status.ts). */
export type ModelState = CompletionStatusView;

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
        const last = describeLastAnswer(state.last);
        this.item.text = `$(sparkle) ${name}${last.text ? ` ${last.text}` : ''}`;
        this.item.tooltip = [`Tokenscope: ${name} is ready.`, ...last.tooltip, 'Click for options.'].join('\n');
        break;
      }
      case 'loading':
        this.item.text = `$(loading~spin) ${name}`;
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
        // A model process that stopped restarting: the item says so, and a click restarts it.
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
