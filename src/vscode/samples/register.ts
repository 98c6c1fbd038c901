import type * as vscode from 'vscode';
import type { CommandRegistry } from '../commandRegistry';
import { lazyModule } from '../lazyModule';
import type { ModelService } from '../modelService';

/** What Sample Side by Side needs from the extension; activate() passes it to registerSamples. */
export interface SamplesServices {
  readonly commands: CommandRegistry;
  readonly log: vscode.LogOutputChannel;
  readonly runtime: ModelService;
  /** Where the page's script (dist/media/samples.js) is. */
  readonly extensionUri: vscode.Uri;
}

/**
 * Registers Tokenscope: Sample Side by Side…. The runner and the page (src/core/samples/) load from
 * dist/samples.js when the command first runs, not at activation.
 */
export function registerSamples(context: vscode.ExtensionContext, services: SamplesServices): void {
  const feature = lazyModule<typeof import('./samplesPanel')>(context.extensionPath, 'samples');
  services.commands.register('tokenscope.sampleSideBySide', () => feature().sampleSideBySide(services));
}
