import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalModel } from '../../../src/core/runtime/localModel';
import type { GenerateRequest, GenerationEnd, GenerationEvent, GenerationStart, TokenEvent } from '../../../src/core/runtime/types';
import type { ModelVariant } from '../../../src/core/models/modelFolder';

export const repoRoot = join(__dirname, '..', '..', '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'models');
export const fixture = (name: string): string => join(fixturesDir, name);

export async function loadFixture(name: string, variant: ModelVariant = 'auto', matmulPrecision: 'fast' | 'exact' = 'fast'): Promise<LocalModel> {
  return LocalModel.load({ model: fixture(name), variant, threads: 1, matmulPrecision }, { packageRoot: repoRoot });
}

export interface Collected {
  readonly start: GenerationStart;
  readonly tokens: TokenEvent[];
  readonly end: GenerationEnd;
}

export async function collect(events: AsyncIterable<GenerationEvent>): Promise<Collected> {
  let start: GenerationStart | undefined;
  let end: GenerationEnd | undefined;
  const tokens: TokenEvent[] = [];
  for await (const event of events) {
    if (event.type === 'start') start = event;
    else if (event.type === 'token') tokens.push(event);
    else end = event;
  }
  if (!start || !end) throw new Error('stream without start or end');
  return { start, tokens, end };
}

export function generateAll(model: LocalModel, request: GenerateRequest, signal?: AbortSignal): Promise<Collected> {
  return collect(model.generate(request, signal));
}

/** A scratch copy of a fixture folder, removed by the returned cleanup. */
export function copyFixture(name: string): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'tokenscope-model-'));
  const dir = join(root, name);
  cpSync(fixture(name), dir, { recursive: true });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tokenscope-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
