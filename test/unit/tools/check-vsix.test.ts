// The VSIX contents check (tools/check-vsix.mjs): its zip reader and every rule it enforces.
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { MAX_VSIX_BYTES, REQUIRED_FILES, readZipEntries, readZipEntry, vsixProblems } from '../../../tools/check-vsix.mjs';

/** A minimal zip writer (local headers, central directory, end record; CRCs left 0, the reader ignores them). */
function makeZip(files: { name: string; data: Buffer; deflate?: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name);
    const body = file.deflate ? deflateRawSync(file.data) : file.data;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(file.deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(file.deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const binaries = 'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/';
const goodNames = [...REQUIRED_FILES, `${binaries}libonnxruntime.so.1`, 'extension/models/tokenscope-mini/onnx/model.onnx', 'extension/models/tokenscope-mini/tokenizer.json', 'extension/dist/extension.js.map'];
const manifest = '<PackageManifest><Metadata><Identity Id="tokenscope" TargetPlatform="linux-x64"/></Metadata></PackageManifest>';
const entries = (names: string[]) => names.map((name) => ({ name }));

describe('check-vsix', () => {
  it('reads stored and deflated entries from a zip', () => {
    const text = 'const x = 1;\n'.repeat(100);
    const zip = makeZip([
      { name: 'extension/package.json', data: Buffer.from('{"name":"tokenscope"}') },
      { name: 'extension/dist/extension.js', data: Buffer.from(text), deflate: true },
    ]);
    const read = readZipEntries(zip);
    assert.deepEqual(read.map((entry) => [entry.name, entry.size]), [['extension/package.json', 21], ['extension/dist/extension.js', text.length]]);
    assert.equal(readZipEntry(zip, read[1]).toString(), text);
    assert.equal(readZipEntry(zip, read[0]).toString(), '{"name":"tokenscope"}');
  });

  it('rejects a file that is not a zip', () => {
    assert.throws(() => readZipEntries(Buffer.from('definitely not a zip archive, just text')), /not a zip/);
  });

  it('accepts a complete linux-x64 VSIX', () => {
    assert.deepEqual(vsixProblems(entries(goodNames), 20e6, manifest), []);
  });

  it('reports each missing bundle and binary', () => {
    const names = goodNames.filter((name) => !name.endsWith('modelProcess.js') && !name.includes('libonnxruntime'));
    const problems = vsixProblems(entries(names), 20e6, manifest);
    assert.ok(problems.includes('missing extension/dist/modelProcess.js'), problems.join('\n'));
    assert.ok(problems.some((problem) => problem.includes('libonnxruntime.so')), problems.join('\n'));
    assert.equal(problems.length, 2, problems.join('\n'));
  });

  it('reports another platform’s binaries', () => {
    const foreign = [
      'extension/node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib',
      'extension/node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll',
      'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node',
    ];
    const problems = vsixProblems(entries([...goodNames, ...foreign]), 20e6, manifest);
    for (const file of foreign) assert.ok(problems.some((problem) => problem.includes(file)), `${file} not reported:\n${problems.join('\n')}`);
  });

  it('reports development files, stray dependencies, a missing model, a wrong target and the size', () => {
    const names = [...goodNames.filter((name) => !name.startsWith('extension/models/')), 'extension/src/vscode/extension.ts', 'extension/node_modules/adm-zip/adm-zip.js'];
    const problems = vsixProblems(entries(names), MAX_VSIX_BYTES + 1, manifest.replace('linux-x64', 'darwin-arm64'));
    const expected = [/development file extension\/src\//, /unexpected dependency file .*adm-zip/, /built-in model's ONNX graph/, /built-in model's tokenizer\.json/, /TargetPlatform="linux-x64"/, /over the 60 MB limit/];
    for (const pattern of expected) assert.ok(problems.some((problem) => pattern.test(problem)), `${pattern} not reported:\n${problems.join('\n')}`);
    assert.equal(problems.length, expected.length, problems.join('\n'));
  });
});
