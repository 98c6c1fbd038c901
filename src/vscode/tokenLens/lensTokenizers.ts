import * as vscode from 'vscode';
import { resolveModelReference } from '../../core/models/catalog';
import { loadSharedTokenizerFromFolder } from '../../core/tokenizers/huggingface';
import { MODEL_TOKENIZER_ID, TokenizerRegistry, type TokenizerDescriptor } from '../../core/tokenizers/registry';
import type { Tokenizer } from '../../core/tokenizers/types';
import { buildPriceTable, type PriceTable } from '../../core/pricing/cost';
import type { PricedModel } from '../../core/pricing/prices';
import { readConfig } from '../config';

/**
 * The Token lens' view of tokenizers and prices: the registry (lazy, cached), the active local
 * model's tokenizer behind id `model`, the chosen tokenizer and reference model from settings, and
 * the price table with the user's custom models. Tokenizers load one at a time in the background
 * (a large vocabulary blocks this thread for a few hundred milliseconds while it parses), and
 * listeners hear when one becomes ready so views can fill in.
 */
export class LensTokenizers implements vscode.Disposable {
  readonly registry: TokenizerRegistry;
  private readonly loaded = new Map<string, Tokenizer>();
  private readonly failures = new Map<string, string>();
  private readonly queue: string[] = [];
  private loading = false;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a tokenizer finished loading, the model tokenizer changed, or prices changed. */
  readonly onDidChange = this.changed.event;
  private modelKey: string | undefined;
  private table: PriceTable;

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.registry = new TokenizerRegistry({ rootDir: extensionPath });
    this.table = this.readPrices();
  }

  /** The chosen tokenizer id (`tokenscope.tokenLens.tokenizer`). */
  get chosenId(): string {
    return readConfig().tokenLens.tokenizer;
  }

  get prices(): PriceTable {
    return this.table;
  }

  /** The reference model for costs (`tokenscope.cost.referenceModel`), falling back to GPT-4o when unknown. */
  get referenceModel(): PricedModel {
    const id = readConfig().cost.referenceModel;
    return this.table.models.find((model) => model.id === id) ?? (this.table.models.find((model) => model.id === 'gpt-4o') as PricedModel);
  }

  list(): TokenizerDescriptor[] {
    return this.registry.list();
  }

  /** A tokenizer if already loaded; otherwise queues its load and returns undefined. */
  peek(id: string): Tokenizer | undefined {
    const ready = this.loaded.get(id);
    if (ready) return ready;
    if (!this.failures.has(id)) this.request(id);
    return undefined;
  }

  /** Why a tokenizer could not be loaded, if it failed. */
  failure(id: string): string | undefined {
    return this.failures.get(id);
  }

  /** Loads (or returns) a tokenizer, waiting for it. */
  async get(id: string): Promise<Tokenizer> {
    const ready = this.loaded.get(id);
    if (ready) return ready;
    if (id === MODEL_TOKENIZER_ID) await this.refreshModelTokenizer();
    try {
      const tokenizer = await this.registry.get(id);
      this.remember(id, tokenizer);
      return tokenizer;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!this.failures.has(id)) this.log.warn(`Token lens: tokenizer ${id} unavailable: ${message}`);
      this.failures.set(id, message);
      throw error;
    }
  }

  /** Re-resolves `tokenscope.model` to its folder and loads that tokenizer as id `model`. */
  async refreshModelTokenizer(): Promise<void> {
    const reference = readConfig().model;
    if (this.modelKey === reference && this.registry.peek(MODEL_TOKENIZER_ID)) return;
    this.modelKey = reference;
    this.loaded.delete(MODEL_TOKENIZER_ID);
    this.failures.delete(MODEL_TOKENIZER_ID);
    try {
      const resolved = resolveModelReference(reference, { packageRoot: this.extensionPath });
      const tokenizer = await loadSharedTokenizerFromFolder(resolved.dir, { id: MODEL_TOKENIZER_ID, label: resolved.label });
      if (this.modelKey !== reference) return; // the setting changed meanwhile
      this.registry.setModelTokenizer(tokenizer);
      this.remember(MODEL_TOKENIZER_ID, tokenizer);
    } catch (error) {
      this.registry.setModelTokenizer(undefined);
      const message = error instanceof Error ? error.message : String(error);
      this.failures.set(MODEL_TOKENIZER_ID, message);
      this.log.warn(`Token lens: the local model's tokenizer is unavailable: ${message}`);
      this.changed.fire();
    }
  }

  /** Settings changed: prices, model, chosen tokenizer. */
  onConfigChange(event: vscode.ConfigurationChangeEvent): void {
    if (event.affectsConfiguration('tokenscope.cost')) {
      this.table = this.readPrices();
      this.changed.fire();
    }
    if (event.affectsConfiguration('tokenscope.model')) void this.refreshModelTokenizer();
  }

  private readPrices(): PriceTable {
    const table = buildPriceTable(readConfig().cost.customModels);
    if (table.problems.length > 0) {
      for (const problem of table.problems) this.log.warn(problem);
      void vscode.window.showWarningMessage(`Tokenscope: ${table.problems[0]}${table.problems.length > 1 ? ` (and ${table.problems.length - 1} more in the log)` : ''}`);
    }
    return table;
  }

  private remember(id: string, tokenizer: Tokenizer): void {
    const isNew = this.loaded.get(id) !== tokenizer;
    this.loaded.set(id, tokenizer);
    this.failures.delete(id);
    if (isNew) this.changed.fire();
  }

  private request(id: string): void {
    if (this.queue.includes(id)) return;
    this.queue.push(id);
    void this.drain();
  }

  /** Loads queued tokenizers one after another, leaving the event loop free between them. */
  private async drain(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    try {
      while (this.queue.length > 0) {
        const id = this.queue.shift() as string;
        const started = performance.now();
        try {
          await this.get(id);
          this.log.debug(`Token lens: loaded tokenizer ${id} in ${Math.round(performance.now() - started)} ms`);
        } catch {
          // Recorded in failures and logged by get().
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      this.loading = false;
    }
  }

  dispose(): void {
    this.changed.dispose();
    this.queue.length = 0;
  }
}
