#!/usr/bin/env bash
# `s3-connector sync` against `aws s3 sync` (issue 20's benchmark) and `rclone sync` (issue 34:
# Debian's rclone, `--transfers 16`), on ONE local s3s-fs server (the `local_s3` example,
# 127.0.0.1 only), same data, same run: 1,000 files of 4 KiB and 20
# files of 8 MiB, each synced up to a fresh folder, then again with nothing changed, then down
# to a fresh directory, then again. Wall time of each, and the requests each sent (s3-connector:
# its audit log, one line per request; the aws CLI: a repeat of the same sync with --debug into
# another fresh folder, counting botocore's "Making request" lines, so that logging does not
# slow the timed run; rclone: the same with --dump headers, counting its requests). Then the aws CLI's own `sync --dryrun` after s3-connector's syncs, which
# must find nothing to do. Prints Markdown on stdout.
#
# Needs the release binaries, the aws CLI (`pip install awscli`) and rclone (`apt-get install
# rclone`); this script does not install anything:
#   cargo build --release -p s3-connector-cli --bin s3-connector && cargo build --release -p s3-connector-local-store --example local_s3
#   bench/sync.sh > /tmp/sync-bench.md
set -euo pipefail

TARGET=${CARGO_TARGET_DIR:-target}
PROFILE=${PROFILE:-release}
CLI=${CLI:-$TARGET/$PROFILE/s3-connector}
SERVER=${SERVER:-$TARGET/$PROFILE/examples/local_s3}
RUNS=${RUNS:-3}
SMALL=${SMALL:-1000}
LARGE=${LARGE:-20}
[ -x "$CLI" ] && [ -x "$SERVER" ] || { echo "build the release binaries first (see the head of $0)" >&2; exit 2; }
command -v aws >/dev/null || { echo "no aws CLI on PATH: pip install awscli" >&2; exit 2; }
command -v rclone >/dev/null || { echo "no rclone on PATH: apt-get install rclone" >&2; exit 2; }

WORK=$(mktemp -d)
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKLOCALDEV AWS_SECRET_ACCESS_KEY=local-dev-secret AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
# multipart_threshold as s3-connector's (16 MiB), so that both send an 8 MiB file in one PUT.
printf '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  multipart_threshold = 16MB\n' > "$AWS_CONFIG_FILE"
: > "$AWS_SHARED_CREDENTIALS_FILE"

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
awsc() { aws --endpoint-url "$ENDPOINT" "$@"; }
# rclone's remote "local" from the environment (no config file), the same store and keys.
export RCLONE_CONFIG_LOCAL_TYPE=s3 RCLONE_CONFIG_LOCAL_PROVIDER=Other RCLONE_CONFIG_LOCAL_ENDPOINT="$ENDPOINT"
export RCLONE_CONFIG_LOCAL_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_LOCAL_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_LOCAL_REGION=us-east-1 RCLONE_CONFIG_LOCAL_FORCE_PATH_STYLE=true
# rclone 1.60 fails on AWS_CA_BUNDLE ("HTTPClient's transport unsupported type"); the store is plain HTTP.
rcl() { AWS_CA_BUNDLE= rclone --config /dev/null --transfers 16 "$@"; }
# rclone's name for s3://BUCKET/PREFIX.
remote() { echo "local:${1#s3://}"; }

mkdir -p "$WORK/small" "$WORK/large"
for i in $(seq -w 1 "$SMALL"); do head -c 4096 /dev/urandom > "$WORK/small/f$i.bin"; done
for i in $(seq -w 1 "$LARGE"); do head -c $((8 << 20)) /dev/urandom > "$WORK/large/f$i.bin"; done
s3c mb s3://bench > /dev/null

