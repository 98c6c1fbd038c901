/**
 * The standard Hugging Face cache (huggingface.co/docs/hub/local-cache), shared with huggingface_hub,
 * transformers, vLLM, llama.cpp and @huggingface/hub:
 *
 *   <cache>/models--{org}--{name}/blobs/{etag}             file contents, named by SHA-256 (LFS) or git SHA-1
 *          models--{org}--{name}/blobs/{etag}.incomplete  a download in progress (Tokenscope resumes it)
 *          models--{org}--{name}/snapshots/{commit}/{path}  relative symlinks to the blobs
 *          models--{org}--{name}/refs/{revision}          the commit a branch or tag pointed to
 *   <cache>/.locks/models--{org}--{name}/                  lock files of concurrent downloads
 *
 * Reading is synchronous and never touches the network: the model loader resolves `org/name` here
 * in the model process. A snapshot link is only ever created for a blob that is complete and
 * verified, so the loader never sees half a file.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { mkdir, readdir, rename, rm, symlink, unlink, writeFile, lstat, readlink, copyFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { listVariants, type ConcreteVariant } from '../models/modelFolder';
import { COMMIT_HASH } from './settings';

/** `models--org--name`, as huggingface_hub's repo_folder_name and @huggingface/hub's getRepoFolderName (a test compares them). */
export function repoFolderName(repo: string): string {
  return ['models', ...repo.split('/')].join('--');
}

export function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, repoFolderName(repo));
}

export function blobPath(cacheDir: string, repo: string, etag: string): string {
  return join(repoFolder(cacheDir, repo), 'blobs', etag);
}

export function incompletePath(cacheDir: string, repo: string, etag: string): string {
  return `${blobPath(cacheDir, repo, etag)}.incomplete`;
}

export function snapshotDir(cacheDir: string, repo: string, commit: string): string {
  return join(repoFolder(cacheDir, repo), 'snapshots', commit);
}

export function locksDir(cacheDir: string, repo: string): string {
  return join(cacheDir, '.locks', repoFolderName(repo));
}

/** The commit `refs/{revision}` records, if any. */
export function readRef(cacheDir: string, repo: string, revision: string): string | undefined {
  try {
    const commit = readFileSync(join(repoFolder(cacheDir, repo), 'refs', revision), 'utf8').trim();
    return COMMIT_HASH.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `refs/{revision}` atomically (temp file + rename), as huggingface_hub does. */
export async function writeRef(cacheDir: string, repo: string, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const path = join(repoFolder(cacheDir, repo), 'refs', revision);
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, commit);
  await rename(temp, path);
}

/**
 * Points `snapshots/{commit}/{path}` at its blob with a relative symlink (so a moved cache keeps
 * working), replacing whatever was there. Where symlinks are not allowed, copies the blob, as
 * huggingface_hub does.
 */
export async function linkSnapshotFile(cacheDir: string, repo: string, commit: string, path: string, etag: string): Promise<void> {
  const target = blobPath(cacheDir, repo, etag);
  const pointer = join(snapshotDir(cacheDir, repo, commit), ...path.split('/'));
  await mkdir(dirname(pointer), { recursive: true });
  const wanted = relative(dirname(pointer), target);
  try {
    const existing = await lstat(pointer);
    if (existing.isSymbolicLink() && (await readlink(pointer)) === wanted) return;
    await unlink(pointer);
  } catch {
    // nothing there yet
  }
  try {
    await symlink(wanted, pointer);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP' && code !== 'EINVAL') throw error;
    await copyFile(target, pointer);
  }
}

/** The files a snapshot links to a blob that exists (or holds as a plain file), by repo path. */
export function snapshotFiles(dir: string): Map<string, { readonly path: string; readonly bytes: number; readonly blob: string }> {
  const files = new Map<string, { path: string; bytes: number; blob: string }>();
  const walk = (folder: string, prefix: string) => {
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(folder, name);
      let stats: Stats;
      try {
        stats = statSync(path); // follows the link: a dangling one throws and is skipped
      } catch {
        continue;
      }
      if (stats.isDirectory()) walk(path, `${prefix}${name}/`);
      else if (stats.isFile()) files.set(`${prefix}${name}`, { path, bytes: stats.size, blob: realpathOrSelf(path) });
    }
  };
  walk(dir, '');
  return files;
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Can the runtime load this snapshot folder: config.json, tokenizer.json and at least one ONNX
 * variant (the requested one, when given). Tokenscope links a variant's external data before its
 * .onnx file, so a snapshot it is still filling never passes; a file another tool left half-done
 * fails later, in the loader, with the file named.
 */
export function isUsableSnapshot(dir: string, variant?: ConcreteVariant): boolean {
  if (!existsSync(join(dir, 'config.json')) || !existsSync(join(dir, 'tokenizer.json'))) return false;
  const variants = listVariants(dir);
  return variant ? variants.has(variant) : variants.size > 0;
}

/** Snapshot commits of a cached repo, newest first (by the folder's modification time). */
export function listSnapshots(cacheDir: string, repo: string): string[] {
  const folder = join(repoFolder(cacheDir, repo), 'snapshots');
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, mtime: safeMtime(join(folder, name)) }))
    .filter((entry) => entry.mtime !== undefined)
    .sort((a, b) => (b.mtime ?? 0) - (a.mtime ?? 0))
    .map((entry) => entry.name);
}

