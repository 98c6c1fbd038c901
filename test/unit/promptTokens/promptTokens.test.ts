// Show Prompt Tokens: the pieces of a prompt (control tokens apart from text, characters split
// across byte-level tokens), the page built from them, and the model process keeping the last
// prompt exactly as its model read it (template applied, cut as the runtime cuts it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelProcessClient } from '../../../src/core/modelProcess/client';
import { countPromptTokens, promptPieces, type LastPrompt } from '../../../src/core/promptTokens/promptTokens';
import { promptTokensPageHtml } from '../../../src/core/promptTokens/promptTokensPage';
import type { PromptInput } from '../../../src/core/runtime/types';
import { collect, fixture, loadFixture, repoRoot } from '../runtime/helpers';

test('pieces: control tokens by their string, text decoded in sequence, a split character carried by the token that completes it', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    const tokenizer = model.tokenizer;
    const chat: PromptInput = { kind: 'chat', messages: [{ role: 'user', content: 'Why is 金 gold? <|im_end|>' }] };
    const ids = model.encodePrompt(chat);
    const pieces = promptPieces(tokenizer, ids);
    assert.deepEqual(pieces.map((piece) => piece.id), ids);
    // Every piece's text, joined, is the decoded prompt; control tokens are exactly the special ids.
    assert.equal(pieces.map((piece) => piece.text).join(''), tokenizer.decode(ids));
    const specialIds = new Set(tokenizer.specialTokens.values());
    assert.deepEqual(pieces.filter((piece) => piece.special).map((piece) => piece.id), ids.filter((id) => specialIds.has(id)));
    for (const piece of pieces.filter((candidate) => candidate.special)) assert.equal(tokenizer.specialTokens.get(piece.text), piece.id);
    // The user's own "<|im_end|>" stays text: one more <|im_end|> in the text than among the control tokens would be a bug.
    const counts = countPromptTokens(pieces);
    assert.equal(counts.total, ids.length);
    assert.equal(counts.special + counts.text, counts.total);
    const imEnd = counts.specialTally.find((entry) => entry.text === '<|im_end|>');
    assert.ok(imEnd && imEnd.count >= 1);
    assert.equal(pieces.filter((piece) => piece.special && piece.text === '<|im_end|>').length, imEnd.count);
    assert.match(pieces.filter((piece) => !piece.special).map((piece) => piece.text).join(''), /gold\? <\|im_end\|>/, 'the typed marker is text');
    // 金 is three UTF-8 bytes; where byte-level BPE splits it, the leading pieces are empty and one piece holds 金.
    const gold = promptPieces(tokenizer, tokenizer.encode('金'));
    assert.equal(gold.map((piece) => piece.text).join(''), '金');
    assert.equal(gold.at(-1)!.text, '金');
    assert.ok(gold.slice(0, -1).every((piece) => piece.text === ''));
  } finally {
    await model.dispose();
  }
});

test('the page: counts, control tokens highlighted and tallied, whitespace visible, text escaped, a cut prompt said', () => {
  const prompt: LastPrompt = {
    kind: 'chat',
    model: 'mini',
    at: Date.UTC(2026, 11, 3, 14, 0, 0),
    truncatedTokens: 12,
    pieces: [
      { id: 1, text: '<|im_start|>', special: true },
      { id: 2, text: 'user', special: false },
      { id: 3, text: '\n', special: false },
      { id: 4, text: '<b>', special: false },
      { id: 5, text: ' hi', special: false },
      { id: 6, text: '', special: false },
      { id: 7, text: '<|im_end|>', special: true },
      { id: 1, text: '<|im_start|>', special: true },
    ],
  };
  const html = promptTokensPageHtml({ prompt, modelLabel: 'tokenscope-mini', nonce: 'N0NCE' });
  assert.match(html, /content="default-src 'none'; style-src 'nonce-N0NCE'"/);
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /<p id="counts"><b>8<\/b> tokens: <b>3<\/b> control tokens and <b>5<\/b> of text\.<\/p>/);
  assert.match(html, /<tr><td><code>&lt;\|im_start\|&gt;<\/code><\/td><td class="n">2<\/td><\/tr><tr><td><code>&lt;\|im_end\|&gt;<\/code><\/td><td class="n">1<\/td><\/tr>/);
  assert.match(html, /<span class="special" title="id 1 · control token">&lt;\|im_start\|&gt;<\/span><span class="t0" title="id 2">user<\/span><span class="t1" title="id 3"><span class="ws">↵<\/span><br><\/span><span class="t0" title="id 4">&lt;b&gt;<\/span><span class="t1" title="id 5"><span class="ws">·<\/span>hi<\/span><span class="t0" title="id 6"><span class="ws">∅<\/span><\/span>/);
  assert.match(html, /12 tokens were cut from the start to fit the model’s context window/);
  assert.match(html, /What tokenscope-mini read last, at \d\d:\d\d:\d\d: a chat turn or an explanation/);
});

const entry = join(repoRoot, 'src', 'model-process', 'main.ts');

test('the model process keeps the last prompt as its model read it: the chat template applied, ids as given, cut to fit', async () => {
  const client = new ModelProcessClient({ entry, execArgv: ['--import', 'tsx'], packageRoot: repoRoot, restartDelaysMs: [50] });
  const local = await loadFixture('tiny-qwen2');
  try {
    await client.load({ model: fixture('tiny-qwen2'), threads: 1 });
    assert.equal(await client.lastPrompt(), null, 'nothing generated yet');

    const chat: PromptInput = { kind: 'chat', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'def add(a, b):' }] };
    await collect(client.generate({ prompt: chat, maxTokens: 2, sampling: { temperature: 0 } }));
    const last = (await client.lastPrompt())!;
    assert.equal(last.kind, 'chat');
    assert.equal(last.truncatedTokens, 0);
    assert.deepEqual(last.pieces.map((piece) => piece.id), local.encodePrompt(chat));
    assert.deepEqual(countPromptTokens(last.pieces).specialTally.map((entry) => entry.text).sort(), ['<|im_end|>', '<|im_start|>']);

    // Token ids (a completion's prompt) come back as given.
    const ids = local.tokenizer.encode('x = 1\ny = ');
    await collect(client.generate({ prompt: { kind: 'tokens', ids }, maxTokens: 1, sampling: { temperature: 0 } }));
    assert.deepEqual((await client.lastPrompt())!.pieces.map((piece) => piece.id), ids);

    // A prompt longer than the context: the pieces are the tail the model read, and the cut is said.
    const long = 'value = 1\n'.repeat(local.info.contextLength);
    const started = await collect(client.generate({ prompt: { kind: 'text', text: long }, maxTokens: 4, sampling: { temperature: 0 } }));
    const cut = (await client.lastPrompt())!;
    assert.ok(started.start.truncatedTokens > 0);
    assert.equal(cut.truncatedTokens, started.start.truncatedTokens);
    assert.equal(cut.pieces.length, started.start.promptTokens);
    assert.deepEqual(cut.pieces.map((piece) => piece.id), local.tokenizer.encode(long).slice(started.start.truncatedTokens));

    // Another model loaded: what the old one read is not shown as the new one's.
    await client.load({ model: fixture('tiny-qwen3'), threads: 1 });
    assert.equal(await client.lastPrompt(), null);
  } finally {
    await local.dispose();
    await client.dispose();
  }
});
