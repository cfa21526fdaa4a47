#!/usr/bin/env bash
# Node-RED itself loads the connector (issue 33, item 1): engines/node-red's test starts the
# Node-RED 4 runtime headless (node-red-node-test-helper) with a flow inject -> s3-connector
# -> helper node, against a local S3 server on 127.0.0.1 (the host crate's `local_s3`
# example): puts, lists, gets, and policy refusals that send S3 nothing.
#
#   tests/node_red.sh
#
# Environment: LOCAL_S3 (a built local_s3 example; default: built here), PLUGIN_WASM (default:
# the component `cargo build -p s3-connector-host` builds). Needs `npm ci` in hosts/node and in
# engines/node-red. Exits 1 on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin_wasm="${PLUGIN_WASM:-$root/target/plugin/wasm32-wasip2/plugin/s3_connector_plugin.wasm}"
for dir in hosts/node/node_modules/@bytecodealliance/jco engines/node-red/node_modules/node-red; do
    if [[ ! -d "$root/$dir" ]]; then
        echo "FAIL: $dir is missing; run: (cd hosts/node && npm ci) and (cd engines/node-red && npm ci)" >&2
        exit 2
    fi
done
if [[ -z "${LOCAL_S3:-}" ]]; then
    (cd "$root" && cargo build -q --example local_s3 -p s3-connector-local-store)
    LOCAL_S3="$root/target/debug/examples/local_s3"
fi

access_key_id="AKNODERED"
secret_access_key="node-red-dev-secret"
work="$(mktemp -d "${TMPDIR:-/tmp}/node-red.XXXXXX")"
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
echo "== Node-RED (engines/node-red): node --test test/"
# Bounded: the test's requests are few and small; this caps a hang at 5 minutes. The AWS_*
# variables are cleared so that the test uses the config node's credentials only.
(cd "$root/engines/node-red" && env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    S3_ENDPOINT="$local_s3_endpoint" S3_ACCESS_KEY_ID="$access_key_id" \
    S3_SECRET_ACCESS_KEY="$secret_access_key" S3_CONNECTOR_PLUGIN_WASM="$plugin_wasm" \
    timeout 300 node --test test/)
