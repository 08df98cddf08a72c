/**
 * Training checkpoints: `OUT/checkpoints/step-<N>/` is a Hugging Face model folder (config.json,
 * model.safetensors, tokenizer files — loadable by transformers and `leaf generate`) plus
 * `optimizer.safetensors` (AdamW's exp_avg / exp_avg_sq per parameter, float32; for a bf16 student also
 * master.* — its float32 master weights, so that a resume continues bit for bit) and
 * `trainer_state.json` (step, epoch position, RNG state, counters).
 *
 * A checkpoint is written into a temporary folder next to the others and renamed into place once
 * complete; `latest.json` (written atomically) then names it (for people and tools; resuming takes the
 * highest complete step), and older checkpoints beyond the ones kept are removed. A crash at any point
 * leaves the previous checkpoint intact.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { SafetensorsReader } from '../io/safetensors.js';
import { writeSafetensors, type TensorToWrite } from '../io/safetensors-write.js';
import type { FArray } from '../kernels/types.js';
import type { CausalLM } from '../model/causal-lm.js';
import type { Weight } from '../model/weights.js';
import { saveModel } from '../model/save.js';
import type { AdamW } from './adamw.js';
import { readJsonFile } from '../io/json-file.js';

export const TRAINER_STATE = 'trainer_state.json';
export const OPTIMIZER_STATE = 'optimizer.safetensors';

/** Where the trainer stands after a number of optimizer steps; enough to continue exactly. */
export interface TrainerState {
  version: 1;
  /** Optimizer steps taken so far (skipped ones included). */
  step: number;
  /** 0-based epoch of the next step. */
  epoch: number;
  /** Steps of that epoch already done. */
  stepInEpoch: number;
  /** The shuffling RNG's state at the start of `epoch` (its order is regenerated from it). */
  epochRngState: number[];
  /** AdamW's own step count (skipped steps do not update it). */
  optimizerStep: number;
  skippedSteps: number;
  consecutiveBad: number;
  bestValLoss: number | null;
  /** Fingerprint of the settings the run was started with. */
  settings: string;
}

function stepDir(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface SaveCheckpointOptions {
  /** Model folder whose tokenizer files travel with the checkpoint. */
  companionsFrom?: string;
  /** Checkpoints kept (the newest ones, default 2). */
  keep?: number;
}

/** Writes checkpoint `state.step` under `root`; returns its folder. */
export function saveCheckpoint(root: string, model: CausalLM, optimizer: AdamW, state: TrainerState, options: SaveCheckpointOptions = {}): string {
  fs.mkdirSync(root, { recursive: true });
  const name = stepDir(state.step);
  const tmp = join(root, `.tmp-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // The model in its own dtype (BF16 for a bf16 student); a bf16 student's float32 weights (the
    // optimizer's masters, and its float norm weights and biases) go to the optimizer state as master.*.
    const bf16 = model.weightDtype === 'bf16';
    saveModel(model, tmp, { dtype: bf16 ? 'BF16' : 'F32', companionsFrom: options.companionsFrom });
    const tensors: TensorToWrite[] = [];
    const f32 = (a: FArray) => (a instanceof Float32Array ? a : Float32Array.from(a));
    for (const s of model.specs) {
      tensors.push({ name: `exp_avg.${s.name}`, dtype: 'F32', shape: s.shape, data: f32(optimizer.m.get(s.name)!) });
      tensors.push({ name: `exp_avg_sq.${s.name}`, dtype: 'F32', shape: s.shape, data: f32(optimizer.v.get(s.name)!) });
      if (bf16) tensors.push({ name: `master.${s.name}`, dtype: 'F32', shape: s.shape, data: f32(optimizer.params.get(s.name)!) });
    }
    writeSafetensors(join(tmp, OPTIMIZER_STATE), tensors, { format: 'pt', optimizer: 'AdamW', step: String(optimizer.step) });
    writeFileAtomicSync(join(tmp, TRAINER_STATE), JSON.stringify(state, null, 2) + '\n');
    const final = join(root, name);
    if (fs.existsSync(final)) removeDir(final); // left by an earlier run that was resumed from before it
    fs.renameSync(tmp, final);
  } catch (e) {
    removeDir(tmp);
    if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string') throw new LeafError(`${root}: cannot write checkpoint: ${e.message}`);
    throw e;
  }
  writeFileAtomicSync(join(root, 'latest.json'), JSON.stringify({ step: state.step, dir: name }) + '\n');
  // Keep the newest `keep`; remove stale temporary folders of killed runs.
  const keep = Math.max(1, options.keep ?? 2);
  const entries = fs.readdirSync(root);
  const steps = entries.filter((e) => /^step-\d+$/.test(e)).sort();
  for (const old of steps.slice(0, Math.max(0, steps.length - keep))) if (old !== name) removeDir(join(root, old));
  for (const e of entries) if (e.startsWith('.tmp-step-') && !e.includes(`-${process.pid}-`)) removeDir(join(root, e));
  return join(root, name);
}

/**
 * The newest complete checkpoint under `root` (the highest step-N folder holding a trainer state; a
 * folder only gets its final name once complete), or null.
 */
export function latestCheckpoint(root: string): { dir: string; state: TrainerState } | null {
  if (!fs.existsSync(root)) return null;
  for (const c of fs.readdirSync(root).filter((e) => /^step-\d+$/.test(e)).sort().reverse()) {
    const file = join(root, c, TRAINER_STATE);
    if (!fs.existsSync(file)) continue;
    const state = readJsonFile<TrainerState>(file);
    if (state.version !== 1) throw new LeafError(`${file}: unsupported trainer state version ${String(state.version)}`);
    return { dir: join(root, c), state };
  }
  return null;
}

/** Loads a checkpoint's weights into `model` and its moments into `optimizer` (in place). */
export function loadCheckpoint(dir: string, model: CausalLM, optimizer: AdamW): TrainerState {
  const state = readJsonFile<TrainerState>(join(dir, TRAINER_STATE));
  const into = (reader: SafetensorsReader, name: string, dst: Weight) => {
    const e = reader.entry(name);
    if (e.shape.reduce((a, b) => a * b, 1) !== dst.length) throw new LeafError(`${join(dir)}: tensor ${name} has shape [${e.shape}], the model needs ${dst.length} values`);
    if (dst instanceof Uint16Array) reader.readBf16(name, dst);
    else if (dst instanceof Float32Array) reader.readFloat32(name, dst);
    else dst.set(reader.readFloat32(name));
  };
  const weights = SafetensorsReader.open(join(dir, 'model.safetensors'));
  try {
    for (const s of model.specs) into(weights, s.name, model.param(s.name));
  } finally {
    weights.close();
  }
  const opt = SafetensorsReader.open(join(dir, OPTIMIZER_STATE));
  try {
    for (const s of model.specs) {
      into(opt, `exp_avg.${s.name}`, optimizer.m.get(s.name)!);
      into(opt, `exp_avg_sq.${s.name}`, optimizer.v.get(s.name)!);
      if (opt.tensors.has(`master.${s.name}`)) into(opt, `master.${s.name}`, optimizer.params.get(s.name)!);
    }
    optimizer.syncBf16();
  } finally {
    opt.close();
  }
  optimizer.step = state.optimizerStep;
  return state;
}
