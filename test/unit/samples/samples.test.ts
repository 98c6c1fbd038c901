// Sample side by side: the plan syntax, the runner (against a scripted generator and against the
// built-in model itself) and the page built from its runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalModel } from '../../../src/core/runtime/localModel';
import type { GenerateRequest, GenerationEvent } from '../../../src/core/runtime/types';
import { formatSamplePlan, parseSamplePlan, SamplePlanError, samplePresets, maxSampleRuns } from '../../../src/core/samples/samplePlan';
import { compareSampleRuns, runSamples, runText, totalLogprob, type SampleGenerator, type SampleRun } from '../../../src/core/samples/runSamples';
import { samplesLiveHtml, samplesPageHtml } from '../../../src/core/samples/samplesPage';
import { isSamplesReady, isSamplesUpdate } from '../../../src/core/webview/samplesProtocol';
import { probabilityBand } from '../../../src/core/webview/probabilityScale';
import { collect, repoRoot } from '../runtime/helpers';

test('a plan: temperature, top-p and seed per run; missing seeds are the unused ones from 1 up', () => {
  assert.deepEqual(parseSamplePlan('0, 0.8@2, .5/0.9, 1.2/0.95@7, 1'), [
    { temperature: 0, topP: 1, seed: 1 },
    { temperature: 0.8, topP: 1, seed: 2 },
    { temperature: 0.5, topP: 0.9, seed: 3 },
    { temperature: 1.2, topP: 0.95, seed: 7 },
    { temperature: 1, topP: 1, seed: 4 },
  ]);
  assert.equal(formatSamplePlan(parseSamplePlan('0, 0.8@2, 1/0.9@3')), '0, 0.8@2, 1/0.9@3');
  for (const preset of samplePresets) assert.equal(formatSamplePlan(parseSamplePlan(preset.plan)), preset.plan, preset.label);
});

test('a plan that is wrong says which entry and how to write it', () => {
  const fails = (text: string, pattern: RegExp) =>
    assert.throws(
      () => parseSamplePlan(text),
      (error: unknown) => error instanceof SamplePlanError && pattern.test(error.message),
      text,
    );
  fails('', /No runs given\. Write temperature\[\/top-p\]\[@seed\]/);
  fails('0.8, hot', /"hot" is not a run/);
  fails('-1', /"-1" is not a run/);
  fails('1/0', /top-p must be in \(0, 1\], got 0/);
  fails('1/1.5', /top-p must be in \(0, 1\], got 1\.5/);
  fails('11', /past 10/);
  fails(Array.from({ length: maxSampleRuns + 1 }, () => '1').join(','), /9 runs asked for; at most 8/);
});

/** A generator that plays back scripted tokens per seed and records the requests it got. */
function scripted(answers: Readonly<Record<number, readonly [string, number][]>>, requests: GenerateRequest[], failSeed?: number): SampleGenerator {
  return async function* (request, signal): AsyncIterable<GenerationEvent> {
    requests.push(request);
    const seed = request.sampling?.seed ?? 0;
    if (seed === failSeed) throw new Error('The model process stopped (exit code 134).');
    yield { type: 'start', promptTokens: 5, reusedTokens: 0, truncatedTokens: 0, maxTokens: request.maxTokens ?? 0, seed };
    const answer = answers[seed] ?? [];
    for (const [index, [text, probability]] of answer.entries()) {
      if (signal.aborted) throw Object.assign(new Error('Generation was cancelled.'), { name: 'AbortError' });
      yield { type: 'token', index, id: index, text, logprob: Math.log(probability), top: [] };
    }
    yield { type: 'end', finishReason: 'eos', text: answer.map(([text]) => text).join(''), timings: { prefillMs: 1, decodeMs: 1, promptTokens: 5, prefilledTokens: 5, generatedTokens: answer.length, tokensPerSecond: 1 } };
  };
}

async function lastSnapshot(runs: AsyncIterable<readonly SampleRun[]>): Promise<{ last: readonly SampleRun[]; snapshots: number }> {
  let last: readonly SampleRun[] = [];
  let snapshots = 0;
  for await (const snapshot of runs) {
    last = snapshot;
    snapshots++;
  }
  return { last, snapshots };
}

