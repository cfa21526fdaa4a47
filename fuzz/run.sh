#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, starting from the committed seed corpus.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds, every target)
#
# Needs a nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`); CI does not run it. New inputs go to fuzz/corpus-new/TARGET
# (not committed), crashes to fuzz/artifacts/TARGET. The seed corpus itself also runs on stable
# in the normal test suite (host/tests/fuzz_seeds.rs and the plugin's fuzzing unit test).
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

failed=0
for target in "${targets[@]}"; do
    if [ ! -d "fuzz/corpus/$target" ]; then
        echo "fuzz/run.sh: unknown target '$target' (no fuzz/corpus/$target)" >&2
        exit 2
    fi
    mkdir -p "fuzz/corpus-new/$target"
    echo "== $target: ${seconds}s"
    # -max_total_time bounds the run; timeout(1) bounds the build and a hung run too.
    if ! timeout "$((seconds + 900))" cargo +nightly fuzz run --fuzz-dir fuzz "$target" \
        "fuzz/corpus-new/$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -max_len=4096; then
        echo "== $target: FAILED (see fuzz/artifacts/$target)"
        failed=1
    fi
done
exit "$failed"
