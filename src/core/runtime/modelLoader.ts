/**
 * Opening a local model: resolve the reference (built-in name, path, Hub cache), read its folder,
 * load the tokenizer and check that its vocabulary fits the ONNX file (before ONNX Runtime would
 * fail blaming model.onnx), create the session (patched for last-position logits when it can be),
 * read the graph's signature, and describe the result as a `ModelInfo`. LocalModel.load wraps what
 * this returns; a session that cannot be used is released before the error is thrown.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { resolveModelReference } from '../models/catalog';
import { ModelError, cannotReadError, errorMessage } from '../models/errors';
import { readModelFolder, tokenString, type ModelFolder } from '../models/modelFolder';
import { templateSupportsThinking } from '../prompt/chatTemplate';
import { loadTokenizerFromFolder, type HuggingFaceTokenizer } from '../tokenizers/huggingface';
import { readGraphSignature, type GraphSignature } from './graphSignature';
import { createSession } from './onnxSession';
import { resolveThreads } from './threads';
import type { LoadModelRequest, ModelInfo, RuntimeLogger } from './types';
import { readEmbeddingRows, vocabularyMismatch } from './vocabularyCheck';

export interface OpenedModel {
  readonly info: ModelInfo;
  readonly tokenizer: HuggingFaceTokenizer;
  readonly folder: ModelFolder;
  readonly session: InferenceSession;
  readonly signature: GraphSignature;
  /** The graph computes one row of logits per pass (num_logits_to_keep, or the last-position patch). */
  readonly lastPositionOnly: boolean;
}

export interface OpenModelOptions {
  readonly packageRoot: string;
  readonly cwd?: string;
  readonly ortProfilePrefix?: string;
}

export async function openModel(request: LoadModelRequest, options: OpenModelOptions, logger: RuntimeLogger): Promise<OpenedModel> {
  const started = performance.now();
  const resolved = resolveModelReference(request.model, { packageRoot: options.packageRoot, cwd: options.cwd });
  const folder = await readModelFolder(resolved.dir, request.variant ?? 'auto');
  let tokenizer: HuggingFaceTokenizer;
  try {
    tokenizer = await loadTokenizerFromFolder(resolved.dir, { id: resolved.id, label: resolved.label });
  } catch (error) {
    if (error instanceof ModelError) throw error;
    const readFailure = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    if ((readFailure as NodeJS.ErrnoException).code) throw cannotReadError(`${resolved.dir}/tokenizer.json`, readFailure, resolved.dir);
    throw new ModelError('tokenizer', `The tokenizer of ${resolved.dir} cannot be loaded: ${errorMessage(error)}`, `${resolved.dir}/tokenizer.json`);
  }
  // Before the session: a tokenizer from another model would fail later, in ONNX Runtime, blaming model.onnx.
  const tokenizerPath = `${resolved.dir}/tokenizer.json`;
  const mismatch = vocabularyMismatch({ tokenizerPath, tokenizerMaxId: tokenizer.maxId, configVocabSize: folder.architecture.vocabSize, onnxPath: folder.onnxPath, embeddingRows: await readEmbeddingRows(folder.onnxPath) });
  if (mismatch) throw new ModelError('tokenizer', mismatch, tokenizerPath);
  const threads = resolveThreads(request.threads);
  logger.info('loading model', { dir: resolved.dir, file: folder.onnxPath, variant: folder.variant, threads });
  // Only 4-bit files hold MatMulNBits; reading other variants into memory would be wasted.
  const int4 = folder.variant === 'q4' || folder.variant === 'q4f16';
  const { session, patchedNodes, lastPositionLogits } = await createSession(folder.onnxPath, { threads, int4AccuracyLevel: int4 && request.matmulPrecision !== 'exact' ? 4 : undefined, profileFilePrefix: options.ortProfilePrefix });
  let signature: GraphSignature;
  try {
    signature = readGraphSignature(session.inputMetadata, session.outputMetadata, folder.architecture, folder.onnxPath);
  } catch (error) {
    await session.release();
    throw error;
  }
  const eosTokenIds = [...folder.generation.eosTokenIds];
  if (eosTokenIds.length === 0) {
    const eos = tokenString(folder.tokenizerConfig.eos_token);
    const id = eos === undefined ? undefined : (tokenizer.specialTokens.get(eos) ?? tokenizer.tokenToId(eos));
    if (id !== undefined) eosTokenIds.push(id);
  }
  const arch = folder.architecture;
  const logitsDim = session.outputMetadata.find((meta) => meta.name === 'logits');
  const logitsShape = logitsDim && 'shape' in logitsDim ? logitsDim.shape : [];
  const graphVocab = typeof logitsShape[logitsShape.length - 1] === 'number' ? (logitsShape[logitsShape.length - 1] as number) : arch.vocabSize;
  const info: ModelInfo = {
    id: resolved.id,
    label: resolved.label,
    dir: resolved.dir,
    modelType: arch.modelType,
    variant: folder.variant,
    onnxFile: folder.onnxPath,
    availableVariants: folder.availableVariants,
    weightBytes: folder.weightBytes,
    contextLength: arch.contextLength,
    vocabSize: Math.max(graphVocab, arch.vocabSize),
    numLayers: arch.numLayers,
    numHeads: arch.numHeads,
    numKvHeads: arch.numKvHeads,
    headDim: arch.headDim,
    hiddenSize: arch.hiddenSize,
    cacheType: signature.cacheType,
    graphInputs: signature.inputNames,
    eosTokenIds,
    hasChatTemplate: folder.chatTemplate !== undefined,
    templateSupportsThinking: templateSupportsThinking(folder.chatTemplate),
    specialTokens: Object.fromEntries(tokenizer.specialTokens),
    threads,
    int8ComputeNodes: patchedNodes,
    loadMs: Math.round(performance.now() - started),
  };
  logger.info('model loaded', { id: info.id, loadMs: info.loadMs, inputs: signature.inputNames.length, cacheType: signature.cacheType });
  return { info, tokenizer, folder, session, signature, lastPositionOnly: lastPositionLogits || signature.numLogitsToKeep !== undefined };
}