test('runs go one after another with their own sampling, and the likeliest and identical answers are found', async () => {
  const requests: GenerateRequest[] = [];
  const generate = scripted({ 1: [['a', 0.9], ['b', 0.8]], 2: [['a', 0.5], ['c', 0.1]], 3: [['a', 0.9], ['b', 0.8]], 4: [['x', 0.85], ['y', 0.85], ['z', 0.85]] }, requests);
  const prompt = { kind: 'text', text: 'def f(' } as const;
  const { last, snapshots } = await lastSnapshot(runSamples({ generate, prompt, plan: parseSamplePlan('0@1, 0.8@2, 0.8@3, 1.5@4'), maxTokens: 16, signal: new AbortController().signal }));
  assert.deepEqual(
    requests.map((request) => request.sampling),
    [
      { temperature: 0, topP: 1, seed: 1 },
      { temperature: 0.8, topP: 1, seed: 2 },
      { temperature: 0.8, topP: 1, seed: 3 },
      { temperature: 1.5, topP: 1, seed: 4 },
    ],
  );
  assert.ok(requests.every((request) => request.prompt === prompt && request.maxTokens === 16 && request.reuseCache === true && request.topLogprobs === 3));
  // A snapshot per start, per token and per end: 4 runs × 2 + 9 tokens, and the last one.
  assert.equal(snapshots, 4 * 2 + 9 + 1);
  assert.deepEqual(last.map((run) => [run.status, runText(run), run.finishReason]), [
    ['done', 'ab', 'eos'],
    ['done', 'ac', 'eos'],
    ['done', 'ab', 'eos'],
    ['done', 'xyz', 'eos'],
  ]);
  assert.ok(Math.abs(totalLogprob(last[1]!) - Math.log(0.05)) < 1e-12);
  const comparison = compareSampleRuns(last);
  // Run 1 (0.9 × 0.8 = 0.72) is likelier as a whole than run 4 (0.85³ = 0.61), which is likelier per token.
  assert.deepEqual(comparison, { likeliest: 0, likeliestPerToken: 3, sameAs: [undefined, undefined, 0, undefined] });
});


test('a failing run says why and the next one still runs; cancelling keeps what was generated', async () => {
  const requests: GenerateRequest[] = [];
  const failing = scripted({ 1: [['a', 0.5]], 3: [['b', 0.5]] }, requests, 2);
  const { last } = await lastSnapshot(runSamples({ generate: failing, prompt: { kind: 'text', text: 'x' }, plan: parseSamplePlan('1@1, 1@2, 1@3'), maxTokens: 4, signal: new AbortController().signal }));
  assert.deepEqual(last.map((run) => [run.status, runText(run), run.error]), [
    ['done', 'a', undefined],
    ['failed', '', 'The model process stopped (exit code 134).'],
    ['done', 'b', undefined],
  ]);

  const controller = new AbortController();
  const long = scripted({ 1: [['a', 0.5], ['b', 0.5], ['c', 0.5], ['d', 0.5]] }, []);
  const snapshots: (readonly SampleRun[])[] = [];
  for await (const snapshot of runSamples({ generate: long, prompt: { kind: 'text', text: 'x' }, plan: parseSamplePlan('1@1, 1@2, 1@3'), maxTokens: 4, signal: controller.signal })) {
    snapshots.push(snapshot);
    if (snapshot[0]!.tokens.length === 2) controller.abort();
  }
  const final = snapshots.at(-1)!;
  assert.deepEqual(final.map((run) => [run.status, runText(run)]), [
    ['cancelled', 'ab'],
    ['cancelled', ''],
    ['cancelled', ''],
  ]);
});

