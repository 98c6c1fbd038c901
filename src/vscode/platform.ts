/**
 * The platforms this build carries an ONNX Runtime binary for. The VSIX is built per platform
 * (`vsce package --target`), and only linux-x64 is built today; anything else gets a clear message
 * at activation instead of a native-module stack trace on first use.
 */
export const supportedPlatforms: readonly string[] = ['linux-x64'];

export function currentPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

export function unsupportedPlatformMessage(platform = currentPlatform()): string | undefined {
  if (supportedPlatforms.includes(platform)) return undefined;
  return `Tokenscope's local model runtime is not built for ${platform} yet (this build carries ${supportedPlatforms.join(', ')}). ` +
    'Token counts and costs still work; completions and chat need a supported platform.';
}
