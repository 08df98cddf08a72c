/**
 * The one progress-event shape of leaf's stages: `done` of `total` units of `phase` — mine and eval count
 * problems, the teacher cache samples, distill's training and the demo's model training optimizer steps —
 * with the phase's running figures beside them. A listener can draw any stage's bar from phase, done and
 * total alone (cli/progress.ts).
 */
export type Progress<Phase extends string = string, Figures extends object = Record<never, never>> = { phase: Phase; done: number; total: number } & Figures;
