import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { nextCommand } from '../../../src/cli/nextCommand';
import { reshapeDistribution } from '../../../src/core/probabilities/distribution';
import { remoteDistribution, remoteReshapingProblem } from '../../../src/core/probabilities/remoteDistribution';
import { fakeIO } from '../cli/fakeIO';
import { startScriptedServer } from '../openai/scriptedServer';
import { repoRoot } from '../runtime/helpers';

const sent = [
  { text: ' a', logprob: Math.log(0.5) },
  { text: ' c', logprob: Math.log(0.1) },
  { text: ' b', logprob: Math.log(0.2) },
];

test('a server\'s alternatives: shown exactly where they determine the answer, refused with the reason where not', () => {
  const own = remoteDistribution(sent, { temperature: 1, topP: 1, topK: 0 });
  assert.deepEqual(
    own.tokens.map((token) => token.text),
    [' a', ' b', ' c'],
  );
  assert.ok(Math.abs(own.otherProbability - 0.2) < 1e-12, 'what the server did not send keeps its mass');
  const topK = remoteDistribution(sent, { temperature: 1, topP: 1, topK: 2 });
  assert.deepEqual(
    topK.tokens.map((token) => [Math.round(token.probability * 1e6) / 1e6, token.excluded]),
    [
      [0.714286, false],
      [0.285714, false],
      [0, true],
    ],
  );
  assert.equal(topK.otherProbability, 0);
  // The nucleus 0.6 is reached by " a" + " b" (0.7) within what was sent.
  const nucleus = remoteDistribution(sent, { temperature: 1, topP: 0.6, topK: 0 });
  assert.deepEqual(
    nucleus.tokens.map((token) => token.excluded),
    [false, false, true],
  );
  assert.ok(Math.abs(nucleus.tokens[0].probability - 0.5 / 0.7) < 1e-12);
  const greedy = remoteDistribution(sent, { temperature: 0, topP: 1, topK: 0 });
  assert.deepEqual(
    greedy.tokens.map((token) => token.probability),
    [1, 0, 0],
  );
  assert.match(remoteReshapingProblem({ temperature: 0.7, topP: 1, topK: 0 }, sent) ?? '', /only temperature 1/);
  assert.match(remoteReshapingProblem({ temperature: 1, topP: 1, topK: 5 }, sent) ?? '', /top-k 5 needs/);
  assert.match(remoteReshapingProblem({ temperature: 1, topP: 0.95, topK: 0 }, sent) ?? '', /nucleus reaches past/);
  assert.throws(() => remoteDistribution(sent, { temperature: 2, topP: 1, topK: 0 }), RangeError);
  // Where the server sent the whole vocabulary, the answer is the local one.
  const logits = Float32Array.of(2, 1, 0.5, -1);
  const local = reshapeDistribution(logits, { temperature: 1, topP: 0.8, topK: 3 }, 4);
  const all = remoteDistribution(
    local.tokens.map((token) => ({ text: String(token.id), logprob: token.logprob })),
    { temperature: 1, topP: 0.8, topK: 3 },
  );
  all.tokens.forEach((token, i) => assert.ok(Math.abs(token.probability - local.tokens[i].probability) < 1e-6));
});

test('next --server on tokenscope serve: the same alternatives and probabilities as the local model; a server without logprobs says so', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', '--model', 'mini', '--port', '0', '--threads', '1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = stdout.match(/listening on (http:\/\/\S+)/);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code})`)));
    });
    const prompt = 'function add(a, b) {\n  return';
    const run = async (args: string[]) => {
      const { io, stdout } = fakeIO();
      assert.equal(await nextCommand.run(['--prompt', prompt, '--top', '8', '--json', ...args], io), 0);
      return JSON.parse(stdout()) as { tokens: { id: number | null; text: string; logprob: number; probability: number; excluded: boolean }[]; other: number };
    };
    const remote = await run(['--server', url]);
    const local = await run(['--model', 'mini', '--threads', '1']);
    assert.equal(remote.tokens.length, 8);
    assert.deepEqual(
      remote.tokens.map((token) => token.text),
      local.tokens.map((token) => token.text),
    );
    remote.tokens.forEach((token, i) => {
      assert.equal(token.id, null);
      assert.ok(Math.abs(token.logprob - local.tokens[i].logprob) < 1e-3, `${token.text}: ${token.logprob} vs ${local.tokens[i].logprob}`);
      assert.ok(Math.abs(token.probability - local.tokens[i].probability) < 1e-3);
    });
    assert.ok(Math.abs(remote.other - local.other) < 1e-3, 'the mass not sent is the mass not shown locally');
    const cut = await run(['--server', url, '--top-k', '3']);
    assert.deepEqual(
      cut.tokens.map((token) => token.excluded),
      cut.tokens.map((_, i) => i >= 3),
    );
    const { io } = fakeIO();
    await assert.rejects(nextCommand.run(['--prompt', prompt, '--server', url, '--temperature', '0.5'], io), /only temperature 1/);
  } finally {
    child.kill('SIGINT');
  }
  const plain = await startScriptedServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(req.url?.endsWith('/models') ? { object: 'list', data: [{ id: 'plain', object: 'model' }] } : { choices: [{ index: 0, text: 'x', logprobs: null, finish_reason: 'length' }] }));
  });
  try {
    const { io } = fakeIO();
    await assert.rejects(nextCommand.run(['--prompt', 'x', '--server', plain.baseUrl], io), /returned no logprobs/);
  } finally {
    await plain.close();
  }
});
