# Sourced by the bench scripts that put `s3-connector serve` in front of ONE local store
# (serve_load.sh, serve_memory.sh), so that they set up and stop alike: the release binaries
# ($CLI, $SERVER) and wrk checked, a scratch directory (WORK), static local credentials in the
# environment and no shared AWS files, the `local_s3` example on 127.0.0.1 at ENDPOINT for as
# long as the script holds its stdin, the bucket `bench` with a 1 KiB object `object-1k`,
# `start_serve ARGS...` (serve on 127.0.0.1:0 at ADDRESS, its pid SERVE_PID), and an EXIT trap
# that stops serve and then the store.
TARGET=${CARGO_TARGET_DIR:-target}
PROFILE=${PROFILE:-release}
CLI=${CLI:-$TARGET/$PROFILE/s3-connector}
SERVER=${SERVER:-$TARGET/$PROFILE/examples/local_s3}
[ -x "$CLI" ] && [ -x "$SERVER" ] || { echo "build the release binaries first (see the head of $0)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "no wrk on PATH: apt-get install wrk" >&2; exit 2; }

WORK=$(mktemp -d)
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKLOCALDEV AWS_SECRET_ACCESS_KEY=local-dev-secret AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"

# The store lives as long as its stdin: a FIFO held open by this script.
mkfifo "$WORK/server-stdin"
"$SERVER" < "$WORK/server-stdin" > "$WORK/server-out" &
SERVER_PID=$!
exec 3> "$WORK/server-stdin"
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
  exec 3>&-; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 50); do grep -q endpoint= "$WORK/server-out" 2>/dev/null && break; sleep 0.1; done
ENDPOINT=$(sed -n 's/^endpoint=//p' "$WORK/server-out")
case "$ENDPOINT" in http://127.0.0.1:*) ;; *) echo "the store gave no loopback endpoint" >&2; exit 1 ;; esac

s3c() { "$CLI" --endpoint "$ENDPOINT" --path-style --allow '*=read,write,list,admin' "$@"; }
s3c mb s3://bench > /dev/null
head -c 1024 /dev/urandom > "$WORK/object"
s3c cp "$WORK/object" s3://bench/object-1k > /dev/null

# Starts `s3-connector serve ARGS...` in front of the store on 127.0.0.1:0 and waits for the
# address it logs (at info, hence the filter; RUST_LOG overrides it).
start_serve() {
  RUST_LOG=${RUST_LOG:-error,s3_connector_cli=info} "$CLI" --endpoint "$ENDPOINT" --path-style "$@" \
    2> "$WORK/serve-err" &
  SERVE_PID=$!
  for _ in $(seq 100); do grep -q 'serving on' "$WORK/serve-err" 2>/dev/null && break; sleep 0.1; done
  ADDRESS=$(sed -n 's|.*serving on http://\([0-9.:]*\).*|\1|p' "$WORK/serve-err")
  case "$ADDRESS" in 127.0.0.1:*) ;; *) echo "serve did not start: $(cat "$WORK/serve-err")" >&2; exit 1 ;; esac
}
