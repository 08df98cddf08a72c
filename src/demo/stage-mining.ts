/**
 * The demo's mining stage on the train split: `gradient` at the recipe's unit (sentences, the question
 * protected, the k lowest flagged), the same with the teacher's saliency alone, `random` at the same
 * budget, the `oracle` (the ground-truth sentences) and `gradient` at token level (the reference rule,
 * for the detection comparison); with extras, response level and the token-level q sweep. The first
 * task decodes the selection answers (generations.jsonl); the others start from a copy of them.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DetectionQuality } from '../method/detection.js';
import type { MineSummary } from '../method/mine.js';
import { MODEL_TASKS, StageClock, type DemoContext } from './context.js';
import type { DemoJob, JobResult, PlainMineOptions } from './jobs.js';
import type { Task } from './pool.js';

export interface DetectionRow {
  run: string;
  token: DetectionQuality;
  unit: DetectionQuality;
  counterfactuals: number;
  verified: number;
}

export interface Mined {
  dirs: Record<string, string>;
  mining: Record<string, { selected: number; counterfactuals: number; verified: number; seconds: number }>;
  detection: DetectionRow[];
  sweepQs: number[];
}

export interface MiningStage {
  tasks: Task[];
  /** The task that mines `name` (gradient, random, …): distillation with its counterfactuals comes after it. */
  taskOf(name: string): string;
  /** The folder of mining run `name`. */
  dir(name: string): string;
  /** The sweep's thresholds (extras only). */
  sweepQs: number[];
  collect(results: Map<string, JobResult>): Mined;
}

const DETECTION_RUNS = ['gradient', 'gradient-teacher', 'random', 'oracle', 'gradient-token'];

/** The mining runs as jobs, by name (the first one, gradient, decodes the selection answers). */
function miningJobs(ctx: DemoContext, extras: boolean, sweepQs: number[]): Map<string, DemoJob> {
  const m = ctx.recipe.mining;
  const d = (name: string) => join(ctx.dirs.mined, name);
  const base = (dir: string): PlainMineOptions => ({
    teacher: ctx.teacherDir, student: ctx.studentDir, data: ctx.files.train, out: dir, level: 'instruction',
    batchSize: m.batchSize, maxNewTokens: m.maxNewTokens, overwrite: true, seed: 1234, fsync: false,
  });
  const head = (method: 'gradient' | 'random' | 'oracle', dir: string): PlainMineOptions => ({
    ...base(dir), method, unit: m.unit, ...(m.topUnits !== null ? { topUnits: m.topUnits } : { threshold: m.threshold }),
    protectLastSentence: m.protectLastSentence, verify: m.verify, verifyEquations: m.verifyEquations,
  });
  const token = (q: number, dir: string): PlainMineOptions => ({ ...base(dir), method: 'gradient', unit: 'token', threshold: q, verify: 'both' });
  const runs: [string, PlainMineOptions][] = [
    ['gradient', head('gradient', d('gradient'))],
    ['gradient-teacher', { ...head('gradient', d('gradient-teacher')), studentWeight: 0 }],
    ['random', head('random', d('random'))],
    ['oracle', head('oracle', d('oracle'))],
    ['gradient-token', token(m.threshold, d('gradient-token'))],
    ...(extras ? [['gradient-response', { ...base(d('gradient-response')), method: 'gradient', level: 'response', segments: m.segments, threshold: m.threshold }] as [string, PlainMineOptions]] : []),
    ...sweepQs.map((q): [string, PlainMineOptions] => [`gradient-token-q${q}`, token(q, d(`gradient-token-q${q.toFixed(2)}`))]),
  ];
  return new Map(runs.map(([name, options]) => [name, { kind: 'mine', label: `mine-${name}`, options }]));
}

export function miningStage(ctx: DemoContext, extras: boolean): MiningStage {
  const m = ctx.recipe.mining;
  const sweepQs = extras ? m.sweep.filter((q) => q !== m.threshold) : [];
  const jobs = miningJobs(ctx, extras, sweepQs);
  const dir = (name: string) => (jobs.get(name) as Extract<DemoJob, { kind: 'mine' }>).options.out;
  const clock = new StageClock(ctx, 'mining');
  const names = [...jobs.keys()];
  const tasks: Task[] = names.map((name, i) => ({
    // The token-level run verifies the most counterfactuals (the longest): it starts right after gradient.
    label: `mine-${name}`, after: i === 0 ? MODEL_TASKS : ['mine-gradient'], priority: 1e6 - (name === 'gradient-token' ? 0.5 : i),
    start: () => {
      clock.started();
      if (i > 0) {
        mkdirSync(dir(name), { recursive: true });
        copyFileSync(join(dir('gradient'), 'generations.jsonl'), join(dir(name), 'generations.jsonl'));
      }
      return jobs.get(name)!;
    },
    done: () => clock.finished(),
  }));
  ctx.log(`mining: gradient (${m.unit} unit${m.topUnits !== null ? `, the ${m.topUnits} lowest` : `, q = ${m.threshold}`}${m.protectLastSentence ? ', question protected' : ''}, verified by ${m.verify}${m.verifyEquations ? ' with equations' : ''}), then ${names.slice(1).join(', ')}…`);
  return {
    tasks, sweepQs, dir, taskOf: (name) => `mine-${name}`,
    collect: (results) => {
      const mining: Mined['mining'] = {};
      const detection: DetectionRow[] = [];
      for (const name of names) {
        const s = results.get(`mine-${name}`) as MineSummary;
        mining[name] = { selected: s.counts.selected, counterfactuals: s.counts.counterfactuals, verified: s.counts.verified, seconds: s.timings.total };
        if (s.detection && DETECTION_RUNS.includes(name)) {
          detection.push({ run: name, token: s.detection.token, unit: s.detection.unit, counterfactuals: s.counts.counterfactuals, verified: s.counts.verified });
        }
      }
      ctx.log(`mining: ${mining.gradient.selected} of ${ctx.recipe.trainProblems} train problems selected (student wrong, teacher right); verified counterfactuals: ${Object.entries(mining).map(([k, v]) => `${k} ${v.verified}`).join(', ')}`);
      return { dirs: Object.fromEntries(names.map((n) => [n, dir(n)])), mining, detection, sweepQs };
    },
  };
}

/** The verified counterfactuals of a mining run's folder (none when it wrote none). */
export function verifiedCounterfactuals(dir: string): Record<string, unknown>[] {
  const f = join(dir, 'counterfactuals.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.verified !== false);
}
