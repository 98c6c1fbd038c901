import * as vscode from 'vscode';

/**
 * Registers commands and remembers which ones exist, so that every command declared in
 * package.json but not (yet) implemented by a feature still answers with an honest message
 * instead of VS Code's "command not found".
 */
export class CommandRegistry {
  private readonly registered = new Set<string>();

  constructor(private readonly subscriptions: vscode.Disposable[], private readonly log: vscode.LogOutputChannel) {}

  register(id: string, handler: (...args: unknown[]) => unknown): void {
    this.registered.add(id);
    this.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          // A command failing must say so; an unhandled rejection would be silent to the user.
          const message = error instanceof Error ? error.message : String(error);
          this.log.error(`Command ${id} failed: ${error instanceof Error && error.stack ? error.stack : message}`);
          void vscode.window.showErrorMessage(`Tokenscope: ${message}`, 'Show Logs').then((choice) => {
            if (choice) this.log.show(true);
          });
          return undefined;
        }
      }),
    );
  }

  /** Gives every declared command without an implementation a "not available yet" answer. */
  registerPendingFrom(declared: readonly { command: string; title: string }[]): string[] {
    const pending = declared.filter((entry) => !this.registered.has(entry.command));
    for (const entry of pending) {
      this.register(entry.command, () => {
        void vscode.window.showInformationMessage(`Tokenscope: "${entry.title}" is not available in this version yet.`);
      });
    }
    return pending.map((entry) => entry.command);
  }
}
