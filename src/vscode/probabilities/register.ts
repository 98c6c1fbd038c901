import * as vscode from 'vscode';
import type { ProbabilityClient } from '../../core/modelProcess/probabilityRequests';
import type { ModelInfo } from '../../core/runtime/types';
import type { CommandRegistry } from '../commandRegistry';
import { lazyModule } from '../lazyModule';
import type { SurpriseLens } from './surpriseLens';

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
 * (`tokenscope.toggleSurpriseLens`). Their code loads from its own bundle (dist/probabilities.js)
 * on first use, so activation does not compile it.
 */
export function registerProbabilities(context: vscode.ExtensionContext, services: ProbabilityServices): void {
  const feature = lazyModule<typeof import('./feature')>(context.extensionPath, 'probabilities');
  let lens: SurpriseLens | undefined;
  services.commands.register('tokenscope.whatComesNext', () => feature().NextTokenPanel.show(context.extensionUri, services));
  services.commands.register('tokenscope.toggleSurpriseLens', () => {
    lens ??= new (feature().SurpriseLens)(services);
    const enabled = lens.toggle();
    services.log.info(`Surprise lens ${enabled ? 'on' : 'off'}`);
    return enabled;
  });
  context.subscriptions.push({ dispose: () => lens?.dispose() });
}
