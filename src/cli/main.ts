// First, before any command loads ONNX Runtime: its telemetry off (nothing leaves the machine).
import '../core/runtime/ortTelemetry';
import { cliCommands } from './commands';
import { decodeUtf8Input, UsageError, type CliIO } from './command';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) {
      resolve('');
      return;
    }
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => {
      const decoded = decodeUtf8Input(Buffer.concat(chunks));
      if (decoded.invalidSequences > 0) {
        const count = decoded.invalidSequences === 1 ? '1 invalid byte sequence' : `${decoded.invalidSequences} invalid byte sequences`;
        process.stderr.write(`tokenscope: warning: standard input is not valid UTF-8: ${count} (the first at byte ${decoded.firstInvalidByte}) were replaced with U+FFFD; offsets refer to the replaced text.\n`);
      }
      resolve(decoded.text);
    });
    process.stdin.on('error', reject);
  });
}

function helpText(): string {
  const width = cliCommands.reduce((widest, command) => Math.max(widest, command.name.length), 8);
  const lines = cliCommands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return ['Usage: tokenscope <command> [options]', '', 'Commands:', ...lines, '', 'Run `tokenscope <command> --help` for a command\'s options.', ''].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(helpText());
    return name ? 0 : 2;
  }
  const command = cliCommands.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`tokenscope: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return 0;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  const io: CliIO = { stdout: process.stdout, stderr: process.stderr, readStdin, signal: controller.signal };
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tokenscope ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`tokenscope ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`tokenscope: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
