import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReplayBackend, chunkLikeTokens } from '../../../src/core/chat/replayBackend';
import { loadTranscripts, parseTranscript, pickTranscript } from '../../../src/core/chat/transcripts';
import { runChatTurn } from '../../../src/core/chat/chatTurn';
import { annotateLines } from '../../../src/core/chat/annotations';
import { buildExplainPrompt } from '../../../src/core/chat/explainPrompt';
import { splitThinking } from '../../../src/core/chat/thinkParser';
import type { ChatBackend, ChatGenerateRequest } from '../../../src/core/chat/backend';

const fixtures = join(__dirname, '..', '..', 'fixtures', 'transcripts');
const transcripts = loadTranscripts(fixtures);
const sample = readFileSync(join(fixtures, 'sample', 'retry.ts'), 'utf8');
const explainMessage = buildExplainPrompt({ path: 'sample/retry.ts', languageId: 'typescript', startLine: 2, text: sample.split('\n').slice(1).join('\n') });

function request(content: string, thinking: ChatGenerateRequest['thinking'] = 'auto', maxTokens = 4096): ChatGenerateRequest {
  return { messages: [{ role: 'user', content }], thinking, temperature: 0.6, topP: 0.95, maxTokens };
}

test('fixtures: every transcript is valid, and the set covers R1 (closing tag only), Qwen3 (<think>) and no trace', () => {
  assert.ok(transcripts.length >= 3);
  const kinds = transcripts.map((t) => {
    const parts = splitThinking(t.output, { startsInThinking: t.promptOpensThinking || undefined });
    const opens = t.output.trimStart().startsWith('<think>');
    return parts.hasThinking ? (opens ? 'open-and-close' : 'close-only') : 'none';
  });
  assert.ok(kinds.includes('close-only') && kinds.includes('open-and-close') && kinds.includes('none'), kinds.join());
  for (const t of transcripts) assert.ok(splitThinking(t.output).answer.length > 100, `${t.id} has a real answer`);
});

test('transcript validation says which field is wrong', () => {
  assert.throws(() => parseTranscript({ id: 'x' }, 'f.json'), /f\.json: "model" must be a non-empty string/);
  assert.throws(() => parseTranscript({ id: 'x', model: 'm', source: 's', output: 'o', promptOpensThinking: true, match: { thinking: ['maybe'] } }, 'g.json'), /match\.thinking/);
  assert.throws(() => loadTranscripts(join(fixtures, 'no-such-folder')), /TOKENSCOPE_CHAT_REPLAY/);
});

test('pickTranscript: explain → R1 (or the no-trace one with thinking off); chat → the default', () => {
  assert.equal(pickTranscript(transcripts, explainMessage.content, 'auto').id, 'deepseek-r1-explain-retry');
  assert.equal(pickTranscript(transcripts, explainMessage.content, 'off').id, 'qwen2.5-coder-explain-retry');
  assert.equal(pickTranscript(transcripts, 'When should I use this?', 'on').id, 'qwen3-chat-retry');
});

test('chunkLikeTokens: irregular, deterministic, lossless, and splits tags across chunks', () => {
  const text = '<think>\nA b</think>\n\nDone: `x`.';
  const chunks = chunkLikeTokens(text, 3);
  assert.equal(chunks.map((c) => c.text).join(''), text);
  assert.deepEqual(chunkLikeTokens(text, 3), chunks);
  assert.ok(new Set(chunks.map((c) => c.tokens)).size > 1, 'chunk sizes vary');
  const seedsSplittingTheTag = [1, 2, 3, 4, 5, 6, 7, 8].filter((seed) => !chunkLikeTokens(text, seed).some((c) => c.text.includes('<think>')));
  assert.ok(seedsSplittingTheTag.length >= 4, `the opening tag arrives split in most replays (${seedsSplittingTheTag.length}/8)`);
});

