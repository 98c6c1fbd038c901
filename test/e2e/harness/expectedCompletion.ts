// The suggestion the extension must show, computed in the test process by the same core path
// (prompt window, FIM template, greedy decoding, post-processing) on the same model files, so an
// e2e test can assert the exact ghost text instead of "some text". Completions decode greedily
// (temperature 0: src/core/completions/runtimeBackend.ts), so the answer is a function of the
// document, the cursor and the model.
import { TextLines, type CursorPosition } from '../../../src/core/completions/document';
import { CompletionEngine } from '../../../src/core/completions/engine';
import type { CompletionResult } from '../../../src/core/completions/types';
import { inProcessCompletionModel } from '../../../src/core/completions/model';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { repoRoot } from './workbench';

export interface ExpectedCompletionRequest {
  /** `mini` or a model folder, as in the `tokenscope.model` setting. */
  readonly model: string;
  /** The whole document at the moment of the request. */
  readonly text: string;
  readonly position: CursorPosition;
  /** Workspace-relative path, as `vscode.workspace.asRelativePath` gives it (it is part of the prompt). */
  readonly path: string;
  /** `vscode.workspace.name`: the workspace folder's name (the harness's copy keeps the fixture's). */
  readonly repoName: string;
  /** The extension's settings that shape the answer; the test must set the same ones. */
  readonly maxTokens?: number;
}

/** Runs the completion engine once, with extra context off (the test turns it off in the extension too). */
export async function expectedCompletion(request: ExpectedCompletionRequest): Promise<CompletionResult | undefined> {
  const local = await LocalModel.load({ model: request.model, variant: 'auto', threads: 0 }, { packageRoot: repoRoot, cwd: repoRoot });
  try {
    const model = inProcessCompletionModel(local);
    const engine = new CompletionEngine({ getModel: () => model, settings: { extraContext: false, speculative: false, minConfidence: 0, ...(request.maxTokens ? { maxTokens: request.maxTokens } : {}) } });
    return await engine.complete({ document: new TextLines(request.text), position: request.position, path: request.path, repoName: request.repoName, trigger: 'explicit' }, new AbortController().signal);
  } finally {
    await local.dispose();
  }
}
