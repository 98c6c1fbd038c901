// The extension host's side of the chat webview, without an editor: ChatViewProvider (drops what is
// not a protocol message) and ChatController (openLink, codeAction) over a `vscode` stand-in that
// records every call. What a webview may ask for: links open only http(s)/mailto and only after a
// confirmation; `command:` and `file:` links show a notice and open nothing; Copy puts the code on
// the clipboard; Replace and Insert edit the active editor, or say what to do first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Call {
  readonly api: string;
  readonly args: readonly unknown[];
}
const calls: Call[] = [];
const record = (api: string, result?: (...args: unknown[]) => unknown) => (...args: unknown[]) => {
  calls.push({ api, args });
  return result ? result(...args) : Promise.resolve(undefined);
};
let warningAnswer: string | undefined;

class Uri {
  private constructor(
    readonly scheme: string,
    readonly rest: string,
  ) {}
  /** Strict, like vscode.Uri.parse(value, true): a scheme is required. */
  static parse(value: string): Uri {
    const match = /^([a-zA-Z][\w+.-]*):(.*)$/s.exec(value);
    if (!match) throw new Error(`[UriError]: Scheme is missing: {scheme: "", path: "${value}"}`);
    return new Uri(match[1].toLowerCase(), match[2]);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.rest, ...parts].join('/'));
  }
  toString(): string {
    return `${this.scheme}:${this.rest}`;
  }
}

const vscodeStub = {
  Uri,
  window: {
    showWarningMessage: record('window.showWarningMessage', () => Promise.resolve(warningAnswer)),
    setStatusBarMessage: record('window.setStatusBarMessage', () => ({ dispose() {} })),
    showTextDocument: record('window.showTextDocument'),
    showInformationMessage: record('window.showInformationMessage'),
  },
  env: {
    openExternal: record('env.openExternal', () => Promise.resolve(true)),
    clipboard: { writeText: record('env.clipboard.writeText') },
  },
  commands: { executeCommand: record('commands.executeCommand') },
  workspace: {},
};
// Installed before the editor layer loads: its `import * as vscode from 'vscode'` gets the stand-in.
const moduleWithLoad = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = moduleWithLoad._load;
moduleWithLoad._load = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? vscodeStub : load.call(this, request, ...rest);
};

const log = { warnings: [] as string[], warn: (message: string) => log.warnings.push(message), error: (message: string) => log.warnings.push(message), debug: () => undefined, info: () => undefined };

