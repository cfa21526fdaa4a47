#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, starting from the committed seed corpus.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds, every target)
#
# Needs a nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`); CI does not run it (the nightly build alone takes ~14 minutes
# on 2 cores). New inputs go to fuzz/corpus-new/TARGET
# (not committed), crashes to fuzz/artifacts/TARGET. The seed corpus itself also runs on stable
# in the normal test suite (cli/tests/fuzz_seeds.rs and the plugin's fuzzing unit test).
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(s3_address policy_config xml_responses json_action)
fi
case "$seconds" in
    '' | *[!0-9]*) echo "fuzz/run.sh: SECONDS_PER_TARGET must be a number, not '$seconds'" >&2; exit 2 ;;
esac
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: needs nightly and cargo-fuzz: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
    exit 2
fi

# Fuzz builds (nightly, sanitizers) stay out of the main target directory.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-fuzz/target}"
# The targets call the parsers only, never the plugin, so the host embeds an empty placeholder
# instead of building the component (that nested build would run on nightly, which lacks
# wasm32-wasip2).
mkdir -p "$CARGO_TARGET_DIR"
placeholder="$(cd "$CARGO_TARGET_DIR" && pwd)/no-plugin.wasm"
: > "$placeholder"
export S3_CONNECTOR_PLUGIN_WASM="${S3_CONNECTOR_PLUGIN_WASM:-$placeholder}"
export S3_CONNECTOR_EDGE_WASM="${S3_CONNECTOR_EDGE_WASM:-$placeholder}"
export S3_CONNECTOR_EDGE_SPIN_WASM="${S3_CONNECTOR_EDGE_SPIN_WASM:-$placeholder}"
export S3_CONNECTOR_EDGE_P3_WASM="${S3_CONNECTOR_EDGE_P3_WASM:-$placeholder}"
export S3_CONNECTOR_EDGE_P3_SPIN_WASM="${S3_CONNECTOR_EDGE_P3_SPIN_WASM:-$placeholder}"
echo "== building the fuzz targets (nightly)"
timeout 1800 cargo +nightly fuzz build --fuzz-dir fuzz

failed=0
for target in "${targets[@]}"; do
    if [ ! -d "fuzz/corpus/$target" ]; then
        echo "fuzz/run.sh: unknown target '$target' (no fuzz/corpus/$target)" >&2
        exit 2
    fi
    mkdir -p "fuzz/corpus-new/$target"
    echo "== $target: ${seconds}s"
    # -max_total_time bounds the run; timeout(1) bounds a hung run too.
    if ! timeout "$((seconds + 300))" cargo +nightly fuzz run --fuzz-dir fuzz "$target" \
        "fuzz/corpus-new/$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -max_len=4096; then
        echo "== $target: FAILED (see fuzz/artifacts/$target)"
        failed=1
    fi
done
exit "$failed"
