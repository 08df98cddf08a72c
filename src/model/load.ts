import { LeafError } from '../errors.js';
import { CheckpointFiles } from '../io/checkpoint-files.js';
import { getKernels } from '../kernels/index.js';
import type { Kernels } from '../kernels/types.js';
import { CausalLM, type FloatArrayType } from './causal-lm.js';
import { loadConfig, type ModelConfig } from './config.js';
import { checkConfigFits, checkFinite } from './config-checks.js';
import { numel, paramSpecs, type ParamSpec } from './params.js';
import { asFloat32, hasNonFiniteBf16, isMatrixShape, type Weight, type WeightDtype } from './weights.js';

export interface LoadOptions {
  /** Kernels to run on (default: getKernels(), native when built). */
  kernels?: Kernels;
  /** Float32Array (default) or Float64Array (reference checks; needs the TypeScript kernels). */
  floatType?: FloatArrayType;
  /**
   * Resident dtype of the weight matrices: 'bf16' (Uint16Array, half the memory; F32/F16/F64 files are
   * rounded to nearest), 'f32' (widened), or 'auto' (default): bf16 when the checkpoint stores every weight
   * matrix as BF16, else f32. Norm weights and biases are always float. A float64 model is f32 unless
   * 'bf16' is asked for explicitly.
   */
  dtype?: WeightDtype | 'auto';
}

/** The resident weight dtype `loadModel` picks for these files (see LoadOptions.dtype). */
export function resolveWeightDtype(files: CheckpointFiles, options: LoadOptions = {}): WeightDtype {
  const want = options.dtype ?? 'auto';
  if (want !== 'auto') return want;
  if ((options.floatType ?? Float32Array) === Float64Array) return 'f32';
  // From the headers alone (before the layout is checked against the config): every matrix stored as BF16.
  const matrices = files.names().map((n) => files.entry(n)).filter((e) => isMatrixShape(e.shape));
  return matrices.length > 0 && matrices.every((e) => e.dtype === 'BF16') ? 'bf16' : 'f32';
}

/** Tensors some checkpoints carry that the model does not use. */
const IGNORABLE = /(^|\.)rotary_emb\.inv_freq$/;
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Checks, from the safetensors headers alone, that the files hold exactly the tensors the config needs
 * (names, shapes, float dtypes), with a one-line error naming the file and tensor; returns the specs.
 */
export function checkLayout(dir: string, config: ModelConfig, files: CheckpointFiles): ParamSpec[] {
  const specs = paramSpecs(config);
  const wanted = new Set(specs.map((s) => s.name));
  for (const name of files.names()) {
    if (wanted.has(name) || IGNORABLE.test(name)) continue;
    if (name === 'lm_head.weight' && config.tieWordEmbeddings) continue;
    throw new LeafError(`${files.entry(name).file}: tensor ${name} is not used by ${config.architecture} with this config.json (unsupported layout?)`);
  }
  for (const spec of specs) {
    if (!files.has(spec.name)) {
      throw new LeafError(`${dir}: tensor ${spec.name} is missing (required by config.json: ${config.architecture}, ${config.numLayers} layers${config.tieWordEmbeddings ? '' : ', untied lm_head'})`);
    }
    const entry = files.entry(spec.name);
    if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])) {
      throw new LeafError(`${entry.file}: tensor ${spec.name} has shape [${entry.shape}], config.json implies [${spec.shape}]`);
    }
    if (!FLOAT_DTYPES.has(entry.dtype)) throw new LeafError(`${entry.file}: tensor ${spec.name} has dtype ${entry.dtype}; weights must be F32, F16, BF16 or F64`);
  }
  return specs;
}

/**
 * Loads a Hugging Face model folder (config.json + model.safetensors or sharded safetensors).
 * Each tensor is converted once, straight from the file into its final buffer (bf16 matrices bit for bit
 * from a BF16 file).
 */
export function loadModel(dir: string, options: LoadOptions = {}): CausalLM {
  const config = loadConfig(dir);
  const floatType = options.floatType ?? Float32Array;
  const kernels = options.kernels ?? getKernels();
  const files = CheckpointFiles.open(dir);
  try {
    const bf16 = resolveWeightDtype(files, options) === 'bf16';
    checkConfigFits(dir, config, files, bf16 ? 2 : floatType.BYTES_PER_ELEMENT);
    const specs = checkLayout(dir, config, files);
    const params = new Map<string, Weight>();
    for (const spec of specs) {
      if (bf16 && isMatrixShape(spec.shape)) {
        const w = files.readBf16(spec.name, new Uint16Array(numel(spec.shape)));
        if (hasNonFiniteBf16(w)) checkFinite(files.entry(spec.name).file, spec.name, asFloat32(w)); // throws, naming the first
        params.set(spec.name, w);
        continue;
      }
      const f32 = files.readFloat32(spec.name, new Float32Array(numel(spec.shape)));
      checkFinite(files.entry(spec.name).file, spec.name, f32);
      params.set(spec.name, floatType === Float32Array ? f32 : Float64Array.from(f32));
    }
    return new CausalLM(config, params, kernels, floatType);
  } finally {
    files.close();
  }
}
