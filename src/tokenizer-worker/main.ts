/**
 * Entry of the tokenizer worker thread (bundled to dist/tokenizerWorker.js), started by the
 * extension host's TokenizerWorkerClient (src/core/tokenizerWorker/client.ts). See server.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HostToWorker, TokenizerWorkerData, WorkerToHost } from '../core/tokenizerWorker/protocol';
import { TokenizerWorkerServer } from './server';

const port = parentPort;
if (!port) throw new Error('tokenizerWorker.js runs as a worker thread started by Tokenscope; it does nothing on its own.');

const { rootDir } = workerData as TokenizerWorkerData;
const server = new TokenizerWorkerServer({
  rootDir,
  send: (message: WorkerToHost, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer),
});
port.on('message', (message: HostToWorker) => server.handle(message));
process.on('unhandledRejection', (reason) => port.postMessage({ type: 'log', level: 'error', message: `Tokenizer worker: unhandled rejection: ${String(reason)}` } satisfies WorkerToHost));
