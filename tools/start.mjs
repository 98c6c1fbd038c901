// `npm start`: a real VS Code (code-server) with Tokenscope, in your browser.
// Builds and packages the extension, installs code-server when missing, starts it on 127.0.0.1 with a
// sample workspace, prints the URL to open, and stays in the foreground until Ctrl+C.
//
//   npm start                          the packaged VSIX, installed as a user gets it
//   npm start -- --dev                 load dist/ as a development extension (no packaging; faster)
//   npm start -- --folder ~/project    open another folder instead of the sample workspace
//   npm start -- --port 8080           a fixed port (default: a free one)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchCodeServer } from './launch-code-server.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const usage = 'Usage: npm start [-- --dev] [-- --folder PATH] [-- --port N]';

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function parseArgs(args) {
  const options = { dev: false, folder: undefined, port: undefined };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === '--dev') options.dev = true;
    else if (arg === '--folder') options.folder = args[++index] ?? fail(`--folder needs a path. ${usage}`);
    else if (arg === '--port') {
      options.port = Number(args[++index]);
      if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) fail(`--port needs a port number (1-65535). ${usage}`);
    } else if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    } else fail(`unknown argument ${arg}. ${usage}`);
  }
  return options;
}

function run(title, args) {
  console.log(`npm start: ${title}…`);
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) fail(`${title} failed (see above)`);
}

const options = parseArgs(process.argv.slice(2));

let folder;
if (options.folder) {
  folder = resolve(options.folder);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) fail(`--folder ${folder} is not a folder`);
} else {
  // A copy of the sample workspace, kept between starts, so that edits never touch the committed fixture.
  folder = join(repoRoot, '.cache', 'start-workspace');
  if (!existsSync(folder)) cpSync(join(repoRoot, 'test', 'fixtures', 'workspace'), folder, { recursive: true });
}

let vsix;
if (options.dev) {
  run('building (node esbuild.mjs)', ['esbuild.mjs']);
} else {
  vsix = join(repoRoot, '.cache', 'start', 'tokenscope-start.vsix');
  run('building and packaging the VSIX', [join('tools', 'package.mjs'), '--out', vsix, '--if-stale', '--quiet']);
}

const server = await launchCodeServer({
  workspace: folder,
  vsix,
  extensionDevelopmentPath: options.dev ? repoRoot : undefined,
  port: options.port,
  log: (line) => console.log(line),
}).catch((error) => fail(error.message));

console.log(`
  Tokenscope is running in VS Code (code-server ${options.dev ? 'with the development build' : 'with the packaged VSIX'}).

  Open:  ${server.workbenchUrl}

  Workspace:  ${folder}
  VS Code logs (the Tokenscope log is under exthost1/tokenscope.tokenscope/):  ${server.logsDir}
  Press Ctrl+C to stop.
`);

let stopping = false;
const stop = async (why) => {
  if (stopping) return;
  stopping = true;
  console.log(`\nnpm start: ${why}; stopping code-server…`);
  await server.stop();
  console.log('npm start: stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void stop('Ctrl+C'));
process.on('SIGTERM', () => void stop('terminated'));
process.on('SIGHUP', () => void stop('terminal closed'));

const { code, signalName } = await server.exited;
if (!stopping) {
  const output = existsSync(server.serverLogPath) ? readFileSync(server.serverLogPath, 'utf8').slice(-4000) : '(no output)';
  console.error(`npm start: code-server exited on its own (${signalName ?? `exit code ${code}`}). Its last output:\n${output}`);
  await server.stop();
  process.exit(1);
}
