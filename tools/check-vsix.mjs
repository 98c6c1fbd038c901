// Checks what a linux-x64 Tokenscope VSIX carries: the bundles, exactly one platform's ONNX Runtime
// binaries, nothing foreign, and a size a user will download without complaint.
//
//   node tools/check-vsix.mjs [file.vsix]      (default: the newest tokenscope-*.vsix in the repo root)
//
// Exits 1 listing every problem found. Reads the zip itself (no `unzip` needed).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';

export const MAX_VSIX_BYTES = 60 * 1000 * 1000;

/** Every file the extension cannot run without (paths inside the VSIX). */
export const REQUIRED_FILES = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/dist/modelProcess.js',
  'extension/dist/tokenizerWorker.js',
  'extension/dist/completions.js',
  'extension/dist/modelInfo.js',
  'extension/dist/comparePanel.js',
  'extension/dist/usagePanel.js',
  'extension/dist/servers.js',
  'extension/dist/inside.js',
  // The `tokenscope` CLI: package.json's `bin` (test/unit/cli/shippedBinary.test.ts runs it).
  'extension/dist/cli.js',
  'extension/dist/media/chat.js',
  'extension/dist/media/samples.js',
  'extension/node_modules/onnxruntime-node/package.json',
  'extension/node_modules/onnxruntime-node/dist/index.js',
  'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  'extension/node_modules/onnxruntime-common/package.json',
  'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
];

const BUILT_IN_MODEL = 'extension/models/tokenscope-mini/';
const LINUX_X64_BINARIES = 'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/';

/** Lists a zip's entries from its central directory: name, sizes, and where the data starts. */
export function readZipEntries(zip) {
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  let end = -1;
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset--) {
    if (zip.readUInt32LE(offset) === 0x06054b50) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip file (no end-of-central-directory record)');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || offset === 0xffffffff) throw new Error('ZIP64 archives are not supported (a VSIX this large is over the limit anyway)');
  const entries = [];
  for (let index = 0; index < count; index++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`corrupt central directory at byte ${offset}`);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({ name, size, compressedSize, method, localHeader });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of one entry (stored or deflated). */
export function readZipEntry(zip, entry) {
  const nameLength = zip.readUInt16LE(entry.localHeader + 26);
  const extraLength = zip.readUInt16LE(entry.localHeader + 28);
  const start = entry.localHeader + 30 + nameLength + extraLength;
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`${entry.name}: unsupported zip compression method ${entry.method}`);
}

/** Why a path is a binary for another platform, or undefined. */
function foreignPlatform(name) {
  const segments = name.toLowerCase().split('/');
  const foreign = segments.find((segment) => ['darwin', 'win32', 'arm64', 'armhf', 'arm', 'ia32', 'alpine', 'musl'].includes(segment));
  if (foreign) return `a ${foreign} folder`;
  if (/\.(dll|dylib|exe|pdb)$/i.test(name)) return 'a Windows or macOS binary';
  if (/\.node$/i.test(name) && !name.startsWith(LINUX_X64_BINARIES)) return 'a native addon outside the linux-x64 ONNX Runtime folder';
  return undefined;
}

