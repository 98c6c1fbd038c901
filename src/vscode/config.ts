import * as vscode from 'vscode';
import { defaultEngineSettings } from '../core/completions/defaults';
import type { LoadModelRequest } from '../core/runtime/types';
import type { EngineSettings } from '../core/completions/types';

/**
 * Every Tokenscope setting in one place: the typed keys (what `updateSetting` writes and
 * `affectsSetting` asks about), the settings that reload the model, and `readConfig`, which reads
 * and validates them all into one object. The settings themselves (types, defaults, descriptions,
 * scope) are declared in package.json; the compiler keeps the keys here equal to that list.
 */

/** Every Tokenscope setting, typed. Declared (with defaults and descriptions) in package.json. */
export interface TokenscopeConfig {
  readonly model: string;
  readonly modelVariant: 'auto' | 'q4' | 'q4f16' | 'int8' | 'fp16' | 'fp32';
  readonly runtimeThreads: number;
  /** 4-bit MatMulNBits with int8 activations ('fast') or as exported ('exact'). */
  readonly runtimeMatmulPrecision: 'fast' | 'exact';
  /** The engine's settings that are user settings (the rest keep the engine's defaults). */
  readonly completions: Pick<EngineSettings, 'debounceMs' | 'maxTokens' | 'linesBefore' | 'linesAfter' | 'triggerInMiddleOfWord' | 'extraContext' | 'minConfidence'> & {
    readonly enabled: boolean;
    /** `local`: the model process; `server`: an OpenAI-compatible server (serverUrl, serverModel). */
    readonly backend: Backend;
    readonly serverUrl: string;
    readonly serverModel: string;
    /** Colour an accepted completion's tokens by their probability (hover: alternatives). */
    readonly confidenceColouring: boolean;
  };
  readonly tokenLens: {
    readonly showBoundaries: boolean;
    readonly tokenizer: string;
    readonly maxFileSizeKB: number;
    readonly hover: boolean;
  };
  readonly inside: {
    /** Hovers also show the token's embedding and nearest tokens. */
    readonly learningMode: boolean;
  };
  readonly cost: {
    readonly referenceModel: string;
    /** Token count and input cost at the end of each top-level block (and a held selection). */
    readonly showBlockCosts: boolean;
    /** Raw entries; validated by the pricing core, which reports bad ones. */
    readonly customModels: readonly unknown[];
  };
  readonly hub: {
    /** A Hub mirror; '' means HF_ENDPOINT, else https://huggingface.co. */
    readonly endpoint: string;
    /** Never touch the network for models; use the Hugging Face cache. */
    readonly offline: boolean;
  };
  readonly chat: {
    readonly thinking: 'auto' | 'on' | 'off';
    readonly temperature: number;
    readonly topP: number;
    readonly maxTokens: number;
    readonly historyLimit: number;
    readonly backend: Backend;
    readonly serverUrl: string;
    readonly serverModel: string;
    /** The hidden `chat.testBackend`: a transcript folder to replay (tests and screenshots); '' when unset. */
    readonly testBackend: string;
  };
  readonly server: {
    /** Extra HTTP headers for every server request (gateways). */
    readonly headers: Readonly<Record<string, string>>;
    /** First byte of an answer within this; a stream silent for half of it has stalled. */
    readonly timeoutSeconds: number;
    readonly completionPrompt: 'auto' | 'token-ids' | 'text' | 'suffix';
  };
}

export type Backend = 'local' | 'server';

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(entry[0])));
}

export const configSection = 'tokenscope';

/**
 * Each setting's key (without `tokenscope.`) and the type `updateSetting` writes. Raw values read
 * back may be anything (settings.json is hand-edited): readConfig validates them.
 */
export interface SettingValues {
  'model': string;
  'modelVariant': TokenscopeConfig['modelVariant'];
  'runtime.threads': number;
  'runtime.matmulPrecision': TokenscopeConfig['runtimeMatmulPrecision'];
  'hub.endpoint': string;
  'hub.offline': boolean;
  'completions.enabled': boolean;
  'completions.debounceMs': number;
  'completions.maxTokens': number;
  'completions.linesBefore': number;
  'completions.linesAfter': number;
  'completions.triggerInMiddleOfWord': boolean;
  'completions.extraContext': boolean;
  'completions.minConfidence': number;
  'completions.backend': Backend;
  'completions.serverUrl': string;
  'completions.serverModel': string;
  'completions.confidenceColouring': boolean;
  'tokenLens.showBoundaries': boolean;
  'tokenLens.tokenizer': string;
  'tokenLens.maxFileSizeKB': number;
  'tokenLens.hover': boolean;
  'inside.learningMode': boolean;
  'cost.referenceModel': string;
  'cost.showBlockCosts': boolean;
  'cost.customModels': readonly unknown[];
  'chat.thinking': TokenscopeConfig['chat']['thinking'];
  'chat.temperature': number;
  'chat.topP': number;
  'chat.maxTokens': number;
  'chat.backend': Backend;
  'chat.serverUrl': string;
  'chat.serverModel': string;
  'chat.historyLimit': number;
  'chat.testBackend': string;
  'server.headers': Readonly<Record<string, string>>;
  'server.timeoutSeconds': number;
  'server.completionPrompt': TokenscopeConfig['server']['completionPrompt'];
}

export type SettingKey = keyof SettingValues;

/** A group of settings: asking about one asks about every key under it. */
export type SettingGroup = SettingKey extends infer K ? (K extends `${infer Group}.${string}` ? Group : never) : never;

