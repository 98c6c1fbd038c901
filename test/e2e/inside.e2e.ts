// Inside the model, end to end in a real VS Code (code-server) in headless chromium: the cursor on a
// token of a TypeScript file, Show Attention at Cursor shades the earlier tokens; stepping to layer 1,
// head 1 with the arrow keys changes what is shown, and hovering the most-attended token shows its
// weight; in learning mode the same hover shows the token's embedding; the Inside the Model page
// shows the logit lens layer by layer. Every expected number comes from the built-in model run here
// in process on the same text (the same requests the editor sends), not from the screen.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { shadedTokens } from '../../src/core/inside/attentionView';
import { attentionRow, attentionWindow, charsBefore, type AttentionResult, type LensResult, type NeighboursResult } from '../../src/core/runtime/inspectTypes';
import { LocalModel } from '../../src/core/runtime/localModel';
import { evaluateSource, findFrame, repoRoot, sampleWorkspace, startWorkbench, waitUntilShown, type Workbench } from './harness/workbench';

const fileText = readFileSync(join(sampleWorkspace, 'src', 'inventory.ts'), 'utf8');
const fileLines = fileText.split('\n');
const lineStart = (line: number) => fileLines.slice(0, line).reduce((sum, text) => sum + text.length + 1, 0);
const cursorLine = fileLines.findIndex((line) => line.includes('total += item.priceCents * item.quantity'));
const cursorColumn = fileLines[cursorLine].indexOf('quantity');
const cursorOffset = lineStart(cursorLine) + cursorColumn;

