#!/usr/bin/env bash
# Throughput with 1, 2 and 3 replicas on loopback: starts REPLICAS textclf-server processes in
# poll mode on one shared model repository (as pods on one volume), trains a Zest model on
# clickbait through the first, waits until every replica serves it, then runs textclf-loadgen
# closed-loop against the first 1, 2, ... REPLICAS addresses (client-side round robin) for each
# batch size, printing one JSON object per run (textclf-loadgen --json) with "replicas" added.
# Builds nothing: run scripts/build first (TEXTCLF_BUILD_DIR picks another build folder).
# Knobs: REPLICAS (3), REPLICA_THREADS (--threads per replica, 1), CONCURRENCY (32), DURATION (10),
# WARMUP (2), BATCHES ("1 16"), NICE (nice level of servers and client, 0).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TEXTCLF_BUILD_DIR:-$root/build}"
data="${TEXTCLF_DATA:-$root/../shared/data}"
csv="$data/clickbait/clickbait_data.csv"
replicas="${REPLICAS:-3}"
threads="${REPLICA_THREADS:-1}"
concurrency="${CONCURRENCY:-32}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
batches="${BATCHES:-1 16}"
niceness="${NICE:-0}"
server_bin="$bin/server/textclf-server"
cli="$bin/client/textclf"
loadgen="$bin/client/loadgen/textclf-loadgen"
for tool in "$server_bin" "$cli" "$loadgen"; do
  [[ -x "$tool" ]] || { echo "bench-replicas: $tool is missing; build first (scripts/build)" >&2; exit 2; }
done
[[ -f "$csv" ]] || { echo "bench-replicas: $csv not found; set TEXTCLF_DATA" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

addresses=()
for i in $(seq 1 "$replicas"); do
  nice -n "$niceness" "$server_bin" --models "$work/models" --host 127.0.0.1 --port 0 --metrics-port -1 \
    --threads "$threads" --poll-interval 1 2>"$work/server$i.log" &
  pids+=($!)
  port=""
  for _ in $(seq 300); do
    port="$(grep -oE 'on port [0-9]+' "$work/server$i.log" | head -1 | grep -oE '[0-9]+' || true)"
    [[ -n "$port" ]] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/server$i.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "bench-replicas: replica $i did not start" >&2; exit 1; }
  addresses+=("127.0.0.1:$port")
done
echo "bench-replicas: $replicas replicas (--threads $threads) on ${addresses[*]}, $(nproc) CPUs" >&2
"$cli" train --server "${addresses[0]}" --name clickbait --family zest --csv "$csv" \
  --text-column headline --label-column clickbait --quiet >&2
for address in "${addresses[@]}"; do
  for _ in $(seq 100); do
    "$cli" models get clickbait --server "$address" --json 2>/dev/null | grep -q LOADED && break
    sleep 0.1
  done
done

for batch in $batches; do
  for n in $(seq 1 "$replicas"); do
    targets="$(IFS=,; echo "${addresses[*]:0:$n}")"
    nice -n "$niceness" "$loadgen" --target "$targets" --model clickbait --csv "$csv" --text-column headline \
      --batch-size "$batch" --concurrency "$concurrency" --duration "$duration" --warmup "$warmup" \
      --timeout 30 --max-error-rate 1 --json | sed "s/^{/{\"replicas\":$n,/"
  done
done
