import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointFiles } from '../io/checkpoint-files.js';
import { loadConfig } from '../model/config.js';
import { numel, type ParamSpec } from '../model/params.js';
import { checkConfigFits, nonFinite } from '../model/config-checks.js';
import { checkLayout, resolveWeightDtype } from '../model/load.js';
import { isMatrixShape, type WeightDtype } from '../model/weights.js';

export interface InspectReport {
  dir: string;
  architecture: string;
  layers: number;
  hiddenSize: number;
  intermediateSize: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  tiedEmbeddings: boolean;
  ropeTheta: number;
  ropeScaling: string;
  parameters: number;
  /** Number of tensors per on-disk dtype. */
  dtypes: Record<string, number>;
  bytesOnDisk: number;
  /** Resident memory of the weights once loaded as float32 (--dtype f32). */
  float32Bytes: number;
  /** Resident memory with bfloat16 weight matrices (--dtype bf16; norm weights and biases stay float32). */
  bf16Bytes: number;
  /** What --dtype auto (the default) loads the weight matrices as. */
  autoDtype: WeightDtype;
  files: string[];
  tokenizer: boolean;
  chatTemplate: boolean;
  /** Tensors holding NaN or ±Inf values (with how many); null when the weights were not read (headers only). */
  nonFinite: Array<{ tensor: string; count: number }> | null;
}

/** Reads every tensor once (one at a time, through one buffer) and lists those with non-finite values. */
function scanNonFinite(files: CheckpointFiles, specs: readonly ParamSpec[]): Array<{ tensor: string; count: number }> {
  const buf = new Float32Array(Math.max(0, ...specs.map((s) => numel(s.shape))));
  const out: Array<{ tensor: string; count: number }> = [];
  for (const s of specs) {
    const view = files.readFloat32(s.name, buf.subarray(0, numel(s.shape)));
    const { count } = nonFinite(view);
    if (count > 0) out.push({ tensor: s.name, count });
  }
  return out;
}

/** Describes a model folder from its config and safetensors headers, and (unless `headersOnly`) scans the weights for NaN/Inf. */
export function inspectModel(dir: string, options: { headersOnly?: boolean } = {}): InspectReport {
  const c = loadConfig(dir);
  const files = CheckpointFiles.open(dir);
  try {
    const dtypes: Record<string, number> = {};
    for (const name of files.names()) {
      const e = files.entry(name);
      dtypes[e.dtype] = (dtypes[e.dtype] ?? 0) + 1;
    }
    // The same header checks as loading (names, shapes, dtypes): a checkpoint leaf cannot load is an error here too.
    checkConfigFits(dir, c, files, 4, Infinity);
    const specs = checkLayout(dir, c, files);
    const parameters = specs.reduce((a, s) => a + numel(s.shape), 0);
    const bf16Bytes = specs.reduce((a, s) => a + numel(s.shape) * (isMatrixShape(s.shape) ? 2 : 4), 0);
    let chatTemplate = existsSync(join(dir, 'chat_template.jinja'));
    const tc = join(dir, 'tokenizer_config.json');
    if (!chatTemplate && existsSync(tc)) {
      try {
        chatTemplate = JSON.parse(readFileSync(tc, 'utf8')).chat_template != null;
      } catch {
        chatTemplate = false;
      }
    }
    return {
      dir,
      architecture: c.architecture,
      layers: c.numLayers,
      hiddenSize: c.hiddenSize,
      intermediateSize: c.intermediateSize,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      headDim: c.headDim,
      vocabSize: c.vocabSize,
      tiedEmbeddings: c.tieWordEmbeddings,
      ropeTheta: c.ropeTheta,
      ropeScaling: c.ropeScaling ? `${c.ropeScaling.type} ×${c.ropeScaling.factor}` : 'none',
      parameters,
      dtypes,
      bytesOnDisk: files.files.reduce((a, f) => a + statSync(f).size, 0),
      float32Bytes: parameters * 4,
      bf16Bytes,
      autoDtype: resolveWeightDtype(files),
      files: [...files.files],
      tokenizer: existsSync(join(dir, 'tokenizer.json')),
      chatTemplate,
      nonFinite: options.headersOnly ? null : scanNonFinite(files, specs),
    };
  } finally {
    files.close();
  }
}

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatInspect(r: InspectReport): string {
  const params = r.parameters >= 1e6 ? `${(r.parameters / 1e6).toFixed(1)}M` : `${r.parameters}`;
  const rows: Array<[string, string]> = [
    ['model', r.dir],
    ['architecture', r.architecture],
    ['layers', String(r.layers)],
    ['hidden / intermediate', `${r.hiddenSize} / ${r.intermediateSize}`],
    ['heads / kv heads / head dim', `${r.heads} / ${r.kvHeads} / ${r.headDim}`],
    ['vocabulary', String(r.vocabSize)],
    ['embeddings', r.tiedEmbeddings ? 'tied' : 'untied'],
    ['rope', `theta ${r.ropeTheta}, scaling ${r.ropeScaling}`],
    ['parameters', `${params} (${r.parameters})`],
    ['dtypes on disk', Object.entries(r.dtypes).map(([d, n]) => `${d}: ${n} tensors`).join(', ')],
    ['size on disk', human(r.bytesOnDisk)],
    ['memory as float32', `${human(r.float32Bytes)} (--dtype f32${r.autoDtype === 'f32' ? ', the default here' : ''})`],
    ['memory as bfloat16', `${human(r.bf16Bytes)} (--dtype bf16${r.autoDtype === 'bf16' ? ', the default here' : ''})`],
    ['files', r.files.map((f) => f.slice(r.dir.length).replace(/^\//, '')).join(', ')],
    ['tokenizer', r.tokenizer ? 'tokenizer.json' : 'missing'],
    ['chat template', r.chatTemplate ? 'yes' : 'no'],
    ['non-finite weights', r.nonFinite === null ? 'not checked (--headers-only)' : r.nonFinite.length === 0 ? 'none' : r.nonFinite.map((t) => `${t.tensor} (${t.count} NaN/Inf)`).join(', ')],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