/** The middle (or a fraction) of one character of a rendered line, in page pixels. */
async function characterPoint(page: Page, lineText: string, column: number, fraction = 0.5): Promise<{ x: number; y: number }> {
  const line = page.locator('.editor-group-container.active .view-lines .view-line').filter({ hasText: new RegExp(lineText.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s')) }).first();
  const span = line.locator(':scope > span').first();
  let box: { x: number; y: number; width: number; height: number } | null = null;
  for (let attempt = 0; attempt < 20 && !box; attempt++) {
    await span.waitFor({ state: 'visible' });
    box = await span.boundingBox({ timeout: 1000 }).catch(() => null);
    if (!box) await page.waitForTimeout(250);
  }
  assert.ok(box, `the line "${lineText}" is on screen`);
  return { x: box.x + (box.width / lineText.length) * (column + fraction), y: box.y + box.height / 2 };
}

describe('Inside the model in a real VS Code', { timeout: 300_000 }, () => {
  let workbench: Workbench;
  let attention: AttentionResult;
  let lens: LensResult;
  let model: LocalModel;

  before(async () => {
    model = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
    const window = attentionWindow(fileText, cursorOffset, 512);
    attention = await model.inspect({ kind: 'attention', text: window.text, offset: window.offset });
    lens = await model.inspect({ kind: 'lens', prompt: fileText.slice(Math.max(0, cursorOffset - charsBefore(512)), cursorOffset), top: 5 });
    workbench = await startWorkbench({
      name: 'inside',
      settings: { 'tokenscope.completions.enabled': false, 'tokenscope.tokenLens.hover': false, 'tokenscope.inside.learningMode': true, 'editor.hover.delay': 300 },
    });
  }, { timeout: 240_000 });

  after(async () => {
    await workbench?.stop();
    await model?.dispose();
  });

  it('shades what the cursor token attends to, steps to layer 1 head 1 with the arrow keys, and hovers show the weight and the embedding', async () => {
    const { page } = workbench;
    await workbench.openFile('src/inventory.ts');
    const lineText = fileLines[cursorLine];
    await page.locator('.editor-group-container.active .view-lines', { hasText: 'class Inventory' }).waitFor();
    const at = await characterPoint(page, lineText, cursorColumn, 0.2);
    await page.mouse.click(at.x, at.y);
    await workbench.runCommand('Tokenscope: Show Attention at Cursor');
    const status = page.locator('.statusbar-item', { hasText: 'Attention:' }).first();
    await status.waitFor({ state: 'visible', timeout: 120_000 });
    assert.match(await status.innerText(), /Attention: all layers, mean of heads/);
    const shadedLines = page.locator('.editor-group-container.active .view-overlays div[class*="ced-"]');
    await shadedLines.first().waitFor({ state: 'attached' });
    // The shading as drawn: each decorated span's class (its level) and place.
    const shading = () => evaluateSource<string>(page.locator('.editor-group-container.active .view-overlays').first(), `(overlays) => Array.from(overlays.querySelectorAll('div[class*="ced-"]')).map((band) => band.className + '@' + band.parentElement.style.top + ':' + band.style.left).sort().join('|')`);
    const meanShading = await shading();
    await workbench.screenshot('inside-attention-mean');

    // The arrow keys step the layer, then the head.
    await page.keyboard.press('Control+Shift+Alt+ArrowDown');
    await page.locator('.statusbar-item', { hasText: 'Attention: layer 1, mean of heads' }).waitFor({ state: 'visible' });
    await page.keyboard.press('Control+Shift+Alt+ArrowRight');
    await page.locator('.statusbar-item', { hasText: 'Attention: layer 1, head 1' }).waitFor({ state: 'visible' });

    // The most-attended earlier token on the cursor's line, for layer 1 head 1, as the model says here.
    const row = attentionRow(attention, 1, 1);
    const lineBase = lineStart(cursorLine);
    const window = attentionWindow(fileText, cursorOffset, 512);
    const onLine = shadedTokens(attention, { layer: 1, head: 1 }).filter((token) => window.base + attention.tokens[token.index].start >= lineBase);
    assert.ok(onLine.length > 0, 'something on the line is shaded');
    const target = onLine.reduce((best, token) => (token.weight > best.weight ? token : best));
    const targetColumn = window.base + attention.tokens[target.index].start - lineBase;
    const targetText = fileText.slice(window.base + attention.tokens[target.index].start, window.base + attention.tokens[target.index].end);
    // Layer 1, head 1 shades other tokens (or the same ones at other levels) than the mean of everything.
    const meanTokens = shadedTokens(attention, {}).map((token) => `${token.index}:${token.level}`).join(',');
    assert.notEqual(shadedTokens(attention, { layer: 1, head: 1 }).map((token) => `${token.index}:${token.level}`).join(','), meanTokens);
    let headShading = await shading();
    for (let attempt = 0; attempt < 20 && headShading === meanShading; attempt++) {
      await page.waitForTimeout(100);
      headShading = await shading();
    }
    assert.notEqual(headShading, meanShading, 'the shading follows the layer and head');
    await workbench.screenshot('inside-attention-layer1-head1');
    const point = await characterPoint(page, lineText, targetColumn + Math.floor(targetText.trimStart().length / 2) + (targetText.length - targetText.trimStart().length));
    await page.mouse.move(point.x, point.y);
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'Attention' }).first();
    await waitUntilShown(hover, 30_000);
    const expectedWeight = `${(100 * row[target.index]).toFixed(1)}%`;
    await page.locator('.monaco-hover:not(.hidden)', { hasText: 'Embedding of' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    const hoverText = await hover.innerText();
    assert.match(hoverText, new RegExp(`Attention ${expectedWeight.replace('.', '\\.')} from`), hoverText);
    assert.match(hoverText, /\(layer 1, head 1\)/);
    // The embedding part: the hovered token's vector as the model stores it.
    const hoverOffset = lineBase + targetColumn + Math.floor(targetText.trimStart().length / 2) + (targetText.length - targetText.trimStart().length);
    const hoverStart = lineStart(Math.max(0, cursorLine - 2));
    const hoverEnd = lineStart(Math.min(fileLines.length - 1, cursorLine + 2)) + fileLines[Math.min(fileLines.length - 1, cursorLine + 2)].length;
    const embedding: NeighboursResult = await model.inspect({ kind: 'neighbours', token: '', top: 8, at: { text: fileText.slice(hoverStart, hoverEnd), offset: hoverOffset - hoverStart } });
    assert.ok(hoverText.includes(`[${embedding.vector.map((value) => value.toFixed(2)).join(', ')}, …]`), hoverText);
    assert.ok(hoverText.includes(`norm ${embedding.norm.toFixed(2)}`));
    await workbench.screenshot('inside-attention-hover');
    assert.deepEqual(workbench.pageErrors, []);
  });

  it('shows the logit lens for the cursor position, layer 1 to the output, on the Inside the Model page', async () => {
    const { page } = workbench;
    await page.keyboard.press('Escape');
    await workbench.runCommand('Tokenscope: Show What Each Layer Predicts (Logit Lens)');
    const frame = await findFrame(page, 'table.lens');
    const rows = frame.locator('table.lens tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), lens.layers.length);
    const last = await rows.nth(lens.layers.length - 1).innerText();
    assert.match(last, new RegExp(`^${lens.layers.length} \\(output\\)`));
    const top = lens.layers.at(-1)!.tokens[0];
    assert.ok(last.includes(`${JSON.stringify(top.text).slice(1, -1)}`) && last.includes(`${(100 * top.probability).toFixed(1)}%`), last);
    assert.match(await frame.locator('.lesson').innerText(), /^Notice: /);
    assert.equal(await frame.locator('table.grid tr').count(), attention.layers + 1);
    await workbench.screenshot('inside-logit-lens');
    assert.deepEqual(workbench.webviewErrors, []);
    assert.deepEqual(workbench.externalRequests, []);
  });

  it('Find Similar Tokens lists the nearest tokens by cosine, as the model computes them', async () => {
    const { page } = workbench;
    const expected = await model.inspect({ kind: 'neighbours', token: ' return', top: 20 });
    await workbench.runCommand('Tokenscope: Find Similar Tokens…');
    const quickInput = page.locator('.quick-input-widget');
    const input = quickInput.locator('input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(' return');
    await page.keyboard.press('Enter');
    const title = quickInput.locator('.quick-input-title', { hasText: 'Nearest to' });
    await title.waitFor({ state: 'visible', timeout: 60_000 });
    assert.ok((await title.innerText()).includes(`token ${expected.id}`));
    const rows = quickInput.locator('.monaco-list-row .label-name');
    await rows.first().waitFor({ state: 'visible' });
    // Each row's label (the detail line, "token N", is a label too).
    const shown = (await rows.allTextContents()).filter((text) => !/^token \d+$/.test(text));
    assert.deepEqual(shown.slice(0, 5), expected.neighbours.slice(0, 5).map((neighbour) => JSON.stringify(neighbour.text)));
    await workbench.screenshot('inside-similar-tokens');
    await page.keyboard.press('Escape');
  });

  it('the picker chooses a layer and head (Choose Attention Layer and Head…)', async () => {
    const { page } = workbench;
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    await workbench.runCommand('Tokenscope: Choose Attention Layer and Head…');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill('Layer 2, head 2');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Layer 2, head 2' }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await page.locator('.statusbar-item', { hasText: 'Attention: layer 2, head 2' }).waitFor({ state: 'visible' });
    assert.deepEqual(workbench.pageErrors, []);
  });
});
