/**
 * Messages between the Sample Side by Side panel (src/vscode/samples/samplesPanel.ts) and its page's
 * script (media/samples/main.ts). The page loads once; the runs stream in as `update`s, because
 * replacing a webview's whole HTML while it is still loading the last one races inside VS Code.
 */

export type SamplesToWebview =
  /** The live part of the page (samplesLiveHtml: built in core from escaped text). */
  { readonly type: 'update'; readonly html: string };

export type SamplesToExtension =
  /** The script runs: updates can be posted (earlier ones would be lost). */
  { readonly type: 'ready' };

export function isSamplesUpdate(value: unknown): value is SamplesToWebview {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'update' && typeof (value as { html?: unknown }).html === 'string';
}

export function isSamplesReady(value: unknown): value is SamplesToExtension {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'ready';
}
