// The Hugging Face cache as other tools leave it, settings from the environment, error wording,
// the progress state, a proxy, and the CLI's pull/models.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join, relative } from 'node:path';
import { getHFHubCachePath, getRepoFolderName } from '@huggingface/hub';
import { deleteCachedRevision, findCachedSnapshot, repoFolder, repoFolderName, scanHubCache } from '../../../src/core/hub/cache';
import { connectionError } from '../../../src/core/hub/errors';
import { describeProgress, initialProgress, reduceProgress } from '../../../src/core/hub/progress';
import { checkRevision, hubCacheDir, isRepoId, resolveHubSettings } from '../../../src/core/hub/settings';
import { modelsCommand } from '../../../src/cli/modelsCommand';
import { pullCommand } from '../../../src/cli/pullCommand';
import { resolveModelReference } from '../../../src/core/models/catalog';
import { LocalModel } from '../../../src/core/runtime/localModel';
import type { FakeHub } from '../../support/fakeHub';
import { fakeIO } from '../cli/fakeIO';
import { collect, fixture, repoRoot, tempDir } from '../runtime/helpers';
import { TINY_REPO, pullAll, quick, scratchCache, startHub } from './helpers';

const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_q4.onnx'];

/** Writes a model into a cache as huggingface_hub does: blobs named by hash, relative symlinks (or copies), refs/main. */
function writeAsHuggingFaceHub(cacheDir: string, repo: string, commit: string, options: { readonly copies?: boolean; readonly ref?: boolean } = {}): string {
  const folder = repoFolder(cacheDir, repo);
  const snapshot = join(folder, 'snapshots', commit);
  for (const path of MODEL_FILES) {
    const content = readFileSync(join(fixture('tiny-qwen2'), path));
    const etag = path.endsWith('.onnx') || path === 'tokenizer.json' ? createHash('sha256').update(content).digest('hex') : createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    const blob = join(folder, 'blobs', etag);
    const pointer = join(snapshot, ...path.split('/'));
    mkdirSync(join(folder, 'blobs'), { recursive: true });
    mkdirSync(join(pointer, '..'), { recursive: true });
    writeFileSync(blob, content);
    if (options.copies) copyFileSync(blob, pointer);
    else symlinkSync(relative(join(pointer, '..'), blob), pointer);
  }
  if (options.ref !== false) {
    mkdirSync(join(folder, 'refs'), { recursive: true });
    writeFileSync(join(folder, 'refs', 'main'), commit);
  }
  return snapshot;
}

test('a model another tool put in the cache (symlinks to blobs, refs/main) is found by org/name, loads and generates, with no network', async () => {
  const scratch = tempDir();
  try {
    const snapshot = writeAsHuggingFaceHub(scratch.dir, 'someone/Tiny-Qwen2-ONNX', 'c'.repeat(40));
    const resolved = resolveModelReference('someone/Tiny-Qwen2-ONNX', { packageRoot: repoRoot, cacheDir: scratch.dir, cwd: scratch.dir });
    assert.equal(resolved.dir, snapshot);
    assert.deepEqual(resolved.hub, { repo: 'someone/Tiny-Qwen2-ONNX', commit: 'c'.repeat(40) });
    const model = await LocalModel.load({ model: resolved.dir, threads: 1 }, { packageRoot: repoRoot });
    try {
      assert.equal((await collect(model.generate({ prompt: { kind: 'text', text: 'x = ' }, maxTokens: 3, sampling: { temperature: 0 } }))).tokens.length, 3);
    } finally {
      await model.dispose();
    }
    // Copies instead of symlinks (huggingface_hub on Windows without developer mode), and no refs.
    const copied = writeAsHuggingFaceHub(scratch.dir, 'someone/Copied-ONNX', 'd'.repeat(40), { copies: true, ref: false });
    assert.equal(findCachedSnapshot(scratch.dir, 'someone/Copied-ONNX')?.dir, copied);
    assert.equal(findCachedSnapshot(scratch.dir, 'someone/Copied-ONNX')?.via, 'newest');
    // A folder of that name in the working directory wins over the cache (the CLI's relative paths keep working).
    mkdirSync(join(scratch.dir, 'someone', 'Copied-ONNX'), { recursive: true });
    assert.equal(resolveModelReference('someone/Copied-ONNX', { packageRoot: repoRoot, cacheDir: scratch.dir, cwd: scratch.dir }).dir, join(scratch.dir, 'someone', 'Copied-ONNX'));
    assert.throws(() => resolveModelReference('someone/Missing-ONNX', { packageRoot: repoRoot, cacheDir: scratch.dir, cwd: scratch.dir }), /not in the Hugging Face cache.*tokenscope pull someone\/Missing-ONNX/);
    assert.throws(() => resolveModelReference('qwen3-0.6b', { packageRoot: repoRoot, cacheDir: scratch.dir }), /Qwen3-0\.6B is not downloaded yet.*Choose Model.*tokenscope pull qwen3-0\.6b/);
  } finally {
    scratch.cleanup();
  }
});

