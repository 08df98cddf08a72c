/**
 * The options every resumable command shares (mine, eval, teacher-cache, distill), declared once: how
 * the run treats its output folder (data/run-folder.ts) and bad input lines, and which shard of the
 * input it takes (data/shard.ts).
 */
import type { Shard } from './shard.js';

export interface RunControl {
  /** Continue what the output folder holds, after checking its run.json against this run. */
  resume?: boolean;
  /** Start over: remove what an earlier run wrote to the folder (each command's docs say what it keeps, e.g. caches). */
  overwrite?: boolean;
  /** Stop at the first malformed input line or unusable record (default: skip it with a warning). */
  strict?: boolean;
}

/** RunControl for commands that can run one shard of their input (`leaf merge` joins the shards' folders). */
export interface ShardedRunControl extends RunControl {
  shard?: Shard;
}