test('the page: one column per run with its settings and figures, the likeliest marked, the text escaped and tinted', () => {
  const token = (text: string, probability: number) => ({ id: 1, text, logprob: Math.log(probability), top: [{ id: 2, text: '\n', logprob: Math.log(0.3) }] });
  const runs: SampleRun[] = [
    { settings: { temperature: 0, topP: 1, seed: 1 }, status: 'done', tokens: [token('<b>', 0.95), token(' x', 0.4)], finishReason: 'eos' },
    { settings: { temperature: 1.2, topP: 0.9, seed: 7 }, status: 'done', tokens: [token('<b>', 0.95), token(' y', 0.01)], finishReason: 'length' },
    { settings: { temperature: 0.8, topP: 1, seed: 2 }, status: 'failed', tokens: [], error: 'It <broke>.' },
  ];
  const html = samplesPageHtml({ modelLabel: 'tokenscope-mini', promptText: 'def f(<x>):', promptKind: 'continuation', maxTokens: 32, runs, nonce: 'N0NCE' });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-N0NCE'">/);
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /<pre class="prompt">def f\(&lt;x&gt;\):<\/pre>/);
  assert.match(html, /runs 0, 1\.2\/0\.9@7, 0\.8@2/);
  assert.match(html, /<h3>Run 1 · greedy \(T 0\)<\/h3>/);
  assert.match(html, /<h3>Run 2 · T 1\.2 · top-p 0\.9 · seed 7<\/h3>/);
  assert.match(html, /class="run likeliest" data-run="1" data-status="done" data-tokens="2"/);
  assert.match(html, new RegExp(`2 tokens · total log p ${(Math.log(0.95) + Math.log(0.4)).toFixed(2)} · mean`));
  assert.match(html, /<span class="p0" title="p 95\.0% · log p -0\.05 · instead: &quot;\\n&quot; 30\.0%">&lt;b&gt;<\/span><span class="p2" title="p 40\.0%/);
  assert.match(html, /<span class="p4" title="p 1\.0%/);
  assert.match(html, /<span class="p4">&lt; 10%<\/span>/, 'the legend is escaped');
  assert.match(html, /failed: It &lt;broke&gt;\./);
  // The editor's confidence steps (10%, 30%, 60%, 90%), read sure-first.
  assert.deepEqual([0.95, 0.9, 0.6, 0.5, 0.3, 0.2, 0.1, 0.099, 0].map(probabilityBand), [0, 0, 1, 2, 2, 3, 3, 4, 4]);
});

test('with the built-in model: greedy twice is one answer, a seed gives the same answer again, and each run equals a direct generation', async () => {
  const model = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
  try {
    const prompt = { kind: 'text', text: 'def fibonacci(n):\n    if n < 2:\n        return n\n    return ' } as const;
    const plan = parseSamplePlan('0, 0, 1.5@3, 1.5@3, 1.5@4');
    const { last } = await lastSnapshot(runSamples({ generate: (request, signal) => model.generate(request, signal), prompt, plan, maxTokens: 12, signal: new AbortController().signal }));
    assert.ok(last.every((run) => run.status === 'done'), JSON.stringify(last.map((run) => run.status)));
    assert.equal(runText(last[1]!), runText(last[0]!));
    assert.equal(runText(last[3]!), runText(last[2]!));
    assert.deepEqual(compareSampleRuns(last).sameAs.slice(0, 4), [undefined, 0, undefined, 2]);
    // Each run is what the model gives for that request alone, from a cold cache.
    for (const [index, settings] of plan.entries()) {
      const direct = await collect(model.generate({ prompt, maxTokens: 12, sampling: { temperature: settings.temperature, topP: settings.topP, seed: settings.seed }, reuseCache: false }));
      assert.deepEqual(last[index]!.tokens.map((token) => token.id), direct.tokens.map((token) => token.id), `run ${index + 1}`);
      const logprobs = last[index]!.tokens.map((token) => token.logprob);
      direct.tokens.forEach((token, position) => assert.ok(Math.abs(token.logprob - logprobs[position]!) < 1e-4, `run ${index + 1} token ${position}`));
    }
    // Another seed at the same temperature draws another answer (where the model is unsure), and greedy is not it.
    assert.notEqual(runText(last[4]!), runText(last[2]!));
    assert.notEqual(runText(last[2]!), runText(last[0]!));
  } finally {
    await model.dispose();
  }
});

test('the live page: one load with its script under the CSP, then only the columns are swapped in', () => {
  const runs: SampleRun[] = [{ settings: { temperature: 0, topP: 1, seed: 1 }, status: 'running', tokens: [{ id: 1, text: '<i>', logprob: -0.1, top: [] }] }];
  const html = samplesPageHtml({ modelLabel: 'm', promptText: 'p', promptKind: 'chat', maxTokens: 8, runs, nonce: 'N0NCE' }, { src: 'https://file+.vscode-resource/dist/media/samples.js', cspSource: 'https://file+.vscode-resource' });
  assert.match(html, /content="default-src 'none'; style-src 'nonce-N0NCE'; script-src 'nonce-N0NCE' https:\/\/file\+\.vscode-resource"/);
  assert.match(html, /<script nonce="N0NCE" src="https:\/\/file\+\.vscode-resource\/dist\/media\/samples\.js"><\/script>/);
  assert.ok(html.includes(`<div id="live">${samplesLiveHtml(runs)}</div>`));
  assert.match(samplesLiveHtml(runs), /generating… 1 tokens<\/span>[\s\S]*&lt;i&gt;/);
  assert.equal(isSamplesUpdate({ type: 'update', html: '<p>' }), true);
  assert.equal(isSamplesUpdate({ type: 'update', html: 3 }), false);
  assert.equal(isSamplesReady({ type: 'ready' }), true);
  assert.equal(isSamplesReady(null), false);
});
