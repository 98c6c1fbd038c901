// Copies the README's images from the end-to-end tests' screenshots (test/e2e/artifacts/, written
// by `npm run test:e2e`) to docs/images/, so the README shows what the tests just saw. Each test
// waits for hovers and notifications to finish fading in before its screenshot (waitUntilShown).
// Look at every image afterwards: a screenshot can show the right elements and still be unreadable.
//
//   npm run test:e2e && node tools/readme-images.mjs
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** docs/images/<name>.png ← test/e2e/artifacts/<name>.png, and the e2e file that takes it. */
export const README_IMAGES = {
  'token-lens-hover': 'test/e2e/tokenLens.e2e.ts',
  'completion-ghost-text': 'test/e2e/completions.e2e.ts',
  'chat-thinking': 'test/e2e/chat.e2e.ts',
  'explain-annotations': 'test/e2e/chat.e2e.ts',
  'trace-document': 'test/e2e/chat.e2e.ts',
  'model-architecture': 'test/e2e/workbench.e2e.ts',
  'inside-attention-mean': 'test/e2e/inside.e2e.ts',
  'inside-attention-hover': 'test/e2e/inside.e2e.ts',
  'inside-logit-lens': 'test/e2e/inside.e2e.ts',
  'inside-similar-tokens': 'test/e2e/inside.e2e.ts',
  'next-token-panel': 'test/e2e/probabilities.e2e.ts',
  'next-token-panel-reshaped': 'test/e2e/probabilities.e2e.ts',
  'surprise-lens-hover': 'test/e2e/probabilities.e2e.ts',
  'confidence-colouring-hover': 'test/e2e/probabilities.e2e.ts',
  'sample-side-by-side': 'test/e2e/samples.e2e.ts',
  'chat-probabilities': 'test/e2e/chatProbabilities.e2e.ts',
  'prompt-tokens': 'test/e2e/chatProbabilities.e2e.ts',
  'cost-beside-code': 'test/e2e/cost.e2e.ts',
  'cost-usage-view': 'test/e2e/cost.e2e.ts',
};

const missing = [];
for (const [name, test] of Object.entries(README_IMAGES)) {
  const from = join(repoRoot, 'test', 'e2e', 'artifacts', `${name}.png`);
  if (!existsSync(from)) {
    missing.push(`${name}.png (run npm run test:e2e -- ${test})`);
    continue;
  }
  copyFileSync(from, join(repoRoot, 'docs', 'images', `${name}.png`));
  console.log(`docs/images/${name}.png ← ${from.slice(repoRoot.length + 1)} (${statSync(from).mtime.toISOString()})`);
}
if (missing.length > 0) {
  console.error(`Missing screenshots: ${missing.join(', ')}`);
  process.exit(1);
}
