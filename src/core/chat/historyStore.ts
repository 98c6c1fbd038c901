import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { checkEntries, maxMessagesPerConversation, mergeConversation, parseHistory, type HistoryFile, type ReadHistory, type StoredConversation } from './historyFormat';
import { describeFsError, LockedFile } from '../lockedFile';

export interface HistoryLogger {
  warn(message: string): void;
}

/** A save or delete that did not reach the disk; the message says why and what to do. */
export class HistorySaveError extends Error {
  override readonly name = 'HistorySaveError';
}

export interface HistoryStoreOptions {
  /** How long a save waits for another window's write to finish (default 15 s). */
  readonly lockTimeoutMs?: number;
  /** A lock older than this is left over from a window that died mid-write (default 10 s). */
  readonly staleLockMs?: number;
}

/**
 * Chat history in one JSON file (the extension's globalStorage), shared by every window of the
 * editor. Each save, under a lock file (`<file>.lock`, created exclusively), reads the file fresh,
 * merges this window's conversation in by id (and its messages by id), and writes a temp file that
 * it renames over the old one: two windows never overwrite each other's conversations, and a crash
 * mid-write leaves the previous complete file. Temp files found under the lock were left by a
 * writer that died and are removed. A file that cannot be read as history is moved aside (never
 * deleted); malformed conversations or messages are left out and kept aside the same way at the
 * next save; a file that cannot be read at all (permissions) is never overwritten.
 */
export class ChatHistoryStore {
  /** The last read of the file, reused while the file is unchanged (mtime and size). */
  private cached: { readonly stamp: string; readonly conversations: StoredConversation[] } | undefined;
  /** Saves run one after another within a window; the lock orders them across windows. */
  private queue: Promise<void> = Promise.resolve();
  /** Problems already logged, so a reload does not repeat them. */
  private readonly reported = new Set<string>();
  /** The lock and the atomic writes, shared with the usage ledger. */
  private readonly locked: LockedFile;

  constructor(
    private readonly file: string,
    private limit: number,
    private readonly log: HistoryLogger,
    options: HistoryStoreOptions = {},
  ) {
    const saveFailed = (error: unknown) =>
      new HistorySaveError(`The chat history could not be saved to ${file}: ${describeFsError(error)}. The saved history is unchanged; ${(error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'free some disk space: ' : ''}this conversation is saved again with your next message.`);
    this.locked = new LockedFile(
      file,
      log,
      {
        what: 'Chat history',
        busy: (holder, lockFile) => new HistorySaveError(`The chat history ${file} is being written by another Tokenscope window (${holder}); try again in a moment. If no other window is open, delete ${lockFile}.`),
        lockFailed: saveFailed,
      },
      options,
    );
  }

  static inFolder(folder: string, limit: number, log: HistoryLogger): ChatHistoryStore {
    return new ChatHistoryStore(join(folder, 'chat-history.json'), limit, log);
  }

  get path(): string {
    return this.file;
  }

  setLimit(limit: number): void {
    this.limit = Math.max(1, Math.floor(limit));
  }

  /** Conversations, most recently updated first (what every window saved so far). */
  async list(): Promise<readonly StoredConversation[]> {
    return [...(await this.load())];
  }

  async get(id: string): Promise<StoredConversation | undefined> {
    return (await this.load()).find((conversation) => conversation.id === id);
  }

  /** Inserts or replaces a conversation (merged with the file's copy), trims to the limits and writes the file. */
  save(conversation: StoredConversation): Promise<void> {
    return this.update((onDisk) => {
      const existing = onDisk.find((entry) => entry.id === conversation.id);
      const merged = existing ? mergeConversation(existing, conversation) : conversation;
      const trimmed = merged.messages.length > maxMessagesPerConversation ? { ...merged, messages: merged.messages.slice(-maxMessagesPerConversation) } : merged;
      return [trimmed, ...onDisk.filter((entry) => entry.id !== conversation.id)];
    });
  }

  delete(id: string): Promise<void> {
    return this.update((onDisk) => onDisk.filter((existing) => existing.id !== id));
  }

