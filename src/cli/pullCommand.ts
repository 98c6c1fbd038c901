import { catalogModel } from '../core/models/catalog';
import { MODEL_VARIANTS, type ConcreteVariant } from '../core/models/modelFolder';
import { isHubError } from '../core/hub/errors';
import { describeProgress, fractionDone, initialProgress, reduceProgress, type DownloadProgress } from '../core/hub/progress';
import { formatBytes, pullModel, type PullResult } from '../core/hub/pull';
import { resolveHubSettings } from '../core/hub/settings';
import { parseFlags, UsageError, type CliCommand, type CliIO } from './command';
import { variantFlag } from './modelFlags';

const usage = `Usage: tokenscope pull <catalog-id | org/name> [--revision R] [--variant V] [--endpoint URL] [--json]

Downloads one ONNX variant of a model from the Hugging Face Hub into the shared Hugging Face cache
($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), where huggingface_hub,
transformers and llama.cpp find it too, and prints its folder. An interrupted download resumes
where it stopped; every file is checked against the Hub's size and SHA-256 before it is used.

Options:
  --revision R    branch, tag or commit (default: the catalog's pinned commit, else main)
  --variant V     ${MODEL_VARIANTS.join(', ')} (default auto: the catalog's choice, else the best for a CPU)
  --endpoint URL  a Hub mirror (default $HF_ENDPOINT, else https://huggingface.co)
  --json          print {repo, revision, commit, variant, folder, totalBytes, downloadedBytes,
                  reusedBytes, resumedBytes, refetchedBytes, fromCache, elapsedMs}

Environment: HF_TOKEN (gated or private models), HF_ENDPOINT, HF_HUB_OFFLINE=1 (use only the
cache), HTTPS_PROXY / NO_PROXY. Progress goes to standard error.

Examples:
  tokenscope pull qwen2.5-coder-0.5b-instruct
  tokenscope pull onnx-community/Qwen3-0.6B-ONNX --variant q4f16
  tokenscope generate --model qwen2.5-coder-0.5b-instruct --chat --prompt "Explain closures"`;

/** Draws the progress on standard error: a redrawn bar on a terminal, a line now and then otherwise. */
function progressPrinter(io: CliIO, label: string): { update(state: DownloadProgress): void; finish(): void } {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let lastLine = '';
  let lastPrinted = 0;
  let lastFraction = -1;
  return {
    update(state) {
      const fraction = fractionDone(state);
      const text = describeProgress(state);
      if (tty) {
        const width = 24;
        const filled = Math.round(fraction * width);
        const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${text}`;
        if (line !== lastLine) io.stderr.write(`\r${line.padEnd(lastLine.length)}`);
        lastLine = line;
        return;
      }
      const now = Date.now();
      // Plain lines for logs: on each phase change, every 10 %, or every 10 s.
      if (state.phase !== 'downloading' || fraction >= lastFraction + 0.1 || now - lastPrinted >= 10_000) {
        if (text === lastLine) return;
        io.stderr.write(`${label}: ${text}\n`);
        lastLine = text;
        lastPrinted = now;
        lastFraction = fraction;
      }
    },
    finish() {
      if (tty && lastLine) io.stderr.write('\n');
    },
  };
}

export const pullCommand: CliCommand = {
  name: 'pull',
  summary: 'Download a model from the Hugging Face Hub into the shared cache (resumes, verifies)',
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: ['revision', 'variant', 'endpoint'], booleans: ['json'] });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'which model? Give a catalog id (tokenscope models) or org/name' : `one model at a time, got "${positionals.join(' ')}"`);
    const variant = variantFlag(strings);
    const catalog = catalogModel(positionals[0]);
    const repo = catalog?.repo ?? positionals[0];
    const settings = resolveHubSettings({ endpoint: strings.get('endpoint') });
    const label = catalog?.label ?? repo;
    const printer = progressPrinter(io, label);
    let state = initialProgress;
    let result: PullResult | undefined;
    try {
      for await (const event of pullModel(
        { repo, revision: strings.get('revision') ?? catalog?.download.revision, variant: variant as ConcreteVariant | 'auto', preferredVariant: catalog?.download.defaultVariant, label },
        { settings, signal: io.signal, userAgent: 'tokenscope-cli' },
      )) {
        if (event.type === 'notice') io.stderr.write(`${event.message}\n`);
        state = reduceProgress(state, event);
        printer.update(state);
        if (event.type === 'done') result = event.result;
      }
    } catch (error) {
      printer.finish();
      if (isHubError(error, 'cancelled')) {
        io.stderr.write(`tokenscope pull: interrupted. ${formatBytes(state.doneBytes)} of ${formatBytes(state.totalBytes)} is kept: run the same command again to resume.\n`);
        return 130;
      }
      throw error;
    }
    printer.finish();
    if (!result) throw new Error('the download ended without a result');
    if (booleans.has('json')) {
      const { dir, ...rest } = result;
      io.stdout.write(`${JSON.stringify({ ...rest, folder: dir, ...(catalog ? { catalogId: catalog.id } : {}) })}\n`);
    } else {
      const how = result.fromCache ? 'already in the cache' : `downloaded ${formatBytes(result.downloadedBytes)}${result.resumedBytes > 0 ? `, resumed ${formatBytes(result.resumedBytes)}` : ''}${result.reusedBytes > 0 ? `, reused ${formatBytes(result.reusedBytes)}` : ''} in ${(result.elapsedMs / 1000).toFixed(1)} s`;
      io.stderr.write(`${label} ${result.variant} @ ${result.commit.slice(0, 7)}: ${how}. Use it with --model ${catalog?.id ?? repo}.\n`);
      io.stdout.write(`${result.dir}\n`);
    }
    return 0;
  },
};
