/**
 * Bytes of weights a decode step must read, counted from the model files themselves: every
 * initializer (ONNX) or tensor (GGUF), except tables only ever gathered by row (an untied
 * embedding, RoPE cos/sin tables), of which one row per token is counted. A lower bound of what is
 * really read (activations, scratch buffers and re-packed copies are left out), so the bound it
 * gives is an upper bound of the speed.
 */
import { readFileSync } from 'node:fs';
import { GGMLQuantizationType, gguf as parseGguf } from '@huggingface/gguf';
import { tensorBytes, type GgmlTypeName } from '../../tools/gguf/gguf';
import { readOnnxInitializers } from '../../tools/gguf/qwen2Gguf';

export function onnxWeightBytesPerToken(onnxPath: string, gatheredByRow: readonly string[]): number {
  let total = 0;
  for (const [name, init] of readOnnxInitializers(new Uint8Array(readFileSync(onnxPath)))) {
    total += gatheredByRow.includes(name) ? init.raw.length / init.dims[0] : init.raw.length;
  }
  return total;
}

const TYPE_NAMES: Partial<Record<GGMLQuantizationType, GgmlTypeName>> = {
  [GGMLQuantizationType.F32]: 'F32',
  [GGMLQuantizationType.F16]: 'F16',
  [GGMLQuantizationType.Q8_0]: 'Q8_0',
  [GGMLQuantizationType.Q4_0]: 'Q4_0',
};

export async function ggufWeightBytesPerToken(ggufPath: string): Promise<number> {
  const { tensorInfos } = await parseGguf(ggufPath, { allowLocalFile: true });
  const tied = !tensorInfos.some((info) => info.name === 'output.weight');
  let total = 0;
  for (const info of tensorInfos) {
    const type = TYPE_NAMES[info.dtype];
    if (!type) throw new Error(`${ggufPath}: ${info.name} has a tensor type this count does not know (${info.dtype})`);
    const dims = info.shape.map(Number);
    const bytes = tensorBytes(type, dims);
    // token_embd is gathered by row unless it is also the output matrix (tied embeddings).
    total += info.name === 'token_embd.weight' && !tied ? bytes / dims[1] : bytes;
  }
  return total;
}
