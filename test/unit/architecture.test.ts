import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

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

for (const layer of ['src/core', 'src/cli', 'src/model-process', 'src/server', 'src/tokenizer-worker']) {
  test(`${layer} never imports vscode`, () => {
    const offenders = sourceFiles(layer).filter((file) => importsVscode.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders.map((file) => relative('.', file)), []);
  });
}

test('the import check itself catches every import form', () => {
  for (const line of [`import * as vscode from 'vscode';`, `import type { Uri } from "vscode";`, `const v = require('vscode');`, `await import('vscode')`]) {
    assert.match(line, importsVscode);
  }
  assert.doesNotMatch(`import { x } from './vscodeLike';`, importsVscode);
});
