import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { writeSafetensors, type TensorToWrite, type WritableDtype } from '../io/safetensors-write.js';
import type { CausalLM } from './causal-lm.js';
import { asFloat32, isBf16 } from './weights.js';

/** Files of a model folder that are not weights and travel with it (copied when saving). */
export const COMPANION_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'chat_template.jinja',
];

const TORCH_DTYPE: Record<WritableDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export interface SaveOptions {
  /** Dtype on disk (default: the model's, BF16 for a bf16 model, else F32). */
  dtype?: WritableDtype;
  /** A model folder whose tokenizer / generation files are copied alongside (when present there). */
  companionsFrom?: string;
  /** Extra safetensors metadata (the format entry "pt" is always written, as transformers expects). */
  metadata?: Record<string, string>;
}

/**
 * Writes a Hugging Face model folder that transformers (and leaf) can load: config.json,
 * model.safetensors under the state-dict names, and the tokenizer files. Each file is written atomically.
 */
export function saveModel(model: CausalLM, dir: string, options: SaveOptions = {}): void {
  const dtype = options.dtype ?? (model.weightDtype === 'bf16' ? 'BF16' : 'F32');
  mkdirSync(dir, { recursive: true });
  const tensors: TensorToWrite[] = model.specs.map((s) => {
    const p = model.param(s.name);
    // bf16 weights go to a BF16 file bit for bit; other dtypes widen them first.
    return { name: s.name, dtype, shape: s.shape, data: isBf16(p) && dtype === 'BF16' ? p : asFloat32(p) };
  });
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', ...options.metadata });
  const config = { ...model.config.raw, torch_dtype: TORCH_DTYPE[dtype] };
  if ('dtype' in config) config.dtype = TORCH_DTYPE[dtype];
  writeFileAtomicSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  if (options.companionsFrom) {
    for (const f of COMPANION_FILES) {
      const src = join(options.companionsFrom, f);
      if (existsSync(src)) writeFileAtomicSync(join(dir, f), readFileSync(src));
    }
  }
}
