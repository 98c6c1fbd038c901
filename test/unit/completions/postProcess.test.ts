import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completionShape, cutAtStop, cutRepetition, fitToIndentation, indentStep, indentWidth, openBrackets, postProcess, shapeCompletion, type CursorContext } from '../../../src/core/completions/postProcess';

const qwenStops = ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>'];

/** Context from a document with `|` marking the cursor. */
function at(documentWithCursor: string): CursorContext {
  const cursor = documentWithCursor.indexOf('|');
  const prefix = documentWithCursor.slice(0, cursor);
  const suffix = documentWithCursor.slice(cursor + 1);
  const prefixLines = prefix.split('\n');
  const suffixLines = suffix.split('\n');
  return { prefix, linePrefix: prefixLines[prefixLines.length - 1], lineSuffix: suffixLines[0], nextLines: suffixLines.slice(1), stopStrings: qwenStops };
}

test('stops at the first stop token', () => {
  assert.deepEqual(cutAtStop('return a + b<|endoftext|>garbage', qwenStops), { text: 'return a + b', stopped: true });
  assert.equal(postProcess('a + b<|file_sep|>src/other.py\nimport os', at('def add(a, b):\n    return |')), 'a + b');
});

test('control characters and undecodable bytes end a suggestion', () => {
  // Real output of the random-weight test model in the e2e run.
  assert.equal(postProcess('valo/tuadtu returnct\b\u0002\u000b iThe\ufffdad', at('    return |')), 'valo/tuadtu returnct');
  assert.equal(postProcess('x = 1\ty', at('|')), 'x = 1\ty');
});

test('single line unless the cursor starts a block or sits on an empty line', () => {
  assert.equal(completionShape('    return ', ''), 'single-line');
  assert.equal(completionShape('def add(a, b):', ''), 'multi-line');
  assert.equal(completionShape('function f() {', ''), 'multi-line');
  assert.equal(completionShape('foo(', ''), 'multi-line');
  assert.equal(completionShape('items = [', ''), 'multi-line');
  assert.equal(completionShape('const f = () =>', ''), 'multi-line');
  assert.equal(completionShape('    ', ''), 'multi-line');
  assert.equal(completionShape('', ''), 'multi-line');
  // Text to the right of the cursor that is not just closing punctuation keeps it single-line.
  assert.equal(completionShape('foo(', 'bar, baz)'), 'single-line');
  assert.equal(completionShape('function f() {', '}'), 'multi-line');
  // A realistic Qwen output continuing an expression past the line: only the first line is kept.
  assert.equal(postProcess('a + b\n\n\ndef sub(a, b):\n    return a - b', at('def add(a, b):\n    return |')), 'a + b');
});

test('multi-line suggestions end where the block ends by indentation', () => {
  const python = at('def fib(n):|\n\nprint(fib(10))');
  const raw = '\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n\ndef main():\n    pass';
  assert.equal(postProcess(raw, python), '\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)');
  // TypeScript block with its closing brace at the opener's indentation.
  const ts = at('  function sum(xs: number[]) {|\n\n  export const x = 1;');
  assert.equal(postProcess('\n    let total = 0;\n    for (const x of xs) total += x;\n    return total;\n  }\n\n  function other() {', ts), '\n    let total = 0;\n    for (const x of xs) total += x;\n    return total;\n  }');
  // On an empty line inside a body: lines at least as deep as the cursor, until a dedent.
  const body = at('class A:\n    def f(self):\n        x = 1\n        |\n\nA().f()');
  assert.equal(postProcess('y = x + 1\n        return y\n\nclass B:\n    pass', body), 'y = x + 1\n        return y');
});

test('the shaping reports completion so the engine can stop generating early', () => {
  const single = at('x = |');
  assert.deepEqual(shapeCompletion('compute(', single), { text: 'compute(', complete: false });
  assert.deepEqual(shapeCompletion('compute()\nmore', single), { text: 'compute()', complete: true });
  const block = at('def f():|');
  assert.equal(shapeCompletion('\n    return 1\n', block).complete, false);
  assert.equal(shapeCompletion('\n    return 1\ndef g', block).complete, true);
  assert.equal(shapeCompletion('\n    a\n    b\n    c\n', { ...block, maxLines: 3 }).complete, true);
});

test('trims a suggestion that repeats the text after the cursor', () => {
  // The whole rest of the line regenerated.
  assert.equal(postProcess('"hello, world")', at('print(|")')), '"hello, world');
  assert.equal(postProcess('items.length; i++) {', at('for (let i = 0; i < |; i++) {')), 'items.length');
  // A closing bracket the document already has.
  assert.equal(postProcess('a, b)', at('result = add(|)')), 'a, b');
  // The suggestion's own brackets stay: `add(a())` needs both.
  assert.equal(postProcess('a()', at('result = add(|)')), 'a()');
  assert.equal(postProcess('compute();', at('const x = |;')), 'compute()');
  assert.equal(postProcess('hello"', at('const s = "|"')), 'hello');
  // Trailing lines that repeat the document's next lines.
  assert.equal(postProcess('\n    return 1\n}', at('function one() {|\n}')), '\n    return 1');
});

test('keeps brackets balanced: never closes what is not open', () => {
  assert.deepEqual(openBrackets('const x = foo(bar[1], { a: "(" '), ['(', '{']);
  assert.deepEqual(openBrackets('s = ")" # (\nf('), ['(']);
  // The model closes a call that the cursor is not in: cut before the stray bracket.
  assert.equal(postProcess('value) + 1', at('const x = |')), 'value');
  assert.equal(postProcess('bar]', at('foo(|')), 'bar');
  // Closing what the line opened is fine.
  assert.equal(postProcess('a, b)', at('x = add(|')), 'a, b)');
  // Brackets inside strings do not count.
  assert.equal(postProcess('"a)b")', at('print(|')), '"a)b")');
});

