#!/usr/bin/env bash
# The three front doors side by side: starts the built textclf-server with its HTTP port on a
# temporary model root, trains Zest on clickbait, and runs the same Classify workload through
# textclf.v1 Classify (gRPC), the Open Inference Protocol's ModelInfer (gRPC) and its JSON infer
# (HTTP), at batch 1 and 64, closed loop. Prints one loadgen JSON object per step on stdout, then
# one summary object per batch size with each door's texts/s and p50/p99 and its ratio to
# Classify's (the issue's target: HTTP/JSON at batch 64 >= 0.7). Builds nothing: run
# scripts/build first (TEXTCLF_BUILD_DIR picks another build folder).
# Knobs: DOORS_DURATION (seconds per step, default 5), DOORS_WARMUP (default 1),
# DOORS_CONCURRENCY (default 8), DOORS_BATCHES (default "1 64").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TEXTCLF_BUILD_DIR:-$root/build}"
data="${TEXTCLF_DATA:-$root/../shared/data}"
csv="$data/clickbait/clickbait_data.csv"
duration="${DOORS_DURATION:-5}"
warmup="${DOORS_WARMUP:-1}"
concurrency="${DOORS_CONCURRENCY:-8}"
batches="${DOORS_BATCHES:-1 64}"
source "$root/bench/lib/serving.sh"
bench_tools front_doors

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_server front_doors "$work/server.log" --models "$work/models" --port 0 --http-port 0 --host 127.0.0.1 \
  --metrics-port -1
echo "front_doors: gRPC on $port, HTTP on $http_port, $(nproc) CPUs; training Zest on clickbait" >&2
"$cli" train --server "127.0.0.1:$port" --name clickbait --family zest --csv "$csv" \
  --text-column headline --label-column clickbait --quiet >&2

results="$work/results.jsonl"
for batch in $batches; do
  for protocol in textclf oip-grpc oip-http; do
    echo "front_doors: $protocol, batch $batch" >&2
    http=()
    [[ "$protocol" == oip-http ]] && http=(--http-target "127.0.0.1:$http_port")
    "$loadgen" --target "127.0.0.1:$port" "${http[@]}" --protocol "$protocol" --model clickbait --csv "$csv" \
      --text-column headline --batch-size "$batch" --concurrency "$concurrency" --duration "$duration" \
      --warmup "$warmup" --timeout 30 --max-error-rate 1 --json | tee -a "$results"
  done
done

# The summary: per batch size, each door's numbers and its ratio to Classify's texts/s.
field() { grep -oE "\"$1\":[^,}]+" <<< "$2" | head -1 | cut -d: -f2 | tr -d '"'; }
for batch in $batches; do
  base=""
  summary="{\"summary\":\"front_doors\",\"batch_size\":$batch,\"concurrency\":$concurrency"
  for protocol in textclf oip-grpc oip-http; do
    line="$(grep "\"protocol\":\"$protocol\"" "$results" | grep "\"batch_size\":$batch," | tail -1)"
    texts="$(field texts_per_s "$line")"
    [[ -z "$base" ]] && base="$texts"
    ratio="$(awk -v a="$texts" -v b="$base" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
    summary+=",\"$protocol\":{\"texts_per_s\":$texts,\"p50_ms\":$(field p50_ms "$line"),\"p99_ms\":$(field p99_ms "$line"),\"over_classify\":$ratio}"
  done
  echo "$summary}"
done
