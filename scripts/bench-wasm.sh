#!/usr/bin/env bash
# The bus benchmarks in headless Chromium (tests/web_bench.rs): replicated SETs per second
# through a master and two replicas, and time-travel jump latency. Compares with the
# native `cargo bench --no-default-features --bench bus`. Optimised for speed (opt-level
# 3), not for the page's size settings. Prints the numbers; asserts nothing about time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=3
cargo test --release --target wasm32-unknown-unknown --test web_bench -- --nocapture 2>&1 | tee /dev/stderr | grep -E "bench-wasm" || {
    echo "no numbers printed: see the output above" >&2
    exit 1
}
