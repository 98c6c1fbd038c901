import { longestBacktickRun } from '../backticks';
import type { ChatMessage } from './backend';

/** The code to explain, as the editor layer hands it over. */
export interface ExplainSelection {
  /** Workspace-relative path (or the file name of an untitled document). */
  readonly path: string;
  /** VS Code language id, e.g. `typescript`. */
  readonly languageId: string;
  /** 1-based file line of the first selected line. */
  readonly startLine: number;
  /** The selected text, whole lines preferred. */
  readonly text: string;
}

/** Selections longer than this are refused with a message: nobody reads an explanation of 2,000 lines. */
export const maxExplainLines = 400;

/** A fence longer than any backtick run in the code, so the code can never close it early. */
export function fenceFor(code: string): string {
  return '`'.repeat(Math.max(3, longestBacktickRun(code) + 1));
}

/** The selected lines, each prefixed with its real file line number: `L12: code`. */
export function numberLines(text: string, startLine: number): string {
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  const width = String(startLine + lines.length - 1).length;
  return lines.map((line, index) => `L${String(startLine + index).padEnd(width)}: ${line}`).join('\n');
}

export function lastLine(selection: ExplainSelection): number {
  return selection.startLine + selection.text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n').length - 1;
}

/** Language ids whose Markdown fence name differs from the id. */
const fenceLanguage: Readonly<Record<string, string>> = { typescriptreact: 'tsx', javascriptreact: 'jsx', shellscript: 'bash', plaintext: '' };

/**
 * The user message for "Explain selection". It asks for `L<n>` citations because the editor shows
 * each cited sentence beside its line; a model that ignores the format still gets a normal answer.
 */
export function buildExplainPrompt(selection: ExplainSelection): ChatMessage {
  const lineCount = lastLine(selection) - selection.startLine + 1;
  if (selection.text.trim() === '') throw new Error('The selection is empty: select the code to explain first.');
  if (lineCount > maxExplainLines) {
    throw new Error(`The selection has ${lineCount} lines; Explain Selection takes at most ${maxExplainLines}. Select a smaller part (a function or a block).`);
  }
  const end = lastLine(selection);
  const where = selection.startLine === end ? `line ${selection.startLine}` : `lines ${selection.startLine}-${end}`;
  const numbered = numberLines(selection.text, selection.startLine);
  const fence = fenceFor(numbered);
  const language = fenceLanguage[selection.languageId] ?? selection.languageId;
  const content = [
    `Explain this ${languageName(selection.languageId)} code from \`${selection.path}\` (${where}).`,
    `Each line starts with its line number in the file, written \`L<n>: \`; that prefix is not part of the code.`,
    `When you refer to specific lines, cite them as L<n> or L<a>-L<b> (for example L${selection.startLine} or L${selection.startLine}-L${Math.min(end, selection.startLine + 2)}).`,
    `Start with a one-sentence summary, then explain the important parts.`,
    '',
    `${fence}${language}`,
    numbered,
    fence,
  ].join('\n');
  return { role: 'user', content };
}

function languageName(languageId: string): string {
  const names: Readonly<Record<string, string>> = {
    typescript: 'TypeScript', typescriptreact: 'TypeScript (TSX)', javascript: 'JavaScript', javascriptreact: 'JavaScript (JSX)',
    python: 'Python', rust: 'Rust', go: 'Go', java: 'Java', csharp: 'C#', cpp: 'C++', c: 'C', shellscript: 'shell', plaintext: 'plain-text',
  };
  return names[languageId] ?? languageId;
}

/** The short line shown as the user's message in the chat for an explain request. */
export function explainTitle(selection: ExplainSelection): string {
  const end = lastLine(selection);
  return `Explain ${selection.path}:${selection.startLine === end ? selection.startLine : `${selection.startLine}-${end}`}`;
}
