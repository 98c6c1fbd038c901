// Errors that cross bundles: a lazily loaded bundle (src/vscode/lazyModule.ts) carries its own copy of
// the core classes it uses, and its errors are checked by the extension's copy (or the reverse). Here
// each module is bundled on its own, as esbuild.mjs does, loaded beside the one tsx loads, and an
// error made by one copy must be an instance of the other's class (src/core/errorBrand.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { HubError, isHubError } from '../../../src/core/hub/errors';
import { ModelProcessStoppedError } from '../../../src/core/modelProcess/client';
import { ModelError } from '../../../src/core/models/errors';
import { ServerError } from '../../../src/core/openai/client';

/** The module as another bundle has it: its own copy of every class. */
async function otherBundleCopy<T>(entry: string): Promise<T> {
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'onnxruntime-node'], write: false, logLevel: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'tokenscope-bundle-copy-'));
  try {
    const file = join(dir, 'copy.js');
    writeFileSync(file, result.outputFiles[0].text);
    return require(file) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a HubError from the download bundle is a HubError to the extension (a cancelled download offers Resume)', async () => {
  const copy = await otherBundleCopy<typeof import('../../../src/core/hub/errors')>('src/core/hub/errors.ts');
  assert.notEqual(copy.HubError, HubError, 'a separate copy of the class');
  const cancelled = new copy.HubError('cancelled', 'The download was cancelled.');
  assert.ok(cancelled instanceof HubError);
  assert.ok(isHubError(cancelled, 'cancelled'));
  assert.ok(!isHubError(cancelled, 'unauthorized'));
  assert.ok(new HubError('forbidden', 'x') instanceof copy.HubError, 'and the other way round');
  assert.ok(!(new Error('cancelled') instanceof HubError));
  assert.ok(!(Object.assign(new Error('x'), { name: 'HubError', code: 'cancelled' }) instanceof HubError), 'the name alone does not make one');
});

test('a ServerError from the servers bundle is a ServerError to the extension (a 401 asks for the API key)', async () => {
  const copy = await otherBundleCopy<typeof import('../../../src/core/openai/client')>('src/core/openai/client.ts');
  assert.notEqual(copy.ServerError, ServerError);
  const auth = new copy.ServerError('auth', 'needs a key', 401);
  assert.ok(auth instanceof ServerError);
  assert.equal(auth.kind, 'auth');
  assert.ok(!(new Error('auth') instanceof ServerError));
  assert.ok(!(new HubError('unauthorized', 'x') instanceof ServerError));
});

test('a ModelProcessStoppedError from the extension is one to the completions bundle (the status offers Restart Model Process)', async () => {
  const copy = await otherBundleCopy<typeof import('../../../src/core/modelProcess/client')>('src/core/modelProcess/client.ts');
  assert.notEqual(copy.ModelProcessStoppedError, ModelProcessStoppedError);
  const stopped = new copy.ModelProcessStoppedError('Restarting stopped after 5 crashes.');
  assert.ok(stopped instanceof ModelProcessStoppedError);
  assert.ok(new ModelProcessStoppedError('x') instanceof copy.ModelProcessStoppedError);
  // Within one copy the class keeps its place in the hierarchy; another ModelError is not a stop.
  assert.ok(new ModelProcessStoppedError('x') instanceof ModelError);
  assert.ok(!(new ModelError('process', 'crashed once') instanceof ModelProcessStoppedError));
});
