#!/usr/bin/env bash
# What integrity by default costs (issue 20, item 5): `s3-connector cp` of one large file as a
# multipart upload (8 MiB parts, 4 in flight) with the default checksum (CRC-64/NVME per part
# and for the whole object) and with `--checksum-algorithm none`, on ONE local s3s-fs server
# (the `local_s3` example, 127.0.0.1 only). Runs alternate between the two, each to a fresh
# key; prints the wall times and their medians as Markdown on stdout.
#
# Needs the binaries (release for figures worth publishing; PROFILE=debug works too):
#   cargo build --release -p s3-connector-cli --bin s3-connector && cargo build --release -p s3-connector-local-store --example local_s3
#   bench/checksum_put.sh > /tmp/checksum-bench.md
set -euo pipefail

TARGET=${CARGO_TARGET_DIR:-target}
PROFILE=${PROFILE:-release}
CLI=${CLI:-$TARGET/$PROFILE/s3-connector}
SERVER=${SERVER:-$TARGET/$PROFILE/examples/local_s3}
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-1024}
[ -x "$CLI" ] && [ -x "$SERVER" ] || { echo "build the binaries first (see the head of $0)" >&2; exit 2; }

WORK=$(mktemp -d)
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKLOCALDEV AWS_SECRET_ACCESS_KEY=local-dev-secret AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
unset AWS_REQUEST_CHECKSUM_CALCULATION

# The server lives as long as its stdin: a FIFO held open by this script.
mkfifo "$WORK/server-stdin"
"$SERVER" < "$WORK/server-stdin" > "$WORK/server-out" &
SERVER_PID=$!
exec 3> "$WORK/server-stdin"
cleanup() { exec 3>&-; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 50); do grep -q endpoint= "$WORK/server-out" 2>/dev/null && break; sleep 0.1; done
ENDPOINT=$(sed -n 's/^endpoint=//p' "$WORK/server-out")
case "$ENDPOINT" in http://127.0.0.1:*) ;; *) echo "the server gave no loopback endpoint" >&2; exit 1 ;; esac

s3c() { "$CLI" --endpoint "$ENDPOINT" --path-style --allow '*=read,write,delete,list,admin' "$@"; }

head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/big.bin"
s3c mb s3://bench > /dev/null

# Seconds taken by a command (its output discarded); a failed command ends the script.
timed() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

with="" without=""
for run in $(seq "$RUNS"); do
  with+="$(timed s3c cp "$WORK/big.bin" "s3://bench/with-$run") "
  s3c rm "s3://bench/with-$run" > /dev/null
  without+="$(timed s3c cp "$WORK/big.bin" "s3://bench/without-$run" --checksum-algorithm none) "
  s3c rm "s3://bench/without-$run" > /dev/null
done

echo "| upload of $SIZE_MIB MiB (multipart, 8 MiB parts, 4 in flight) | runs (s) | median (s) |"
echo "|---|---|---|"
echo "| default: CRC64NVME per part and full-object | $with| $(echo "$with" | median) |"
echo "| \`--checksum-algorithm none\` | $without| $(echo "$without" | median) |"
echo
echo "$PROFILE build, $RUNS runs each, alternating; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
