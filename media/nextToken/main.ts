/**
 * The "What comes next?" panel's script (a browser, no Node): it draws the state the extension
 * sends over src/core/webview/nextTokenProtocol.ts (the next-token bars, the sampling controls,
 * the steps taken) and sends what the user does. Text goes in as textContent only.
 */
import type { Reshaping } from '../../src/core/probabilities/distribution';
import type { NextTokenFromWebview, NextTokenToWebview, NextTokenViewState } from '../../src/core/webview/nextTokenProtocol';

interface VsCodeApi {
  postMessage(message: NextTokenFromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- layout: header, context, controls, bars ------------------------------------------------
const header = element('div', 'header');
const model = element('span', 'model');
const timing = element('span', 'timing');
header.append(model, timing);
const context = element('pre', 'context');
const steps = element('div', 'steps');

const controls = element('div', 'controls');
function slider(label: string, name: string, min: number, max: number, step: number): { input: HTMLInputElement; value: HTMLSpanElement } {
  const row = element('label', 'control');
  row.append(element('span', 'control-label', label));
  const input = element('input', name);
  input.type = 'range';
  input.min = String(min);
  input.max = String(max);
  input.step = String(step);
  input.setAttribute('aria-label', label);
  const value = element('span', 'control-value');
  row.append(input, value);
  controls.append(row);
  return { input, value };
}
const temperature = slider('Temperature', 'temperature', 0, 2, 0.05);
const topP = slider('Top-p', 'top-p', 0.05, 1, 0.05);
const topKRow = element('label', 'control');
topKRow.append(element('span', 'control-label', 'Top-k'));
const topK = element('input', 'top-k');
topK.type = 'number';
topK.min = '0';
topK.max = '1000';
topK.step = '1';
topK.setAttribute('aria-label', 'Top-k (0: off)');
topKRow.append(topK, element('span', 'control-value', '0 = off'));
controls.append(topKRow);

const actions = element('div', 'actions');
const sample = element('button', 'sample');
sample.type = 'button';
const seedInput = element('input', 'seed');
seedInput.type = 'number';
seedInput.min = '0';
seedInput.setAttribute('aria-label', 'Seed of the next sample');
const greedy = element('button', 'greedy', 'Greedy');
greedy.type = 'button';
greedy.title = 'Insert the most likely token';
const sampled = element('span', 'sampled');
actions.append(sample, element('span', 'seed-label', 'seed'), seedInput, greedy, sampled);

const notice = element('div', 'notice');
const bars = element('div', 'bars');
bars.setAttribute('role', 'list');
const footer = element('div', 'footer');
const other = element('span', 'other');
const candidates = element('span', 'candidates');
footer.append(other, candidates);
app.append(header, context, steps, controls, actions, notice, bars, footer);

// ---- what the user does ---------------------------------------------------------------------
let reshapeTimer: ReturnType<typeof setTimeout> | undefined;
function currentReshaping(): Reshaping {
  const k = Math.max(0, Math.floor(Number(topK.value) || 0));
  return { temperature: Number(temperature.input.value), topP: Math.max(0.01, Math.min(1, Number(topP.input.value))), topK: k };
}
function showValues(): void {
  temperature.value.textContent = Number(temperature.input.value) === 0 ? '0 (greedy)' : Number(temperature.input.value).toFixed(2);
  topP.value.textContent = Number(topP.input.value) >= 1 ? '1 (off)' : Number(topP.input.value).toFixed(2);
}
function onControl(): void {
  showValues();
  if (reshapeTimer) clearTimeout(reshapeTimer);
  reshapeTimer = setTimeout(() => vscode.postMessage({ type: 'reshape', reshaping: currentReshaping() }), 40);
}
for (const input of [temperature.input, topP.input, topK]) input.addEventListener('input', onControl);
sample.addEventListener('click', () => vscode.postMessage({ type: 'sample', seed: Math.max(0, Math.floor(Number(seedInput.value) || 0)) }));
greedy.addEventListener('click', () => vscode.postMessage({ type: 'greedy' }));

// ---- drawing the state ----------------------------------------------------------------------
function render(state: NextTokenViewState): void {
  model.textContent = state.modelLabel ? `${state.modelLabel}: the next token` : 'The next token';
  timing.textContent = state.busy ? 'computing…' : state.refreshMs !== undefined ? `${state.refreshMs} ms` : '';
  context.textContent = state.contextTail.length > 0 ? `…${state.contextTail}▌` : '▌ (the start of the file)';
  steps.textContent = state.steps.length > 0 ? `Inserted: ${state.steps.join(' | ')}` : 'Choose a token to insert it and see the next distribution.';
  // Controls follow the extension's state unless the user is moving them now.
  if (document.activeElement !== temperature.input) temperature.input.value = String(state.reshaping.temperature);
  if (document.activeElement !== topP.input) topP.input.value = String(state.reshaping.topP);
  if (document.activeElement !== topK) topK.value = String(state.reshaping.topK);
  if (document.activeElement !== seedInput) seedInput.value = String(state.seed);
  showValues();
  sample.textContent = `Sample one`;
  sample.title = `Draw a token with temperature ${state.reshaping.temperature}, top-p ${state.reshaping.topP}, top-k ${state.reshaping.topK} and seed ${state.seed} (the same seed draws the same token)`;
  sampled.textContent = state.lastSample ? `last sample: ${state.lastSample.label} (seed ${state.lastSample.seed})` : '';
  notice.textContent = state.notice ?? '';
  notice.hidden = !state.notice;
  bars.classList.toggle('busy', state.busy);
  bars.replaceChildren();
  for (const row of state.rows) {
    const item = element('button', `bar${row.excluded ? ' excluded' : ''}`);
    item.type = 'button';
    item.setAttribute('role', 'listitem');
    item.title = row.title;
    item.dataset.tokenId = String(row.id);
    const label = element('span', 'token', row.label);
    const track = element('span', 'track');
    const fill = element('span', 'fill');
    fill.style.width = `${row.width}%`;
    track.append(fill);
    const percent = element('span', 'percent', row.percent);
    item.append(label, track, percent);
    item.addEventListener('click', () => vscode.postMessage({ type: 'choose', id: row.id }));
    bars.append(item);
  }
  other.textContent = state.other;
  candidates.textContent = state.candidates;
}

window.addEventListener('message', (event: MessageEvent<NextTokenToWebview>) => {
  if (event.data?.type === 'state') render(event.data.state);
});
vscode.postMessage({ type: 'ready' });