function safeMtime(path: string): number | undefined {
  try {
    const stats = statSync(path);
    return stats.isDirectory() ? stats.mtimeMs : undefined;
  } catch {
    return undefined;
  }
}

export interface CachedSnapshot {
  readonly repo: string;
  readonly commit: string;
  readonly dir: string;
  /** How it was found: the revision asked for, refs/main, or the newest usable snapshot. */
  readonly via: 'revision' | 'main' | 'newest';
}

/**
 * The snapshot to load for `repo`: the requested revision's (a commit, or a branch/tag through its
 * ref), else main's, else the newest usable one; only snapshots the runtime can load count. No
 * network, no writes: a model fetched by huggingface-cli, transformers or llama.cpp is found as is.
 */
export function findCachedSnapshot(cacheDir: string, repo: string, options: { readonly revision?: string; readonly variant?: ConcreteVariant } = {}): CachedSnapshot | undefined {
  if (!existsSync(repoFolder(cacheDir, repo))) return undefined;
  const usable = (commit: string | undefined) => commit !== undefined && isUsableSnapshot(snapshotDir(cacheDir, repo, commit), options.variant);
  const revision = options.revision;
  if (revision) {
    const commit = COMMIT_HASH.test(revision) ? revision : readRef(cacheDir, repo, revision);
    if (usable(commit)) return { repo, commit: commit!, dir: snapshotDir(cacheDir, repo, commit!), via: 'revision' };
  }
  const main = readRef(cacheDir, repo, 'main');
  if (usable(main)) return { repo, commit: main!, dir: snapshotDir(cacheDir, repo, main!), via: revision === undefined || revision === 'main' ? 'revision' : 'main' };
  const newest = listSnapshots(cacheDir, repo).find((commit) => usable(commit));
  return newest ? { repo, commit: newest, dir: snapshotDir(cacheDir, repo, newest), via: 'newest' } : undefined;
}

export interface CachedRevision {
  readonly commit: string;
  readonly dir: string;
  readonly refs: readonly string[];
  readonly files: number;
  /** Bytes of the blobs this snapshot links to. */
  readonly bytes: number;
  readonly variants: readonly ConcreteVariant[];
  readonly usable: boolean;
}

export interface CachedRepo {
  readonly repo: string;
  readonly dir: string;
  readonly revisions: readonly CachedRevision[];
  /** Bytes of every blob of the repo (shared blobs counted once), partial downloads included. */
  readonly bytes: number;
  /** Bytes of unfinished downloads (`*.incomplete`), which a pull resumes. */
  readonly partialBytes: number;
  readonly lastModified: number;
}

function refsByCommit(folder: string): Map<string, string[]> {
  const refs = new Map<string, string[]>();
  const walk = (dir: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        if (lstatSync(path).isDirectory()) {
          walk(path, `${prefix}${name}/`);
          continue;
        }
        const commit = readFileSync(path, 'utf8').trim();
        if (!COMMIT_HASH.test(commit)) continue;
        refs.set(commit, [...(refs.get(commit) ?? []), `${prefix}${name}`]);
      } catch {
        // unreadable ref: ignore
      }
    }
  };
  walk(folder, '');
  return refs;
}