  clear(): Promise<void> {
    return this.update(() => []);
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

  /** Read-modify-write under the lock, from what is on disk now (another window may have written). */
  private update(change: (onDisk: StoredConversation[]) => StoredConversation[]): Promise<void> {
    return this.enqueue(async () => {
      try {
        await mkdir(dirname(this.file), { recursive: true });
      } catch (error) {
        throw new HistorySaveError(`The chat history could not be saved to ${this.file}: ${describeFsError(error)}.`);
      }
      await this.locked.withLock(async () => {
        const onDisk = await this.readForWrite();
        if (onDisk.malformed.length > 0) await this.keepAside(onDisk.malformed, 'malformed');
        const next = change(onDisk.conversations)
          .sort((a, b) => b.updatedAt - a.updatedAt)
          .slice(0, this.limit);
        await this.write(next);
      });
    });
  }

  private async load(): Promise<StoredConversation[]> {
    let stamp: string;
    try {
      const info = await stat(this.file);
      stamp = `${info.mtimeMs}:${info.size}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      stamp = 'unreadable';
    }
    if (this.cached?.stamp === stamp) return this.cached.conversations;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      this.warnOnce(`Chat history ${this.file} could not be read (${(error as Error).message}): Tokenscope will not overwrite it, and new chats are not saved until it can be read. Fix its permissions (or move it away).`);
      return [];
    }
    const parsed = parseHistory(text);
    if (parsed === undefined || 'otherVersion' in parsed) {
      // Moved aside under the lock (readForWrite does it), so no other window's save is in between.
      try {
        await this.update((conversations) => conversations);
      } catch (error) {
        this.warnOnce(`Chat history ${this.file} ${parsed ? `is version ${parsed.otherVersion}, which this Tokenscope does not read,` : 'is not valid history'} and could not be moved aside (${(error as Error).message}); it is left as it is.`);
      }
      return [];
    }
    const checked = checkEntries(parsed.conversations);
    if (checked.problems.length > 0) this.warnOnce(`Chat history ${this.file} has ${checked.problems.join(' and ')}; the originals are kept aside at the next save.`);
    const conversations = checked.conversations.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, this.limit);
    this.cached = { stamp, conversations };
    return conversations;
  }

  /** The file as it is now, for a write: an unreadable file stops the write, a corrupt one is moved aside. */
  private async readForWrite(): Promise<ReadHistory> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { conversations: [], malformed: [], problems: [] };
      throw new HistorySaveError(`${this.file} could not be read (${(error as Error).message}), so it was not overwritten: fix its permissions (or move it away) and Tokenscope saves the chat again.`);
    }
    const parsed = parseHistory(text);
    if (parsed === undefined || 'otherVersion' in parsed) {
      const other = parsed && `version ${parsed.otherVersion}, which this Tokenscope does not read (it reads version 1)`;
      const backup = await this.backupName(parsed ? `version-${parsed.otherVersion}` : 'corrupt');
      try {
        await rename(this.file, backup);
      } catch (error) {
        throw new HistorySaveError(`${this.file} is ${other ?? 'not valid history'} and could not be moved aside (${describeFsError(error)}), so it was not overwritten.`);
      }
      this.log.warn(
        other
          ? `Chat history ${this.file} is ${other}: kept it as ${backup} and started a new one. A newer Tokenscope reads it again; update Tokenscope to get those chats back.`
          : `Chat history ${this.file} was not valid history; kept it as ${backup} and started a new one.`,
      );
      return { conversations: [], malformed: [], problems: [] };
    }
    return checkEntries(parsed.conversations);
  }

  /** Writes entries that could not be used into `<file>.<kind>-<time>`, next to the history. */
  private async keepAside(entries: readonly unknown[], kind: string): Promise<void> {
    const aside = await this.backupName(kind);
    try {
      await this.locked.writeDurably(aside, JSON.stringify({ version: 1, conversations: entries }));
    } catch (error) {
      throw new HistorySaveError(`The chat history has malformed entries that could not be kept aside in ${aside} (${describeFsError(error)}); nothing was overwritten.`);
    }
    this.log.warn(`Chat history: kept the originals in ${aside}; ${this.file} keeps what was sound.`);
  }

  private async backupName(kind: string): Promise<string> {
    return `${this.file}.${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
  }

  /** Writes `conversations` and only then adopts them, so a failed write changes nothing. */
  private async write(conversations: StoredConversation[]): Promise<void> {
    const body: HistoryFile = { version: 1, conversations };
    try {
      await this.locked.writeDurably(this.file, JSON.stringify(body));
    } catch (error) {
      if (error instanceof HistorySaveError) throw error;
      throw new HistorySaveError(`The chat history could not be saved to ${this.file}: ${describeFsError(error)}. The saved history is unchanged; ${(error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'free some disk space: ' : ''}this conversation is saved again with your next message.`);
    }
    this.cached = undefined;
  }

  private warnOnce(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.log.warn(message);
  }
}
