import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelProcessClient } from '../../../src/core/modelProcess/client';
import { requestNextToken, requestScore } from '../../../src/core/modelProcess/probabilityRequests';
import { ModelProbabilities } from '../../../src/core/probabilities/modelProbabilities';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { repoRoot } from '../runtime/helpers';

const entry = join(repoRoot, 'src', 'model-process', 'main.ts');
const text = 'function add(a, b) {\n  return a + b;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n';

test('the model process answers next-token and score requests as the in-process model does; a score can be cancelled', async () => {
  const client = new ModelProcessClient({ entry, execArgv: ['--import', 'tsx'], packageRoot: repoRoot, testHooks: true });
  const local = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
  try {
    await client.load({ model: 'mini', threads: 1 });
    const inProcess = new ModelProbabilities(local);
    const prompt = { kind: 'text', text: 'function add(a, b) {\n  return' } as const;
    const remote = await requestNextToken(client, { prompt, top: 10, reshaping: { temperature: 0.7, topP: 0.9 }, sampleSeed: 3 });
    const mine = await inProcess.next({ prompt, top: 10, reshaping: { temperature: 0.7, topP: 0.9 }, sampleSeed: 3 });
    assert.deepEqual(remote, mine);
    const scored = await requestScore(client, { text, top: 3 });
    assert.deepEqual(scored, await inProcess.score({ text, top: 3 }));
    const controller = new AbortController();
    const pending = requestScore(client, { text: text.repeat(20), top: 3 }, controller.signal);
    setTimeout(() => controller.abort(), 5);
    await assert.rejects(pending, { name: 'AbortError' });
    // The process is still fine and answers the next request.
    const again = await requestScore(client, { text, top: 3 });
    assert.equal(again.tokens.length, again.totalTokens - 1);
    assert.equal((await client.ping()).activeGenerations, 0);
  } finally {
    await local.dispose();
    await client.dispose();
  }
});
