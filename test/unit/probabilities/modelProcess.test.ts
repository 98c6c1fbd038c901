import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelProcessClient } from '../../../src/core/modelProcess/client';
import { requestNextToken, requestScore } from '../../../src/core/modelProcess/probabilityRequests';
import { SCORED_PART_TOKENS, scoredMessages } from '../../../src/core/modelProcess/protocol';
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
    // A long answer crosses the channel in parts (scoredMessages): joined, it is the same answer.
    const long = text.repeat(12);
    const longScored = await requestScore(client, { text: long, top: 3 });
    assert.ok(longScored.tokens.length > 2 * SCORED_PART_TOKENS, `${longScored.tokens.length} tokens: three messages or more`);
    assert.deepEqual(longScored, await inProcess.score({ text: long, top: 3 }));
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

test('a score\'s answer is cut into parts of SCORED_PART_TOKENS, the last one carrying the totals', () => {
  const span = (index: number) => ({ id: index, start: index, end: index + 1, logprob: -index, top: [] });
  for (const count of [0, 1, SCORED_PART_TOKENS, SCORED_PART_TOKENS + 1, 3 * SCORED_PART_TOKENS + 5]) {
    const tokens = Array.from({ length: count }, (_, index) => span(index));
    const messages = scoredMessages(7, { tokens, totalTokens: count + 1, reusedTokens: 2 });
    assert.equal(messages.length, Math.max(1, Math.ceil(count / SCORED_PART_TOKENS)), `${count} tokens`);
    const last = messages.at(-1)!;
    assert.ok(last.type === 'scored' && last.id === 7 && last.result.totalTokens === count + 1 && last.result.reusedTokens === 2);
    const joined = messages.flatMap((message) => (message.type === 'scored-part' ? message.tokens : message.type === 'scored' ? message.result.tokens : []));
    assert.deepEqual(joined, tokens, 'every token once, in order');
    assert.ok(messages.every((message) => message.type !== 'scored-part' || (message.id === 7 && message.tokens.length === SCORED_PART_TOKENS)));
  }
});
