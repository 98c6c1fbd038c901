// Packages that only the benchmarks need and that are too big for every `npm ci`: installed on first
// use into .cache/bench-deps/ (git-ignored) from the npm registry, pinned, scripts off. node-llama-cpp
// 3.21.1 with only this platform's CPU build is ~70 MB; as a devDependency npm installed all of its
// Linux builds (CUDA, Vulkan, Arm: ~720 MB) into every clone. Newer node-llama-cpp releases may break
// `npm ci` (their other-platform builds are not all published), hence the exact pin.
//
//   node tools/bench-deps.mjs          install when missing, print where
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const benchDepsDir = join(repoRoot, '.cache', 'bench-deps');

export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/** The prebuilt CPU package of node-llama-cpp for this machine (its optional dependency of that name). */
export function nodeLlamaCppPlatformPackage(platform = process.platform, arch = process.arch) {
  const os = platform === 'darwin' ? 'mac' : platform === 'win32' ? 'win' : platform;
  return `@node-llama-cpp/${os}-${arch}${platform === 'darwin' && arch === 'arm64' ? '-metal' : ''}`;
}

function installedVersion(name) {
  const manifest = join(benchDepsDir, 'node_modules', ...name.split('/'), 'package.json');
  if (!existsSync(manifest)) return undefined;
  try {
    return JSON.parse(readFileSync(manifest, 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * Installs node-llama-cpp (and this platform's CPU build only) into .cache/bench-deps when missing,
 * and returns the file URL of its entry module for `import()`. Throws with the npm output when the
 * install fails (no registry, an unsupported platform).
 */
export function ensureNodeLlamaCpp() {
  const platformPackage = nodeLlamaCppPlatformPackage();
  const wanted = [`node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, `${platformPackage}@${NODE_LLAMA_CPP_VERSION}`];
  if (installedVersion('node-llama-cpp') !== NODE_LLAMA_CPP_VERSION || installedVersion(platformPackage) !== NODE_LLAMA_CPP_VERSION) {
    mkdirSync(benchDepsDir, { recursive: true });
    writeFileSync(join(benchDepsDir, 'package.json'), `${JSON.stringify({ name: 'tokenscope-bench-deps', private: true, description: 'Installed by tools/bench-deps.mjs; safe to delete.' }, null, 2)}\n`);
    console.error(`bench: installing ${wanted.join(' ')} into ${benchDepsDir} (once)`);
    // --omit=optional drops node-llama-cpp's GPU and other-platform builds; the CPU one is named
    // explicitly. --ignore-scripts: its postinstall would look for (or build) a binary; the prebuilt
    // one is loaded with build: 'never' instead.
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(npm, ['install', '--prefix', benchDepsDir, '--no-audit', '--no-fund', '--omit=optional', '--ignore-scripts', '--no-package-lock', ...wanted], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`Installing ${wanted.join(' ')} for the llama.cpp benchmark failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return pathToFileURL(join(benchDepsDir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js')).href;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(ensureNodeLlamaCpp());
}
