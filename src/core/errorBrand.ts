/**
 * `instanceof` for error classes that cross bundles. The lazily loaded bundles (dist/completions.js,
 * dist/servers.js, dist/hubPull.js; src/vscode/lazyModule.ts) each carry their own copy of the core
 * classes they use, so an error thrown by one bundle's copy fails a prototype check against
 * another's: a cancelled download, an API key the server asked for, a model process that stopped
 * restarting. Such a class marks its instances with a registered symbol (the same in every copy) and
 * answers `instanceof` by that mark.
 */
export function errorBrand(name: string): { readonly mark: (error: Error) => void; readonly has: (value: unknown) => boolean } {
  const brand = Symbol.for(`tokenscope.error.${name}`);
  return {
    mark: (error) => Object.defineProperty(error, brand, { value: true }),
    has: (value) => typeof value === 'object' && value !== null && (value as { [brand]?: unknown })[brand] === true,
  };
}
