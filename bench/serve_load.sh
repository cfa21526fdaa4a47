#!/usr/bin/env bash
# `s3-connector serve --tenants` under load (issue 21): wrk on loopback against ONE local s3s-fs
# server (the `local_s3` example, 127.0.0.1 only), each run bounded in time (DURATION seconds).
# 1 KiB GETs at 1, 16 and 64 connections for one tenant alone, then the same while a second
# tenant, over its rate limit (RATE requests/s), sends at 64 connections from another wrk and
# is answered 429: the first tenant's requests/s and p99 are the figures to compare. Prints
# Markdown on stdout. Its figures are in BENCHMARKS.md ("serve with tenants under load").
#
# Needs the release binaries and wrk (`apt-get install wrk`; this script installs nothing):
#   cargo build --release -p s3-connector-cli --bin s3-connector && cargo build --release -p s3-connector-local-store --example local_s3
#   bench/serve_load.sh > /tmp/serve-load.md
set -euo pipefail

DURATION=${DURATION:-10}
RATE=${RATE:-50}

# The binaries, the store at ENDPOINT with s3://bench/object-1k, start_serve, the cleanup on exit.
source "$(dirname "$0")/serve_setup.sh"

hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
cat > "$WORK/tenants.toml" <<TOML
[[tenant]]
name = "steady"
credentials = { source = "default" }
allow = [{ bucket = "bench", operations = ["read"] }]

[[tenant]]
name = "noisy"
credentials = { source = "default" }
limits = { requests_per_second = $RATE.0, burst = $RATE }
allow = [{ bucket = "bench", operations = ["read"] }]

[[token]]
tenant = "steady"
sha256 = "$(hash steady-token)"

[[token]]
tenant = "noisy"
sha256 = "$(hash noisy-token)"
TOML

start_serve serve --listen 127.0.0.1:0 --tenants "$WORK/tenants.toml"
URL="http://$ADDRESS/bench/object-1k"

# wrk's own figures: requests/s, p99 latency, and answers other than 2xx/3xx.
run_wrk() { # TOKEN CONNECTIONS OUT
  local threads=2
  [ "$2" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency -H "Authorization: Bearer $1" "$URL" > "$3"
}
rps() { awk '/^Requests\/sec/ { print $2 }' "$1"; }
p99() { awk '$1 == "99%" { print $2 }' "$1"; }
non2xx() { awk '/Non-2xx or 3xx responses/ { print $5 }' "$1" | grep . || echo 0; }

echo "| tenants | steady's connections | steady req/s | steady p99 | steady non-2xx | noisy req/s (over its $RATE/s limit) | noisy non-2xx (429) |"
echo "|---|---|---|---|---|---|---|"
for c in 1 16 64; do
  run_wrk steady-token "$c" "$WORK/alone"
  echo "| steady alone | $c | $(rps "$WORK/alone") | $(p99 "$WORK/alone") | $(non2xx "$WORK/alone") | - | - |"
done
for c in 1 16 64; do
  run_wrk noisy-token 64 "$WORK/noisy" &
  NOISY=$!
  run_wrk steady-token "$c" "$WORK/steady"
  wait "$NOISY"
  echo "| steady + noisy at 64 | $c | $(rps "$WORK/steady") | $(p99 "$WORK/steady") | $(non2xx "$WORK/steady") | $(rps "$WORK/noisy") | $(non2xx "$WORK/noisy") |"
done
echo
echo "DURATION=${DURATION}s per run, wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(nproc) cores, load average before: see the runner."
