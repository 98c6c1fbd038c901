import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding package.json, where `models/` lives: dist/cli.js in the package, or src/cli with tsx. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}
