// What activation compiles: dist/extension.js is loaded and compiled at every activation, and that
// time grows with how busy the machine is. Tokenizers live in the tokenizer worker and the pages
// opened by a command load on first use (src/vscode/lazyModule.ts): none of them may creep back in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as esbuild from 'esbuild';

const notAtActivation = [
  'src/core/tokenizers/huggingface.ts',
  'src/core/tokenizers/bytePairTokenizer.ts',
  'src/core/tokenizers/onigurumaRegex.ts',
  'src/core/tokenizers/registry.ts',
  'src/core/tokenizers/documentTokens.ts',
  'src/core/models/comparison.ts',
  'src/vscode/completions/feature.ts',
  'src/core/completions/engine.ts',
  'src/core/completions/postProcess.ts',
  'src/core/completions/promptBuilder.ts',
  'src/core/completions/fimTemplates.ts',
  'src/vscode/modelInfo/modelInfoView.ts',
  'src/core/models/modelInfoHtml.ts',
  'src/vscode/tokenLens/comparePanel.ts',
  'src/core/tokenLens/comparePage.ts',
  'src/vscode/cost/usagePanel.ts',
  'src/core/cost/usagePage.ts',
  'src/core/completions/generation.ts',
  'src/vscode/servers/connections.ts',
  'src/core/openai/server.ts',
  'src/vscode/probabilities/feature.ts',
  'src/vscode/probabilities/nextTokenPanel.ts',
  'src/vscode/probabilities/surpriseLens.ts',
  'src/core/probabilities/lensView.ts',
  'src/vscode/probabilities/confidenceColouring.ts',
  'src/vscode/inside/insideFeature.ts',
  'src/core/inside/insidePage.ts',
  'src/core/inside/attentionView.ts',
  'src/vscode/samples/samplesPanel.ts',
  'src/core/samples/runSamples.ts',
  'src/core/samples/samplesPage.ts',
];

test('the activation bundle carries no tokenizer code and none of the lazily loaded features', async () => {
  const result = await esbuild.build({ entryPoints: ['src/vscode/extension.ts'], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'onnxruntime-node'], write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(notAtActivation.filter((file) => inputs.includes(file)), []);
  // The lazily loaded bundles are built, under the names lazyModule() asks for.
  const build = readFileSync('esbuild.mjs', 'utf8');
  assert.match(build, /completions: 'src\/vscode\/completions\/feature\.ts'/);
  assert.match(build, /modelInfo: 'src\/vscode\/modelInfo\/modelInfoView\.ts'/);
  assert.match(build, /comparePanel: 'src\/vscode\/tokenLens\/comparePanel\.ts'/);
  assert.match(build, /servers: 'src\/vscode\/servers\/connections\.ts'/);
  assert.match(build, /probabilities: 'src\/vscode\/probabilities\/feature\.ts'/);
  assert.match(readFileSync('src/vscode/probabilities/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/feature'\)>\(context\.extensionPath, 'probabilities'\)/);
  assert.match(build, /inside: 'src\/vscode\/inside\/insideFeature\.ts'/);
  assert.match(readFileSync('src/vscode/inside/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/insideFeature'\)>\(context\.extensionPath, 'inside'\)/);
  assert.match(build, /usagePanel: 'src\/vscode\/cost\/usagePanel\.ts'/);
  assert.match(readFileSync('src/vscode/cost/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/usagePanel'\)>\(context\.extensionPath, 'usagePanel'\)/);
  assert.match(build, /promptTokens: 'src\/vscode\/promptTokens\/promptTokensPanel\.ts'/);
  assert.match(readFileSync('src/vscode/promptTokens/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/promptTokensPanel'\)>\(context\.extensionPath, 'promptTokens'\)/);
  assert.match(build, /samples: 'src\/vscode\/samples\/samplesPanel\.ts'/);
  assert.match(readFileSync('src/vscode/samples/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/samplesPanel'\)>\(context\.extensionPath, 'samples'\)/);
  assert.match(readFileSync('src/vscode/servers/serverService.ts', 'utf8'), /lazyModule<typeof import\('\.\/connections'\)>\(context\.extensionPath, 'servers'\)/);
  assert.match(readFileSync('src/vscode/modelInfo/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/modelInfoView'\)>\(context\.extensionPath, 'modelInfo'\)/);
  assert.match(readFileSync('src/vscode/tokenLens/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/comparePanel'\)>\(context\.extensionPath, 'comparePanel'\)/);
  assert.match(readFileSync('src/vscode/completions/register.ts', 'utf8'), /lazyModule<typeof import\('\.\/feature'\)>\(context\.extensionPath, 'completions'\)/);
});