/** Every problem with a VSIX's contents (empty when it is fine). */
export function vsixProblems(entries, totalBytes, manifest) {
  const problems = [];
  const names = new Set(entries.map((entry) => entry.name));
  for (const file of REQUIRED_FILES) if (!names.has(file)) problems.push(`missing ${file}`);
  if (!entries.some((entry) => entry.name.startsWith(LINUX_X64_BINARIES) && /\/libonnxruntime\.so(\.\d+)*$/.test(entry.name))) {
    problems.push(`missing ${LINUX_X64_BINARIES}libonnxruntime.so*`);
  }
  // The built-in model: without it the default setting (`tokenscope.model: mini`) cannot complete anything.
  for (const [what, pattern] of [['ONNX graph', /\.onnx$/], ['tokenizer.json', /\/tokenizer\.json$/]]) {
    if (!entries.some((entry) => entry.name.startsWith(BUILT_IN_MODEL) && pattern.test(entry.name))) problems.push(`missing the built-in model's ${what} under ${BUILT_IN_MODEL}`);
  }
  for (const entry of entries) {
    const reason = foreignPlatform(entry.name);
    if (reason) problems.push(`foreign-platform file ${entry.name} (${reason})`);
  }
  // Sources, tests and caches have no business in a user's install.
  for (const entry of entries) {
    if (/^extension\/(src|test|tools|bench|\.cache|\.ci|\.git)\//.test(entry.name)) problems.push(`development file ${entry.name}`);
    else if (/^extension\/node_modules\/(?!onnxruntime-(node|common)\/)/.test(entry.name)) problems.push(`unexpected dependency file ${entry.name} (the bundles include every other dependency)`);
  }
  if (manifest !== undefined && !/TargetPlatform="linux-x64"/.test(manifest)) problems.push('extension.vsixmanifest does not declare TargetPlatform="linux-x64" (package with --target linux-x64)');
  if (totalBytes > MAX_VSIX_BYTES) problems.push(`the VSIX is ${(totalBytes / 1e6).toFixed(1)} MB, over the ${MAX_VSIX_BYTES / 1e6} MB limit`);
  return problems;
}

/** Checks a VSIX file; returns its problems and a short summary. */
export function checkVsix(path) {
  const zip = readFileSync(path);
  const entries = readZipEntries(zip).filter((entry) => !entry.name.endsWith('/'));
  const manifestEntry = entries.find((entry) => entry.name === 'extension.vsixmanifest');
  const manifest = manifestEntry ? readZipEntry(zip, manifestEntry).toString('utf8') : undefined;
  const problems = vsixProblems(entries, zip.length, manifest);
  if (!manifestEntry) problems.push('missing extension.vsixmanifest');
  const byFolder = new Map();
  for (const entry of entries) {
    const folder = entry.name.split('/').slice(0, entry.name.startsWith('extension/node_modules/') ? 3 : 2).join('/');
    byFolder.set(folder, (byFolder.get(folder) ?? 0) + entry.size);
  }
  return { problems, bytes: zip.length, fileCount: entries.length, uncompressedBytes: entries.reduce((sum, entry) => sum + entry.size, 0), byFolder };
}

function newestVsix(folder) {
  const candidates = readdirSync(folder).filter((name) => /^tokenscope-.*\.vsix$/.test(name)).map((name) => join(folder, name));
  if (candidates.length === 0) return undefined;
  return candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const path = process.argv[2] ? resolve(process.argv[2]) : newestVsix(process.cwd());
  if (!path) {
    console.error('check-vsix: no tokenscope-*.vsix here; run npm run package first, or pass the file: node tools/check-vsix.mjs FILE.vsix');
    process.exit(2);
  }
  let result;
  try {
    result = checkVsix(path);
  } catch (error) {
    console.error(`check-vsix: cannot read ${path}: ${error.message}`);
    process.exit(1);
  }
  const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
  console.log(`${path}: ${mb(result.bytes)} (${mb(result.uncompressedBytes)} unpacked), ${result.fileCount} files`);
  for (const [folder, bytes] of [...result.byFolder].sort((a, b) => b[1] - a[1])) console.log(`  ${mb(bytes).padStart(10)}  ${folder}`);
  if (result.problems.length > 0) {
    console.error(`check-vsix: FAILED, ${result.problems.length} problem(s):`);
    for (const problem of result.problems.slice(0, 50)) console.error(`  - ${problem}`);
    if (result.problems.length > 50) console.error(`  ... and ${result.problems.length - 50} more`);
    process.exit(1);
  }
  console.log('check-vsix: OK (linux-x64 ONNX Runtime only, bundles and built-in model present, under the size limit)');
}
