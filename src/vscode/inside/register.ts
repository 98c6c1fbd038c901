import * as vscode from 'vscode';
import type { CommandRegistry } from '../commandRegistry';
import { readConfig } from '../config';
import { lazyModule } from '../lazyModule';
import type { ModelService } from '../modelService';
import type { InsideFeature } from './insideFeature';

/** What the Inside the Model views need from the extension; activate() passes it to registerInside. */
export interface InsideServices {
  readonly log: vscode.LogOutputChannel;
  readonly commands: CommandRegistry;
  /** The one model process: attention, the lens and embeddings are computed there, never on this thread. */
  readonly runtime: ModelService;
}

/**
 * Inside the model: attention shading of earlier tokens for the cursor token (a layer and head or
 * the mean, stepped with arrow keys), the Inside the Model page (logit lens and the heads-by-layers
 * grid), the learning-mode embedding hover and Find Similar Tokens. The code loads from
 * dist/inside.js on first use; only the commands and a hover that does nothing outside learning
 * mode exist at activation.
 */
export function registerInside(context: vscode.ExtensionContext, services: InsideServices): void {
  const load = lazyModule<typeof import('./insideFeature')>(context.extensionPath, 'inside');
  let feature: InsideFeature | undefined;
  const get = () => (feature ??= new (load().InsideFeature)(services));
  const { commands } = services;
  commands.register('tokenscope.showAttention', () => get().toggleAttention());
  commands.register('tokenscope.chooseAttentionHead', () => get().chooseHead());
  commands.register('tokenscope.attentionNextLayer', () => get().step('layer', 1));
  commands.register('tokenscope.attentionPreviousLayer', () => get().step('layer', -1));
  commands.register('tokenscope.attentionNextHead', () => get().step('head', 1));
  commands.register('tokenscope.attentionPreviousHead', () => get().step('head', -1));
  commands.register('tokenscope.showLogitLens', () => get().showPage());
  commands.register('tokenscope.findSimilarTokens', () => get().findSimilar());
  context.subscriptions.push(
    vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], {
      provideHover: (document, position, token) => (readConfig().inside.learningMode ? get().embeddingHover(document, position, token) : undefined),
    }),
    { dispose: () => feature?.dispose() },
  );
}
