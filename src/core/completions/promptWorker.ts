/**
 * Entry of the prompt worker thread (bundled to dist/promptWorker.js): holds the model's tokenizer
 * and builds FIM prompts. Parsing a large tokenizer.json (Qwen's is 7 MB) takes the better part of
 * a second, and encoding a window a few milliseconds; here neither blocks the extension host.
 */
import { parentPort } from 'node:worker_threads';
import { loadTokenizerFromFolder } from '../tokenizers/huggingface';
import { templateFor } from './fimTemplates';
import { LocalPromptBuilder } from './promptBuilder';
import type { PromptWorkerReply, PromptWorkerRequest } from './promptWorkerProtocol';

const port = parentPort;
if (!port) throw new Error('promptWorker.js runs as a worker thread started by Tokenscope.');

let builder: Promise<LocalPromptBuilder> | undefined;
const reply = (message: PromptWorkerReply) => port.postMessage(message);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

port.on('message', (message: PromptWorkerRequest) => {
  if (message.type === 'load') {
    const started = performance.now();
    builder = loadTokenizerFromFolder(message.dir).then((tokenizer) => new LocalPromptBuilder(tokenizer, templateFor(message.family, message.supportsRepoContext)));
    builder.then(
      () => reply({ type: 'loaded', loadMs: performance.now() - started }),
      (error: unknown) => reply({ type: 'error', message: `The tokenizer of ${message.dir} cannot be loaded: ${messageOf(error)}` }),
    );
    return;
  }
  const ready = builder;
  if (!ready) {
    reply({ type: 'error', id: message.id, message: 'the prompt worker has no model loaded' });
    return;
  }
  ready.then(
    (loaded) => reply({ type: 'built', id: message.id, prompt: loaded.build(message.request) }),
    (error: unknown) => reply({ type: 'error', id: message.id, message: messageOf(error) }),
  ).catch((error: unknown) => reply({ type: 'error', id: message.id, message: messageOf(error) }));
});
