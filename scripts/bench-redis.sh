#!/usr/bin/env bash
# Throughput of replscope-server against real redis-server 7.0, on this machine, in one run.
#
#   scripts/bench-redis.sh            # 3 rounds, alternating servers
#   ROUNDS=5 scripts/bench-redis.sh
#
# Builds replscope-server (profile release-native), starts it and a real redis-server on
# free 127.0.0.1 ports, each in its own temp dir with no persistence, and runs the same
# redis-benchmark commands against both, alternating, ROUNDS times:
#   redis-benchmark -q -p PORT -t set,get -n 200000 -P 16
#   redis-benchmark -q -p PORT -t <those of set,get,incr,lpush replscope has> -n 100000 -P 16
# Prints every result, then the median requests/s per test and the ratio
# replscope/redis, and the median server CPU time per request (from /proc/PID/stat), which
# does not depend on how much CPU redis-benchmark itself takes on a 2-core machine. Both
# servers are stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}

for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "bench-redis: $tool not found" >&2; exit 1; }
done

cargo build --quiet --profile release-native --no-default-features --bin replscope-server
SCOPE_BIN=$PWD/target/release-native/replscope-server

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PIDS=()
DIRS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# start NAME BINARY -> sets PORT_<NAME> and PID_<NAME>
start() {
  local name=$1 bin=$2 port dir
  port=$(free_port)
  dir=$(mktemp -d "/tmp/bench-$name.XXXXXX")
  DIRS+=("$dir")
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no \
    >"$dir/server.log" 2>&1 &
  PIDS+=("$!")
  printf -v "PID_$name" '%s' "$!"
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] && break
    sleep 0.05
  done
  [ "$(redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] || { echo "$name did not start:"; cat "$dir/server.log"; exit 1; }
  printf -v "PORT_$name" '%s' "$port"
}

start redis redis-server
start scope "$SCOPE_BIN"
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on port $PORT_redis; replscope-server on port $PORT_scope"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"

# Which of the second set's commands replscope implements (an unknown one would only
# measure error replies).
second=()
for t in set get incr lpush; do
  case $t in
    set) probe=(SET __bench_probe__ 1) ;;
    get) probe=(GET __bench_probe__) ;;
    incr) probe=(INCR __bench_probe_n__) ;;
    lpush) probe=(LPUSH __bench_probe_l__ x) ;;
  esac
  if ! redis-cli -p "$PORT_scope" "${probe[@]}" 2>&1 | grep -q "unknown command"; then second+=("$t"); fi
done
redis-cli -p "$PORT_scope" DEL __bench_probe__ __bench_probe_n__ __bench_probe_l__ >/dev/null 2>&1 || true
SECOND=$(IFS=,; echo "${second[*]}")

RESULTS=$(mktemp /tmp/bench-results.XXXXXX)
DIRS+=("$RESULTS")
# CPU time (user+system, clock ticks) the server process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

run() { # server port pid tests n
  local server=$1 port=$2 pid=$3 tests=$4 n=$5 before after out
  before=$(cpu_ticks "$pid")
  # -q prints progress lines ending in \r and one final line per test.
  out=$(redis-benchmark -q -p "$port" -t "$tests" -n "$n" -P 16 2>/dev/null | tr '\r' '\n' |
    grep -E '^[A-Z_]+( \([^)]*\))?: [0-9.]+ requests per second')
  after=$(cpu_ticks "$pid")
  while read -r line; do echo "$server|$n|$line" | tee -a "$RESULTS"; done <<<"$out"
  # The server's own CPU for the whole run: on 2 cores redis-benchmark competes for the
  # CPU, so requests/s alone also measures the client; CPU per request does not.
  local count
  count=$(grep -c . <<<"$out")
  echo "$server|$n|CPU $tests: $(( (after - before) * 1000 / TICK )) ms for $((count * n)) requests" | tee -a "$RESULTS"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "--- round $round"
  for server in redis scope; do
    port_var="PORT_$server"
    pid_var="PID_$server"
    run "$server" "${!port_var}" "${!pid_var}" set,get 200000
    run "$server" "${!port_var}" "${!pid_var}" "$SECOND" 100000
  done
done

echo
echo "median requests/s over $ROUNDS rounds (-P 16):"
python3 - "$RESULTS" <<'EOF'
import re, statistics, sys
rows, cpu = {}, {}
for line in open(sys.argv[1]):
    server, n, rest = line.rstrip("\n").split("|", 2)
    m = re.match(r"CPU (\S+): (\d+) ms for (\d+) requests", rest)
    if m:
        # server CPU microseconds per request
        cpu.setdefault((m.group(1), n), {}).setdefault(server, []).append(int(m.group(2)) * 1000 / int(m.group(3)))
        continue
    m = re.match(r"([A-Z_]+)(?: \([^)]*\))?: ([0-9.]+) requests per second", rest)
    rows.setdefault((m.group(1), n), {}).setdefault(server, []).append(float(m.group(2)))
med = lambda v: statistics.median(v) if v else 0
print(f"{'test':<12} {'-n':>7} {'redis-server':>14} {'replscope':>14} {'replscope/redis':>16}")
for (test, n), by in rows.items():
    r, s = med(by.get("redis")), med(by.get("scope"))
    print(f"{test:<12} {n:>7} {r:>14.0f} {s:>14.0f} {s / r if r else 0:>16.2f}")
print()
print("median server CPU per request, microseconds (lower is better):")
print(f"{'tests':<20} {'-n':>7} {'redis-server':>14} {'replscope':>14} {'replscope/redis':>16}")
for (tests, n), by in cpu.items():
    r, s = med(by.get("redis")), med(by.get("scope"))
    print(f"{tests:<20} {n:>7} {r:>14.3f} {s:>14.3f} {s / r if r else 0:>16.2f}")
EOF
