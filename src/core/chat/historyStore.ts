import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { ThinkingSummary } from './chatTurn';
import type { StopReason } from './backend';
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

interface HistoryFile {
  readonly version: 1;
  readonly conversations: readonly StoredConversation[];
}

/** Messages kept per conversation: older ones are dropped first (a runaway chat must not grow the file forever). */
export const maxMessagesPerConversation = 200;

export interface HistoryLogger {
  warn(message: string): void;
}

function isConversation(value: unknown): value is StoredConversation {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.id === 'string' && typeof c.title === 'string' && typeof c.createdAt === 'number' && typeof c.updatedAt === 'number' && Array.isArray(c.messages) && c.messages.every(isMessage);
}

function isMessage(value: unknown): value is StoredMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.id === 'string' && (m.role === 'user' || m.role === 'assistant') && typeof m.text === 'string' && typeof m.createdAt === 'number';
}

/**
 * Chat history in one JSON file (the extension's globalStorage). Every save writes a temp file and
 * renames it over the old one, so a crash mid-write leaves the previous complete file. A file that
 * cannot be read as history is moved aside (never deleted) and history starts empty.
 */
export class ChatHistoryStore {
  private conversations: StoredConversation[] | undefined;
  /** Saves run one after another: two overlapping writes must not race on the rename. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private limit: number,
    private readonly log: HistoryLogger,
  ) {}

  static inFolder(folder: string, limit: number, log: HistoryLogger): ChatHistoryStore {
    return new ChatHistoryStore(join(folder, 'chat-history.json'), limit, log);
  }

  get path(): string {
    return this.file;
  }

  setLimit(limit: number): void {
    this.limit = Math.max(1, Math.floor(limit));
  }

  /** Conversations, most recently updated first. */
  async list(): Promise<readonly StoredConversation[]> {
    return [...(await this.load())];
  }

  async get(id: string): Promise<StoredConversation | undefined> {
    return (await this.load()).find((conversation) => conversation.id === id);
  }

  /** Inserts or replaces a conversation, trims to the limits and writes the file. */
  save(conversation: StoredConversation): Promise<void> {
    return this.enqueue(async () => {
      const trimmed = conversation.messages.length > maxMessagesPerConversation ? { ...conversation, messages: conversation.messages.slice(-maxMessagesPerConversation) } : conversation;
      const others = (await this.load()).filter((existing) => existing.id !== conversation.id);
      await this.write([trimmed, ...others].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, this.limit));
    });
  }

  delete(id: string): Promise<void> {
    return this.enqueue(async () => {
      await this.write((await this.load()).filter((existing) => existing.id !== id));
    });
  }

  clear(): Promise<void> {
    return this.enqueue(async () => {
      await this.write([]);
    });
  }

  /** Resolves when every save so far is on disk. */
  flush(): Promise<void> {
    return this.enqueue(async () => undefined);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    // A failed save must not block later ones; the caller still sees its own failure.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<StoredConversation[]> {
    if (this.conversations) return this.conversations;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`Chat history ${this.file} could not be read (${(error as Error).message}); starting with an empty history.`);
      this.conversations = [];
      return this.conversations;
    }
    const parsed = parseHistory(text);
    if (parsed === undefined) {
      const backup = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        await rename(this.file, backup);
        this.log.warn(`Chat history ${this.file} was not valid history; kept it as ${backup} and started a new one.`);
      } catch (error) {
        this.log.warn(`Chat history ${this.file} was not valid history and could not be moved aside (${(error as Error).message}); starting a new one.`);
      }
      this.conversations = [];
      return this.conversations;
    }
    this.conversations = parsed.conversations.filter(isConversation).sort((a, b) => b.updatedAt - a.updatedAt).slice(0, this.limit);
    const dropped = parsed.conversations.length - parsed.conversations.filter(isConversation).length;
    if (dropped > 0) this.log.warn(`Chat history: skipped ${dropped} malformed conversation(s) in ${this.file}.`);
    return this.conversations;
  }

  /** Writes `conversations` and only then adopts them, so a failed write changes nothing. */
  private async write(conversations: StoredConversation[]): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    const body: HistoryFile = { version: 1, conversations };
    try {
      await writeFile(temp, JSON.stringify(body), 'utf8');
      // fsync before rename: otherwise a power cut can leave the renamed file empty.
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
      this.conversations = conversations;
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}

function parseHistory(text: string): HistoryFile | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const file = value as { version?: unknown; conversations?: unknown };
    if (file.version !== 1 || !Array.isArray(file.conversations)) return undefined;
    return { version: 1, conversations: file.conversations as StoredConversation[] };
  } catch {
    return undefined;
  }
}

/** A conversation title from its first user message. */
export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 59)}…` : line || 'New chat';
}
