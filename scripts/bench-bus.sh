#!/usr/bin/env bash
# The bus benchmark natively (benches/bus.rs), run twice:
#   1. as glibc comes: each criterion iteration drops a whole bus (10 000 keys on three
#      servers, the log, checkpoints) and glibc hands that memory back to the kernel, so
#      the next iteration pays page faults for memory it gets again;
#   2. steady state: glibc keeps freed memory (as a long-running process, and the page's
#      WebAssembly allocator, do), so an iteration measures the simulation alone.
# The WebAssembly counterpart is scripts/bench-wasm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== default glibc malloc"
cargo bench --no-default-features --bench bus -- "$@"
echo "== steady state: freed memory kept (GLIBC_TUNABLES trim/mmap thresholds 1 GiB)"
GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=1073741824 \
  cargo bench --no-default-features --bench bus -- "$@"
