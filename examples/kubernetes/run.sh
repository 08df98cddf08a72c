#!/bin/sh
# The whole recipe: the sharded Job, wait for it, then the merge Job.
set -e
kubectl apply -f mine-shards.yaml
kubectl wait --for=condition=complete --timeout=24h job/leaf-mine
kubectl apply -f merge-job.yaml
kubectl wait --for=condition=complete --timeout=1h job/leaf-merge
