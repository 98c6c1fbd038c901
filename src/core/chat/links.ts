/** Links in model output: which ones the chat offers to open (model output is untrusted). */

/** The only schemes a link from an answer may open, and then only after the user confirms. */
export const openableLinkSchemes: readonly string[] = ['http', 'https', 'mailto'];

/** Why a parsed link is not opened, or undefined when it may be offered. */
export function linkRefusal(scheme: string): string | undefined {
  if (openableLinkSchemes.includes(scheme)) return undefined;
  return `Tokenscope opens only http, https and mailto links from model output, not ${scheme}: links.`;
}

/** The question asked before a link from an answer opens. */
export function linkConfirmation(href: string): { readonly message: string; readonly detail: string; readonly open: string } {
  return { message: `The model's answer links to ${href}. Open it in your browser?`, detail: 'Model output is untrusted: check the address first.', open: 'Open Link' };
}
