#!/bin/sh
# The array job, then the merge once every task has succeeded; then the teacher cache the same way.
set -e
jid=$(sbatch --parsable mine-shards.sbatch)
mid=$(sbatch --parsable --dependency=afterok:"$jid" merge.sbatch)
cid=$(sbatch --parsable --dependency=afterok:"$mid" teacher-cache-shards.sbatch)
sbatch --dependency=afterok:"$cid" merge-cache.sbatch
