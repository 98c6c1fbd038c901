/**
 * Streaming-read bandwidth with N threads: what a memory-bound decode step can get at most.
 *
 * How: N worker threads share one WebAssembly memory (a SharedArrayBuffer), filled first so every
 * page is really mapped (untouched pages all read the kernel's one zero page, from cache). For a
 * working set of B bytes each worker owns B/N contiguous bytes and sums them with 16-byte SIMD loads
 * into four independent accumulators (the loads cannot be skipped: the sum is returned), repeating
 * the sweep until at least 64 MiB were read per worker. The workers start together on a spin
 * barrier; the time is from the first start to the last finish, and the bandwidth is the bytes all
 * workers read over that time. Best of several passes. A working set of the size a model reads per
 * token measures what that model can get: DRAM for the 0.5B shape (hundreds of MB, far past the
 * 32 MiB L3), partly cache for models that nearly fit.
 *
 * WebAssembly SIMD rather than a JavaScript loop: a scalar JS loop tops out near 1 load per cycle
 * and would measure the loop, not the memory; rather than a native addon: nothing to compile here
 * or in CI. Reads only: memcpy (what the bench printed before) also writes every byte, which a
 * decode step does not do with its weights.
 */
import { Worker } from 'node:worker_threads';

const PAGE = 65536;
/** Bytes each worker reads per pass at least (small working sets are swept repeatedly). */
const MIN_BYTES_PER_WORKER = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The kernel, as WebAssembly bytes: (func $read (param ptr len reps i32) (result i64))

const uleb = (value: number): number[] => {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (text: string): number[] => [...uleb(text.length), ...Buffer.from(text)];

const GET = 0x20;
const SET = 0x21;
const TEE = 0x22;
const simd = (op: number, ...rest: number[]): number[] => [0xfd, ...uleb(op), ...rest];
const V128_LOAD = 0x00;
const I64X2_ADD = 0xce;
const I64X2_EXTRACT_LANE = 0x1d;
// Locals: 0 ptr, 1 len, 2 reps (params), 3 p, 4 end, 5-8 accumulators.
const P = 3;
const END = 4;

function kernelBody(): number[] {
  const sweep: number[] = [];
  // 128 bytes per iteration: eight 16-byte loads into four accumulators.
  for (let i = 0; i < 8; i++) {
    const acc = 5 + (i % 4);
    sweep.push(GET, acc, GET, P, ...simd(V128_LOAD, 4, ...uleb(16 * i)), ...simd(I64X2_ADD), SET, acc);
  }
  const code = [
    // end = ptr + len
    GET, 0, GET, 1, 0x6a, SET, END,
    0x02, 0x40, // block
    0x03, 0x40, // loop (repetitions)
    GET, 2, 0x45, 0x0d, 1, // if reps == 0: break
    GET, 0, SET, P,
    0x03, 0x40, // loop (one sweep)
    ...sweep,
    GET, P, 0x41, ...uleb(128), 0x6a, TEE, P, GET, END, 0x49, 0x0d, 0, // p += 128; continue while p < end
    0x0b,
    GET, 2, 0x41, 1, 0x6b, SET, 2, // reps -= 1
    0x0c, 0, // next repetition
    0x0b, 0x0b,
    // (a + b + c + d), lanes added: the result keeps every load alive.
    GET, 5, GET, 6, ...simd(I64X2_ADD), GET, 7, ...simd(I64X2_ADD), GET, 8, ...simd(I64X2_ADD), TEE, 5,
    ...simd(I64X2_EXTRACT_LANE, 0), GET, 5, ...simd(I64X2_EXTRACT_LANE, 1), 0x7c,
    0x0b,
  ];
  const locals = [2, 2, 0x7f, 4, 0x7b];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function kernelModule(maxPages: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7e]),
    // import env.memory: shared, min = max = maxPages
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(maxPages), ...uleb(maxPages)]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('read'), 0x00, 0]),
    ...section(10, [1, ...kernelBody()]),
  ]);
}

