/**
 * The report's data: one JSON blob embedded in the HTML page. Everything the page shows is in it, so
 * the demo (or `leaf report` over any mining output) only has to fill these structures.
 */

export interface TokenView {
  text: string;
  start: number;
  end: number;
}

export interface RangeView {
  start: number;
  end: number;
  text: string;
}

/** One scored unit of a mining method (a line of scores.jsonl, trimmed to what the page draws). */
export interface ScoreView {
  method: string;
  level: 'instruction' | 'response';
  segment: number | null;
  text: string;
  tokens: TokenView[];
  student: number[] | null;
  teacher: number[] | null;
  diff: number[];
  threshold: number;
  candidates: number[];
  spans: RangeView[];
}

export interface VerdictView {
  answer: string | null;
  correct: boolean;
}

export interface CounterfactualView {
  id: string;
  method: string;
  level: 'instruction' | 'response';
  pruning: string;
  segment: number | null;
  removed: RangeView[];
  prompt: string;
  responsePrefix: string | null;
  verified: boolean | null;
  teacher: VerdictView | null;
  student: VerdictView | null;
}

/** Attention from the answer positions onto the prompt tokens, for one or more models (e.g. before / after LeaF). */
export interface AttentionView {
  /** The prompt's tokens (character spans in the problem's prompt). */
  tokens: TokenView[];
  layers: number;
  heads: number;
  /** What the query rows are (e.g. "mean over the reference response's tokens"). */
  queries: string;
  models: { label: string; weights: number[][][] }[];
}

export interface ProblemView {
  id: string;
  prompt: string;
  answer: string | null;
  response: string | null;
  /** Ground-truth distractor spans in the prompt, when the data has them. */
  distractors: RangeView[] | null;
  scores: ScoreView[];
  counterfactuals: CounterfactualView[];
  attention: AttentionView | null;
  /** Free-form facts shown next to the problem (e.g. "student before: wrong (answered 7)"). */
  facts: string[];
}

export interface TableView {
  id: string;
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
  caption?: string;
}

export interface CurveSeries {
  label: string;
  /** Series of the same group share a colour (e.g. all seeds of "LeaF instr"). */
  group: string;
  points: [number, number][];
}

export interface CurveView {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: CurveSeries[];
}

export interface ReportData {
  title: string;
  subtitle: string;
  created: string;
  /** Plain-language statements shown at the top (the outcome, caveats). */
  notes: string[];
  tables: TableView[];
  curves: CurveView[];
  problems: ProblemView[];
}
