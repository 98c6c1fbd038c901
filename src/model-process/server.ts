/**
 * The model process's request handler: one LocalModel at a time (loading another model disposes
 * the previous one first, so a process never holds two copies), generations streamed as events
 * tagged with their request id, cancellation through AbortControllers.
 */
import { ModelError } from '../core/models/errors';
import { LocalModel } from '../core/runtime/localModel';
import { ModelProbabilities } from '../core/probabilities/modelProbabilities';
import { PROTOCOL_VERSION, scoredMessages, type ClientMessage, type ProcessMessage, type SerializedError } from '../core/modelProcess/protocol';
import { promptPieces, type LastPrompt } from '../core/promptTokens/promptTokens';
import type { GenerationEvent, PromptInput, RuntimeLogger } from '../core/runtime/types';
import { TokenCoalescer } from '../core/tokenCoalescer';

export interface ServerOptions {
  readonly send: (message: ProcessMessage) => void;
  readonly packageRoot: string;
  /** Enables test-crash / test-hang / test-slow-steps. */
  readonly testHooks: boolean;
  readonly exit: (code: number) => void;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ModelError) return { name: error.name, message: error.message, code: error.code, file: error.file };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Deliberately blocking: simulates a native call that holds the thread.
  }
}

export class ModelServer {
  private model: LocalModel | undefined;
  /** The probability requests' state (last logits, last scores) of the loaded model. */
  private probabilities: ModelProbabilities | undefined;
  private loading: Promise<unknown> = Promise.resolve();
  private readonly generations = new Map<number, AbortController>();
  private slowStepMs = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly logger: RuntimeLogger;
  /** The prompt of the latest generation with the loaded model, kept to be shown as tokens on request. */
  private lastPrompt: { readonly model: LocalModel; readonly prompt: PromptInput; truncatedTokens: number; readonly at: number } | undefined;

