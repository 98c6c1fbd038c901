// Choose Model → a catalog model downloaded from a local Hub → completions and chat switch to it,
// in a real VS Code (code-server). The local Hub (test/support/fakeHub.ts, 127.0.0.1) serves the
// tiny test model under the catalog entry's real repo id and pinned commit, so the catalog entry,
// the download path (metadata, 302 to the CDN, checksums, cache layout) and the model loader are
// the real ones; only the weights are small. The Hub endpoint setting points the extension at it.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { catalogModel } from '../../src/core/models/catalog';
import { filesFromFolder, startFakeHub, type FakeHub } from '../support/fakeHub';
import { repoRoot, startWorkbench, type Workbench } from './harness/workbench';

const model = catalogModel('qwen2.5-coder-0.5b-instruct')!;

describe('Choose Model and download from the Hub', { timeout: 480_000 }, () => {
  let hub: FakeHub;
  let workbench: Workbench;

  before(async () => {
    hub = await startFakeHub([{ repo: model.repo, commit: model.download.revision, files: filesFromFolder(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-qwen2')) }]);
    // Slow enough (about 6 s for the ~100 kB model) to watch the progress notification.
    hub.faults.throttleBytesPerSecond = 16 * 1024;
    workbench = await startWorkbench({
      name: 'models',
      settings: {
        'tokenscope.model': 'mini',
        'tokenscope.hub.endpoint': hub.endpoint,
        'tokenscope.chat.maxTokens': 16,
        'editor.inlineSuggest.enabled': true,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
      },
    });
  }, { timeout: 300_000 });

  after(async () => {
    await workbench?.stop();
    await hub?.close();
  });

  it('lists the catalog, downloads the picked model with a progress notification, and switches completions and chat to it', async () => {
    const { page } = workbench;
    const quickInput = page.locator('.quick-input-widget');
    await workbench.runCommand('Tokenscope: Choose Model…');
    const row = quickInput.locator('.monaco-list-row', { hasText: model.label }).first();
    await row.waitFor({ state: 'visible' });
    assert.match(await row.innerText(), /completion \+ chat · ~862\.0 MB · Apache-2\.0.*recommended for chat/s);
    assert.ok(await quickInput.locator('.monaco-list-row', { hasText: 'SmolLM2-135M-Instruct' }).count() > 0);
    await workbench.screenshot('choose-model');
    await row.click();

    // The variant picker: recommended first, with sizes, and where the files go.
    const recommended = quickInput.locator('.monaco-list-row', { hasText: 'recommended' }).first();
    await recommended.waitFor({ state: 'visible' });
    assert.match(await recommended.innerText(), /q4.*~862\.0 MB/s);
    assert.match((await quickInput.locator('input.input').getAttribute('placeholder')) ?? '', /Hugging Face cache \(.*huggingface[\\/]hub\), shared with other tools/);
    await workbench.screenshot('choose-model-variant');
    await recommended.click();

    // The progress notification: MB done of total, speed, time left, and a Cancel button.
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: `Downloading ${model.label}` }).first();
    await toast.waitFor({ state: 'visible' });
    await toast.locator('.notification-list-item-details-row, .notification-list-item-message', { hasText: / of .* · .*\/s/ }).first().waitFor({ timeout: 30_000 });
    // Toasts fade in: wait until it is fully opaque before the screenshot.
    await page.waitForFunction(() => {
      const element = document.querySelector<HTMLElement>('.notifications-toasts .notification-toast');
      return element !== null && getComputedStyle(element).opacity === '1';
    });
    await page.waitForTimeout(400);
    assert.ok(await toast.locator('.monaco-button, .action-label', { hasText: 'Cancel' }).count() > 0 || (await toast.innerText()).includes('Cancel'), 'the notification can be cancelled');
    await workbench.screenshot('download-progress');

    await page.locator('.notifications-toasts', { hasText: `now using ${model.label}` }).waitFor({ timeout: 60_000 });
    await workbench.waitForLog(new RegExp(`Download done: ${model.repo.replace('/', '\\/')} → .*snapshots/${model.download.revision}`), 30_000);

    // The files are in the standard Hugging Face cache of this (isolated) profile, as other tools expect.
    const snapshot = join(workbench.server.profileDir, 'home', '.cache', 'huggingface', 'hub', `models--${model.repo.replace('/', '--')}`, 'snapshots', model.download.revision);
    assert.ok(lstatSync(join(snapshot, 'onnx', 'model_q4.onnx')).isSymbolicLink());
    assert.ok(existsSync(join(snapshot, 'tokenizer.json')));
    assert.deepEqual(readdirSync(join(snapshot, '..', '..', 'blobs')).filter((name) => name.endsWith('.incomplete')), []);

    // Completions switch: the status bar names the model, and a completion runs on it.
    await page.locator('.statusbar-item', { hasText: model.label }).first().waitFor({ timeout: 30_000 });
    await workbench.openFile('src/fibonacci.py');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('def add(a, b):', { delay: 30 });
    await page.keyboard.press('Enter');
    await page.keyboard.type('return ', { delay: 30 });
    await page.keyboard.press('Alt+\\');
    await workbench.waitForLog(new RegExp(`Loaded ${model.label.replace(/\./g, '\\.')} \\(q4`), 60_000);
    // The tiny random model often answers nothing useful; what matters is that the request ran on it.
    await workbench.waitForLog(/completion (completed|empty): \d+ prompt \+ [1-9]\d* generated tokens in \d+ ms \(Qwen2\.5-Coder FIM/, 60_000);

    // Chat switches too: the header names the model and an answer streams from it.
    await workbench.runCommand('Tokenscope: Open Chat');
    await page.locator('iframe.webview.ready').first().waitFor({ state: 'attached' });
    const chat = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
    await chat.locator('.status .model', { hasText: model.label }).waitFor({ timeout: 30_000 });
    const input = chat.locator('textarea.input');
    await input.waitFor({ state: 'visible' });
    assert.equal(await input.isDisabled(), false);
    await input.fill('Hello?');
    await input.press('Enter');
    await chat.locator('.message.assistant:not(.streaming) .message-footer').first().waitFor({ timeout: 60_000 });
    await workbench.screenshot('download-switched-chat');

    // Everything went to 127.0.0.1 only, and the extension asked the Hub for nothing it was not told to.
    assert.deepEqual(workbench.externalRequests, []);
    assert.ok(hub.requests.every((request) => request.path.includes(model.repo) || request.path.startsWith('/lfs/')), hub.requests.map((request) => request.path).join('\n'));
    assert.deepEqual(workbench.pageErrors, []);
  });
});
