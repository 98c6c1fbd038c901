import * as vscode from 'vscode';
import { defaultEngineSettings } from '../core/completions/defaults';

/** Every Tokenscope setting, typed. Declared (with defaults and descriptions) in package.json. */
export interface TokenscopeConfig {
  readonly model: string;
  readonly modelVariant: 'auto' | 'q4' | 'q4f16' | 'int8' | 'fp16' | 'fp32';
  readonly runtimeThreads: number;
  /** 4-bit MatMulNBits with int8 activations ('fast') or as exported ('exact'). */
  readonly runtimeMatmulPrecision: 'fast' | 'exact';
  readonly completions: {
    readonly enabled: boolean;
    readonly debounceMs: number;
    readonly maxTokens: number;
    readonly linesBefore: number;
    readonly linesAfter: number;
    readonly triggerInMiddleOfWord: boolean;
    readonly extraContext: boolean;
    readonly minConfidence: number;
  };
  readonly tokenLens: {
    readonly showBoundaries: boolean;
    readonly tokenizer: string;
    readonly maxFileSizeKB: number;
    readonly hover: boolean;
  };
  readonly cost: {
    readonly referenceModel: string;
    /** Raw entries; validated by the pricing core, which reports bad ones. */
    readonly customModels: readonly unknown[];
  };
  readonly chat: {
    readonly thinking: 'auto' | 'on' | 'off';
    readonly temperature: number;
    readonly topP: number;
    readonly maxTokens: number;
    readonly historyLimit: number;
  };
}

export const configSection = 'tokenscope';

/** Settings whose change needs the model process to load a different model. */
export const settingsThatReloadModel = ['tokenscope.model', 'tokenscope.modelVariant', 'tokenscope.runtime.threads', 'tokenscope.runtime.matmulPrecision'] as const;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function clampNumber(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

/**
 * Reads the settings once into a plain object. VS Code validates types in the Settings UI only, so
 * a hand-edited settings.json can hold anything: every value is checked and falls back to its
 * default rather than reaching the core malformed.
 */
export function readConfig(scope?: vscode.ConfigurationScope): TokenscopeConfig {
  const c = vscode.workspace.getConfiguration(configSection, scope);
  const str = (key: string, fallback: string) => {
    const value = c.get<unknown>(key);
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
  };
  const bool = (key: string, fallback: boolean) => {
    const value = c.get<unknown>(key);
    return typeof value === 'boolean' ? value : fallback;
  };
  const customModels = c.get<unknown>('cost.customModels');
  return {
    model: str('model', 'mini'),
    modelVariant: oneOf(c.get('modelVariant'), ['auto', 'q4', 'q4f16', 'int8', 'fp16', 'fp32'] as const, 'auto'),
    runtimeThreads: Math.round(clampNumber(c.get('runtime.threads'), 0, 0, 64)),
    runtimeMatmulPrecision: oneOf(c.get('runtime.matmulPrecision'), ['fast', 'exact'] as const, 'fast'),
    // The completion engine's defaults are the one source (the CLI and the bench use them too);
    // a unit test keeps package.json's declared defaults equal to them.
    completions: {
      enabled: bool('completions.enabled', true),
      debounceMs: Math.round(clampNumber(c.get('completions.debounceMs'), defaultEngineSettings.debounceMs, 0, 2000)),
      maxTokens: Math.round(clampNumber(c.get('completions.maxTokens'), defaultEngineSettings.maxTokens, 1, 512)),
      linesBefore: Math.round(clampNumber(c.get('completions.linesBefore'), defaultEngineSettings.linesBefore, 1, 4096)),
      linesAfter: Math.round(clampNumber(c.get('completions.linesAfter'), defaultEngineSettings.linesAfter, 0, 4096)),
      triggerInMiddleOfWord: bool('completions.triggerInMiddleOfWord', defaultEngineSettings.triggerInMiddleOfWord),
      extraContext: bool('completions.extraContext', defaultEngineSettings.extraContext),
      minConfidence: clampNumber(c.get('completions.minConfidence'), defaultEngineSettings.minConfidence, 0, 1),
    },
    tokenLens: {
      showBoundaries: bool('tokenLens.showBoundaries', false),
      tokenizer: str('tokenLens.tokenizer', 'model'),
      maxFileSizeKB: Math.round(clampNumber(c.get('tokenLens.maxFileSizeKB'), 2048, 16, 65536)),
      hover: bool('tokenLens.hover', true),
    },
    cost: {
      referenceModel: str('cost.referenceModel', 'gpt-4o'),
      customModels: Array.isArray(customModels) ? customModels : [],
    },
    chat: {
      thinking: oneOf(c.get('chat.thinking'), ['auto', 'on', 'off'] as const, 'auto'),
      temperature: clampNumber(c.get('chat.temperature'), 0.7, 0, 2),
      topP: clampNumber(c.get('chat.topP'), 0.95, 0, 1),
      maxTokens: Math.round(clampNumber(c.get('chat.maxTokens'), 1024, 16, 32768)),
      historyLimit: Math.round(clampNumber(c.get('chat.historyLimit'), 50, 1, 1000)),
    },
  };
}

/** Writes one setting at the user (global) level, where a picker's choice belongs. */
export async function updateSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(configSection).update(key, value, vscode.ConfigurationTarget.Global);
}

/**
 * Calls `listener` with fresh settings whenever a Tokenscope setting changes. The event says which
 * keys changed, so a listener can restart only what depends on them.
 */
export function onConfigChange(listener: (config: TokenscopeConfig, event: vscode.ConfigurationChangeEvent) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration(configSection)) listener(readConfig(), event);
  });
}
