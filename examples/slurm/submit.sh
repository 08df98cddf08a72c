#!/bin/sh
# The array job, then the merge once every task has succeeded.
set -e
jid=$(sbatch --parsable mine-shards.sbatch)
sbatch --dependency=afterok:"$jid" merge.sbatch