test('snapshot choice: the revision asked for, else refs/main, else the newest usable; a snapshot without weights does not count', () => {
  const scratch = tempDir();
  try {
    writeAsHuggingFaceHub(scratch.dir, 'a/b', 'e'.repeat(40));
    writeAsHuggingFaceHub(scratch.dir, 'a/b', 'f'.repeat(40), { ref: false });
    assert.equal(findCachedSnapshot(scratch.dir, 'a/b', { revision: 'f'.repeat(40) })?.commit, 'f'.repeat(40));
    assert.equal(findCachedSnapshot(scratch.dir, 'a/b')?.commit, 'e'.repeat(40), 'refs/main');
    assert.equal(findCachedSnapshot(scratch.dir, 'a/b', { revision: '0'.repeat(40) })?.via, 'main');
    assert.equal(findCachedSnapshot(scratch.dir, 'a/b', { variant: 'int8' }), undefined, 'no int8 file');
    // Only config and tokenizer (a download cut before the weights): not usable.
    mkdirSync(join(repoFolder(scratch.dir, 'a/c'), 'snapshots', '9'.repeat(40)), { recursive: true });
    writeFileSync(join(repoFolder(scratch.dir, 'a/c'), 'snapshots', '9'.repeat(40), 'config.json'), '{}');
    assert.equal(findCachedSnapshot(scratch.dir, 'a/c'), undefined);
  } finally {
    scratch.cleanup();
  }
});

test('scan counts the weights in onnx/ (unlike @huggingface/hub\'s scan) and deleting a revision frees only its own blobs', async () => {
  const scratch = tempDir();
  try {
    writeAsHuggingFaceHub(scratch.dir, 'a/b', 'e'.repeat(40));
    writeAsHuggingFaceHub(scratch.dir, 'a/b', 'f'.repeat(40), { ref: false });
    const [repo] = scanHubCache(scratch.dir);
    const onnxBytes = readFileSync(join(fixture('tiny-qwen2'), 'onnx', 'model_q4.onnx')).length;
    assert.equal(repo.repo, 'a/b');
    assert.equal(repo.revisions.length, 2);
    assert.ok(repo.revisions.every((revision) => revision.bytes > onnxBytes && revision.usable && revision.variants.includes('q4')));
    assert.deepEqual(repo.revisions.find((revision) => revision.commit === 'e'.repeat(40))?.refs, ['main']);
    // The two snapshots share every blob: deleting one frees nothing, deleting the last frees all.
    assert.equal(await deleteCachedRevision(scratch.dir, 'a/b', 'f'.repeat(40)), 0);
    assert.ok(existsSync(repoFolder(scratch.dir, 'a/b')));
    assert.ok((await deleteCachedRevision(scratch.dir, 'a/b', 'e'.repeat(40))) > onnxBytes);
    assert.ok(!existsSync(repoFolder(scratch.dir, 'a/b')));
  } finally {
    scratch.cleanup();
  }
});

test('the cache folder and repo folder names follow @huggingface/hub\'s own rules exactly', () => {
  const keys = ['HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HOME', 'XDG_CACHE_HOME'] as const;
  const saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]));
  try {
    for (const env of [{}, { XDG_CACHE_HOME: '/xdg' }, { HF_HOME: '/home-hf', XDG_CACHE_HOME: '/xdg' }, { HUGGINGFACE_HUB_CACHE: '/old' }, { HF_HUB_CACHE: '/new', HUGGINGFACE_HUB_CACHE: '/old', HF_HOME: '/h' }] as Record<string, string>[]) {
      for (const key of keys) {
        if (env[key] === undefined) delete process.env[key];
        else process.env[key] = env[key];
      }
      assert.equal(hubCacheDir(process.env), getHFHubCachePath(), JSON.stringify(env));
    }
  } finally {
    for (const key of keys) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
  for (const repo of ['onnx-community/Qwen2.5-Coder-0.5B-Instruct', 'gpt2']) assert.equal(repoFolderName(repo), getRepoFolderName({ name: repo, type: 'model' }));
});

