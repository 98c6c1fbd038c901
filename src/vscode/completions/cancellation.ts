import type * as vscode from 'vscode';

/**
 * Converts VS Code's CancellationToken to the AbortSignal the core takes, once, at the edge. The
 * returned `dispose` removes the listener when the request ends, so tokens never leak listeners.
 */
export function abortSignalFrom(token: vscode.CancellationToken): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (token.isCancellationRequested) {
    controller.abort();
    return { signal: controller.signal, dispose() {} };
  }
  const listener = token.onCancellationRequested(() => controller.abort());
  return { signal: controller.signal, dispose: () => listener.dispose() };
}
