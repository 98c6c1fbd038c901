/**
 * The shell of every Tokenscope webview page: UTF-8, its Content-Security-Policy (the page's own
 * directives), viewport and title. Free of `vscode`, so pages built from it are unit-tested as text.
 */
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
