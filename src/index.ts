/**
 * leaf — the library's entry point (`import … from 'leaf'`). See README.md and docs/library.md.
 *
 * Grouped as the architecture is layered: the engine (kernels, models, generation), the stages (mining,
 * distillation, evaluation, the demo and the report) and the formats they read and write. The tokenizer's
 * and the kernels' own building blocks are subpath exports: `leaf/tokenizer` (offsets, chat templates,
 * word-level tokenizer files, …) and `leaf/kernels` (the kernel interface and its backends).
 */
export { LeafError } from './errors.js';
/** The progress event every stage's onProgress receives (phase, done, total and the phase's figures). */
export type { Progress } from './util/progress.js';

// ── Engine: kernels, models, generation ──────────────────────────────────────────────────────────────
export { getKernels, jsKernels, nativeKernelsOrNull } from './kernels/index.js';
export type { AttentionShape, FArray, Kernels } from './kernels/types.js';
export { CausalLM } from './model/causal-lm.js';
export type { BackwardOptions, FloatArrayType, ForwardInput, ForwardOutput } from './model/causal-lm.js';
export { backward, zeroGrads } from './model/backward.js';
export { loadConfig, parseConfig } from './model/config.js';
export type { ModelConfig } from './model/config.js';
export { argmax, generate, sampleToken } from './model/generate.js';
export type { GenerateOptions, GenerateResult } from './model/generate.js';
export { KVCache } from './model/kv-cache.js';
export { loadModel } from './model/load.js';
export type { LoadOptions } from './model/load.js';
export { meanCrossEntropy, shiftedTargets } from './model/loss.js';
export { paramSpecs } from './model/params.js';
export { randomModel } from './model/random-init.js';
export { saveModel } from './model/save.js';
export { loadPretrained, sameTokenizer } from './model/pretrained.js';
export type { Pretrained } from './model/pretrained.js';
export { encodePrompt, generateText } from './model/text-generation.js';
export type { TextGeneration, TextGenerationOptions } from './model/text-generation.js';
export { LeafTokenizer } from './tokenizer/index.js';
export type { ChatMessage, Encoding, EncodeOptions, DecodeOptions, SpecialToken } from './tokenizer/index.js';
export { Rng } from './util/rng.js';

// ── Stage 1, confounder mining (leaf mine) and its building blocks ──────────────────────────────────────
export { mine, MINE_SPEC } from './method/mine.js';
export type { MineOptions, MineProgress, MineSummary, ScoreRecord } from './method/mine.js';
export { scoreUnit, MINING_METHODS } from './method/score.js';
export type { MiningMethod, ScoreSettings, UnitScore } from './method/score.js';
export { flagCandidates, isProtectedToken, minMax, normalisedDiff, quantileThreshold } from './method/normalize.js';
export type { ThresholdRule } from './method/normalize.js';
export { candidateSpans, cutSpans, removalRange } from './method/spans.js';
export type { Removal, ScoredToken, Span } from './method/spans.js';
export { transferScores } from './method/transfer.js';
export { splitResponse } from './method/segments.js';
export { encodeUnit } from './method/units.js';
export type { Unit, UnitEncoding } from './method/units.js';
export { inputSaliency, sequenceLosses } from './method/saliency.js';

// ── Stage 2, causal distillation (leaf distill) and its building blocks ─────────────────────────────────
export { distill, validationLoss } from './training/trainer.js';
export type { DistillOptions, DistillProgress, DistillSummary, RecordInput } from './training/trainer.js';
export { DISTILL_SPEC } from './training/distill-options.js';
export type { KdLossKind, KdLossOptions } from './training/kd-loss.js';
export { BatchKdLoss } from './training/kd-batch.js';
export { microStep } from './training/micro-step.js';
export type { MicroStepResult, StepSample, TeacherSource } from './training/micro-step.js';
export type { TeacherRows } from './training/kd-batch.js';
export { TeacherCache, topKFromLogits } from './training/teacher-cache.js';
export { buildTeacherCache, TEACHER_CACHE_SPEC } from './training/teacher-cache-run.js';
export type { TeacherCacheRunOptions, TeacherCacheRunSummary } from './training/teacher-cache-run.js';
export type { TeacherCacheProgress } from './training/teacher-cache.js';
export { AdamW, clipGradNorm, gradNorm } from './training/adamw.js';
export { cosineWithWarmup } from './training/schedule.js';
export { packBatch } from './training/batch.js';
export type { PackedBatch, TokenizedSample } from './training/batch.js';
export { buildSamples, encodeRecord, tokenizerSide } from './training/samples.js';
export type { SampleStats, TokenizerSide, TrainSample } from './training/samples.js';
export { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './training/checkpoint.js';
export type { TrainerState } from './training/checkpoint.js';

// ── Evaluation (leaf eval): judges, runner, statistics ──────────────────────────────────────────────────
export { runEval, EVAL_SPEC } from './eval/runner.js';
export type { EvalOptions, EvalProgress, EvalRecord, EvalSummary, ResponseGenerator } from './eval/runner.js';
export { judgeMath, extractAnswer, isEquivalent } from './eval/math/index.js';
export { CodePool, extractCode, judgeHumanEval, judgeMbpp, judgeStdio, runPython, probeIsolation } from './eval/code/index.js';
export { judgeResponse } from './eval/judge-problem.js';
export type { Verdict } from './eval/judge-problem.js';
export { accuracy, meanStd, passAtK, wilsonInterval } from './eval/stats.js';

// ── The demo (leaf demo) and the report (leaf report) ───────────────────────────────────────────────────
export { runDemo, DEMO_SPEC } from './demo/demo.js';
export type { DemoOptions, DemoSummary } from './demo/demo.js';
export { generateSplit, arithDetokenize, arithVocabulary } from './demo/arith/index.js';
export type { ArithRecord } from './demo/arith/index.js';
export { buildReportData, writeReport } from './report/build.js';
export type { ReportOptions, ReportRun } from './report/build.js';
export type { ReportData } from './report/data.js';
export { attentionMaps, meanAttentionOnto } from './report/attention.js';
export type { AttentionMaps } from './report/attention.js';

// ── Formats: benchmark and record files, run folders, safetensors ───────────────────────────────────────
export { buildInstruction, loadProblems, FORMAT_NAMES } from './eval/formats/index.js';
export type { FormatName, Problem, ProblemTests, Task } from './eval/formats/index.js';
export { readJsonl } from './data/jsonl.js';
export { RecordLog } from './data/record-log.js';
export { RunFolder, fileDigest } from './data/run-folder.js';
export type { RunFolderOptions, RunPolicy } from './data/run-folder.js';
export { parseCounterfactualRecord, parseTrainRecord, readCounterfactualRecords, readTrainRecords } from './training/records.js';
export type { DistillRecord } from './training/records.js';
export type { CounterfactualRecord } from './method/counterfactuals.js';
export type { GenerationRecord } from './method/generations.js';
export type { StepMetrics } from './training/metrics.js';
export { CheckpointFiles } from './io/checkpoint-files.js';
export { SafetensorsReader } from './io/safetensors.js';
export { writeSafetensors } from './io/safetensors-write.js';
export { writeFileAtomicSync } from './io/atomic.js';
