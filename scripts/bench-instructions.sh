#!/usr/bin/env bash
# Instructions per command of the engine benchmarks (benches/engine.rs), counted by
# valgrind's callgrind: deterministic, unlike wall time on a shared 2-core VM (which has
# no hardware counters for `perf stat -e instructions`). Compare two commits with it.
#
#   scripts/bench-instructions.sh                 # every scenario, 100000 commands each
#   COMMANDS=20000 scripts/bench-instructions.sh pipeline/set_get_16_1c
#   scripts/bench-instructions.sh servers         # whole servers, see below
#
# `servers`: redis-server and replscope-server (release-native) each run under callgrind
# while `redis-benchmark -t set,get -n $REQUESTS -P 16` talks to it; the user-space
# instructions per request (a run with no benchmark subtracted) of the two servers, with
# their event loops, parsers and replies. Kernel time (syscalls, TCP) is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMANDS=${COMMANDS:-100000}
REQUESTS=${REQUESTS:-20000}
command -v valgrind >/dev/null || { echo "bench-instructions: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

if [ "${1:-}" = servers ]; then
  cargo build --quiet --profile release-native --no-default-features --bin replscope-server
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  # server_instructions BINARY REQUESTS -> total instructions of one server run
  server_instructions() {
    local bin=$1 n=$2 port dir pid
    port=$(free_port)
    dir=$(mktemp -d /tmp/bench-cg.XXXXXX)
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" --port "$port" --bind 127.0.0.1 \
      --save "" --appendonly no --dir "$dir" >"$dir/log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
    if [ "$n" -gt 0 ]; then redis-benchmark -q -p "$port" -t set,get -n "$n" -P 16 >/dev/null 2>&1; fi
    kill -TERM "$pid"
    wait "$pid" || true
    sed -n 's/^totals: \([0-9]*\).*/\1/p' "$dir/cg.out"
    rm -rf "$dir"
  }
  printf '%-18s %22s\n' server "instr/request (SET+GET, -P 16)"
  for bin in redis-server "$PWD/target/release-native/replscope-server"; do
    idle=$(server_instructions "$bin" 0)
    busy=$(server_instructions "$bin" "$REQUESTS")
    printf '%-18s %22.1f\n' "$(basename "$bin")" "$(echo "($busy - $idle) / (2 * $REQUESTS)" | bc -l)"
  done
  exit 0
fi

bin=$(cargo bench --no-default-features --bench engine --no-run 2>&1 | sed -n 's/.*Executable benches\/engine.rs (\(.*\))/\1/p' | tail -1)
[ -x "$bin" ] || { echo "bench-instructions: could not build the engine bench" >&2; exit 1; }
scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  scenarios=(pipeline/set_get_16_1c pipeline/set_get_16_50c pipeline/set_get_1_50c pipeline/set_get_256_1c resp/parse_16 resp/parse_1024)
fi
# The fixed cost (process start, node creation) is subtracted: measured with one round
# (a run cannot have fewer).
count() {
  REPLSCOPE_BENCH_FIXED=$1 REPLSCOPE_BENCH_COMMANDS=$2 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-28s %16s\n' scenario 'instr/command'
for s in "${scenarios[@]}"; do
  base=$(count "$s" 1)
  total=$(count "$s" "$COMMANDS")
  printf '%-28s %16.1f\n' "$s" "$(echo "($total - $base) / $COMMANDS" | bc -l)"
done
