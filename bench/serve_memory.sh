#!/usr/bin/env bash
# Does `s3-connector serve` give memory back? (issue 34, item 7) Resident memory (VmRSS) of the
# server right after it starts, after three wrk load rounds of 1 KiB GETs (1, 16 and 64
# connections) and one 200 MiB PUT through it, and after it then sits idle: the target is at
# most twice the resident memory after start, 30 s into the idle time. Loopback only, each
# load round bounded in time (DURATION seconds). Prints Markdown on stdout; its figures are in
# BENCHMARKS.md ("serve gives memory back").
#
# Needs the release binaries, wrk and curl (this script installs nothing):
#   cargo build --release -p s3-connector-cli --bin s3-connector && cargo build --release -p s3-connector-local-store --example local_s3
#   bench/serve_memory.sh > /tmp/serve-memory.md
set -euo pipefail

DURATION=${DURATION:-10}
IDLE=${IDLE:-30}
PUT_MIB=${PUT_MIB:-200}

# The binaries, the store at ENDPOINT with s3://bench/object-1k, start_serve, the cleanup on exit.
source "$(dirname "$0")/serve_setup.sh"
head -c $((PUT_MIB << 20)) /dev/urandom > "$WORK/large"

start_serve --allow 'bench=read,write' serve --listen 127.0.0.1:0 --token bench-token

rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVE_PID/status"; }
sleep 1
START=$(rss_mib)
echo "| moment | serve's resident memory (MiB) |"
echo "|---|---|"
echo "| after start | $START |"
for c in 1 16 64; do
  threads=2; [ "$c" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$c" -d"${DURATION}s" -H "Authorization: Bearer bench-token" "http://$ADDRESS/bench/object-1k" > "$WORK/wrk"
  echo "| after $DURATION s of 1 KiB GETs at $c connections ($(awk '/^Requests\/sec/ { print $2 }' "$WORK/wrk") req/s) | $(rss_mib) |"
done
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer bench-token" -T "$WORK/large" "http://$ADDRESS/bench/large")
case "$status" in 2*) ;; *) echo "the $PUT_MIB MiB PUT through serve answered $status" >&2; exit 1 ;; esac
LOADED=$(rss_mib)
echo "| after a $PUT_MIB MiB PUT | $LOADED |"
for waited in 10 20 "$IDLE"; do
  sleep $((waited - ${last:-0})); last=$waited
  echo "| idle $waited s | $(rss_mib) |"
done
IDLE_RSS=$(rss_mib)
verdict=$(awk -v s="$START" -v i="$IDLE_RSS" 'BEGIN { printf "%.2f", i / s }')
echo
echo "Idle after $IDLE s / after start: ${verdict}x (target at most 2x). $(nproc) cores, wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')."
