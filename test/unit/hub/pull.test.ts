// Downloads from a local Hub (test/support/fakeHub.ts) into a scratch Hugging Face cache: the
// layout other tools read, resume, checksums, every failure the issue lists, locks, offline mode.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, lstatSync, readFileSync, readlinkSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { scanCachedRepo } from '@huggingface/hub';
import { blobPath, incompletePath, repoFolder, snapshotDir } from '../../../src/core/hub/cache';
import { HubError, type HubErrorCode } from '../../../src/core/hub/errors';
import { pullModel } from '../../../src/core/hub/pull';
import { catalogModel, resolveModelReference } from '../../../src/core/models/catalog';
import { ModelError } from '../../../src/core/models/errors';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { filesFromFolder, type FakeHub } from '../../support/fakeHub';
import { collect, fixture, repoRoot } from '../runtime/helpers';
import { BIG_BYTES, BIG_COMMIT, BIG_REPO, TINY_COMMIT, TINY_REPO, pullAll, quick, quickStall, scratchCache, startHub } from './helpers';

async function rejectsWith(promise: Promise<unknown>, code: HubErrorCode, pattern: RegExp): Promise<HubError> {
  let caught: HubError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof HubError, `expected a HubError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    caught = error;
    return true;
  });
  return caught!;
}

const cdnBytes = (hub: FakeHub, sha256: string) => hub.requests.filter((request) => request.origin === 'cdn' && request.path.endsWith(sha256)).reduce((sum, request) => sum + request.bodyBytes, 0);

describe('pull from a local Hub', { timeout: 120_000 }, () => {
  let hub: FakeHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => hub?.close());

  it('downloads a catalog model into the standard cache layout; it loads and generates; @huggingface/hub reads the cache', async () => {
    hub.reset();
    const catalog = catalogModel('qwen2.5-coder-0.5b-instruct')!;
    // The tiny model stands in for the real one under the catalog's repo and pinned commit.
    hub.addRepo({ repo: catalog.repo, commit: catalog.download.revision, files: filesFromFolder(fixture('tiny-qwen2')) });
    const scratch = scratchCache(hub);
    try {
      const { result, events } = await pullAll({ repo: catalog.repo, revision: catalog.download.revision, preferredVariant: catalog.download.defaultVariant }, { settings: scratch.settings({ token: 'hf_secret_token' }), ...quick });
      assert.equal(result.commit, catalog.download.revision);
      assert.equal(result.variant, 'q4');
      assert.equal(result.dir, snapshotDir(scratch.cacheDir, catalog.repo, catalog.download.revision));
      assert.ok(events.some((event) => event.type === 'plan'));
      // Layout: relative symlinks to blobs named by SHA-256 (LFS) or git SHA-1 (small files).
      const onnx = join(result.dir, 'onnx', 'model_q4.onnx');
      assert.ok(lstatSync(onnx).isSymbolicLink());
      assert.equal(readlinkSync(onnx), join('..', '..', '..', 'blobs', hub.digest(catalog.repo, 'onnx/model_q4.onnx').sha256));
      assert.equal(readlinkSync(join(result.dir, 'config.json')), join('..', '..', 'blobs', hub.digest(catalog.repo, 'config.json').gitSha1));
      assert.deepEqual(readdirSync(join(result.dir, 'onnx')), ['model_q4.onnx'], 'only the chosen variant');
      assert.ok(!readdirSync(join(repoFolder(scratch.cacheDir, catalog.repo), 'blobs')).some((name) => name.endsWith('.incomplete')));
      // The token went to the Hub, never to the CDN.
      assert.ok(hub.requests.some((request) => request.origin === 'hub' && request.authorization === 'Bearer hf_secret_token'));
      assert.ok(hub.requests.filter((request) => request.origin === 'cdn').every((request) => request.authorization === undefined));
      // The catalog id now resolves to the snapshot, offline, and the model runs.
      const resolved = resolveModelReference(catalog.id, { packageRoot: repoRoot, cacheDir: scratch.cacheDir });
      assert.equal(resolved.dir, result.dir);
      assert.equal(resolved.label, catalog.label);
      const model = await LocalModel.load({ model: result.dir, threads: 1 }, { packageRoot: repoRoot });
      try {
        const run = await collect(model.generate({ prompt: { kind: 'text', text: 'def add(a, b):' }, maxTokens: 4, sampling: { temperature: 0 } }));
        assert.equal(run.tokens.length, 4);
      } finally {
        await model.dispose();
      }
      // Another tool's reader (the official JS client) sees the revision and its files.
      const scanned = await scanCachedRepo(repoFolder(scratch.cacheDir, catalog.repo));
      assert.equal(scanned.id.name, catalog.repo);
      assert.deepEqual(scanned.revisions.map((revision) => revision.commitOid), [catalog.download.revision]);
    } finally {
      scratch.cleanup();
    }
  });

  it('a branch revision is keyed by its commit and recorded in refs/main; a second pull downloads nothing', async () => {
    hub.reset();
    const scratch = scratchCache(hub);
    try {
      const first = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick });
      assert.equal(first.result.commit, TINY_COMMIT);
      assert.equal(readFileSync(join(repoFolder(scratch.cacheDir, TINY_REPO), 'refs', 'main'), 'utf8'), TINY_COMMIT);
      assert.equal(resolveModelReference(TINY_REPO, { packageRoot: repoRoot, cacheDir: scratch.cacheDir }).dir, first.result.dir);
      hub.reset();
      const second = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick });
      assert.equal(second.result.downloadedBytes, 0);
      assert.equal(second.result.reusedBytes, second.result.totalBytes);
      assert.equal(hub.requests.filter((request) => request.path.includes('/resolve/') || request.origin === 'cdn').length, 0);
    } finally {
      scratch.cleanup();
    }
  });

  it('resumes after interruptions at 10%, 50% and 90%: nothing is fetched twice (< 1%) and no half file is ever linked', async () => {
    hub.reset();
    hub.faults.throttleBytesPerSecond = 64 * 1024 * 1024;
    const scratch = scratchCache(hub);
    const weights = hub.digest(BIG_REPO, 'onnx/model_q4.onnx');
    try {
      let refetched = 0;
      for (const stopAt of [0.1, 0.5, 0.9]) {
        const controller = new AbortController();
        await rejectsWith(
          pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), signal: controller.signal, ...quick }, (event) => {
            if (event.type === 'progress' && event.file === 'onnx/model_q4.onnx' && event.fileBytes >= stopAt * event.fileTotal) controller.abort();
          }),
          'cancelled',
          /cancelled.*kept/,
        );
        const partial = statSync(incompletePath(scratch.cacheDir, BIG_REPO, weights.sha256)).size;
        assert.ok(partial >= stopAt * BIG_BYTES * 0.9, `partial ${partial} at ${stopAt}`);
        assert.ok(!existsSync(join(snapshotDir(scratch.cacheDir, BIG_REPO, BIG_COMMIT), 'onnx', 'model_q4.onnx')), 'the weights are not linked before they are complete');
        assert.throws(() => resolveModelReference(BIG_REPO, { packageRoot: repoRoot, cacheDir: scratch.cacheDir }), (error: unknown) => error instanceof ModelError && error.code === 'not-downloaded');
      }
      const { result } = await pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick });
      refetched += result.refetchedBytes;
      assert.ok(result.resumedBytes >= 0.85 * BIG_BYTES);
      assert.ok(refetched / BIG_BYTES < 0.01, `re-fetched ${refetched} bytes`);
      // On the wire: everything the CDN sent for the weights, over four pulls, is within 1% of their size.
      const sent = cdnBytes(hub, weights.sha256);
      assert.ok(sent >= BIG_BYTES && (sent - BIG_BYTES) / BIG_BYTES < 0.01, `CDN sent ${sent} for ${BIG_BYTES}`);
      assert.equal(readFileSync(blobPath(scratch.cacheDir, BIG_REPO, weights.sha256)).length, BIG_BYTES);
      assert.ok(hub.requests.some((request) => request.origin === 'cdn' && request.range?.startsWith('bytes=')));
    } finally {
      scratch.cleanup();
    }
  });

  it('resumes after the downloading process is killed (a closed editor), taking over its lock at once', async () => {
    hub.reset();
    hub.faults.throttleBytesPerSecond = 16 * 1024 * 1024;
    const scratch = scratchCache(hub);
    const weights = hub.digest(BIG_REPO, 'onnx/model_q4.onnx');
    const partialPath = incompletePath(scratch.cacheDir, BIG_REPO, weights.sha256);
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'pull', BIG_REPO, '--endpoint', hub.endpoint], { env: { ...process.env, HF_HUB_CACHE: scratch.cacheDir, HF_ENDPOINT: '', HF_TOKEN: '' }, stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const deadline = Date.now() + 60_000;
      while (!(existsSync(partialPath) && statSync(partialPath).size > BIG_BYTES * 0.3)) {
        assert.ok(Date.now() < deadline, 'the CLI never got 30% of the way');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      await exited;
      const started = Date.now();
      const { result, events } = await pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick });
      assert.ok(Date.now() - started < 10_000, 'the dead process\'s lock did not hold us up');
      assert.ok(!events.some((event) => event.type === 'waiting'));
      assert.ok(result.resumedBytes > BIG_BYTES * 0.3);
      assert.ok(result.refetchedBytes / BIG_BYTES < 0.01);
    } finally {
      scratch.cleanup();
    }
  });

  it('corrupt bytes: a checksum error, the bad file deleted, nothing linked or loadable; a retry then succeeds', async () => {
    hub.reset();
    hub.faults.corrupt = { match: 'model_q4.onnx' };
    const scratch = scratchCache(hub);
    const weights = hub.digest(TINY_REPO, 'onnx/model_q4.onnx');
    try {
      const error = await rejectsWith(pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick }), 'checksum', /onnx\/model_q4\.onnx.*corrupt.*SHA-256.*deleted and nothing was used/);
      assert.doesNotMatch(error.message, /Amz-Signature/);
      assert.ok(!existsSync(blobPath(scratch.cacheDir, TINY_REPO, weights.sha256)));
      assert.ok(!existsSync(incompletePath(scratch.cacheDir, TINY_REPO, weights.sha256)));
      assert.ok(!existsSync(join(snapshotDir(scratch.cacheDir, TINY_REPO, TINY_COMMIT), 'onnx')));
      assert.throws(() => resolveModelReference(TINY_REPO, { packageRoot: repoRoot, cacheDir: scratch.cacheDir }), /not in the Hugging Face cache/);
      delete hub.faults.corrupt;
      const { result } = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick });
      assert.ok(existsSync(join(result.dir, 'onnx', 'model_q4.onnx')));
    } finally {
      scratch.cleanup();
    }
  });

  it('401 and 403: private and gated repos say where to accept the licence and how to set a token', async () => {
    hub.reset();
    const files = filesFromFolder(fixture('tiny-qwen2'));
    hub.addRepo({ repo: 'acme/Private-ONNX', commit: '3'.repeat(40), files, private: true, grantedTokens: ['hf_good'] });
    hub.addRepo({ repo: 'acme/Gated-ONNX', commit: '4'.repeat(40), files, gated: 'manual', grantedTokens: ['hf_good'] });
    const scratch = scratchCache(hub);
    try {
      await rejectsWith(pullAll({ repo: 'acme/Private-ONNX' }, { settings: scratch.settings(), ...quick }), 'unauthorized', /needs a Hugging Face access token \(401\).*settings\/tokens.*Set Hugging Face Token/);
      await rejectsWith(pullAll({ repo: 'acme/Private-ONNX' }, { settings: scratch.settings({ token: 'hf_expired' }), ...quick }), 'unauthorized', /did not accept your access token.*invalid or expired/);
      await rejectsWith(pullAll({ repo: 'acme/Gated-ONNX' }, { settings: scratch.settings(), ...quick }), 'unauthorized', new RegExp(`accept its licence there`));
      const forbidden = await rejectsWith(pullAll({ repo: 'acme/Gated-ONNX' }, { settings: scratch.settings({ token: 'hf_other' }), ...quick }), 'forbidden', /gated.*\(403\).*accept the licence/);
      assert.match(forbidden.message, new RegExp(`${hub.endpoint}/acme/Gated-ONNX`));
      for (const message of [forbidden.message]) assert.doesNotMatch(message, /hf_other/, 'the token never appears in a message');
      const { result } = await pullAll({ repo: 'acme/Gated-ONNX' }, { settings: scratch.settings({ token: 'hf_good' }), ...quick });
      assert.equal(result.commit, '4'.repeat(40));
    } finally {
      scratch.cleanup();
    }
  });

  it('404: an unknown repo, revision or variant says so and what to do', async () => {
    hub.reset();
    const scratch = scratchCache(hub);
    try {
      await rejectsWith(pullAll({ repo: 'onnx-community/Does-Not-Exist' }, { settings: scratch.settings({ token: 'hf_any' }), ...quick }), 'not-found', /No model "onnx-community\/Does-Not-Exist".*renamed or deleted/);
      await rejectsWith(pullAll({ repo: TINY_REPO, revision: 'v9' }, { settings: scratch.settings(), ...quick }), 'not-found', /no revision "v9"/);
      await rejectsWith(pullAll({ repo: TINY_REPO, variant: 'int8' }, { settings: scratch.settings(), ...quick }), 'invalid-request', /no int8 variant.*q4, fp32, fp16/);
      await rejectsWith(pullAll({ repo: 'not a repo' }, { settings: scratch.settings(), ...quick }), 'invalid-request', /not a Hugging Face model id/);
    } finally {
      scratch.cleanup();
    }
  });

  it('500 then success: retried with backoff; a server that keeps failing gives up with a clear message', async () => {
    hub.reset();
    hub.faults.status = { code: 500, count: 2 };
    const scratch = scratchCache(hub);
    try {
      const { events } = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick });
      assert.equal(events.filter((event) => event.type === 'retry').length, 2);
      hub.reset();
      hub.faults.status = { code: 503, count: 100, match: '/lfs/' };
      const other = scratchCache(hub);
      try {
        await rejectsWith(pullAll({ repo: TINY_REPO }, { settings: other.settings(), ...quick }), 'server', /answered 503 after 4 attempts.*busy or down.*resumes/);
      } finally {
        other.cleanup();
      }
      hub.reset();
      hub.faults.status = { code: 500, count: 100, match: '/api/' };
      await rejectsWith(pullAll({ repo: TINY_REPO }, { settings: scratchCache(hub).settings(), ...quick }), 'server', /answered 500 after 4 attempts/);
    } finally {
      scratch.cleanup();
    }
  });

  it('a stall is detected, the request retried from where it stopped; a server that always stalls fails with "stalled"', async () => {
    hub.reset();
    hub.faults.stallAfterBytes = { bytes: 40_000, count: 1, match: 'model_q4.onnx' };
    const scratch = scratchCache(hub);
    try {
      const { result, events } = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quickStall });
      assert.ok(events.some((event) => event.type === 'retry' && /sent nothing/.test(event.reason)));
      assert.ok(hub.requests.some((request) => request.origin === 'cdn' && request.range === 'bytes=40000-'));
      assert.equal(result.refetchedBytes, 0);
      hub.reset();
      hub.faults.stallAfterBytes = { bytes: 0, count: 100, match: 'model_q4.onnx' };
      const other = scratchCache(hub);
      try {
        await rejectsWith(pullAll({ repo: TINY_REPO }, { settings: other.settings(), ...quickStall }), 'stalled', /sent nothing for 0 s.*stalled 4 times in a row/);
      } finally {
        other.cleanup();
      }
    } finally {
      scratch.cleanup();
    }
  });

  it('a connection closed mid-body resumes with Range; a server that ignores Range is handled and its re-sent bytes reported', async () => {
    hub.reset();
    hub.faults.closeAfterBytes = { bytes: 1024 * 1024, count: 2, match: 'model_q4.onnx' };
    const scratch = scratchCache(hub);
    try {
      const { result } = await pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick });
      assert.equal(result.refetchedBytes, 0);
      // Each resume starts where the bytes on disk end: at the cut (1 and 2 MiB), or a little before
      // it when the HTTP client dropped the last chunks it had buffered with the broken connection
      // (seen on a busy machine; those bytes are fetched again, never skipped).
      const ranges = hub.requests.filter((request) => request.origin === 'cdn' && request.range).map((request) => Number(/^bytes=(\d+)-$/.exec(request.range ?? '')?.[1]));
      assert.equal(ranges.length, 2, `two resumes: ${ranges.join(', ')}`);
      ranges.forEach((start, index) => {
        const cut = (index + 1) * 1024 * 1024;
        assert.ok(start <= cut && start > cut - 64 * 1024, `resume ${index + 1} at ${start}, the cut at ${cut}`);
      });
    } finally {
      scratch.cleanup();
    }
    hub.reset();
    const again = scratchCache(hub);
    try {
      const controller = new AbortController();
      await assert.rejects(pullAll({ repo: BIG_REPO }, { settings: again.settings(), signal: controller.signal, ...quick }, (event) => {
        if (event.type === 'progress' && event.file === 'onnx/model_q4.onnx' && event.fileBytes > BIG_BYTES / 4) controller.abort();
      }));
      hub.faults.ignoreRange = true;
      const { result } = await pullAll({ repo: BIG_REPO }, { settings: again.settings(), ...quick });
      assert.ok(result.refetchedBytes > BIG_BYTES / 5, 'a server that resends the start is reported honestly');
      assert.equal(statSync(join(result.dir, 'onnx', 'model_q4.onnx')).size, BIG_BYTES);
    } finally {
      again.cleanup();
    }
  });

  it('disk full: checked before downloading, and a write that fails with ENOSPC stops cleanly and keeps the partial file', async () => {
    hub.reset();
    const scratch = scratchCache(hub);
    try {
      await rejectsWith(pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick, freeBytes: async () => 5 * 1024 * 1024 }), 'disk-full', /needs 1\d\.\d MB more.*5\.2 MB free.*HF_HUB_CACHE/);
      assert.equal(hub.requests.filter((request) => request.origin === 'cdn').length, 0, 'nothing downloaded');
      // A disk that fills up after 2 MB: real writes until then, ENOSPC after.
      let written = 0;
      const failingDisk = (path: string, start: number) => {
        const file = createWriteStream(path, { flags: start > 0 ? 'r+' : 'w', start });
        return new Writable({
          write(chunk: Buffer, _encoding, callback) {
            written += chunk.length;
            if (written > 2 * 1024 * 1024) callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
            else file.write(chunk, callback);
          },
          final(callback) {
            file.end(callback);
          },
        });
      };
      await rejectsWith(pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick, openWrite: failingDisk }), 'disk-full', /disk holding .* is full.*resumes/);
      assert.ok(!existsSync(join(snapshotDir(scratch.cacheDir, BIG_REPO, BIG_COMMIT), 'onnx', 'model_q4.onnx')));
      const { result } = await pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick });
      assert.equal(statSync(join(result.dir, 'onnx', 'model_q4.onnx')).size, BIG_BYTES);
    } finally {
      scratch.cleanup();
    }
  });

  it('cancel: stops, keeps what arrived, releases the lock (the next pull starts at once)', async () => {
    hub.reset();
    hub.faults.throttleBytesPerSecond = 32 * 1024 * 1024;
    const scratch = scratchCache(hub);
    try {
      const controller = new AbortController();
      await rejectsWith(pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), signal: controller.signal, ...quick }, (event) => {
        if (event.type === 'progress' && event.fileBytes > 1024 * 1024) controller.abort();
      }), 'cancelled', /cancelled/);
      delete hub.faults.throttleBytesPerSecond;
      const { events } = await pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick });
      assert.ok(!events.some((event) => event.type === 'waiting'));
    } finally {
      scratch.cleanup();
    }
  });

  it('two concurrent pulls of one repo: one waits for the other, the bytes cross the wire once, both get the folder', async () => {
    hub.reset();
    hub.faults.throttleBytesPerSecond = 64 * 1024 * 1024;
    const scratch = scratchCache(hub);
    const weights = hub.digest(BIG_REPO, 'onnx/model_q4.onnx');
    try {
      const [a, b] = await Promise.all([pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick }), pullAll({ repo: BIG_REPO }, { settings: scratch.settings(), ...quick })]);
      assert.equal(a.result.dir, b.result.dir);
      assert.equal([a, b].filter((run) => run.events.some((event) => event.type === 'waiting')).length, 1);
      assert.equal(cdnBytes(hub, weights.sha256), BIG_BYTES);
      assert.equal(a.result.downloadedBytes + b.result.downloadedBytes, a.result.totalBytes);
    } finally {
      scratch.cleanup();
    }
  });

  it('offline mode never touches the network: the cached model is used, a missing one is a clear error', async () => {
    hub.reset();
    const scratch = scratchCache(hub);
    try {
      await rejectsWith(pullAll({ repo: TINY_REPO }, { settings: scratch.settings({ offline: true }), ...quick }), 'offline', /Offline mode is on.*not in the Hugging Face cache/);
      assert.equal(hub.requests.length, 0);
      await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick });
      hub.reset();
      const { result } = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings({ offline: true }), ...quick });
      assert.equal(result.fromCache, true);
      assert.equal(hub.requests.length, 0);
      // Not in offline mode but the network is gone: the cached copy is used, with a notice.
      const unreachable = scratchCache(hub);
      const { events } = await pullAll({ repo: TINY_REPO }, { settings: { ...scratch.settings(), endpoint: 'http://127.0.0.1:9' }, ...quick });
      assert.ok(events.some((event) => event.type === 'notice' && /Cannot reach 127\.0\.0\.1:9.*Using the copy already in the cache/.test(event.message)));
      unreachable.cleanup();
    } finally {
      scratch.cleanup();
    }
  });

  it('a mirror without paths-info: sizes and checksums come from HEAD (X-Linked-Size, X-Linked-Etag, ETag)', async () => {
    hub.reset();
    hub.faults.noPathsInfo = true;
    const scratch = scratchCache(hub);
    try {
      const { result } = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick });
      assert.ok(hub.requests.some((request) => request.method === 'HEAD'));
      assert.ok(existsSync(join(result.dir, 'onnx', 'model_q4.onnx')));
    } finally {
      scratch.cleanup();
    }
  });

  it('a redirect loop is named as such', async () => {
    hub.reset();
    hub.faults.redirectLoop = true;
    const scratch = scratchCache(hub);
    try {
      await rejectsWith(pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick }), 'redirect-loop', /redirected .* misconfigured/);
    } finally {
      scratch.cleanup();
    }
  });

  it('the stream can be read with for-await and stops early without leaving the lock held', async () => {
    hub.reset();
    const scratch = scratchCache(hub);
    try {
      for await (const event of pullModel({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick })) if (event.type === 'plan') break;
      const { events } = await pullAll({ repo: TINY_REPO }, { settings: scratch.settings(), ...quick });
      assert.ok(!events.some((event) => event.type === 'waiting'));
    } finally {
      scratch.cleanup();
    }
  });
});
