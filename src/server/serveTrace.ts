/**
 * Opt-in instrumentation of `tokenscope serve` for the benchmark (bench/server.bench.ts): per
 * request, when it arrived, got its turn, and when each generation event arrived from the model
 * process and was written to the socket (and flushed); the server's event-loop delay and CPU time.
 * Off unless TOKENSCOPE_SERVE_TRACE=1; then GET /v1/tokenscope/trace returns what was collected
 * since the last call and starts over. The event-loop delay is measured only between a call with
 * `?eventLoop=on` and one with `?eventLoop=off`: its histogram's timer wakes the server every 10 ms,
 * which on a busy machine is itself a cost the latency figures should not carry.
 *
 * Timestamps are {@link monotonicMs}: CLOCK_MONOTONIC, the same clock in every process of a
 * machine, so the benchmark lines them up with its own (the client's) timestamps.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export const SERVE_TRACE_ENV = 'TOKENSCOPE_SERVE_TRACE';
export const TRACE_PATH = '/tokenscope/trace';

/** Milliseconds on the machine-wide monotonic clock (process.hrtime). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface TracedWrite {
  /** When res.write was called / when its callback said the bytes were handed to the kernel. */
  readonly at: number;
  flushedAt?: number;
  readonly bytes: number;
  /** Generated tokens this write carries (0: a role, finish, usage or [DONE] chunk). */
  readonly tokens: number;
}

export interface RequestTrace {
  readonly route: string;
  readonly receivedAt: number;
  /** Body read and parsed, prompt encoded. */
  preparedAt?: number;
  /** Its turn on the model (fair queue). */
  grantedAt?: number;
  /** Each generation event as it arrived from the model process. */
  readonly events: { readonly type: string; readonly at: number }[];
  readonly writes: TracedWrite[];
  endedAt?: number;
  /** From the `end` event: the model's own time. */
  modelMs?: { readonly prefill: number; readonly decode: number };
}

export interface TraceSnapshot {
  readonly requests: readonly RequestTrace[];
  /** The server's event-loop delay since the last snapshot (ms), when it was measured. */
  readonly eventLoopDelayMs?: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number };
  /** CPU time of the server process since the last snapshot (ms). */
  readonly cpuMs: { readonly user: number; readonly system: number };
  readonly wallMs: number;
}

const RESOLUTION_MS = 10;
/** Requests kept between two calls (the oldest go first). */
const MAX_REQUESTS = 10_000;

/** Event-loop delay in ms from a monitorEventLoopDelay value (ns) sampled every `resolutionMs`. */
export function loopDelayMs(ns: number, resolutionMs: number): number {
  return Number.isFinite(ns) ? Math.max(0, ns / 1e6 - resolutionMs) : 0;
}

export class ServeTrace {
  private requests: RequestTrace[] = [];
  /** The histogram's timer fires every RESOLUTION_MS; what it records is the interval, so the delay is the excess. */
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private monitoring = false;
  private cpu = process.cpuUsage();
  private since = monotonicMs();

  begin(route: string): RequestTrace {
    const trace: RequestTrace = { route, receivedAt: monotonicMs(), events: [], writes: [] };
    // Nobody asking for the trace must not make a long-running server grow without bound.
    if (this.requests.length >= MAX_REQUESTS) this.requests.shift();
    this.requests.push(trace);
    return trace;
  }

  /** What was collected since the last call; then starts over, measuring the event-loop delay from now on or not. */
  take(eventLoop?: boolean): TraceSnapshot {
    const cpu = process.cpuUsage(this.cpu);
    const ms = (ns: number) => loopDelayMs(ns, RESOLUTION_MS);
    const snapshot: TraceSnapshot = {
      requests: this.requests,
      ...(this.monitoring ? { eventLoopDelayMs: { p50: ms(this.histogram.percentile(50)), p99: ms(this.histogram.percentile(99)), max: ms(this.histogram.max), mean: ms(this.histogram.mean) } } : {}),
      cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
      wallMs: monotonicMs() - this.since,
    };
    this.requests = [];
    this.histogram.reset();
    if (eventLoop !== undefined && eventLoop !== this.monitoring) {
      this.monitoring = eventLoop;
      if (eventLoop) this.histogram.enable();
      else this.histogram.disable();
    }
    this.cpu = process.cpuUsage();
    this.since = monotonicMs();
    return snapshot;
  }

  dispose(): void {
    this.histogram.disable();
  }
}
