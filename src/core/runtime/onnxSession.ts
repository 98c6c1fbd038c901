/**
 * Creates the ONNX Runtime session of a model file and turns its load errors into messages that
 * name the file and the fix.
 */
// First: ONNX Runtime must see its telemetry switch before it loads.
import './ortTelemetry';
import { InferenceSession } from 'onnxruntime-node';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ModelError, cannotReadError, errorMessage, isOutOfMemory } from '../models/errors';
import { externalDataCandidates } from '../models/modelFolder';
import { patchLogitsToLastPosition, patchMatMulNBitsAccuracy } from './onnxPatch';

export interface SessionOptions {
  readonly threads: number;
  /** Set MatMulNBits accuracy_level to this (4: int8 compute) before loading. Only worth it for 4-bit variants. */
  readonly int4AccuracyLevel?: number;
  /** ONNX Runtime's per-node profiling, written by session.endProfiling() (profile benchmark). */
  readonly profileFilePrefix?: string;
}

export interface CreatedSession {
  readonly session: InferenceSession;
  /** MatMulNBits nodes whose accuracy level was changed (0 if the file was loaded as is). */
  readonly patchedNodes: number;
  /** The graph computes logits for the last position only (patched, see onnxPatch.ts). */
  readonly lastPositionLogits: boolean;
}

/**
 * Loads a model with the patches of onnxPatch.ts applied in memory. Should ONNX Runtime refuse a
 * patched graph, the file is loaded without the logits patch, then as it is: a patch can make a
 * model faster, never unloadable; and a file that does not load at all reports its own error.
 */
export async function createSession(onnxPath: string, options: SessionOptions): Promise<CreatedSession> {
  // ONNX Runtime's own message for an unreadable file names neither the cause nor the fix.
  for (const file of [onnxPath, ...externalDataCandidates(onnxPath)]) {
    try {
      await access(file, constants.R_OK);
    } catch (error) {
      const onnxFolder = dirname(onnxPath);
      throw cannotReadError(file, error, basename(onnxFolder) === 'onnx' ? dirname(onnxFolder) : onnxFolder);
    }
  }
  const sessionOptions: InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads,
    // One forward pass at a time: inter-op parallelism only adds thread contention.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Errors reach us as exceptions; ORT's own console logging would bypass our logger.
    logSeverityLevel: 4,
    ...(options.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix } : {}),
  };
  let original: Uint8Array;
  try {
    original = new Uint8Array(await readFile(onnxPath));
  } catch (error) {
    throw sessionLoadError(onnxPath, error);
  }
  const lastPosition = patchLogitsToLastPosition(original);
  let lastError: unknown;
  for (const base of lastPosition ? [lastPosition, original] : [original]) {
    const accuracy = options.int4AccuracyLevel !== undefined ? patchMatMulNBitsAccuracy(base, options.int4AccuracyLevel) : undefined;
    const bytes = accuracy?.bytes ?? base;
    try {
      const session =
        bytes === original
          ? await InferenceSession.create(onnxPath, sessionOptions)
          : // Loaded from memory: tell ONNX Runtime where external weights (.onnx_data) live.
            await InferenceSession.create(bytes, { ...sessionOptions, extra: { session: { model_external_initializers_file_folder_path: dirname(onnxPath) } } });
      return { session, patchedNodes: accuracy?.patchedNodes ?? 0, lastPositionLogits: base === lastPosition };
    } catch (error) {
      lastError = error;
    }
  }
  throw sessionLoadError(onnxPath, lastError);
}

export function sessionLoadError(onnxPath: string, error: unknown): ModelError {
  const message = errorMessage(error);
  if (isOutOfMemory(error)) {
    return new ModelError('out-of-memory', `Not enough memory to load ${onnxPath}. Choose a smaller variant (q4 is the smallest), a smaller model, or close other programs. (${message})`, onnxPath);
  }
  if (/external data|onnx_data|GetExtDataFromTensorProto|External initializer|ReadExternalDataForTensor/i.test(message)) {
    const present = externalDataCandidates(onnxPath);
    const missing = /path does not exist: "([^"]+)"/.exec(message)?.[1];
    const detail = missing
      ? `its external weights file ${basename(missing)} is missing`
      : present.length === 0
        ? `its external weights file (${basename(onnxPath, '.onnx')}.onnx_data) is missing`
        : `its external weights file ${basename(present[0])} is incomplete or corrupt`;
    return new ModelError('corrupt-onnx', `${onnxPath} cannot be loaded: ${detail}. Download the model's onnx/ folder again, including the .onnx_data files. (${message})`, onnxPath);
  }
  if (/protobuf parsing failed|Failed to load model|ModelProto|INVALID_PROTOBUF|parse/i.test(message)) {
    return new ModelError('corrupt-onnx', `${onnxPath} is not a valid ONNX file (truncated or corrupt download?). Delete it and download it again. (${message})`, onnxPath);
  }
  if (/not a registered function\/op|No Op registered|Could not find an implementation|opset/i.test(message)) {
    return new ModelError('unexpected-graph', `${onnxPath} uses an operator this ONNX Runtime (CPU) cannot run. Choose another variant of the model (q4, int8 or fp32). (${message})`, onnxPath);
  }
  return new ModelError('corrupt-onnx', `ONNX Runtime cannot load ${onnxPath}: ${message}. If the file was downloaded, download it again; otherwise choose another variant.`, onnxPath);
}
