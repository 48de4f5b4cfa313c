#!/usr/bin/env bash
# How long redis-server's BGSAVE child takes for N keys (DEBUG POPULATE: key:N -> value:N):
# the write rate behind replscope's modelled child (src/engine/child.rs,
# WRITE_BYTES_PER_MS). Usage: scripts/bench-bgsave.sh [N...] (default 1000000 100000).
# Each N: a fresh redis-server on a free port in its own temp dir, three BGSAVEs, each
# timed from the command until INFO shows rdb_bgsave_in_progress:0 (polled every 2 ms,
# so the time includes the parent's cron noticing the child's exit, as replscope models).
set -euo pipefail
[ $# -gt 0 ] || set -- 1000000 100000
for n in "$@"; do
  dir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
    --enable-debug-command yes --logfile "$dir/log" &
  pid=$!
  until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
  redis-cli -p "$port" debug populate "$n" >/dev/null
  for run in 1 2 3; do
    start=$(date +%s%N)
    redis-cli -p "$port" bgsave >/dev/null
    until redis-cli -p "$port" info persistence | grep -q 'rdb_bgsave_in_progress:0'; do
      sleep 0.002
    done
    end=$(date +%s%N)
    echo "keys=$n run=$run: $(( (end - start) / 1000000 )) ms, rdb $(stat -c %s "$dir/dump.rdb") B"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
done