/** Settings deliberately not contributed in package.json (tests and demo screenshots only). */
type HiddenSetting = 'chat.testBackend';

// The keys above are exactly package.json's `contributes.configuration.properties`: a setting
// declared there but missing here, or typed here but never declared, fails the typecheck.
type DeclaredSetting = keyof (typeof import('../../package.json'))['contributes']['configuration']['properties'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type SettingKeysMatchPackageJson = Holds<Same<`tokenscope.${Exclude<SettingKey, HiddenSetting>}`, DeclaredSetting>>;

/**
 * The settings whose change makes the model process load the model again, each with the field of
 * the load request it sets (core/runtime/types.ts, what `sameLoadRequest` compares). The compiler
 * checks that every field of LoadModelRequest has its setting here.
 */
const loadRequestSettings = { model: 'model', modelVariant: 'variant', 'runtime.threads': 'threads', 'runtime.matmulPrecision': 'matmulPrecision' } as const satisfies Partial<Record<SettingKey, keyof LoadModelRequest>>;
export type LoadRequestSettingsComplete = Holds<Same<(typeof loadRequestSettings)[keyof typeof loadRequestSettings], keyof LoadModelRequest>>;

/** Whatever depends on the loaded model listens to these. */
export const settingsThatReloadModel = Object.keys(loadRequestSettings) as readonly (keyof typeof loadRequestSettings)[];

/** The full id of a setting or group, as VS Code's settings UI and events name it (`tokenscope.chat.maxTokens`). */
export function settingId(key: SettingKey | SettingGroup): string {
  return `${configSection}.${key}`;
}

/** Whether a configuration change touched any of these settings or groups. */
export function affectsSetting(event: vscode.ConfigurationChangeEvent, ...keys: readonly (SettingKey | SettingGroup)[]): boolean {
  return keys.some((key) => event.affectsConfiguration(settingId(key)));
}

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
  const configuration = vscode.workspace.getConfiguration(configSection, scope);
  const c = { get: (key: SettingKey): unknown => configuration.get<unknown>(key) };
  const str = (key: SettingKey, fallback: string) => {
    const value = c.get(key);
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
  };
  const bool = (key: SettingKey, fallback: boolean) => {
    const value = c.get(key);
    return typeof value === 'boolean' ? value : fallback;
  };
  const customModels = c.get('cost.customModels');
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
      backend: oneOf(c.get('completions.backend'), ['local', 'server'] as const, 'local'),
      serverUrl: str('completions.serverUrl', ''),
      serverModel: str('completions.serverModel', ''),
      confidenceColouring: bool('completions.confidenceColouring', false),
    },
    tokenLens: {
      showBoundaries: bool('tokenLens.showBoundaries', false),
      tokenizer: str('tokenLens.tokenizer', 'model'),
      maxFileSizeKB: Math.round(clampNumber(c.get('tokenLens.maxFileSizeKB'), 2048, 16, 65536)),
      hover: bool('tokenLens.hover', true),
    },
    inside: {
      learningMode: bool('inside.learningMode', false),
    },
    cost: {
      referenceModel: str('cost.referenceModel', 'gpt-4o'),
      showBlockCosts: bool('cost.showBlockCosts', false),
      customModels: Array.isArray(customModels) ? customModels : [],
    },
    hub: {
      endpoint: str('hub.endpoint', ''),
      offline: bool('hub.offline', false),
    },
    chat: {
      thinking: oneOf(c.get('chat.thinking'), ['auto', 'on', 'off'] as const, 'auto'),
      temperature: clampNumber(c.get('chat.temperature'), 0.7, 0, 2),
      topP: clampNumber(c.get('chat.topP'), 0.95, 0, 1),
      maxTokens: Math.round(clampNumber(c.get('chat.maxTokens'), 1024, 16, 32768)),
      historyLimit: Math.round(clampNumber(c.get('chat.historyLimit'), 50, 1, 1000)),
      backend: oneOf(c.get('chat.backend'), ['local', 'server'] as const, 'local'),
      serverUrl: str('chat.serverUrl', ''),
      serverModel: str('chat.serverModel', ''),
      testBackend: str('chat.testBackend', ''),
    },
    server: {
      headers: stringRecord(c.get('server.headers')),
      timeoutSeconds: clampNumber(c.get('server.timeoutSeconds'), 60, 5, 3600),
      completionPrompt: oneOf(c.get('server.completionPrompt'), ['auto', 'token-ids', 'text', 'suffix'] as const, 'auto'),
    },
  };
}

/** VS Code's own proxy settings (http.proxy, http.noProxy, http.proxyStrictSSL), which Hub downloads use. */
export function readProxySettings(): { readonly proxy?: string; readonly noProxy?: string; readonly strictSSL: boolean } {
  const http = vscode.workspace.getConfiguration('http');
  const proxy = http.get<unknown>('proxy');
  const noProxy = http.get<unknown>('noProxy');
  return {
    ...(typeof proxy === 'string' && proxy.trim() !== '' ? { proxy: proxy.trim() } : {}),
    ...(Array.isArray(noProxy) && noProxy.length > 0 ? { noProxy: noProxy.filter((host): host is string => typeof host === 'string').join(',') } : {}),
    strictSSL: http.get<unknown>('proxyStrictSSL') !== false,
  };
}

/** Writes one setting at the user (global) level, where a picker's choice belongs. */
export async function updateSetting<K extends SettingKey>(key: K, value: SettingValues[K]): Promise<void> {
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
