import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';
import { UnavailableChatBackend, type ChatBackend } from '../../core/chat/backend';
import { ReplayBackend } from '../../core/chat/replayBackend';
import { loadTranscripts } from '../../core/chat/transcripts';
import { builtInModelId, modelLabel } from '../modelCommands';
import type { ChatRuntime } from '../../core/chat/runtimeChatBackend';
import { createRuntimeChatBackend } from './runtimeBackend';
import { readConfig, settingId } from '../config';
import type { ServerService } from '../servers/serverService';
import { ServerChatBackend } from './serverBackend';

/** Set by the end-to-end harness: a folder of transcripts to replay instead of running a model. */
export const replayEnvVar = 'TOKENSCOPE_CHAT_REPLAY';
/** Mean milliseconds between replayed chunks (default 12). */
export const replayDelayEnvVar = 'TOKENSCOPE_CHAT_REPLAY_DELAY_MS';

export const miniCannotChatNotice =
  'The built-in tokenscope-mini model completes code as you type, but it cannot chat or explain: it was never trained to follow instructions, so its "answers" would be gibberish. Choose a chat-capable model folder (for example a Qwen2.5-Coder-Instruct or Qwen3 ONNX export) to chat.';

function replayFolder(extensionPath: string): string | undefined {
  const fromEnv = process.env[replayEnvVar]?.trim();
  // The same as the hidden setting chat.testBackend (deliberately not contributed in package.json):
  // a transcript folder, absolute or relative to the extension's folder. Tests and screenshots only.
  const folder = fromEnv || readConfig().chat.testBackend || undefined;
  if (!folder) return undefined;
  return isAbsolute(folder) ? folder : join(extensionPath, folder);
}

/**
 * The backend chat uses for the current settings: the replay backend when a test asks for it, an
 * honest "cannot chat" for the built-in model, otherwise the model runtime.
 */
export function selectChatBackend(model: string, extensionPath: string, log: vscode.LogOutputChannel, runtime: ChatRuntime | undefined, servers?: { readonly service: ServerService; readonly onResolved: () => void }): ChatBackend {
  const replay = replayFolder(extensionPath);
  if (replay) {
    try {
      const transcripts = loadTranscripts(replay);
      const delay = Number(process.env[replayDelayEnvVar]);
      log.info(`Chat: replaying ${transcripts.length} recorded transcripts from ${replay} (test backend).`);
      return new ReplayBackend(transcripts, { delayMs: Number.isFinite(delay) && delay >= 0 ? delay : 12 });
    } catch (error) {
      log.error(`Chat: the replay backend could not start: ${(error as Error).message}`);
      return new UnavailableChatBackend('Replay (broken)', `The chat test backend could not load its transcripts: ${(error as Error).message}`);
    }
  }
  const chat = readConfig().chat;
  if (chat.backend === 'server') {
    if (!servers || !chat.serverUrl) return new UnavailableChatBackend('Server (not set)', `${settingId('chat.backend')} is "server" but no server is set (${settingId('chat.serverUrl')}). Run "Tokenscope: Connect to a Server…", or set the chat backend back to "local".`);
    return new ServerChatBackend(servers.service, chat.serverUrl, chat.serverModel, log, servers.onResolved);
  }
  if (model === builtInModelId) return new UnavailableChatBackend(modelLabel(model), miniCannotChatNotice);
  if (!runtime) return new UnavailableChatBackend(modelLabel(model), 'Chat needs the model runtime, which did not start in this window. Run "Tokenscope: Restart Model Process" or see the Tokenscope log.');
  return createRuntimeChatBackend(model, runtime);
}
