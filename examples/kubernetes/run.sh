#!/bin/sh
# The whole recipe: the sharded Job, wait for it, then the merge Job.
set -e
kubectl apply -f mine-shards.yaml
kubectl wait --for=condition=complete --timeout=24h job/leaf-mine
kubectl apply -f merge-job.yaml
kubectl wait --for=condition=complete --timeout=1h job/leaf-merge
# The teacher's top-K cache for leaf distill --teacher-cache /data/cache/all, sharded the same way.
kubectl apply -f teacher-cache-shards.yaml
kubectl wait --for=condition=complete --timeout=24h job/leaf-teacher-cache
kubectl apply -f merge-cache-job.yaml
kubectl wait --for=condition=complete --timeout=1h job/leaf-merge-cache
