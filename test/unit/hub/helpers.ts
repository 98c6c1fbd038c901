import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullModel, type PullEvent, type PullOptions, type PullRequest, type PullResult } from '../../../src/core/hub/pull';
import { resolveHubSettings, type HubOverrides, type HubSettings } from '../../../src/core/hub/settings';
import { filesFromFolder, startFakeHub, type FakeHub } from '../../support/fakeHub';
import { fixture } from '../runtime/helpers';

export const TINY_REPO = 'onnx-community/Tiny-Qwen2-ONNX';
export const TINY_COMMIT = '1111111111111111111111111111111111111111';
export const BIG_REPO = 'test-org/Big-ONNX';
export const BIG_COMMIT = '2222222222222222222222222222222222222222';
/** The big repo's weights: large enough that a resume's re-fetched bytes are measurable. */
export const BIG_BYTES = 16 * 1024 * 1024;

export function bigRepoFiles(): Map<string, Buffer> {
  const tiny = filesFromFolder(fixture('tiny-qwen2'));
  const files = new Map<string, Buffer>();
  for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json', '.gitattributes', 'README.md']) files.set(name, tiny.get(name)!);
  files.set('onnx/model_q4.onnx', randomBytes(BIG_BYTES));
  files.set('onnx/model_q4.onnx_data', randomBytes(256 * 1024));
  files.set('onnx/model_fp16.onnx', randomBytes(1024));
  return files;
}

export async function startHub(): Promise<FakeHub> {
  return startFakeHub([
    { repo: TINY_REPO, commit: TINY_COMMIT, files: filesFromFolder(fixture('tiny-qwen2')) },
    { repo: BIG_REPO, commit: BIG_COMMIT, files: bigRepoFiles() },
  ]);
}

export interface Scratch {
  readonly cacheDir: string;
  settings(overrides?: HubOverrides): HubSettings;
  cleanup(): void;
}

export function scratchCache(hub: FakeHub): Scratch {
  const root = mkdtempSync(join(tmpdir(), 'tokenscope-hub-'));
  const cacheDir = join(root, 'hub');
  return {
    cacheDir,
    settings: (overrides = {}) => resolveHubSettings({ endpoint: hub.endpoint, cacheDir, ...overrides }, {}),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Fast retries for tests. Stall detection stays at 5 s here: with 400 ms a busy machine (the suite
 * runs two files at a time on 2 cores) paused a healthy download long enough to count as a stall,
 * and its extra Range request failed the mid-body test. The stall test itself uses {@link quickStall}.
 */
export const quick: Partial<PullOptions> = { retryDelayMs: 5, stallTimeoutMs: 5_000, maxAttempts: 4, progressIntervalMs: 20 };
/** Fast stall detection, for the test of stalls (its fake server stalls for good, so no machine is too slow for it). */
export const quickStall: Partial<PullOptions> = { ...quick, stallTimeoutMs: 400 };

export async function pullAll(request: PullRequest, options: PullOptions, onEvent?: (event: PullEvent) => void): Promise<{ result: PullResult; events: PullEvent[] }> {
  const events: PullEvent[] = [];
  let result: PullResult | undefined;
  for await (const event of pullModel(request, options)) {
    events.push(event);
    onEvent?.(event);
    if (event.type === 'done') result = event.result;
  }
  if (!result) throw new Error('pull ended without done');
  return { result, events };
}
