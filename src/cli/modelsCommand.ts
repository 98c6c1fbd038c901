import { CATALOG, catalogModelForRepo } from '../core/models/catalog';
import { scanHubCache, type CachedRepo } from '../core/hub/cache';
import { formatBytes } from '../core/hub/pull';
import { resolveHubSettings } from '../core/hub/settings';
import { parseFlags, UsageError, type CliCommand } from './command';
import { formatTable } from './table';

const usage = `Usage: tokenscope models [--json]

Lists the catalog (the models Tokenscope offers to download, with their variants, sizes and
licences) and every ONNX model in the Hugging Face cache, whoever downloaded it, with its disk use.
Use any of them with --model <id or org/name>, or download one with tokenscope pull.

Options:
  --json   print {"cacheDir", "catalog": [{id, label, repo, licence, uses, fim, thinking, goodFor,
           contextLength, revision, revisionVerified, defaultVariant, variants: {V: {files,
           approxBytes}}, downloaded: {commit, variants, bytes} | null}], "cached": [{repo, folder,
           bytes, partialBytes, catalogId, revisions: [{commit, refs, variants, bytes, usable,
           folder}]}]}`;

function downloadedOf(repo: CachedRepo | undefined): { commit: string; variants: readonly string[]; bytes: number } | null {
  const usable = repo?.revisions.find((revision) => revision.usable);
  return usable ? { commit: usable.commit, variants: usable.variants, bytes: usable.bytes } : null;
}

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'The model catalog and the models in the Hugging Face cache',
  usage,
  async run(args, io) {
    const { booleans, positionals } = parseFlags(args, { booleans: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const { cacheDir } = resolveHubSettings();
    const cached = scanHubCache(cacheDir);
    const byRepo = new Map(cached.map((repo) => [repo.repo.toLowerCase(), repo]));
    if (booleans.has('json')) {
      io.stdout.write(
        `${JSON.stringify({
          cacheDir,
          catalog: CATALOG.map((model) => ({
            id: model.id,
            label: model.label,
            repo: model.repo,
            licence: model.licence,
            uses: model.uses,
            fim: model.fim,
            thinking: model.thinking,
            goodFor: model.goodFor,
            contextLength: model.contextLength,
            revision: model.download.revision,
            revisionVerified: model.download.revisionVerified,
            defaultVariant: model.download.defaultVariant,
            variants: model.download.variants,
            downloaded: downloadedOf(byRepo.get(model.repo.toLowerCase())),
          })),
          cached: cached.map((repo) => ({
            repo: repo.repo,
            folder: repo.dir,
            bytes: repo.bytes,
            partialBytes: repo.partialBytes,
            catalogId: catalogModelForRepo(repo.repo)?.id ?? null,
            revisions: repo.revisions.map((revision) => ({ commit: revision.commit, refs: revision.refs, variants: revision.variants, bytes: revision.bytes, usable: revision.usable, folder: revision.dir })),
          })),
        })}\n`,
      );
      return 0;
    }
    const rows = CATALOG.map((model) => {
      const variant = model.download.variants[model.download.defaultVariant];
      const downloaded = downloadedOf(byRepo.get(model.repo.toLowerCase()));
      return [
        model.id,
        model.uses.join('+') + (model.thinking ? ' (thinks)' : ''),
        `${model.download.defaultVariant} ${variant?.approxBytes ? `~${formatBytes(variant.approxBytes)}` : '(size unknown)'}`,
        model.licence,
        downloaded ? `yes: ${downloaded.variants.join(', ')} (${formatBytes(downloaded.bytes)})` : 'no',
      ];
    });
    const lines = ['Catalog (tokenscope pull <id>):', ...formatTable(['id', 'for', 'default variant', 'licence', 'downloaded'], rows, new Set()), ''];
    const usableRepos = cached.filter((repo) => repo.revisions.some((revision) => revision.usable));
    lines.push(`In the Hugging Face cache (${cacheDir}):`);
    if (usableRepos.length === 0) lines.push('  no ONNX models yet');
    else {
      const cacheRows = usableRepos.map((repo) => {
        const revision = repo.revisions.find((candidate) => candidate.usable)!;
        return [repo.repo, revision.variants.join(', '), `${revision.commit.slice(0, 7)}${revision.refs.length ? ` (${revision.refs.join(', ')})` : ''}`, formatBytes(repo.bytes) + (repo.partialBytes > 0 ? ` (${formatBytes(repo.partialBytes)} partial)` : '')];
      });
      for (const line of formatTable(['repo', 'variants', 'revision', 'disk'], cacheRows, new Set([3]))) lines.push(line);
    }
    const others = cached.length - usableRepos.length;
    if (others > 0) lines.push(`(${others} other repo(s) in the cache hold no complete ONNX model.)`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