/**
 * Every model repo in the cache with its revisions, refs, variants and disk use. Unlike
 * @huggingface/hub's scanCacheDir this descends into sub-folders of a snapshot (an ONNX export keeps
 * its weights in `onnx/`) and tolerates refs that point to deleted snapshots.
 */
export function scanHubCache(cacheDir: string): CachedRepo[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const repos: CachedRepo[] = [];
  for (const name of names.sort()) {
    if (!name.startsWith('models--')) continue;
    const repo = name.slice('models--'.length).split('--').join('/');
    const dir = join(cacheDir, name);
    const refs = refsByCommit(join(dir, 'refs'));
    const revisions: CachedRevision[] = listSnapshots(cacheDir, repo).map((commit) => {
      const snapshot = snapshotDir(cacheDir, repo, commit);
      const files = snapshotFiles(snapshot);
      const blobs = new Map<string, number>();
      for (const file of files.values()) blobs.set(file.blob, file.bytes);
      return {
        commit,
        dir: snapshot,
        refs: refs.get(commit) ?? [],
        files: files.size,
        bytes: [...blobs.values()].reduce((sum, bytes) => sum + bytes, 0),
        variants: [...listVariants(snapshot).keys()],
        usable: isUsableSnapshot(snapshot),
      };
    });
    let bytes = 0;
    let partialBytes = 0;
    let lastModified = safeMtime(dir) ?? 0;
    try {
      for (const blob of readdirSync(join(dir, 'blobs'))) {
        const stats = statSync(join(dir, 'blobs', blob));
        bytes += stats.size;
        if (blob.endsWith('.incomplete')) partialBytes += stats.size;
        lastModified = Math.max(lastModified, stats.mtimeMs);
      }
    } catch {
      // no blobs folder: a cache written by copying (no symlinks) keeps the files in the snapshots
      bytes = revisions.reduce((sum, revision) => sum + revision.bytes, 0);
    }
    if (bytes === 0) bytes = revisions.reduce((sum, revision) => sum + revision.bytes, 0);
    repos.push({ repo, dir, revisions, bytes, partialBytes, lastModified });
  }
  return repos;
}

/**
 * Deletes one revision as huggingface_hub's delete_revisions does: its snapshot folder, the refs
 * that point to it, and the blobs no other snapshot uses. Deleting the last revision removes the
 * repo folder. Returns the bytes freed.
 */
export async function deleteCachedRevision(cacheDir: string, repo: string, commit: string): Promise<number> {
  if (!COMMIT_HASH.test(commit) && basename(commit) !== commit) throw new Error(`not a snapshot name: ${commit}`);
  const folder = repoFolder(cacheDir, repo);
  const others = listSnapshots(cacheDir, repo).filter((other) => other !== commit);
  const stillUsed = new Set<string>();
  for (const other of others) for (const file of snapshotFiles(snapshotDir(cacheDir, repo, other)).values()) stillUsed.add(file.blob);
  const ours = [...snapshotFiles(snapshotDir(cacheDir, repo, commit)).values()];
  let freed = 0;
  for (const file of ours) {
    if (stillUsed.has(file.blob) || !file.blob.startsWith(`${join(folder, 'blobs')}${sep}`)) continue;
    try {
      await rm(file.blob, { force: true });
      freed += file.bytes;
      stillUsed.add(file.blob);
    } catch {
      // already gone
    }
  }
  await rm(snapshotDir(cacheDir, repo, commit), { recursive: true, force: true });
  for (const [refCommit, names] of refsByCommit(join(folder, 'refs'))) {
    if (refCommit !== commit) continue;
    for (const name of names) await rm(join(folder, 'refs', ...name.split('/')), { force: true });
  }
  if (others.length === 0) {
    // Partial downloads of a repo the user deletes go too.
    try {
      for (const blob of await readdir(join(folder, 'blobs'))) if (blob.endsWith('.incomplete')) freed += statSync(join(folder, 'blobs', blob)).size;
    } catch {
      // no blobs folder
    }
    await rm(folder, { recursive: true, force: true });
    await rm(locksDir(cacheDir, repo), { recursive: true, force: true });
  }
  return freed;
}
