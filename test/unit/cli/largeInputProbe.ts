// Run by largeInput.test.ts (not a test itself): the real CLI entry with `size` MB of source text
// on standard input (repeated from this repository's own files), under the heap limit the test sets.
// Reads the JSON output as a stream and checks it without holding it: the tokens tile the input,
// their number equals "count". Prints one JSON line: what it checked and the peak memory.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..', '..');
const [tokenizer, sizeText, heapText] = process.argv.slice(2);
const size = Number(sizeText) * 1024 * 1024;

const sample = ['src/core/runtime/localModel.ts', 'src/core/chat/historyStore.ts', 'README.md', 'test/fixtures/workspace/notes.zh.md'].map((file) => readFileSync(join(repoRoot, file), 'utf8')).join('\n');
const parts: string[] = [];
let length = 0;
while (length < size) {
  parts.push(sample);
  length += sample.length;
}
const input = parts.join('').slice(0, size);

const child = spawn(process.execPath, [`--max-old-space-size=${heapText}`, '--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'tokenize', '--tokenizer', tokenizer, '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
let carry = '';
let head = '';
let tokens = 0;
let expectedStart = 0;
let tiled = true;
let outputBytes = 0;
let tail = '';
const token = /\{"id":(\d+),"start":(\d+),"end":(\d+)\}/g;
child.stdout.on('data', (chunk: Buffer) => {
  outputBytes += chunk.length;
  const text = carry + chunk.toString('latin1');
  if (head.length < 200) head += text.slice(0, 200 - head.length);
  token.lastIndex = 0;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(text))) {
    tokens++;
    if (Number(match[2]) !== expectedStart) tiled = false;
    expectedStart = Number(match[3]);
    consumed = token.lastIndex;
  }
  carry = text.slice(consumed);
  if (carry.length > 100) {
    tail = carry.slice(-100);
    carry = carry.slice(-100);
  }
  tail = (tail + text.slice(-200)).slice(-200);
});
child.stdin.on('error', () => undefined);
child.stdin.end(input);
const started = Date.now();
child.on('close', (code) => {
  const count = Number(/"count":(\d+)/.exec(head)?.[1] ?? -1);
  process.stdout.write(`${JSON.stringify({ code, stderr: stderr.slice(-2000), inputChars: input.length, tokens, count, tiled, coversInput: expectedStart === input.length, endsWell: /\]\}\s*$/.test(tail), outputMB: Math.round(outputBytes / 1e6), seconds: (Date.now() - started) / 1000 })}\n`);
});