test('settings: HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE and the cache folder variables, as huggingface_hub reads them', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/x/hub', HF_HOME: '/y' }), '/x/hub');
  assert.equal(hubCacheDir({ HF_HOME: '/y' }), join('/y', 'hub'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/z' }), join('/z', 'huggingface', 'hub'));
  const fromEnv = resolveHubSettings({}, { HF_ENDPOINT: 'https://mirror.example/', HF_TOKEN: 'hf_env', HF_HUB_OFFLINE: '1', HF_HUB_CACHE: '/c', HTTPS_PROXY: 'http://proxy:3128' });
  assert.deepEqual(fromEnv, { endpoint: 'https://mirror.example', token: 'hf_env', offline: true, cacheDir: '/c', proxy: 'http://proxy:3128', strictSSL: true });
  const overridden = resolveHubSettings({ endpoint: 'https://other.example', token: 'hf_secret', offline: false }, { HF_ENDPOINT: 'https://mirror.example', HF_HUB_CACHE: '/c' });
  assert.equal(overridden.endpoint, 'https://other.example');
  assert.equal(overridden.token, 'hf_secret');
  assert.equal(resolveHubSettings({ endpoint: '' }, { HF_HUB_CACHE: '/c' }).endpoint, 'https://huggingface.co');
  assert.throws(() => resolveHubSettings({ endpoint: 'ftp://x' }, {}), /must start with https:\/\//);
  for (const id of ['onnx-community/Qwen2.5-Coder-0.5B-Instruct', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'gpt2']) assert.ok(isRepoId(id), id);
  for (const id of ['a/b/c', 'a--b/c', 'a/../b', '-a/b', 'a b/c', '']) assert.ok(!isRepoId(id), id);
  assert.throws(() => checkRevision('main..x'), /not a git revision/);
});

test('connection failures name the host, the cause and what to do; through a proxy, the proxy', () => {
  const dns = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND' }) });
  const error = connectionError(dns, 'https://huggingface.co/api/models/x/y');
  assert.equal(error.code, 'network');
  assert.match(error.message, /Cannot reach huggingface\.co: its host name does not resolve \(DNS\).*offline mode \(tokenscope\.hub\.offline, or HF_HUB_OFFLINE=1\)/);
  const refused = connectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3128'), { code: 'ECONNREFUSED' }), 'https://huggingface.co/x', 'http://user:pw@proxy.local:3128');
  assert.equal(refused.code, 'proxy');
  assert.match(refused.message, /through the proxy http:\/\/proxy\.local:3128\/ failed: the connection was refused.*http\.proxy.*HTTPS_PROXY/);
  assert.doesNotMatch(refused.message, /pw/, 'proxy credentials never appear');
  assert.match(connectionError(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'https://h.example/x').message, /NODE_EXTRA_CA_CERTS/);
});

test('progress: MB of total, speed over the last seconds, time left; waiting and retries say so', () => {
  let state = reduceProgress(initialProgress, { type: 'resolving', repo: 'a/b', revision: 'main' });
  assert.equal(describeProgress(state), 'Asking the Hub for the file list…');
  state = reduceProgress(state, { type: 'waiting', holder: { pid: 1, host: 'h', since: 0, what: 'the download of X (pid 1)' } });
  assert.equal(describeProgress(state), 'Waiting for the download of X (pid 1) to finish…');
  state = reduceProgress(state, { type: 'plan', plan: { repo: 'a/b', revision: 'main', commit: 'c'.repeat(40), variant: 'q4', available: ['q4'], files: [], totalBytes: 100e6, presentBytes: 20e6 } });
  assert.equal(describeProgress(state), '20.0 MB of 100.0 MB');
  state = reduceProgress(state, { type: 'progress', file: 'f', fileBytes: 0, fileTotal: 1, doneBytes: 20e6, totalBytes: 100e6, at: 1000 });
  state = reduceProgress(state, { type: 'progress', file: 'f', fileBytes: 0, fileTotal: 1, doneBytes: 30e6, totalBytes: 100e6, at: 2000 });
  assert.equal(describeProgress(state), '30.0 MB of 100.0 MB · 10.0 MB/s · 7 s left');
  state = reduceProgress(state, { type: 'retry', file: 'f', attempt: 1, delayMs: 1000, reason: 'huggingface.co answered 503: busy' });
  assert.match(describeProgress(state), /retrying: huggingface/);
  // Old samples leave the window: the speed follows the last five seconds.
  state = reduceProgress(state, { type: 'progress', file: 'f', fileBytes: 0, fileTotal: 1, doneBytes: 31e6, totalBytes: 100e6, at: 9000 });
  state = reduceProgress(state, { type: 'progress', file: 'f', fileBytes: 0, fileTotal: 1, doneBytes: 32e6, totalBytes: 100e6, at: 10000 });
  assert.equal(state.bytesPerSecond, 1e6);
});

describe('proxy and CLI against the local Hub', { timeout: 60_000 }, () => {
  let hub: FakeHub;
  let proxy: Server;
  let proxyUrl: string;
  const tunnels: string[] = [];
  before(async () => {
    hub = await startHub();
    // A CONNECT proxy, as corporate proxies are: it records which hosts the client tunnels to.
    proxy = createServer((_request, response) => response.writeHead(405).end());
    proxy.on('connect', (request, client: Socket, head) => {
      tunnels.push(request.url ?? '');
      const [host, port] = (request.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    await hub?.close();
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it('downloads through the configured proxy, and a proxy that refuses says so', async () => {
    const scratch = scratchCache(hub);
    try {
      await pullAll({ repo: TINY_REPO }, { settings: scratch.settings({ proxy: proxyUrl, noProxy: 'example.invalid' }), ...quick });
      const cdnPort = new URL(hub.cdnOrigin).port;
      assert.ok(tunnels.some((target) => target.endsWith(`:${new URL(hub.endpoint).port}`)) && tunnels.some((target) => target.endsWith(`:${cdnPort}`)), tunnels.join(', '));
      const closed = scratchCache(hub);
      try {
        await assert.rejects(pullAll({ repo: TINY_REPO }, { settings: closed.settings({ proxy: 'http://127.0.0.1:9', noProxy: 'example.invalid' }), ...quick }), /through the proxy http:\/\/127\.0\.0\.1:9\/ failed: the connection was refused/);
      } finally {
        closed.cleanup();
      }
    } finally {
      scratch.cleanup();
    }
  });

  it('tokenscope pull --json prints the folder and counts; tokenscope models --json lists it as downloaded', async () => {
    const scratch = scratchCache(hub);
    const saved = { ...process.env };
    try {
      process.env.HF_HUB_CACHE = scratch.cacheDir;
      delete process.env.HF_ENDPOINT;
      delete process.env.HF_TOKEN;
      delete process.env.HF_HUB_OFFLINE;
      const pulled = fakeIO();
      assert.equal(await pullCommand.run([TINY_REPO, '--endpoint', hub.endpoint, '--json'], pulled.io), 0);
      const json = JSON.parse(pulled.stdout()) as { folder: string; commit: string; variant: string; downloadedBytes: number; refetchedBytes: number };
      assert.ok(existsSync(join(json.folder, 'onnx', 'model_q4.onnx')));
      assert.equal(json.variant, 'q4');
      assert.equal(json.refetchedBytes, 0);
      assert.match(pulled.stderr(), /Tiny-Qwen2-ONNX: .* · done|Tiny-Qwen2-ONNX: /);
      const listed = fakeIO();
      assert.equal(await modelsCommand.run(['--json'], listed.io), 0);
      const models = JSON.parse(listed.stdout()) as { cacheDir: string; catalog: { id: string; downloaded: unknown }[]; cached: { repo: string; revisions: { variants: string[] }[] }[] };
      assert.equal(models.cacheDir, scratch.cacheDir);
      assert.equal(models.catalog.length, 6);
      assert.deepEqual(models.cached.map((repo) => repo.repo), [TINY_REPO]);
      assert.deepEqual(models.cached[0].revisions[0].variants, ['q4']);
      const table = fakeIO();
      await modelsCommand.run([], table.io);
      assert.match(table.stdout(), /qwen2\.5-coder-0\.5b-instruct +completion\+chat +q4 ~862\.0 MB +Apache-2\.0 +no/);
      assert.match(table.stdout(), new RegExp(`${TINY_REPO} +q4 +1111111 \\(main\\)`));
      const offline = fakeIO();
      process.env.HF_HUB_OFFLINE = '1';
      await assert.rejects(pullCommand.run(['onnx-community/Not-Here', '--endpoint', hub.endpoint], offline.io), /Offline mode is on/);
    } finally {
      for (const key of ['HF_HUB_CACHE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      scratch.cleanup();
    }
  });
});
