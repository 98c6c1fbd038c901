import * as vscode from 'vscode';
import { resolveModelReference } from '../../core/models/catalog';
import { priceTableFor, type PriceTable } from '../../core/pricing/cost';
import type { PricedModel } from '../../core/pricing/prices';
import type { TokenizerWorkerClient } from '../../core/tokenizerWorker/client';
import { tokenizerKey, type TokenizerSpec } from '../../core/tokenizerWorker/protocol';
import { BUILTIN_TOKENIZERS, MODEL_TOKENIZER_ID, type TokenizerDescriptor } from '../../core/tokenizers/descriptors';
import { affectsSetting, readConfig } from '../config';

/**
 * The Token lens' view of tokenizers and prices. The tokenizers themselves live in the tokenizer
 * worker thread (parsing a large vocabulary would block this thread for most of a second); here
 * are their ids, labels, which are loaded or failed, the active local model's tokenizer behind id
 * `model` (the same instance the completion prompts use), the chosen tokenizer and reference model
 * from settings, and the price table with the user's custom models. Listeners hear when a
 * tokenizer finished loading, so views can fill in.
 */
export class LensTokenizers implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a tokenizer finished loading (or failed), the model tokenizer changed, or prices changed. */
  readonly onDidChange = this.changed.event;
  private table: PriceTable;
  private model: { readonly reference: string; readonly spec?: TokenizerSpec; readonly label: string; readonly error?: string } | undefined;
  private readonly subscription: { dispose(): void };
  private preloading: { readonly started: number; readonly waiting: Set<string>; readonly total: number } | undefined;

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
    readonly worker: TokenizerWorkerClient,
  ) {
    this.table = this.readPrices();
    this.subscription = worker.onLoaded((key) => {
      const error = worker.failed.get(key);
      if (error) this.log.warn(`Token lens: tokenizer ${this.idOf(key) ?? key} unavailable: ${error}`);
      this.notePreloaded(key);
      this.changed.fire();
    });
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

  /** Every tokenizer id, `model` first (with the configured model's name). */
  list(): TokenizerDescriptor[] {
    const model = this.modelTokenizer();
    return [
      { id: MODEL_TOKENIZER_ID, label: `Local model: ${model.label}`, estimate: false, description: model.error ? `Unavailable: ${model.error}` : 'The active local model’s own tokenizer' },
      ...BUILTIN_TOKENIZERS,
    ];
  }

  label(id: string): string {
    return this.list().find((entry) => entry.id === id)?.label ?? id;
  }

  estimate(id: string): boolean {
    return BUILTIN_TOKENIZERS.find((entry) => entry.id === id)?.estimate ?? false;
  }

  /** What the worker loads for an id; undefined when it names nothing loadable (unknown id, broken model setting). */
  spec(id: string): TokenizerSpec | undefined {
    if (id === MODEL_TOKENIZER_ID) return this.modelTokenizer().spec;
    return BUILTIN_TOKENIZERS.some((entry) => entry.id === id) ? { builtin: id } : undefined;
  }

  /** Why a tokenizer cannot be used, if it cannot. */
  failure(id: string): string | undefined {
    if (id === MODEL_TOKENIZER_ID && this.modelTokenizer().error) return this.modelTokenizer().error;
    const spec = this.spec(id);
    if (!spec) return `unknown tokenizer "${id}": choose one of ${this.list().map((entry) => entry.id).join(', ')}`;
    return this.worker.failed.get(tokenizerKey(spec));
  }

  isReady(id: string): boolean {
    const spec = this.spec(id);
    return spec !== undefined && this.worker.loaded.has(tokenizerKey(spec));
  }

  /** Loads a tokenizer in the worker (if it is not), rejecting with the reason it cannot be. */
  async ensure(id: string): Promise<void> {
    const spec = this.spec(id);
    if (!spec) throw new Error(this.failure(id));
    await this.worker.request('load', { tokenizer: spec });
  }

  /**
   * Starts loading, in the background and in this order: the chosen tokenizer (boundaries, the status
   * count), the reference model's (its cost), then, when the hover is on, every other one it shows.
   */
  preload(): void {
    const config = readConfig();
    const ids = [this.chosenId, this.referenceModel.tokenizer, ...(config.tokenLens.hover ? this.hoverIds() : [])];
    const specs = [...new Set(ids)].map((id) => this.spec(id)).filter((spec): spec is TokenizerSpec => spec !== undefined);
    const waiting = new Set(specs.map(tokenizerKey).filter((key) => !this.worker.loaded.has(key) && !this.worker.failed.has(key)));
    if (waiting.size === 0) return;
    this.preloading = { started: performance.now(), waiting, total: specs.length };
    this.worker.preload(specs);
  }

  /** Logs once every tokenizer of a preload has loaded (or failed). */
  private notePreloaded(key: string): void {
    const preloading = this.preloading;
    if (!preloading || !preloading.waiting.delete(key) || preloading.waiting.size > 0) return;
    this.preloading = undefined;
    const slowest = [...this.worker.loaded.values()].reduce((best, entry) => (entry.loadMs > best.loadMs ? entry : best), { key: '', loadMs: 0 });
    this.log.info(`Token lens: ${preloading.total} tokenizers ready in the tokenizer worker ${Math.round(performance.now() - preloading.started)} ms after the preload started (slowest: ${this.idOf(slowest.key) ?? slowest.key}, ${slowest.loadMs} ms; starting the thread took the extension host ${this.worker.startMs.toFixed(1)} ms).`);
  }

  /** The ids a hover counts in: every tokenizer, and every priced model's. */
  hoverIds(): string[] {
    return [...new Set([...this.list().map((entry) => entry.id), ...this.table.models.map((model) => model.tokenizer)])];
  }

  /** The id of a worker key (`qwen2.5`; `model` for the configured model's folder). */
  private idOf(key: string): string | undefined {
    const model = this.modelTokenizer().spec;
    if (model && tokenizerKey(model) === key) return MODEL_TOKENIZER_ID;
    return BUILTIN_TOKENIZERS.find((entry) => entry.id === key)?.id;
  }

  /** `tokenscope.model` resolved to its folder (cheap: no file is read), remembered per setting value. */
  private modelTokenizer(): NonNullable<LensTokenizers['model']> {
    const reference = readConfig().model;
    if (this.model?.reference === reference) return this.model;
    try {
      const resolved = resolveModelReference(reference, { packageRoot: this.extensionPath });
      this.model = { reference, spec: { folder: resolved.dir, label: resolved.label }, label: resolved.label };
    } catch (error) {
      this.model = { reference, label: reference, error: error instanceof Error ? error.message : String(error) };
    }
    return this.model;
  }

  /** Settings changed: prices, model, chosen tokenizer. */
  onConfigChange(event: vscode.ConfigurationChangeEvent): void {
    if (affectsSetting(event, 'cost')) this.table = this.readPrices();
    if (affectsSetting(event, 'cost', 'model', 'tokenLens')) {
      this.preload();
      this.changed.fire();
    }
  }

  private readPrices(): PriceTable {
    const table = priceTableFor(readConfig().cost.customModels);
    if (table.problems.length > 0) {
      for (const problem of table.problems) this.log.warn(problem);
      void vscode.window.showWarningMessage(`Tokenscope: ${table.problems[0]}${table.problems.length > 1 ? ` (and ${table.problems.length - 1} more in the log)` : ''}`);
    }
    return table;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
