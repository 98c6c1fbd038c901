import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { TextLines } from '../../../src/core/completions/document';
import { CompletionEngine } from '../../../src/core/completions/engine';
import { CompletionModelCache, completionModelFrom } from '../../../src/core/completions/model';
import { TokenizerWorkerClient } from '../../../src/core/tokenizerWorker/client';
import { RuntimeCompletionBackend } from '../../../src/core/completions/runtimeBackend';
import { LocalModel } from '../../../src/core/runtime/localModel';

// The committed random-weight test model (Qwen2 layout with Qwen2.5-Coder FIM tokens), run in-process.
test('the runtime adapter streams tokens, reuses the prompt prefix as the user types, and aborts', async () => {
  const local = await LocalModel.load({ model: resolve('test/fixtures/models/tiny-qwen2') }, { packageRoot: resolve('.') });
  try {
    const backend = new RuntimeCompletionBackend(local);
    const model = completionModelFrom({ id: 'tiny', label: 'tiny', modelType: local.info.modelType, contextLength: local.info.contextLength, eosTokenIds: local.info.eosTokenIds, tokenizer: local.tokenizer, backend });
    const records: { generatedTokens: number; reusedPromptTokens?: number; outcome: string }[] = [];
    const engine = new CompletionEngine({ getModel: () => model, settings: { maxTokens: 12, debounceMs: 0, maxLines: 1 }, onRecord: (record) => records.push(record) });
    const text = 'def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a';
    const document = new TextLines(text);
    await engine.complete({ document, position: document.positionAt(text.length), path: 'x.py', trigger: 'explicit' });
    assert.ok(records[0].generatedTokens >= 1);
    // The user types one more character: the new prompt shares everything up to the cursor.
    const typed = new TextLines(`${text} `);
    await engine.complete({ document: typed, position: typed.positionAt(text.length + 1), path: 'x.py', trigger: 'explicit' });
    assert.ok((records[1].reusedPromptTokens ?? 0) > 10, `prefix KV cache reused: ${records[1].reusedPromptTokens}`);

    // Aborting mid-generation rejects inside the runtime and leaves it usable.
    const controller = new AbortController();
    const stream = backend.generate({ promptIds: local.tokenizer.encode('def f():\n'), maxTokens: 40, stopTokenIds: [] }, controller.signal);
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const _chunk of stream) {
          received++;
          if (received === 2) controller.abort();
        }
      })(),
      (error: unknown) => error instanceof Error && error.name === 'AbortError',
    );
    assert.ok(received < 40, `stopped after ${received} tokens`);
    let again = 0;
    for await (const _chunk of backend.generate({ promptIds: local.tokenizer.encode('x = '), maxTokens: 3, stopTokenIds: [] }, new AbortController().signal)) again++;
    assert.equal(again, 3);
  } finally {
    await local.dispose();
  }
});

test('the model cache builds a CompletionModel from loaded-model info once per model', async () => {
  const generated: string[] = [];
  const source = { generate: () => ({ [Symbol.asyncIterator]: async function* () { generated.push('x'); } }) };
  let tokenizerLoads = 0;
  const { loadTokenizerFromFolder } = await import('../../../src/core/tokenizers/huggingface');
  const cache = new CompletionModelCache(source, {
    loadTokenizer: (dir) => {
      tokenizerLoads++;
      return loadTokenizerFromFolder(dir);
    },
  });
  const info = { id: resolve('test/fixtures/models/tiny-qwen2'), label: 'tiny', dir: resolve('test/fixtures/models/tiny-qwen2'), modelType: 'qwen2', contextLength: 128, eosTokenIds: [352] };
  const model = await cache.forInfo(info);
  assert.equal(model.template.family, 'qwen2.5-coder');
  assert.equal(await cache.forInfo(info), model);
  assert.equal(tokenizerLoads, 1);
  // The built-in model is recognised through the catalog, and gets its own template.
  const mini = await cache.forInfo({ ...info, id: 'mini' });
  assert.equal(mini.template.family, 'tokenscope-mini');
  // A folder whose tokenizer cannot be loaded fails with the reason, and is retried next time.
  await assert.rejects(cache.forInfo({ ...info, id: '/nowhere', dir: '/nowhere' }));
  await assert.rejects(cache.forInfo({ ...info, id: '/nowhere', dir: '/nowhere' }));
  assert.equal(tokenizerLoads, 4);
});

test('prompts built in the tokenizer worker thread equal the in-thread ones, and the host thread never loads the tokenizer', async () => {
  const dir = resolve('test/fixtures/models/tiny-qwen2');
  const { loadTokenizerFromFolder } = await import('../../../src/core/tokenizers/huggingface');
  const source = { generate: () => ({ [Symbol.asyncIterator]: async function* () {} }) };
  const info = { id: dir, label: 'tiny', dir, modelType: 'qwen2', contextLength: 128, eosTokenIds: [352], specialTokens: Object.fromEntries((await loadTokenizerFromFolder(dir)).specialTokens) };
  let hostLoads = 0;
  const tokenizerWorker = new TokenizerWorkerClient({ entry: resolve('src/tokenizer-worker/main.ts'), rootDir: resolve('.') });
  const worker = new CompletionModelCache(source, { worker: tokenizerWorker, loadTokenizer: async () => { hostLoads++; throw new Error('not here'); } });
  const local = new CompletionModelCache(source, { loadTokenizer: loadTokenizerFromFolder });
  const [inWorker, inThread] = await Promise.all([worker.forInfo(info), local.forInfo(info)]);
  try {
    assert.equal(hostLoads, 0);
    assert.equal(inWorker.template.family, inThread.template.family);
    const document = new TextLines('def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a');
    const { extractWindow, defaultPromptBudget } = await import('../../../src/core/completions/promptBuilder');
    const request = { window: extractWindow(document, { line: 4, character: 12 }, defaultPromptBudget, 'x.py'), budget: defaultPromptBudget, contextLength: 128, maxTokens: 16, eosTokenIds: [352] };
    const fromWorker = await inWorker.prompts.build(request);
    assert.deepEqual(fromWorker, await inThread.prompts.build(request));
    assert.ok(fromWorker.ids.length > 10);
    // A vocabulary without FIM tokens is refused before any worker starts.
    await assert.rejects(worker.forInfo({ ...info, id: 'other', specialTokens: { '<|im_start|>': 1 } }), /no fill-in-the-middle tokens/);
  } finally {
    worker.dispose();
    local.dispose();
    tokenizerWorker.dispose();
  }
});
