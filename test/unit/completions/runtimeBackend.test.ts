import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { TextLines } from '../../../src/core/completions/document';
import { CompletionEngine } from '../../../src/core/completions/engine';
import { completionModelFrom } from '../../../src/core/completions/model';
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
