/**
 * What the chat history file holds and how it is read: the stored messages and conversations
 * (the chat protocol sends the same types to the webview), the checks that keep every malformed
 * entry aside instead of dropping it unseen, and the merge of one conversation saved by two
 * windows. Pure: the file itself is historyStore.ts's.
 */
import type { StopReason } from './backend';
import type { ThinkingSummary } from './chatTurn';
import type { ChatStats } from './stats';

/** Where an explain request pointed, so its annotations and trace can be found again. */
export interface ExplainRef {
  readonly uri: string;
  readonly path: string;
  readonly languageId: string;
  readonly startLine: number;
  readonly endLine: number;
}

export interface StoredUserMessage {
  readonly id: string;
  readonly role: 'user';
  /** What the chat shows. */
  readonly text: string;
  /** What the model was sent, when it differs (an explain prompt, attached context). */
  readonly prompt?: string;
  readonly explain?: ExplainRef;
  /** Labels of attached context (`retry.ts:2-14`), shown under the message. */
  readonly attachments?: readonly string[];
  readonly createdAt: number;
}

export interface StoredAssistantMessage {
  readonly id: string;
  readonly role: 'assistant';
  readonly text: string;
  readonly thinking?: ThinkingSummary;
  readonly stats?: ChatStats;
  readonly stopReason: StopReason | 'error';
  readonly error?: string;
  readonly model: string;
  readonly createdAt: number;
}

export type StoredMessage = StoredUserMessage | StoredAssistantMessage;

export interface StoredConversation {
  readonly id: string;
  readonly title: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly messages: readonly StoredMessage[];
}

export interface HistoryFile {
  readonly version: 1;
  readonly conversations: readonly StoredConversation[];
}

/** Messages kept per conversation: older ones are dropped first (a runaway chat must not grow the file forever). */
export const maxMessagesPerConversation = 200;

function isMessage(value: unknown): value is StoredMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.id === 'string' && (m.role === 'user' || m.role === 'assistant') && typeof m.text === 'string' && typeof m.createdAt === 'number';
}

/** A conversation's own fields are sound (its messages are checked one by one). */
function hasConversationFields(value: unknown): value is Omit<StoredConversation, 'messages'> & { messages: unknown[] } {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.id === 'string' && typeof c.title === 'string' && typeof c.createdAt === 'number' && typeof c.updatedAt === 'number' && Array.isArray(c.messages);
}

/** What a history file holds, checked entry by entry: nothing malformed is dropped unseen. */
export interface ReadHistory {
  /** Every sound conversation; one with malformed messages keeps its good ones. */
  readonly conversations: StoredConversation[];
  /** The entries as they were in the file, when they were not (wholly) valid: kept aside at the next save. */
  readonly malformed: unknown[];
  /** Human summary of what was malformed, for the log. */
  readonly problems: string[];
}

export function checkEntries(entries: readonly unknown[]): ReadHistory {
  const conversations: StoredConversation[] = [];
  const malformed: unknown[] = [];
  const problems: string[] = [];
  let invalid = 0;
  for (const entry of entries) {
    if (!hasConversationFields(entry)) {
      invalid++;
      malformed.push(entry);
      continue;
    }
    const messages = entry.messages.filter(isMessage);
    if (messages.length < entry.messages.length) {
      const bad = entry.messages.length - messages.length;
      problems.push(`${bad} malformed message${bad === 1 ? '' : 's'} in conversation "${entry.title}" (left out; the rest is kept)`);
      malformed.push(entry);
    }
    conversations.push({ id: entry.id, title: entry.title, createdAt: entry.createdAt, updatedAt: entry.updatedAt, messages });
  }
  if (invalid > 0) problems.push(`${invalid} conversation${invalid === 1 ? '' : 's'} that ${invalid === 1 ? 'is' : 'are'} not valid history`);
  return { conversations, malformed, problems };
}

/**
 * One conversation saved by two windows: this window's version, plus any message only the file
 * has (the other window's turns), in time order. Nothing either window said is lost.
 */
export function mergeConversation(onDisk: StoredConversation, ours: StoredConversation): StoredConversation {
  const ids = new Set(ours.messages.map((message) => message.id));
  const theirs = onDisk.messages.filter((message) => !ids.has(message.id));
  if (theirs.length === 0) return ours;
  const messages = [...ours.messages, ...theirs].sort((a, b) => a.createdAt - b.createdAt);
  return { ...ours, createdAt: Math.min(onDisk.createdAt, ours.createdAt), updatedAt: Math.max(onDisk.updatedAt, ours.updatedAt), messages };
}

/**
 * The file's conversations; `otherVersion` for a history file of a version this store does not read
 * (written by a newer Tokenscope); undefined when it is not history at all.
 */
export function parseHistory(text: string): { version: 1; conversations: unknown[] } | { otherVersion: number } | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const file = value as { version?: unknown; conversations?: unknown };
    if (!Array.isArray(file.conversations)) return undefined;
    if (file.version !== 1) return typeof file.version === 'number' && Number.isInteger(file.version) ? { otherVersion: file.version } : undefined;
    return { version: 1, conversations: file.conversations as unknown[] };
  } catch {
    return undefined;
  }
}

/** A conversation title from its first user message. */
export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 59)}…` : line || 'New chat';
}
