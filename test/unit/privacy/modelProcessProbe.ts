// Started by noNetwork.test.ts (not a test itself): the extension's path to the model, as the
// extension host takes it. A ModelProcessClient forks the real model process entry, loads a model,
// generates, then stays up long enough for ONNX Runtime's telemetry to try to upload (it first
// tries about 9 s after a session is created). Prints one JSON line with what it generated.
import { join } from 'node:path';
import { ModelProcessClient } from '../../../src/core/modelProcess/client';

const repoRoot = join(__dirname, '..', '..', '..');
const holdMs = Number(process.env.PROBE_HOLD_MS ?? 12_000);

async function main(): Promise<void> {
  const client = new ModelProcessClient({ entry: join(repoRoot, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: repoRoot });
  try {
    await client.load({ model: join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen2'), threads: 1 });
    let tokens = 0;
    for await (const event of client.generate({ prompt: { kind: 'text', text: 'def hello():\n' }, maxTokens: 8, sampling: { temperature: 0 } })) {
      if (event.type === 'token') tokens++;
    }
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    process.stdout.write(`${JSON.stringify({ tokens, pid: client.pid })}\n`);
  } finally {
    await client.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
