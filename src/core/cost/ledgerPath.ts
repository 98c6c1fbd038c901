/**
 * Where the CLI finds the usage ledger the extension writes: `--ledger FILE`, else
 * `$TOKENSCOPE_USAGE_LEDGER`, else the first that exists of the editors' global storage folders
 * for this extension (VS Code, Insiders, VSCodium, code-server), else VS Code's (which may not
 * exist yet: nothing recorded). The extension itself is told its folder by the editor.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LEDGER_FILE_NAME } from './usageLedger';

export const LEDGER_ENV = 'TOKENSCOPE_USAGE_LEDGER';
/** The extension's id (`publisher.name` in package.json): its global storage folder's name. */
const EXTENSION_ID = 'tokenscope.tokenscope';

/** The user-data folders' `User` directories, in the order they are tried. */
export function editorUserDirs(platform: NodeJS.Platform = process.platform, home = homedir(), env: NodeJS.ProcessEnv = process.env): string[] {
  const products = ['Code', 'Code - Insiders', 'VSCodium'];
  const base = platform === 'darwin' ? join(home, 'Library', 'Application Support') : platform === 'win32' ? (env.APPDATA ?? join(home, 'AppData', 'Roaming')) : (env.XDG_CONFIG_HOME ?? join(home, '.config'));
  const dirs = products.map((product) => join(base, product, 'User'));
  // code-server keeps its user data under XDG data (~/.local/share/code-server).
  dirs.push(join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'code-server', 'User'));
  return dirs;
}

export function defaultLedgerCandidates(platform?: NodeJS.Platform, home?: string, env?: NodeJS.ProcessEnv): string[] {
  return editorUserDirs(platform, home, env).map((dir) => join(dir, 'globalStorage', EXTENSION_ID, LEDGER_FILE_NAME));
}

export function resolveLedgerPath(option: string | undefined, env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): { readonly path: string; readonly how: string } {
  if (option !== undefined) return { path: option, how: '--ledger' };
  const fromEnv = env[LEDGER_ENV];
  if (fromEnv) return { path: fromEnv, how: `$${LEDGER_ENV}` };
  const candidates = defaultLedgerCandidates(process.platform, homedir(), env);
  const found = candidates.find((candidate) => exists(candidate));
  return { path: found ?? candidates[0], how: found ? 'the editor’s global storage' : 'the default (not written yet)' };
}