// ---------------------------------------------------------------------------------------------

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, index, threads } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const read = instance.exports.read;
const flags = new Int32Array(control);
parentPort.on('message', ({ offset, length, reps, generation }) => {
  // Spin barrier: every worker starts its sweep at the same moment.
  Atomics.add(flags, 0, 1);
  while (Atomics.load(flags, 0) < threads * generation) {}
  const started = performance.timeOrigin + performance.now();
  const sum = read(offset, length, reps);
  const ended = performance.timeOrigin + performance.now();
  parentPort.postMessage({ index, started, ended, sum: String(sum) });
});
`;

export interface ReadMeasurement {
  /** Best bytes/s over the passes. */
  readonly bytesPerSecond: number;
  readonly workingSetBytes: number;
  readonly threads: number;
  readonly passes: number;
}

export class ReadBandwidthProbe {
  private generation = 0;
  private readonly best = new Map<number, number>();

  private constructor(
    private readonly workers: Worker[],
    private readonly capacity: number,
  ) {}

  /** Starts `threads` workers over a shared buffer of `capacityBytes` (the largest working set to measure). */
  static async start(threads: number, capacityBytes: number): Promise<ReadBandwidthProbe> {
    const pages = Math.ceil(capacityBytes / PAGE) + 1;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    // Map every page (and make the sums non-trivial).
    new Uint8Array(memory.buffer).fill(1);
    const module = await WebAssembly.compile(kernelModule(pages));
    const control = new SharedArrayBuffer(4);
    const workers = Array.from({ length: threads }, (_, index) => new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, index, threads } }));
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => (worker.once('online', resolve), worker.once('error', reject)))));
    const probe = new ReadBandwidthProbe(workers, pages * PAGE - PAGE);
    // Warm-up: lets V8 tier the kernel up before anything is timed.
    await probe.pass(Math.min(probe.capacity, 32 * 1024 * 1024));
    return probe;
  }

  get threads(): number {
    return this.workers.length;
  }

  /** One timed pass over a working set; returns bytes/s. */
  async pass(workingSetBytes: number): Promise<number> {
    const threads = this.workers.length;
    if (workingSetBytes > this.capacity) throw new RangeError(`working set ${workingSetBytes} exceeds the probe's buffer of ${this.capacity} bytes`);
    // Each worker's slice: a multiple of 128 bytes (one kernel iteration).
    const slice = Math.max(128, Math.floor(workingSetBytes / threads / 128) * 128);
    const reps = Math.max(1, Math.ceil(MIN_BYTES_PER_WORKER / slice));
    this.generation++;
    const generation = this.generation;
    const results = await Promise.all(
      this.workers.map(
        (worker, index) =>
          new Promise<{ started: number; ended: number }>((resolve, reject) => {
            const done = (result: { started: number; ended: number }) => {
              worker.off('error', failed);
              resolve(result);
            };
            const failed = (error: Error) => {
              worker.off('message', done);
              reject(error);
            };
            worker.once('message', done);
            worker.once('error', failed);
            worker.postMessage({ offset: index * slice, length: slice, reps, generation });
          }),
      ),
    );
    const seconds = (Math.max(...results.map((r) => r.ended)) - Math.min(...results.map((r) => r.started))) / 1000;
    return (threads * slice * reps) / seconds;
  }

  /** Best of `passes` passes, also remembered as the best seen for this working set. */
  async measure(workingSetBytes: number, passes = 3): Promise<ReadMeasurement> {
    let best = this.best.get(workingSetBytes) ?? 0;
    for (let i = 0; i < passes; i++) best = Math.max(best, await this.pass(workingSetBytes));
    this.best.set(workingSetBytes, best);
    return { bytesPerSecond: best, workingSetBytes, threads: this.workers.length, passes };
  }

  /** The best bandwidth seen for a working set over every measure() call so far. */
  bestFor(workingSetBytes: number): number {
    const best = this.best.get(workingSetBytes);
    if (best === undefined) throw new Error(`no read bandwidth measured for ${workingSetBytes} bytes`);
    return best;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
