/**
 * The one message protocol between the chat webview (media/chat) and the extension
 * (src/vscode/chat/chatView.ts hosts it, src/vscode/chat/chatController.ts handles it). Both sides import these types;
 * nothing else crosses the boundary. Stream messages carry the request id they belong to.
 */
import type { ChatTokenProbability, ThinkingMode } from '../chat/backend';
import type { StoredAssistantMessage, StoredConversation, StoredUserMessage } from '../chat/historyFormat';

export type { ChatTokenProbability, ThinkingMode, StoredAssistantMessage, StoredConversation, StoredUserMessage };

/** Shown above the input: what the active model can do. */
export interface ChatModelStatus {
  readonly modelLabel: string;
  /** False for completion-only models such as the built-in tokenscope-mini. */
  readonly canChat: boolean;
  /** Why chat is unavailable and what to do, when it is. */
  readonly notice?: string;
  readonly supportsThinking: boolean;
  readonly thinking: ThinkingMode;
  /** Tokens the model can attend to (0 when unknown or unavailable). */
  readonly contextWindow: number;
}

/** Context attached to the next message: the editor selection or a whole file. */
export interface ContextChip {
  readonly id: string;
  readonly kind: 'selection' | 'file';
  /** `retry.ts:2-14` or `retry.ts`. */
  readonly label: string;
  readonly path: string;
  readonly languageId: string;
  /** 1-based first line of a selection. */
  readonly startLine?: number;
  readonly text: string;
  readonly tokens: number;
}

/** An answer being generated, for a view that (re)loads while it streams. */
export interface PendingTurn {
  readonly requestId: string;
  readonly user: StoredUserMessage;
  readonly thinking: string;
  readonly answer: string;
}

export type ExtensionToWebview =
  | { readonly type: 'init'; readonly status: ChatModelStatus; readonly conversation: StoredConversation; readonly pending?: PendingTurn }
  | { readonly type: 'status'; readonly status: ChatModelStatus }
  /** Replaces the shown conversation (new chat, cleared history). */
  | { readonly type: 'conversation'; readonly conversation: StoredConversation }
  | { readonly type: 'turnStart'; readonly requestId: string; readonly user: StoredUserMessage }
  | { readonly type: 'delta'; readonly requestId: string; readonly part: 'thinking' | 'answer'; readonly text: string }
  /** Everything shown as answer so far was a reasoning trace (a bare `</think>` arrived). */
  | { readonly type: 'reclassify'; readonly requestId: string }
  | { readonly type: 'turnEnd'; readonly requestId: string; readonly message: StoredAssistantMessage }
  | { readonly type: 'notice'; readonly text: string; readonly action?: 'chooseModel' }
  /** `cost`: the prompt on the reference model as input, and the worst case for maxTokens of output (core/cost/promptCost.ts). */
  | { readonly type: 'promptInfo'; readonly measureId: number; readonly promptTokens: number; readonly contextWindow: number; readonly maxTokens: number; readonly cost?: string }
  /** A progress line for the answer being generated (Explain Selection: its prompt's tokens and cost). */
  | { readonly type: 'turnProgress'; readonly requestId: string; readonly text: string }
  | { readonly type: 'chip'; readonly chip: ContextChip }
  /** The generated tokens of a finished answer with their probabilities (kept while the window is open, not in history). */
  | { readonly type: 'probabilities'; readonly messageId: string; readonly tokens: readonly ChatTokenProbability[]; readonly total: number };

export type CodeAction = 'copy' | 'insert' | 'replace';

export type WebviewToExtension =
  | { readonly type: 'ready' }
  | { readonly type: 'send'; readonly requestId: string; readonly text: string; readonly chips: readonly ContextChip[] }
  | { readonly type: 'stop'; readonly requestId: string }
  | { readonly type: 'measure'; readonly measureId: number; readonly text: string; readonly chips: readonly ContextChip[] }
  | { readonly type: 'attach'; readonly kind: 'selection' | 'file' }
  | { readonly type: 'codeAction'; readonly action: CodeAction; readonly code: string }
  | { readonly type: 'openLink'; readonly href: string }
  | { readonly type: 'revealLines'; readonly messageId: string; readonly start: number; readonly end: number }
  | { readonly type: 'openTrace'; readonly messageId: string }
  | { readonly type: 'setThinking'; readonly mode: ThinkingMode }
  | { readonly type: 'newChat' }
  | { readonly type: 'command'; readonly command: 'chooseModel' | 'showLogs' };

/** Caps on what a webview may send: it is untrusted, and a runaway message must not stall the host. */
export const maxMessageTextLength = 200_000;
export const maxChipTextLength = 200_000;
export const maxChips = 8;

type Check = (message: Record<string, unknown>) => boolean;

const isString = (value: unknown, max = maxMessageTextLength): value is string => typeof value === 'string' && value.length <= max;
const isLine = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 10_000_000;
const isThinking = (value: unknown): value is ThinkingMode => value === 'auto' || value === 'on' || value === 'off';

export function isContextChip(value: unknown): value is ContextChip {
  if (typeof value !== 'object' || value === null) return false;
  const chip = value as Record<string, unknown>;
  return (
    isString(chip.id, 200) &&
    (chip.kind === 'selection' || chip.kind === 'file') &&
    isString(chip.label, 1000) &&
    isString(chip.path, 4000) &&
    isString(chip.languageId, 200) &&
    (chip.startLine === undefined || isLine(chip.startLine)) &&
    isString(chip.text, maxChipTextLength) &&
    typeof chip.tokens === 'number'
  );
}

const isChips = (value: unknown): value is ContextChip[] => Array.isArray(value) && value.length <= maxChips && value.every(isContextChip);

const checks: Readonly<Record<WebviewToExtension['type'], Check>> = {
  ready: () => true,
  send: (m) => isString(m.requestId, 200) && isString(m.text) && isChips(m.chips),
  stop: (m) => isString(m.requestId, 200),
  measure: (m) => typeof m.measureId === 'number' && isString(m.text) && isChips(m.chips),
  attach: (m) => m.kind === 'selection' || m.kind === 'file',
  codeAction: (m) => (m.action === 'copy' || m.action === 'insert' || m.action === 'replace') && isString(m.code),
  openLink: (m) => isString(m.href, 4000),
  revealLines: (m) => isString(m.messageId, 200) && isLine(m.start) && isLine(m.end),
  openTrace: (m) => isString(m.messageId, 200),
  setThinking: (m) => isThinking(m.mode),
  newChat: () => true,
  command: (m) => m.command === 'chooseModel' || m.command === 'showLogs',
};

/** Messages from a webview are untrusted input: check the shape before acting on them. */
export function isWebviewToExtension(value: unknown): value is WebviewToExtension {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  if (typeof message.type !== 'string' || !Object.prototype.hasOwnProperty.call(checks, message.type)) return false;
  return checks[message.type as WebviewToExtension['type']](message);
}