test('replay through runChatTurn: R1 explain streams, reclassifies nothing (prompt opens the trace), cites lines', async () => {
  const backend = new ReplayBackend(transcripts, { delayMs: 0 });
  const deltas: string[] = [];
  const result = await runChatTurn(backend, request(explainMessage.content), new AbortController().signal, { onDelta: (d) => deltas.push(d.kind) });
  assert.equal(result.stopReason, 'stop');
  assert.ok(result.thinking?.complete);
  assert.ok((result.thinking?.tokens ?? 0) > 50);
  assert.ok(!deltas.includes('reclassify'));
  assert.ok(deltas.indexOf('answer') > deltas.lastIndexOf('thinking'), 'trace first, then answer');
  assert.match(result.answer, /^\*\*Summary:\*\*/);
  const transcript = transcripts.find((t) => t.id === 'deepseek-r1-explain-retry');
  assert.equal(result.stats.generatedTokens, await backend.countTokens(transcript?.output ?? ''));
  assert.ok((result.thinking?.tokens ?? 0) < result.stats.generatedTokens);
  assert.ok(result.stats.promptTokens > 100);
  const lines = annotateLines({ thinking: result.thinking?.text ?? '', answer: result.answer }, { start: 2, end: 14 }).map((a) => a.line);
  for (const line of [3, 5, 6, 7, 13]) assert.ok(lines.includes(line), `line ${line} annotated`);
});

test('replay: maxTokens stops with "length" inside the trace (unterminated), Stop aborts', async () => {
  const backend = new ReplayBackend(transcripts, { delayMs: 0 });
  const cut = await runChatTurn(backend, request('When should I use it?', 'auto', 20), new AbortController().signal);
  assert.equal(cut.stopReason, 'length');
  assert.equal(cut.stats.generatedTokens, 20);
  assert.equal(cut.thinking?.complete, false);
  assert.equal(cut.answer, '');

  const controller = new AbortController();
  const slow = new ReplayBackend(transcripts, { delayMs: 5 });
  let seen = 0;
  const stopped = await runChatTurn(slow, request('When should I use it?'), controller.signal, {
    onDelta: () => {
      if (++seen === 5) controller.abort();
    },
  });
  assert.equal(stopped.stopReason, 'aborted');
  assert.ok(stopped.stats.generatedTokens < 40, `stopped early (${stopped.stats.generatedTokens} tokens)`);
});

test('replay: with thinking off the explain answer has no trace and still cites lines', async () => {
  const backend = new ReplayBackend(transcripts, { delayMs: 0 });
  const result = await runChatTurn(backend, request(explainMessage.content, 'off'), new AbortController().signal);
  assert.equal(result.thinking, undefined);
  assert.ok(annotateLines({ thinking: '', answer: result.answer }, { start: 2, end: 14 }).length >= 5);
});

test('replay timings under a fake clock: time to first token, tokens/s, total and trace duration are exact', async () => {
  // The clock moves only with the stream: 40 ms to the start event, the first text at 100 ms, each
  // next text 10 ms later, the end 5 ms after the last text. What the turn reports follows from that.
  let clock = 0;
  const replay = new ReplayBackend(transcripts, { delayMs: 0 });
  const texts: string[] = [];
  let tokens = 0;
  const clocked: ChatBackend = {
    info: replay.info,
    countTokens: (text) => replay.countTokens(text),
    countPromptTokens: (messages, thinking) => replay.countPromptTokens(messages, thinking),
    async *generate(request, signal) {
      for await (const event of replay.generate(request, signal)) {
        if (event.type === 'start') clock = 40;
        else if (event.type === 'text') {
          clock = 100 + 10 * texts.length;
          texts.push(event.text);
          tokens += event.tokens;
        } else clock += 5;
        yield event;
      }
    },
  };
  const result = await runChatTurn(clocked, request('retry?'), new AbortController().signal, { now: () => clock });
  assert.ok(texts.length > 20, `${texts.length} text events`);
  const lastTextAt = 100 + 10 * (texts.length - 1);
  assert.equal(result.stats.generatedTokens, tokens);
  assert.equal(result.stats.timeToFirstTokenMs, 100);
  assert.equal(result.stats.totalMs, lastTextAt + 5);
  // (generated - 1) tokens over the time from the first text to the last.
  assert.equal(result.stats.tokensPerSecond, ((tokens - 1) * 1000) / (lastTextAt - 100));
  // The trace lasts from the text event that opens it to the one that completes `</think>`.
  const arrivedBy = (needle: string) => texts.findIndex((_, index) => texts.slice(0, index + 1).join('').includes(needle));
  const opened = arrivedBy('<think>');
  const closed = arrivedBy('</think>');
  assert.ok(opened >= 0 && closed > opened, `trace from event ${opened} to ${closed}`);
  assert.equal(result.thinking?.durationMs, 10 * (closed - opened));
});
