import * as vscode from 'vscode';
import { join } from 'node:path';
import type { CatalogModel } from '../../core/models/catalog';
import type { ConcreteVariant } from '../../core/models/modelFolder';
import { isHubError, type HubError } from '../../core/hub/errors';
import { describeProgress, fractionDone, initialProgress, reduceProgress } from '../../core/hub/progress';
import type { PullResult } from '../../core/hub/pull';
import { formatBytes } from '../../core/hub/units';
import { resolveHubSettings, type HubSettings } from '../../core/hub/settings';
import { readConfig, readProxySettings, settingId, updateSetting } from '../config';

/**
 * The download code is its own bundle (dist/hubPull.js, see esbuild.mjs), required on the first
 * download: its HTTP client is most of the code, and activation must not parse it.
 */
function loadPull(): typeof import('../../core/hub/pull') {
  return require(join(__dirname, 'hubPull.js')) as typeof import('../../core/hub/pull');
}

/** SecretStorage key of the Hugging Face access token (never in settings, never logged). */
export const hubTokenSecret = 'tokenscope.hub.token';

export interface DownloadTarget {
  readonly repo: string;
  readonly revision?: string;
  readonly variant: ConcreteVariant | 'auto';
  readonly label: string;
  readonly catalog?: CatalogModel;
}

/**
 * Downloads models with a progress notification (MB done of total, MB/s, time left, Cancel) and
 * turns every failure into a message with the next step as a button. One download per repo at a
 * time in this window (a second request joins the first); other windows wait on the cache's lock.
 */
export class ModelDownloads {
  private readonly inFlight = new Map<string, Promise<PullResult | undefined>>();

  constructor(private readonly secrets: vscode.SecretStorage, private readonly log: vscode.LogOutputChannel, private readonly version: string) {}

  /** The settings a download uses now: endpoint and offline mode from settings, the token from SecretStorage, VS Code's proxy. */
  async hubSettings(): Promise<HubSettings> {
    const config = readConfig();
    const token = await this.secrets.get(hubTokenSecret);
    return resolveHubSettings({ endpoint: config.hub.endpoint, offline: config.hub.offline, token, ...readProxySettings() });
  }

  /** Downloads `target`; resolves to the result, or undefined when it failed or was cancelled (the user was told). */
  download(target: DownloadTarget): Promise<PullResult | undefined> {
    const key = target.repo.toLowerCase();
    const running = this.inFlight.get(key);
    if (running) {
      void vscode.window.showInformationMessage(`Tokenscope: ${target.label} is already downloading; see its progress notification.`);
      return running;
    }
    const promise = this.run(target).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  private async run(target: DownloadTarget): Promise<PullResult | undefined> {
    let settings: HubSettings;
    try {
      settings = await this.hubSettings();
    } catch (error) {
      void vscode.window.showErrorMessage(`Tokenscope: ${(error as Error).message}`, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', settingId('hub'));
      });
      return undefined;
    }
    const host = new URL(settings.endpoint).host;
    this.log.info(`Download: ${target.repo}@${target.revision ?? 'main'} (${target.variant}) from ${host}${settings.proxy ? ' through the configured proxy' : ''} into ${settings.cacheDir}${settings.token ? ', with a token' : ''}.`);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Downloading ${target.label}`, cancellable: true },
        async (progress, cancellation) => {
          const controller = new AbortController();
          const subscription = cancellation.onCancellationRequested(() => controller.abort());
          let state = initialProgress;
          let reported = 0;
          const { pullModel } = loadPull();
          try {
            for await (const event of pullModel(
              { repo: target.repo, revision: target.revision, variant: target.variant, preferredVariant: target.catalog?.download.defaultVariant, label: target.label },
              { settings, signal: controller.signal, userAgent: `tokenscope/${this.version}` },
            )) {
              state = reduceProgress(state, event);
              if (event.type === 'plan') this.log.info(`Download plan: ${event.plan.files.length} files, ${formatBytes(event.plan.totalBytes)} (${formatBytes(event.plan.presentBytes)} already in the cache), ${event.plan.variant} @ ${event.plan.commit.slice(0, 7)}.`);
              if (event.type === 'retry') this.log.warn(`Download: ${event.file}: retry ${event.attempt} in ${event.delayMs} ms: ${event.reason}`);
              if (event.type === 'notice') this.log.warn(`Download: ${event.message}`);
              const percent = Math.floor(fractionDone(state) * 100);
              progress.report({ message: describeProgress(state), increment: percent > reported ? percent - reported : undefined });
              reported = Math.max(reported, percent);
              if (event.type === 'done') return event.result;
            }
            return undefined;
          } finally {
            subscription.dispose();
          }
        },
      );
      if (result) this.log.info(`Download done: ${target.repo} → ${result.dir} (${formatBytes(result.downloadedBytes)} downloaded, ${formatBytes(result.resumedBytes)} resumed, ${formatBytes(result.reusedBytes)} reused, ${formatBytes(result.refetchedBytes)} re-fetched, ${(result.elapsedMs / 1000).toFixed(1)} s).`);
      return result;
    } catch (error) {
      await this.report(error, target, settings);
      return undefined;
    }
  }

  /** Says what went wrong and offers the way out as buttons. */
  private async report(error: unknown, target: DownloadTarget, settings: HubSettings): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    if (isHubError(error, 'cancelled')) {
      this.log.info(`Download of ${target.repo} cancelled; the partial files stay in the cache for a resume.`);
      const choice = await vscode.window.showInformationMessage(`Tokenscope: the download of ${target.label} was cancelled. What arrived is kept; downloading again resumes it.`, 'Resume');
      if (choice) await this.download(target);
      return;
    }
    this.log.error(`Download of ${target.repo} failed: ${message}`);
    const actions = this.actionsFor(error);
    const choice = await vscode.window.showErrorMessage(`Tokenscope: ${message}`, ...actions.map((action) => action.label));
    await actions.find((action) => action.label === choice)?.run(target, settings);
  }

  private actionsFor(error: unknown): { label: string; run: (target: DownloadTarget, settings: HubSettings) => unknown }[] {
    const retry = { label: 'Retry', run: (target: DownloadTarget) => this.download(target) };
    const logs = { label: 'Show Logs', run: () => this.log.show(true) };
    if (!isHubError(error)) return [retry, logs];
    const code = (error as HubError).code;
    const openPage = { label: 'Open Model Page', run: (target: DownloadTarget, settings: HubSettings) => vscode.env.openExternal(vscode.Uri.parse(`${settings.endpoint}/${target.repo}`)) };
    const setToken = { label: 'Set Token…', run: async (target: DownloadTarget) => (await vscode.commands.executeCommand<boolean>('tokenscope.setHubToken')) && this.download(target) };
    switch (code) {
      case 'unauthorized':
        return [setToken, openPage];
      case 'forbidden':
        return [openPage, setToken, retry];
      case 'offline':
        return [{ label: 'Turn Offline Mode Off', run: async (target) => {
          await updateSetting('hub.offline', false);
          return this.download(target);
        } }];
      case 'proxy':
        return [{ label: 'Open Proxy Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'http.proxy') }, retry];
      case 'network':
      case 'redirect-loop':
        return [retry, { label: 'Open Hub Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', settingId('hub')) }];
      case 'not-found':
      case 'invalid-request':
        return [openPage, logs];
      default:
        return [retry, logs];
    }
  }
}
