#!/usr/bin/env bash
# Serving benchmark: starts the built textclf-server on a free port with a temporary model root,
# trains a Zest model on clickbait, measures the transport ceiling (health checks only) and then
# Classify at concurrency 1,8,32,128 with batch sizes 1 and 64, printing one JSON object per step
# on stdout and a closing summary object with served throughput / ceiling. Builds nothing: run
# scripts/build first (TEXTCLF_BUILD_DIR picks another build folder).
# Knobs: SWEEP_DURATION (seconds per step, default 3), SWEEP_WARMUP (default 1),
# SWEEP_CONCURRENCY (default 1,8,32,128), SWEEP_BATCHES (default "1 64"), SWEEP_PLOT_DIR (where
# to draw each batch size's latency/throughput plot; none by default), SWEEP_TLS=1 (serve over
# TLS with a certificate made here by openssl, to compare with a plaintext run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TEXTCLF_BUILD_DIR:-$root/build}"
data="${TEXTCLF_DATA:-$root/../shared/data}"
csv="$data/clickbait/clickbait_data.csv"
duration="${SWEEP_DURATION:-3}"
warmup="${SWEEP_WARMUP:-1}"
concurrency="${SWEEP_CONCURRENCY:-1,8,32,128}"
batches="${SWEEP_BATCHES:-1 64}"
source "$root/bench/lib/serving.sh"
bench_tools serve_sweep

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

extra=()
client_tls=()
if [[ "${SWEEP_TLS:-0}" == 1 ]]; then
  # A throwaway CA and a certificate for 127.0.0.1: what the handshake and record layer cost.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" -days 1 \
    -subj "/CN=serve_sweep CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$work/san.cnf"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -out "$work/server.pem" -days 1 -extfile "$work/san.cnf" 2>/dev/null
  extra+=(--tls-cert "$work/server.pem" --tls-key "$work/server.key")
  client_tls=(--tls-ca "$work/ca.pem")
fi
if "$server_bin" --help 2>&1 | grep -q -- --metrics-port; then extra+=(--metrics-port -1); fi
start_server serve_sweep "$work/server.log" --models "$work/models" --port 0 --host 127.0.0.1 "${extra[@]}"
target="127.0.0.1:$port"
echo "serve_sweep: server on $target, $(nproc) CPUs; training Zest on clickbait" >&2
"$cli" train --server "$target" --name clickbait --family zest --csv "$csv" \
  --text-column headline --label-column clickbait --quiet "${client_tls[@]}" >&2

run() { "$loadgen" --target "$target" "${client_tls[@]}" --concurrency "$concurrency" --duration "$duration" --warmup "$warmup" \
  --timeout 30 --max-error-rate 1 --json "$@"; }
results="$work/results.jsonl"
echo "serve_sweep: health-check ceiling" >&2
run --health | tee -a "$results"
for batch in $batches; do
  echo "serve_sweep: Classify, batch $batch" >&2
  plot=()
  [[ -n "${SWEEP_PLOT_DIR:-}" ]] && plot=(--plot "$SWEEP_PLOT_DIR/serve_sweep_batch$batch.svg")
  run --model clickbait --csv "$csv" --text-column headline --batch-size "$batch" "${plot[@]}" | tee -a "$results"
done

# The closing summary: the best served throughput of each batch size against the ceiling.
if command -v jq >/dev/null; then
  jq -s -c '
    (map(select(.workload == "health")) | map(.throughput_rps) | max) as $ceiling
    | {summary: "serve_sweep", health_ceiling_rps: $ceiling}
      + (map(select(.workload == "classify")) | group_by(.batch_size)
         | map({("batch" + (.[0].batch_size | tostring)): {
                  best_rps: (map(.throughput_rps) | max),
                  best_texts_per_s: (map(.texts_per_s) | max),
                  rps_over_ceiling: ((map(.throughput_rps) | max) / $ceiling),
                  texts_per_s_over_ceiling: ((map(.texts_per_s) | max) / $ceiling)}})
         | add)' "$results"
fi