test('model loops are cut where they start; indentation is not a loop', () => {
  // Real output of an early tokenscope-mini checkpoint after `return ` (e2e run): spaces, then zeros.
  assert.equal(postProcess('    0000000000000000000000000000000000000000000000', at('def fib_sum(n: int) -> int:\n    return |')), undefined);
  assert.equal(cutRepetition('total = total + 1)))))))))))'), 'total = total + 1');
  assert.equal(cutRepetition('x.foo.foo.foo.foo.foo.foo.foo.foo'), 'x');
  assert.equal(cutRepetition('\n                if x:\n                    pass'), '\n                if x:\n                    pass');
  assert.equal(cutRepetition('"ab" * 3'), '"ab" * 3');
  // Line-scale loops (real output of the built-in model on a blank line): the first copy stays.
  assert.equal(cutRepetition('    if c == 1:\n        return 1\n    if c == 1:\n        return 1\n    if c == 1:\n        return 1\n    if c == 1:'), '    if c == 1:\n        return 1');
  assert.equal(cutRepetition('x = 1\nx = 1\nx = 1\ny = 2'), 'x = 1');
  // Read from its outermost line, so no header is left dangling (also when the stream stopped mid-loop).
  assert.equal(cutRepetition('    if not c:\n        return 1\n    if c == 1:\n        return 1\n    if c == 1:\n        return 1\n    if c == 1:'), '    if not c:\n        return 1\n    if c == 1:\n        return 1');
  assert.equal(cutRepetition('    if not c:\n        return 1\n    if c == 1:\n        return 1\n    if c == 1:\n        return 1\n    if c == 1:\n        return 1'), '    if not c:\n        return 1\n    if c == 1:\n        return 1');
  // Twice is not a loop; blank lines and different lines are not either.
  assert.equal(cutRepetition('a()\na()\nb()'), 'a()\na()\nb()');
  assert.equal(cutRepetition('a()\n\n\n\nb()'), 'a()\n\n\n\nb()');
});

test('after a typed space, the suggestion does not add its own leading spaces', () => {
  assert.equal(postProcess('  a + b', at('    return |')), 'a + b');
  // Indentation on an empty line stays.
  assert.equal(postProcess('    pass', at('def f():\n|')), '    pass');
});

test('never whitespace-only', () => {
  assert.equal(postProcess('   ', at('x = |')), undefined);
  assert.equal(postProcess('\n\n    \n', at('def f():|')), undefined);
  assert.equal(postProcess('<|endoftext|>', at('x = |')), undefined);
  assert.equal(postProcess('\nfoo()', at('x = |')), undefined);
});

test('after Enter, the suggestion starts at the column the editor indented to, not one further', () => {
  // `if n < 2:` + Enter: the editor put eight spaces; the built-in model answered ` n = 1` (its
  // tokenizer attaches the last space of an indentation to the word after it).
  const python = at('def fib(n):\n    """Fib."""\n    if n < 2:\n        |');
  assert.equal(postProcess(' return n\n    return fib(n - 1)', python), 'return n');
  // A block under that first line moves with it, so it keeps its shape.
  const klass = at('class A:\n    x = 1\n\n\nclass Stack:\n    |');
  assert.equal(postProcess(' def push(self, item):\n         self.items.append(item)', klass), 'def push(self, item):\n        self.items.append(item)');
  // Whole extra steps are the model's choice and stay; a remainder beyond them goes.
  assert.equal(fitToIndentation('    pass', { linePrefix: '    ', prefix: 'if x:\n    if y:\n    ' }), '    pass');
  assert.equal(fitToIndentation('     pass', { linePrefix: '    ', prefix: 'if x:\n    if y:\n    ' }), '    pass');
  // Two-space TypeScript: one extra space is off the step.
  const ts = at('class A {\n  f() {\n    if (x) {\n      |\n    }\n  }\n}');
  assert.equal(postProcess(' return 1;', ts), 'return 1;');
  // Tabs: the editor's tab stays, the model's stray space goes.
  assert.equal(postProcess(' return 1', at('func f() {\n\tif x {\n\t\t|')), 'return 1');
  assert.equal(fitToIndentation('\t return 1', { linePrefix: '\t', prefix: 'f() {\n\t|' }), '\treturn 1');
  // Nothing to fit where the editor inserted nothing (column 0) or the cursor follows code.
  assert.equal(postProcess('    return 1', at('def f():\n|')), '    return 1');
  assert.equal(postProcess(' + 1', at('x = a|')), ' + 1');
});

test('the indentation step is read from the lines before the cursor', () => {
  assert.equal(indentStep('def f():\n    if x:\n        pass\n    '), 4);
  assert.equal(indentStep('class A {\n  f() {\n    return 1;\n  }\n}\n'), 2);
  // Doc comments indent their ` * ` lines by one column: not the file's step.
  assert.equal(indentStep('class A {\n  /**\n   * Doc.\n   */\n  f() {\n    /**\n     * More.\n     */\n    return 1;\n  }\n'), 2);
  assert.equal(indentStep('\tif x {\n\t\ty()\n'), indentWidth('\t'));
  assert.equal(indentStep('x = 1\ny = 2\n'), 4);
});
