# Sourced by the bench scripts that put `s3-connector serve` in front of ONE local store
# (serve_load.sh, serve_memory.sh), so that they start and stop it alike: a scratch directory
# (WORK), static local credentials in the environment, no shared AWS files, the `local_s3`
# example ($SERVER) on 127.0.0.1 for as long as this script holds its stdin, its ENDPOINT, and
# an EXIT trap that stops serve (SERVE_PID, once the script sets it) and then the store.
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