async function host(editor?: unknown) {
  const { ChatViewProvider } = await import('../../../src/vscode/chat/chatView');
  const { ChatController } = await import('../../../src/vscode/chat/chatController');
  const { ChatHistoryStore } = await import('../../../src/core/chat/historyStore');
  const { UnavailableChatBackend } = await import('../../../src/core/chat/backend');
  const posted: { type: string; text?: string }[] = [];
  let receive: ((message: unknown) => void) | undefined;
  const webview = {
    options: {},
    html: '',
    cspSource: 'vscode-resource:',
    asWebviewUri: (uri: Uri) => uri,
    postMessage: (message: { type: string; text?: string }) => {
      posted.push(message);
      return Promise.resolve(true);
    },
    onDidReceiveMessage: (listener: (message: unknown) => void) => {
      receive = listener;
      return { dispose() {} };
    },
  };
  const view = new ChatViewProvider(Uri.parse('file:///extension') as never, log as never);
  view.resolveWebviewView({ webview, onDidDispose: () => ({ dispose() {} }) } as never);
  const controller = new ChatController({
    view,
    log: log as never,
    history: ChatHistoryStore.inFolder(mkdtempSync(join(tmpdir(), 'tokenscope-host-')), 10, log),
    backend: () => new UnavailableChatBackend('test', 'no model in this test'),
    config: () => ({ chat: { thinking: 'auto' } }) as never,
    annotations: {} as never,
    traces: {} as never,
    editors: { editor } as never,
    estimateCost: () => undefined,
    updateSetting: () => Promise.resolve(),
  });
  /** Sends a message as the webview would, and waits for the host to finish with it. */
  const send = async (message: unknown) => {
    receive?.(message);
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  return { posted, send, controller };
}

const notices = (posted: readonly { type: string; text?: string }[]) => posted.filter((message) => message.type === 'notice').map((message) => message.text);
const apis = () => calls.map((call) => call.api);

test('openLink: command: and file: links show a notice and open nothing; http opens only after the user confirms', async () => {
  const { posted, send } = await host();
  calls.length = 0;
  await send({ type: 'openLink', href: 'command:workbench.action.terminal.new' });
  await send({ type: 'openLink', href: 'file:///etc/passwd' });
  await send({ type: 'openLink', href: 'no scheme at all' });
  assert.deepEqual(notices(posted), [
    'Tokenscope opens only http, https and mailto links from model output, not command: links.',
    'Tokenscope opens only http, https and mailto links from model output, not file: links.',
    'Not a link Tokenscope can open: no scheme at all',
  ]);
  assert.deepEqual(apis(), [], 'no confirmation asked, nothing opened, no command run');

  warningAnswer = undefined;
  await send({ type: 'openLink', href: 'https://example.com/docs' });
  assert.deepEqual(apis(), ['window.showWarningMessage'], 'asked, declined: nothing opened');
  assert.match(String(calls[0].args[0]), /^The model's answer links to https:\/\/example\.com\/docs\. Open it in your browser\?$/);
  warningAnswer = 'Open Link';
  await send({ type: 'openLink', href: 'https://example.com/docs' });
  assert.deepEqual(apis(), ['window.showWarningMessage', 'window.showWarningMessage', 'env.openExternal']);
  assert.equal(String(calls[2].args[0]), 'https://example.com/docs');
});

test('codeAction: copy puts the code on the clipboard; replace edits the selection; without an editor or a selection it says what to do', async () => {
  const edits: string[] = [];
  const selection = { isEmpty: false, active: { line: 3 } };
  const editor = {
    selection,
    document: { uri: Uri.parse('file:///a.ts') },
    viewColumn: 1,
    edit: (build: (edit: { replace: (range: unknown, text: string) => void; insert: (at: unknown, text: string) => void }) => void) => {
      build({ replace: (range, text) => edits.push(`replace ${range === selection ? 'the selection' : 'elsewhere'} with ${text}`), insert: (at, text) => edits.push(`insert at line ${(at as { line: number }).line}: ${text}`) });
      return Promise.resolve(true);
    },
  };
  const { posted, send } = await host(editor);
  calls.length = 0;
  await send({ type: 'codeAction', action: 'copy', code: 'const x = 1;' });
  assert.deepEqual(calls.find((call) => call.api === 'env.clipboard.writeText')?.args, ['const x = 1;']);
  await send({ type: 'codeAction', action: 'replace', code: 'const y = 2;' });
  await send({ type: 'codeAction', action: 'insert', code: 'z();' });
  assert.deepEqual(edits, ['replace the selection with const y = 2;', 'insert at line 3: z();']);
  selection.isEmpty = true;
  await send({ type: 'codeAction', action: 'replace', code: 'never' });
  assert.deepEqual(edits.length, 2, 'no edit without a selection');
  assert.deepEqual(notices(posted), ['Select the code to replace in the editor first (or use Insert to add at the cursor).']);

  const alone = await host(undefined);
  await alone.send({ type: 'codeAction', action: 'insert', code: 'x' });
  assert.deepEqual(notices(alone.posted), ['Open a file in the editor first: the code goes into the active editor.']);
});

test('invalid messages from the webview are dropped by the host, with a warning, and do nothing', async () => {
  const { posted, send } = await host();
  calls.length = 0;
  posted.length = 0;
  log.warnings.length = 0;
  for (const message of [null, 'openLink', { type: 'openLink' }, { type: 'openLink', href: 42 }, { type: 'codeAction', action: 'rm -rf', code: 'x' }, { type: 'runCommand', command: 'workbench.action.terminal.new' }, { type: 'openLink', href: 'https://x'.padEnd(5000, 'x') }]) {
    await send(message);
  }
  assert.deepEqual(apis(), []);
  assert.deepEqual(posted, []);
  assert.deepEqual(log.warnings, Array(7).fill('Chat view sent a malformed message; ignored.'));
});