  constructor(private readonly options: ServerOptions) {
    const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, data?: Readonly<Record<string, unknown>>) =>
      options.send({ type: 'log', level, message, data: data ? { ...data } : undefined });
    this.logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  }

  start(): void {
    this.options.send({ type: 'ready', pid: process.pid, protocol: PROTOCOL_VERSION });
  }

  handle(message: ClientMessage): void {
    switch (message.type) {
      case 'load':
        this.track(message.id, this.load(message.id, message));
        return;
      case 'unload':
        this.track(message.id, this.unload(message.id));
        return;
      case 'generate':
        this.track(message.id, this.generate(message.id, message.request, message.coalesceMs));
        return;
      case 'cancel':
        this.generations.get(message.id)?.abort();
        return;
      case 'encode':
        this.track(message.id, this.encode(message.id, message.prompt));
        return;
      case 'next-token':
        this.track(message.id, this.cancellable(message.id, async (probabilities, signal) => this.options.send({ type: 'next-token-result', id: message.id, result: await probabilities.next(message.request, signal) })));
        return;
      case 'score':
        this.track(
          message.id,
          this.cancellable(message.id, async (probabilities, signal) => {
            for (const part of scoredMessages(message.id, await probabilities.score(message.request, signal))) this.options.send(part);
          }),
        );
        return;
      case 'inspect':
        this.track(message.id, this.inspect(message.id, message.request));
        return;
      case 'last-prompt':
        this.track(message.id, this.sendLastPrompt(message.id));
        return;
      case 'ping':
        this.options.send({
          type: 'pong',
          id: message.id,
          status: { model: this.model?.info ?? null, activeGenerations: this.generations.size, rssBytes: process.memoryUsage.rss(), pid: process.pid },
        });
        return;
      case 'test-crash':
      case 'test-hang':
      case 'test-slow-steps':
        if (!this.options.testHooks) {
          this.options.send({ type: 'error', id: message.id, error: { name: 'Error', message: `${message.type} is only available in tests` } });
          return;
        }
        if (message.type === 'test-crash') this.options.exit(134);
        else if (message.type === 'test-hang') blockFor(message.ms);
        else {
          this.slowStepMs = message.ms;
          this.options.send({ type: 'pong', id: message.id, status: { model: this.model?.info ?? null, activeGenerations: this.generations.size, rssBytes: 0, pid: process.pid } });
        }
        return;
    }
  }

  private track(id: number, work: Promise<void>): void {
    work.catch((error: unknown) => this.options.send({ type: 'error', id, error: serializeError(error) }));
  }

  private async load(id: number, message: Extract<ClientMessage, { type: 'load' }>): Promise<void> {
    // Loads run one after another; the old model is released before the new one is read.
    const previous = this.loading;
    let done!: () => void;
    this.loading = new Promise<void>((resolve) => (done = resolve));
    try {
      await previous.catch(() => undefined);
      for (const controller of this.generations.values()) controller.abort();
      const old = this.model;
      this.model = undefined;
      await old?.dispose();
      this.probabilities = undefined;
      this.model = await LocalModel.load(message.request, { packageRoot: this.options.packageRoot, logger: this.logger });
      this.probabilities = new ModelProbabilities(this.model);
      this.options.send({ type: 'loaded', id, info: this.model.info });
    } finally {
      done();
    }
  }

  /** Like a generation, an encode sent right after a load waits for it. */
  private async encode(id: number, prompt: Extract<ClientMessage, { type: 'encode' }>['prompt']): Promise<void> {
    await this.loading.catch(() => undefined);
    if (!this.model) throw new ModelError('process', 'No model is loaded: load one before encoding a prompt.');
    this.options.send({ type: 'encoded', id, ids: this.model.encodePrompt(prompt) });
  }

  /** Like an encode, an inspection sent right after a load waits for it; it runs in turn with generations. */
  private async inspect(id: number, request: Extract<ClientMessage, { type: 'inspect' }>['request']): Promise<void> {
    await this.loading.catch(() => undefined);
    if (!this.model) throw new ModelError('process', 'No model is loaded: load one before inspecting it.');
    this.options.send({ type: 'inspected', id, result: await this.model.inspect(request) });
  }

  /**
   * The latest generation's prompt encoded again by the same path the generation took (the chat
   * template, the ids as given) and cut as the runtime cut it: the exact sequence the model read.
   */
  private async sendLastPrompt(id: number): Promise<void> {
    await this.loading.catch(() => undefined);
    const last = this.lastPrompt;
    if (!last || last.model !== this.model) {
      this.options.send({ type: 'last-prompt', id, prompt: null });
      return;
    }
    const ids = last.model.encodePrompt(last.prompt).slice(last.truncatedTokens);
    const prompt: LastPrompt = { kind: last.prompt.kind, model: last.model.info.id, pieces: promptPieces(last.model.tokenizer, ids), truncatedTokens: last.truncatedTokens, at: last.at };
    this.options.send({ type: 'last-prompt', id, prompt });
  }

  private async unload(id: number): Promise<void> {
    for (const controller of this.generations.values()) controller.abort();
    const old = this.model;
    this.model = undefined;
    this.probabilities = undefined;
    await old?.dispose();
    this.options.send({ type: 'unloaded', id });
  }

  /** A probability request: waits for a load like a generation, can be cancelled, beats the heartbeat while it runs. */
  private async cancellable(id: number, work: (probabilities: ModelProbabilities, signal: AbortSignal) => Promise<void>): Promise<void> {
    await this.loading.catch(() => undefined);
    const probabilities = this.probabilities;
    if (!probabilities) throw new ModelError('process', 'No model is loaded: load one before asking for probabilities.');
    const controller = new AbortController();
    this.generations.set(id, controller);
    this.updateHeartbeat();
    try {
      await work(probabilities, controller.signal);
    } finally {
      this.generations.delete(id);
      this.updateHeartbeat();
    }
  }

  private async generate(id: number, request: Extract<ClientMessage, { type: 'generate' }>['request'], coalesceMs = 0): Promise<void> {
    await this.loading.catch(() => undefined);
    const model = this.model;
    if (!model) throw new ModelError('process', 'No model is loaded: load one before generating.');
    const controller = new AbortController();
    this.generations.set(id, controller);
    this.updateHeartbeat();
    const last = { model, prompt: request.prompt, truncatedTokens: 0, at: Date.now() };
    this.lastPrompt = last;
    // A line's end never waits (serve's SSE writes it at once); neither does anything but a token.
    const tokens = new TokenCoalescer<GenerationEvent>(coalesceMs, (events) => this.options.send(events.length === 1 ? { type: 'event', id, event: events[0] } : { type: 'events', id, events }));
    try {
      for await (const event of model.generate(request, controller.signal)) {
        if (event.type === 'start') last.truncatedTokens = event.truncatedTokens;
        if (event.type === 'token') {
          tokens.add(event, event.text.includes('\n'));
          if (this.slowStepMs > 0) blockFor(this.slowStepMs);
        } else {
          tokens.flush();
          this.options.send({ type: 'event', id, event });
        }
      }
      this.options.send({ type: 'done', id });
    } catch (error) {
      // The tokens that came go out before the error does.
      tokens.flush();
      throw error;
    } finally {
      tokens.dispose();
      this.generations.delete(id);
      this.updateHeartbeat();
    }
  }

  /** Heartbeats while generating, so the client can tell a long generation from a hung process. */
  private updateHeartbeat(): void {
    if (this.generations.size > 0 && !this.heartbeat) {
      this.heartbeat = setInterval(() => this.options.send({ type: 'heartbeat' }), 1000);
    } else if (this.generations.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  async dispose(): Promise<void> {
    for (const controller of this.generations.values()) controller.abort();
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.model?.dispose();
    this.model = undefined;
  }
}
