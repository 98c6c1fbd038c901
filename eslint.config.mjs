// ESLint (`npm run lint`, part of `npm test`): which code may import what, and typescript-eslint's
// recommended checks. Syntax only, no type information, so it stays fast; the typecheck is tsc's.
//
// The layers (see the README's Development tree):
//   src/core         editor-independent; never vscode, never upward (cli, model process, server, glue, webview)
//   src/vscode       the glue: the only code that imports vscode's runtime or src/vscode
//   src/cli, src/server, src/model-process, src/tokenizer-worker   entry points over the core, no glue
//   media            the webview: runs in a browser, so no Node built-ins and nothing from the Node-only layers
// onnxruntime-node is loaded by the in-process runtime alone (ONNX_RUNTIME below), and that only by the
// model process entry and the CLI: the extension host must never load it (it blocks its thread for a
// whole forward pass, and a native crash would take the editor down with it).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

/** The in-process ONNX runtime: the only files that import onnxruntime-node. */
const ONNX_RUNTIME = ['src/core/runtime/localModel.ts', 'src/core/runtime/modelLoader.ts', 'src/core/runtime/forwardPass.ts', 'src/core/runtime/kvCache.ts', 'src/core/runtime/onnxSession.ts', 'src/core/runtime/inspector.ts'];
/** Where the in-process runtime may be imported from (besides itself, tests and benchmarks). */
const RUNS_ONNX = ['src/model-process/**', 'src/cli/**'];

const vscodeImport = { name: 'vscode', message: 'Only the glue (src/vscode) imports vscode: give the core an interface and implement it there.' };
const onnxImport = { name: 'onnxruntime-node', message: 'Only the in-process runtime (src/core/runtime/localModel.ts, modelLoader.ts, forwardPass.ts, kvCache.ts, onnxSession.ts, inspector.ts) imports onnxruntime-node; the extension host reaches the model through ModelProcessClient.' };
const onnxRuntimeFiles = { regex: '(^|/)(localModel|modelLoader|forwardPass|kvCache|onnxSession|inspector)$', message: 'The in-process ONNX runtime is loaded by the model process (src/model-process) and the CLI only: elsewhere use ModelProcessClient.' };
const nodeBuiltins = {
  group: [...builtinModules, ...builtinModules.map((name) => `${name}/*`), 'node:*'],
  message: 'media/ runs in the webview (a browser): no Node built-ins. Compute it in the extension and send it over the chat protocol.',
};

/** The same two modules loaded with require() or import(), which no-restricted-imports does not see. */
const loadedAtRunTime = (name, message) => [
  { selector: `CallExpression[callee.name='require'][arguments.0.value='${name}']`, message },
  { selector: `ImportExpression[source.value='${name}']`, message },
  { selector: `TSImportType[argument.literal.value='${name}']`, message },
];

/** The import rules of one layer (flat config replaces a rule's options per file, so each layer lists all of its own). */
const restrict = (paths, patterns = []) => ({
  'no-restricted-imports': ['error', { paths, patterns }],
  'no-restricted-syntax': ['error', ...paths.flatMap((path) => loadedAtRunTime(path.name, path.message))],
});

export default tseslint.config(
  // TypeScript only: the build and tool scripts (*.mjs) are plain Node scripts outside the layers.
  { ignores: ['**/*.js', '**/*.mjs', '**/*.cjs', 'dist/**', 'out/**', 'node_modules/**', '.cache/**', 'models/**', 'test/e2e/artifacts/**', 'tools/mini-model/work/**', 'bench/results/**'] },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.node'] })] },
    rules: {
      // `_name` says "unused on purpose" (a generator drained for its side effects, a skipped tuple item).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // The run-time require()s are deliberate: bundles and data files loaded on first use, by computed
      // paths esbuild leaves alone (src/vscode/lazyModule.ts), typed with `typeof import(...)`.
      '@typescript-eslint/no-require-imports': 'off',
      // Matching control characters is the point where it happens (junk in model output, byte-level tokenizers).
      'no-control-regex': 'off',
      // A variable a closure reads before its one assignment (the chat controller and the backend it builds) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Folder-level layering, on resolved paths (so `../../vscode/config` and `../vscode` alike).
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ['./src/core', './src/cli', './src/model-process', './src/server', './src/tokenizer-worker', './media'],
              from: './src/vscode',
              message: 'The glue (src/vscode) is imported by nothing outside it: move what is shared into src/core.',
            },
            {
              target: './src/core',
              from: ['./src/cli', './src/model-process', './src/server', './src/tokenizer-worker', './media'],
              message: 'src/core imports nothing above it (CLI, model process, server, tokenizer worker, webview).',
            },
            {
              target: './media',
              from: ['./src/cli', './src/model-process', './src/server', './src/tokenizer-worker', './src/core/runtime', './src/core/modelProcess', './src/core/hub', './src/core/tokenizerWorker'],
              message: 'media/ runs in the webview: it imports only browser-safe code (the chat protocol in src/core/webview, pure src/core modules).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Fakes that fail before their first chunk are generators without a yield.
      'require-yield': 'off',
      // Expected output spelled as it is (four spaces of indentation in rendered code).
      'no-regex-spaces': 'off',
    },
  },
  // Import rules per layer (module names, which the path zones above do not see).
  { files: ['src/core/**/*.ts'], rules: restrict([vscodeImport, onnxImport], [onnxRuntimeFiles]) },
  { files: ONNX_RUNTIME, rules: restrict([vscodeImport]) },
  { files: ['src/server/**/*.ts', 'src/tokenizer-worker/**/*.ts'], rules: restrict([vscodeImport, onnxImport], [onnxRuntimeFiles]) },
  { files: RUNS_ONNX, rules: restrict([vscodeImport, onnxImport]) },
  { files: ['src/vscode/**/*.ts'], rules: restrict([onnxImport], [onnxRuntimeFiles]) },
  { files: ['media/**/*.ts'], rules: restrict([vscodeImport, onnxImport], [onnxRuntimeFiles, nodeBuiltins]) },
);
