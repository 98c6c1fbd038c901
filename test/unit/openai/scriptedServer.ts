/**
 * A scripted HTTP server on 127.0.0.1 (a free port) for tests: each request goes to the handler the
 * test gives, and the server records how many requests came and when their connections closed (to
 * check that cancelling really aborted the HTTP request).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ScriptedServer {
  readonly baseUrl: string;
  /** Requests received so far. */
  readonly requests: { method: string; path: string; body: string; headers: IncomingMessage['headers'] }[];
  /** Resolves when the next request's connection closes (the client went away or the answer ended). */
  nextClose(): Promise<void>;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string, index: number) => void | Promise<void>;

export async function startScriptedServer(handler: Handler): Promise<ScriptedServer> {
  const requests: ScriptedServer['requests'] = [];
  const sockets = new Set<Socket>();
  let closeWaiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const index = requests.length;
      requests.push({ method: req.method ?? '', path: req.url ?? '', body, headers: req.headers });
      res.on('close', () => {
        const waiters = closeWaiters;
        closeWaiters = [];
        for (const waiter of waiters) waiter();
      });
      void Promise.resolve(handler(req, res, body, index)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    nextClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes SSE headers and the given raw lines (each followed by a blank line). */
export function sse(res: ServerResponse, events: readonly string[], end = true): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream' });
  for (const event of events) res.write(`${event}\n\n`);
  if (end) res.end();
}

export const chatDelta = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}`;
