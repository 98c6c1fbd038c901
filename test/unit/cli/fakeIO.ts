import { PassThrough } from 'node:stream';
import type { CliIO } from '../../../src/cli/command';

/** A CliIO whose standard output and error are collected for assertions, with `stdin` as input. */
export function fakeIO(stdin = ''): { io: CliIO; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  return {
    io: { stdout, stderr, readStdin: async () => stdin, signal: new AbortController().signal },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
