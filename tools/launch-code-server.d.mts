// Types of launch-code-server.mjs for the TypeScript end-to-end harness.

export interface LaunchOptions {
  /** Folder opened in the workbench. */
  workspace?: string;
  /** A .vsix installed with --install-extension before the start (what a user gets). */
  vsix?: string;
  /** More .vsix files installed the same way (e.g. the empty extension the activation benchmark compares with). */
  extraVsix?: string[];
  /** A folder with a built extension, loaded like F5 does (through the workbench URL's payload). */
  extensionDevelopmentPath?: string;
  /** User settings, merged over QUIET_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Port to bind on 127.0.0.1; a free one by default. */
  port?: number;
  /** Fail when code-server does not serve within this time (default 90 000). */
  startTimeoutMs?: number;
  /** Keep the temporary profile (user data, logs, HOME) after stop() (default false). */
  keepProfile?: boolean;
  log?: (line: string) => void;
}

export interface CodeServer {
  baseUrl: string;
  /** The URL to open: the workspace folder and, in development mode, the extension payload. */
  workbenchUrl: string;
  port: number;
  pid: number;
  /** The temporary folder holding home/, user-data/, extensions/ and code-server.log. */
  profileDir: string;
  userDataDir: string;
  extensionsDir: string;
  /** VS Code's logs: `<session>/exthost1/...`, `<session>/remoteagent.log`, extension log channels. */
  logsDir: string;
  /** code-server's own stdout and stderr. */
  serverLogPath: string;
  /** The running processes of this code-server (its own and its descendants). */
  processIds(): number[];
  /** Settles when code-server's process exits (after stop(), or on its own). */
  exited: Promise<{ code: number | null; signalName: NodeJS.Signals | null }>;
  /** Stops every process of this code-server and removes the profile unless keepProfile. Idempotent. */
  stop(): Promise<void>;
}

export const QUIET_SETTINGS: Record<string, unknown>;
export function freePort(): Promise<number>;
export function processTree(pid: number): number[];
export function killProcessTree(pid: number, options?: { graceMs?: number }): Promise<void>;
export function launchCodeServer(options?: LaunchOptions): Promise<CodeServer>;
export function findFiles(dir: string, pattern: RegExp): string[];
