#!/usr/bin/env bash
# The Node.js hosts (hosts/node, through jco) in CI: the runners' unit tests, the edge runner
# through every route check of tests/wasmtime_serve.sh plus a 64 MiB object up and down, and
# the plugin-world example (put, get, list, JSON actions, documents) against a local S3 server
# on 127.0.0.1 (the host crate's `local_s3` example).
#
#   tests/node_hosts.sh
#
# Environment: LOCAL_S3 (a built local_s3 example; default: built here), PLUGIN_WASM and
# EDGE_WASM (default: the components `cargo build -p s3-connector-host` builds).
# Exits 1 on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin_wasm="${PLUGIN_WASM:-$root/target/plugin/wasm32-wasip2/plugin/s3_connector_plugin.wasm}"
if [[ ! -d "$root/hosts/node/node_modules/@bytecodealliance/jco" ]]; then
    echo "FAIL: the Node runner's packages are missing; run: (cd hosts/node && npm ci)" >&2
    exit 2
fi
if [[ -z "${LOCAL_S3:-}" ]]; then
    (cd "$root" && cargo build -q --example local_s3 -p s3-connector-local-store)
    LOCAL_S3="$root/target/debug/examples/local_s3"
fi
export LOCAL_S3

echo "== node --test hosts/node/test"
(cd "$root/hosts/node" && node --test test/)

echo "== the edge runner: tests/wasmtime_serve.sh with SERVER=node LARGE_MIB=64"
SERVER=node LARGE_MIB=64 "$root/tests/wasmtime_serve.sh"

echo "== the plugin world: hosts/node/examples/plugin-example.mjs"
access_key_id="AKNODEPLUGIN"
secret_access_key="node-plugin-dev-secret"
work="$(mktemp -d "${TMPDIR:-/tmp}/node-plugin.XXXXXX")"
source "$root/tests/local_s3.sh"
cleanup() {
    local status=$?
    set +e
    local_s3_stop
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! local_s3_start "$LOCAL_S3" "$access_key_id" "$secret_access_key" "$work/local_s3.log"; then
    echo "FAIL: local S3 server did not print its endpoint: $(cat "$work/local_s3.log")"
    exit 1
fi
# Bounded: the example's own requests are bounded; this caps a hang at 5 minutes.
(cd "$root/hosts/node" && S3_ENDPOINT="$local_s3_endpoint" S3_ACCESS_KEY_ID="$access_key_id" \
    S3_SECRET_ACCESS_KEY="$secret_access_key" timeout 300 node examples/plugin-example.mjs "$plugin_wasm")
