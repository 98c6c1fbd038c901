/**
 * The shell of every Tokenscope webview page and the one way text enters its HTML. Free of
 * `vscode` and of Node, so pages built from it are unit-tested as text and the chat webview
 * (media/chat) uses the same escaping. The host side (CSP sources, nonce, asset URIs) is
 * src/vscode/webviewHtml.ts.
 */

const entities: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML: safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char] as string);
}

/** A page: UTF-8, its Content-Security-Policy (the page's own directives), viewport and title. */
export function webviewDocument(page: { readonly csp: readonly string[]; readonly title: string; readonly head: string; readonly body: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${page.csp.join('; ')}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${page.title}</title>
${page.head}
</head>
<body>
${page.body}
</body>
</html>`;
}
