/**
 * Entry of the model process (bundled to dist/modelProcess.js), forked by the extension host's
 * ModelProcessClient. ONNX Runtime blocks its thread for every forward pass and can crash
 * natively; here it can do neither to the editor.
 */
// First, before anything loads ONNX Runtime: its telemetry off (the client sets it in our env too).
import '../core/runtime/ortTelemetry';
// Then the priority, before ONNX Runtime creates its threads (they inherit it).
import { priorityOutcome } from './priority';
import { join } from 'node:path';
import { PACKAGE_ROOT_ENV, TEST_HOOKS_ENV, type ClientMessage, type ProcessMessage } from '../core/modelProcess/protocol';
import { ModelServer } from './server';

function send(message: ProcessMessage): void {
  // The parent may be gone (it crashed or is shutting down): nothing left to tell.
  if (process.connected && process.send) process.send(message);
}

if (!process.send) {
  process.stderr.write('modelProcess.js is started by Tokenscope (forked with an IPC channel); it does nothing on its own.\n');
  process.exit(2);
}

const server = new ModelServer({
  send,
  // dist/modelProcess.js → the package root is one folder up.
  packageRoot: process.env[PACKAGE_ROOT_ENV] ?? join(__dirname, '..'),
  testHooks: process.env[TEST_HOOKS_ENV] === '1',
  exit: (code) => process.exit(code),
});

process.on('message', (message: ClientMessage) => server.handle(message));
// The parent went away: release the model and leave, never linger as an orphan.
process.on('disconnect', () => {
  void server.dispose().finally(() => process.exit(0));
});
// Ctrl+C in a terminal signals the whole process group (`tokenscope serve` and this process): the
// parent decides when this process stops (it disconnects), so it never dies under a request here.
process.on('SIGINT', () => undefined);
process.on('uncaughtException', (error) => {
  send({ type: 'log', level: 'error', message: `model process crashed: ${error.stack ?? error.message}` });
  process.exit(70);
});
process.on('unhandledRejection', (reason) => {
  send({ type: 'log', level: 'error', message: `unhandled rejection in the model process: ${String(reason)}` });
});
server.start();
if (priorityOutcome.problem) send({ type: 'log', level: 'warn', message: `model process: could not lower its priority (${priorityOutcome.problem}); it runs at normal priority` });
