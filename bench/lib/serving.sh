# Shared by the serving benchmarks (bench/serve_sweep.sh, bench/front_doors.sh); source it after
# setting `bin` (the build folder) and `csv` (the clickbait CSV).

# bench_tools NAME: the server, CLI and load generator of the build, or exit 2 saying what is
# missing (NAME prefixes the messages).
bench_tools() {
  server_bin="$bin/server/textclf-server"
  cli="$bin/client/textclf"
  loadgen="$bin/client/loadgen/textclf-loadgen"
  local tool
  for tool in "$server_bin" "$cli" "$loadgen"; do
    [[ -x "$tool" ]] || { echo "$1: $tool is missing; build first (scripts/build)" >&2; exit 2; }
  done
  [[ -f "$csv" ]] || { echo "$1: $csv not found; set TEXTCLF_DATA" >&2; exit 2; }
}

# start_server NAME LOG ARGS...: starts textclf-server with ARGS (ports 0: it picks free ones and
# names them in its "serving" log line) and waits for it; sets server_pid, port and, when ARGS
# open the HTTP port, http_port. Exits 1 with the log when it does not start.
start_server() {
  local name="$1" log="$2"
  shift 2
  "$server_bin" "$@" 2>"$log" &
  server_pid=$!
  local wants_http=0 arg
  for arg in "$@"; do [[ "$arg" == --http-port ]] && wants_http=1; done
  port="" http_port=""
  for _ in $(seq 100); do
    port="$(grep -oE 'on port [0-9]+' "$log" | head -1 | grep -oE '[0-9]+' || true)"
    http_port="$(grep -oE 'HTTP on port [0-9]+' "$log" | head -1 | grep -oE '[0-9]+' || true)"
    [[ -n "$port" && ( "$wants_http" == 0 || -n "$http_port" ) ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$name: the server did not start" >&2
  cat "$log" >&2
  exit 1
}