# Seconds taken by a command (its output discarded).
timed() {
  local start end
  start=$(date +%s.%N)
  # A failed sync is recorded and named at the end: its time is not a figure.
  "$@" > /dev/null || echo "$*" >> "$WORK/failed"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One row: TOOL SET PHASE seconds(median of RUNS, each into fresh places) requests
echo "| data | phase | s3-connector s (median of $RUNS) | aws CLI s | rclone s | aws / s3-connector | rclone / s3-connector | s3-connector requests | aws CLI requests | rclone requests |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for set in small large; do
  declare -A S A R
  for phase in up up-again down down-again; do S[$phase]=""; A[$phase]=""; R[$phase]=""; done
  for run in $(seq "$RUNS"); do
    for tool in s3c aws rclone; do
      prefix="s3://bench/$tool-$set-$run"
      down="$WORK/down-$tool-$set-$run"
      if [ $tool = s3c ]; then
        up=$(timed s3c sync "$WORK/$set" "$prefix"); again=$(timed s3c sync "$WORK/$set" "$prefix")
        dn=$(timed s3c sync "$prefix" "$down"); dn_again=$(timed s3c sync "$prefix" "$down")
        S[up]+="$up "; S[up-again]+="$again "; S[down]+="$dn "; S[down-again]+="$dn_again "
      elif [ $tool = rclone ]; then
        up=$(timed rcl sync "$WORK/$set" "$(remote "$prefix")"); again=$(timed rcl sync "$WORK/$set" "$(remote "$prefix")")
        dn=$(timed rcl sync "$(remote "$prefix")" "$down"); dn_again=$(timed rcl sync "$(remote "$prefix")" "$down")
        R[up]+="$up "; R[up-again]+="$again "; R[down]+="$dn "; R[down-again]+="$dn_again "
      else
        up=$(timed awsc s3 sync --only-show-errors "$WORK/$set" "$prefix")
        again=$(timed awsc s3 sync --only-show-errors "$WORK/$set" "$prefix")
        dn=$(timed awsc s3 sync --only-show-errors "$prefix" "$down")
        dn_again=$(timed awsc s3 sync --only-show-errors "$prefix" "$down")
        A[up]+="$up "; A[up-again]+="$again "; A[down]+="$dn "; A[down-again]+="$dn_again "
      fi
    done
  done
  # Requests: s3-connector's audit of one more round; the aws CLI's --debug log of one more.
  audit="$WORK/audit-$set"
  declare -A SR AR RR
  prefix="s3://bench/count-s3c-$set"; down="$WORK/count-s3c-$set"
  for phase in up up-again down down-again; do
    case $phase in up|up-again) args=("$WORK/$set" "$prefix") ;; *) args=("$prefix" "$down") ;; esac
    rm -f "$audit"; s3c --audit "$audit" sync "${args[@]}" > /dev/null; SR[$phase]=$(wc -l < "$audit")
  done
  prefix="s3://bench/count-aws-$set"; down="$WORK/count-aws-$set"
  for phase in up up-again down down-again; do
    case $phase in up|up-again) args=("$WORK/$set" "$prefix") ;; *) args=("$prefix" "$down") ;; esac
    AR[$phase]=$(awsc --debug s3 sync --only-show-errors "${args[@]}" 2>&1 >/dev/null | grep -c "Making request for OperationModel" || true)
  done
  prefix="s3://bench/count-rclone-$set"; down="$WORK/count-rclone-$set"
  for phase in up up-again down down-again; do
    case $phase in up|up-again) args=("$WORK/$set" "$(remote "$prefix")") ;; *) args=("$(remote "$prefix")" "$down") ;; esac
    RR[$phase]=$(rcl --dump headers sync "${args[@]}" 2>&1 >/dev/null | grep -c "HTTP REQUEST" || true)
  done
  for phase in up up-again down down-again; do
    s=$(echo ${S[$phase]} | tr ' ' '\n' | median); a=$(echo ${A[$phase]} | tr ' ' '\n' | median)
    r=$(echo ${R[$phase]} | tr ' ' '\n' | median)
    echo "| $set | $phase | $(printf %.2f "$s") | $(printf %.2f "$a") | $(printf %.2f "$r") | $(echo "scale=2; $a / $s" | bc) | $(echo "scale=2; $r / $s" | bc) | ${SR[$phase]} | ${AR[$phase]} | ${RR[$phase]} |"
  done
  unset S A R SR AR RR

  # After s3-connector's syncs, the aws CLI's own dry run has nothing to do, both ways.
  up_left=$(awsc s3 sync --dryrun "$WORK/$set" "s3://bench/s3c-$set-1" | wc -l)
  down_left=$(awsc s3 sync --dryrun "s3://bench/s3c-$set-1" "$WORK/down-s3c-$set-1" | wc -l)
  echo "$set: aws s3 sync --dryrun after s3-connector sync: $up_left actions up, $down_left down" >> "$WORK/dryrun"
done
echo
cat "$WORK/dryrun"
if [ -s "$WORK/failed" ]; then
  echo
  echo "**$(wc -l < "$WORK/failed") timed commands FAILED; the figures above are not valid:** $(tr '\n' ';' < "$WORK/failed")"
fi
echo
echo "Raw: $SMALL files of 4 KiB, $LARGE of 8 MiB, $PROFILE binaries, RUNS=$RUNS, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(aws --version 2>&1), $(rclone version 2>/dev/null | head -1), rclone with --transfers 16."
