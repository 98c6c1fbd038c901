/**
 * Forks one model process: its environment (package root, test hooks, ONNX Runtime telemetry off),
 * its stdout/stderr and `log` messages forwarded to the logger, and its start-up: `ready` resolves
 * when the process says so and rejects with a clear message when it exits (or cannot start) first.
 * `killProcess` and `stopProcess` end one. What happens after an exit (fail requests, restart) is
 * the client's; it learns of every message and of the exit through `handlers`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { ModelError } from '../models/errors';
import type { RuntimeLogger } from '../runtime/types';
import type { ModelProcessClientOptions } from './clientTypes';
import { ORT_TELEMETRY_OFF_ENV, PACKAGE_ROOT_ENV, PRIORITY_ENV, TEST_HOOKS_ENV, type ProcessMessage } from './protocol';

export interface SpawnHandlers {
  /** Every message from the process (`ready` and `log` included), as it arrives. */
  onMessage(message: ProcessMessage): void;
  /** The process is gone; `startupError` when it could not be started at all. Called once. */
  onExit(exitCode: number | null, signal: NodeJS.Signals | null, startupError?: string): void;
}

export interface SpawnedProcess {
  readonly child: ChildProcess;
  /** Resolves when the process says `ready`; rejects if it exits first. */
  readonly ready: Promise<void>;
}

type SpawnOptions = Pick<ModelProcessClientOptions, 'entry' | 'packageRoot' | 'execPath' | 'execArgv' | 'env' | 'testHooks' | 'priority'>;

export function spawnModelProcess(options: SpawnOptions, logger: RuntimeLogger, handlers: SpawnHandlers): SpawnedProcess {
  const child = fork(options.entry, [], {
    execArgv: [...(options.execArgv ?? [])],
    ...(options.execPath ? { execPath: options.execPath } : {}),
    env: {
      ...process.env,
      ...options.env,
      [PACKAGE_ROOT_ENV]: options.packageRoot,
      [TEST_HOOKS_ENV]: options.testHooks ? '1' : '',
      [PRIORITY_ENV]: options.priority ?? 'normal',
      // Set before the child loads ONNX Runtime (its telemetry reads it at start-up); never overridable.
      ...ORT_TELEMETRY_OFF_ENV,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  const forward = (level: 'info' | 'warn') => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logger[level](`[model process] ${line.trimEnd()}`);
  };
  child.stdout?.on('data', forward('info'));
  child.stderr?.on('data', forward('warn'));
  const ready = new Promise<void>((resolve, reject) => {
    let started = false;
    let exited = false;
    const exit = (code: number | null, signal: NodeJS.Signals | null, startupError?: string) => {
      if (exited) return;
      exited = true;
      if (!started) {
        reject(
          new ModelError(
            'process',
            startupError
              ? `The model process could not start: ${startupError}. Reinstall Tokenscope if this persists.`
              : `The model process exited during start-up (exit code ${code}${signal ? `, signal ${signal}` : ''}). See the Tokenscope log for its output; reinstall Tokenscope if this persists.`,
          ),
        );
      }
      handlers.onExit(code, signal, startupError);
    };
    child.on('message', (message: ProcessMessage) => {
      handlers.onMessage(message);
      if (message.type === 'ready') {
        started = true;
        logger.info('model process started', { pid: message.pid });
        resolve();
      } else if (message.type === 'log') {
        logger[message.level](message.message, message.data);
      }
    });
    child.on('error', (error) => {
      logger.error('model process error', { message: error.message });
      // Not started at all (e.g. the Node binary is missing): no exit event may follow.
      if (!started && child.pid === undefined) exit(null, null, error.message);
    });
    child.on('exit', (code, signal) => exit(code, signal));
  });
  return { child, ready };
}

/** Kills a running process at once and resolves when it has exited. */
export function killProcess(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Asks a running process to exit (it releases its model first), killing it after 2 s; resolves on exit. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // Closing IPC makes the process release its model and exit on its own.
    if (child.connected) child.disconnect();
    else child.kill('SIGKILL');
  });
}
