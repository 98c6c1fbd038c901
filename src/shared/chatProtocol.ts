/**
 * The one message protocol between the chat webview (media/chat) and the extension
 * (src/vscode/chatView.ts). Both sides import these types; nothing else crosses the boundary.
 */

/** Shown above the input: what the active model can do. */
export interface ChatModelStatus {
  readonly modelLabel: string;
  /** False for completion-only models such as the built-in tokenscope-mini. */
  readonly canChat: boolean;
  /** Why chat is unavailable and what to do, when it is. */
  readonly notice?: string;
}

export type ExtensionToWebview =
  | { readonly type: 'init'; readonly status: ChatModelStatus }
  | { readonly type: 'status'; readonly status: ChatModelStatus }
  | { readonly type: 'notice'; readonly requestId: string; readonly text: string };

export type WebviewToExtension =
  | { readonly type: 'ready' }
  | { readonly type: 'send'; readonly requestId: string; readonly text: string }
  | { readonly type: 'command'; readonly command: 'chooseModel' | 'showLogs' };

const webviewMessageTypes = new Set(['ready', 'send', 'command']);

/** Messages from a webview are untrusted input: check the shape before acting on them. */
export function isWebviewToExtension(value: unknown): value is WebviewToExtension {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { type?: unknown; requestId?: unknown; text?: unknown; command?: unknown };
  if (typeof message.type !== 'string' || !webviewMessageTypes.has(message.type)) return false;
  if (message.type === 'send') return typeof message.requestId === 'string' && typeof message.text === 'string';
  if (message.type === 'command') return message.command === 'chooseModel' || message.command === 'showLogs';
  return true;
}
