/**
 * The Sample Side by Side page's script (a browser, no Node): it says it is ready, then swaps in
 * the live part of the page (the columns, built in core with every text escaped) as the runs stream.
 */
import { isSamplesUpdate, type SamplesToExtension } from '../../src/core/webview/samplesProtocol';

interface VsCodeApi {
  postMessage(message: SamplesToExtension): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const live = document.getElementById('live');

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (live && isSamplesUpdate(event.data)) live.innerHTML = event.data.html;
});
vscode.postMessage({ type: 'ready' });
