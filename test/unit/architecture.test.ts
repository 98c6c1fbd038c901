import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts|js)$/.test(name) ? [path] : [];
  });
}

// The core must stay editor-independent: it is unit-tested in plain Node and reused by the CLI and
// the model process. A `vscode` import there would only fail at run time outside the editor.
const importsVscode = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/;

/** The folders under src/ that run outside the editor; src/vscode is the editor layer. */
const editorFreeLayers = ['src/core', 'src/cli', 'src/model-process', 'src/server', 'src/tokenizer-worker'];

test('every folder under src/ is a known layer (a moved or new folder must be placed here)', () => {
  const folders = readdirSync('src').filter((name) => statSync(join('src', name)).isDirectory()).map((name) => `src/${name}`).sort();
  assert.deepEqual(folders, [...editorFreeLayers, 'src/vscode'].sort());
});

for (const layer of editorFreeLayers) {
  test(`${layer} never imports vscode`, () => {
    const files = sourceFiles(layer);
    assert.ok(files.length > 0, `${layer} has no source files: was it moved? Update the layer list`);
    const offenders = files.filter((file) => importsVscode.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders.map((file) => relative('.', file)), []);
  });
}

/** Relative import specifiers of a source file (static, dynamic and require). */
function relativeImports(source: string): string[] {
  return [...source.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => match[1]);
}

test('src/core imports only from src/core (no upward imports into the editor, CLI or process layers)', () => {
  const core = resolve('src/core');
  const files = sourceFiles('src/core');
  assert.ok(files.length > 50, `${files.length} files in src/core`);
  const upward = files.flatMap((file) => relativeImports(readFileSync(file, 'utf8')).filter((spec) => !resolve(dirname(file), spec).startsWith(`${core}/`)).map((spec) => `${relative('.', file)}: ${spec}`));
  assert.deepEqual(upward, []);
});

test('the import check itself catches every import form', () => {
  for (const line of [`import * as vscode from 'vscode';`, `import type { Uri } from "vscode";`, `const v = require('vscode');`, `await import('vscode')`]) {
    assert.match(line, importsVscode);
  }
  assert.doesNotMatch(`import { x } from './vscodeLike';`, importsVscode);
  assert.deepEqual(relativeImports(`import { a } from '../vscode/config';\nconst b = await import('./b');\nrequire("../../c")`), ['../vscode/config', './b', '../../c']);
});
