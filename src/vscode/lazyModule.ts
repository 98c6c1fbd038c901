import { join } from 'node:path';

/**
 * A feature's code, loaded from its own bundle (`dist/<bundle>.js`, built by esbuild.mjs) the first
 * time it is used instead of at activation: most of activation is compiling the extension's bundle,
 * and that grows with how busy the machine is. Type it with `typeof import('./module')`, which
 * names the module without bundling it.
 */
export function lazyModule<T>(extensionPath: string, bundle: string): () => T {
  let loaded: T | undefined;
  return () => {
    // A computed path: esbuild leaves this require to run time instead of bundling the module.
    loaded ??= require(join(extensionPath, 'dist', `${bundle}.js`)) as T;
    return loaded;
  };
}
