import * as vscode from 'vscode';
import type { ProbabilityClient } from '../../core/modelProcess/probabilityRequests';
import type { ModelInfo } from '../../core/runtime/types';
import type { CommandRegistry } from '../commandRegistry';
import { lazyModule } from '../lazyModule';
import type { GeneratedTokenScores } from '../../core/completions/types';
import { affectsSetting, onConfigChange, readConfig, updateSetting } from '../config';
import type { ConfidenceColouring } from './confidenceColouring';
import type { SurpriseLens } from './surpriseLens';

/** What registerProbabilities gives the other features. */
export interface ProbabilitiesRegistration {
  /** An inline completion was accepted: `text` was inserted at `insertStart` of `document`. */
  completionAccepted(document: vscode.TextDocument, insertStart: number, text: string, tokenScores: GeneratedTokenScores | undefined): void;
}

/** What the probability views need from the extension; activate() passes it to registerProbabilities. */
export interface ProbabilityServices {
  readonly log: vscode.LogOutputChannel;
  readonly commands: CommandRegistry;
  /** The model runtime (the extension's ModelService): the probability requests go to its model process. */
  readonly runtime: {
    readonly client: ProbabilityClient;
    ensureLoaded(): Promise<Pick<ModelInfo, 'label' | 'contextLength'>>;
  };
}

/**
 * The probability views: "What Comes Next?" (`tokenscope.whatComesNext`) and the surprise lens
 * (`tokenscope.toggleSurpriseLens`), and confidence colouring of accepted completions
 * (`tokenscope.completions.confidenceColouring`, `tokenscope.toggleConfidenceColouring`). Their code
 * loads from its own bundle (dist/probabilities.js) on first use, so activation does not compile it.
 */
export function registerProbabilities(context: vscode.ExtensionContext, services: ProbabilityServices): ProbabilitiesRegistration {
  const feature = lazyModule<typeof import('./feature')>(context.extensionPath, 'probabilities');
  let lens: SurpriseLens | undefined;
  services.commands.register('tokenscope.whatComesNext', () => feature().NextTokenPanel.show(context.extensionUri, services));
  services.commands.register('tokenscope.toggleSurpriseLens', () => {
    lens ??= new (feature().SurpriseLens)(services);
    const enabled = lens.toggle();
    services.log.info(`Surprise lens ${enabled ? 'on' : 'off'}`);
    return enabled;
  });
  let colouring: ConfidenceColouring | undefined;
  services.commands.register('tokenscope.toggleConfidenceColouring', async () => {
    const enabled = !readConfig().completions.confidenceColouring;
    await updateSetting('completions.confidenceColouring', enabled);
    services.log.info(`Confidence colouring of completions ${enabled ? 'on' : 'off'}`);
  });
  context.subscriptions.push(
    { dispose: () => lens?.dispose() },
    { dispose: () => colouring?.dispose() },
    onConfigChange((config, event) => {
      if (affectsSetting(event, 'completions.confidenceColouring') && !config.completions.confidenceColouring) colouring?.clearAll();
    }),
  );
  return {
    completionAccepted(document, insertStart, text, tokenScores) {
      if (!readConfig().completions.confidenceColouring) return;
      colouring ??= new (feature().ConfidenceColouring)();
      const coloured = colouring.show(document, insertStart, text, tokenScores);
      services.log.debug(`Confidence colouring: ${coloured} token(s) of an accepted completion${coloured === 0 ? ' (no probabilities: a server without logprobs, or a changed text)' : ''}`);
    },
  };
}
