/**
 * The demo's teacher and student: trained from scratch (cross-entropy on the worked solutions) unless a
 * model with the same recipe is already in the folder (stamped in leaf-recipe.json, data/run-stamp.ts), in which case it is reused.
 */
import { LeafTokenizer } from '../tokenizer/index.js';
import { Rng } from '../util/rng.js';
import { problemStream } from './arith/dataset.js';
import { ARITH_GENERATOR_VERSION } from './arith/problem.js';
import { arithVocabulary } from './arith/vocabulary.js';
import type { ModelRecipe } from './recipes.js';
import { chatSample, createTinyLlama, hasTinyModel, saveTinyModel, trainCe, type CeStepInfo } from './tiny-models.js';
import type { ProblemSettings } from './arith/problem.js';

export interface TrainedModelInfo {
  dir: string;
  reused: boolean;
  seconds: number;
  parameters: number;
  finalLoss: number | null;
}

/**
 * The recipe as stored next to the weights (a change of any field retrains): the model and problem
 * settings, the benchmark's vocabulary, and the generator's version (bumped whenever the problem texts
 * change for the same settings).
 */
export function recipeKey(name: string, recipe: ModelRecipe, problems: Partial<ProblemSettings>, dataSeed: number): unknown {
  return { name, recipe, problems, dataSeed, generator: ARITH_GENERATOR_VERSION, vocabulary: arithVocabulary().join(' '), format: 1 };
}

/**
 * Trains one model of the recipe into `dir` (or reuses it); the tokenizer must already be in `tokenizerDir`. Training problems are drawn from the train
 * split's keys only (never a validation or test combination), fresh for every step.
 */
export function ensureModel(
  name: string, dir: string, tokenizerDir: string, recipe: ModelRecipe, problems: Partial<ProblemSettings>, dataSeed: number,
  onStep?: (info: CeStepInfo) => void,
): TrainedModelInfo {
  const key = recipeKey(name, recipe, problems, dataSeed);
  if (hasTinyModel(dir, key)) return { dir, reused: true, seconds: 0, parameters: 0, finalLoss: null };
  const started = Date.now();
  const tok = LeafTokenizer.load(tokenizerDir);
  const model = createTinyLlama(tok, recipe.arch, recipe.seed);
  const distracted = problemStream('train', dataSeed, `${name}/distracted`, { ...problems, ...recipe.data });
  const clean = problemStream('train', dataSeed, `${name}/clean`, { ...problems, minDistractors: 0, maxDistractors: 0 });
  const rng = new Rng(recipe.seed * 7919 + 17);
  const log = trainCe(model, () => Array.from({ length: recipe.batchSize }, () => {
    const p = (rng.next() < recipe.distractedFraction ? distracted : clean).next().value!;
    return chatSample(tok, p.prompt, p.response);
  }), { steps: recipe.steps, lr: recipe.lr, warmup: recipe.warmup, weightDecay: recipe.weightDecay ?? 0 }, onStep);
  saveTinyModel(model, dir, tokenizerDir, key);
  const tail = log.slice(-50);
  return {
    dir, reused: false, seconds: (Date.now() - started) / 1000, parameters: model.numParameters(),
    finalLoss: tail.length ? tail.reduce((a, s) => a + s.loss, 0) / tail.length : null,
  };
}
