// Runs inside VS Code's extension host (@vscode/test-electron loads this file and calls run()).
// No test framework: each check throws with a message that says what is wrong.
const assert = require('node:assert/strict');
const vscode = require('vscode');

const EXTENSION_ID = 'tokenscope.tokenscope';

async function check(name, body) {
  const started = Date.now();
  await body();
  console.log(`  ok  ${name} (${Date.now() - started} ms)`);
}

exports.run = async function run() {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  await check('the extension is installed', () => assert.ok(extension, `${EXTENSION_ID} is not among the loaded extensions`));

  await check('it activates', async () => {
    await extension.activate();
    assert.equal(extension.isActive, true, 'activate() returned but the extension is not active');
  });

  await check('every contributed command is registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const declared = extension.packageJSON.contributes.commands.map((command) => command.command);
    const missing = declared.filter((command) => !registered.has(command));
    assert.deepEqual(missing, [], 'contributed commands without a registration');
  });

  await check('"Tokenscope: Show Logs" runs', () => vscode.commands.executeCommand('tokenscope.showLogs'));
};
