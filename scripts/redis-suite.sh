#!/usr/bin/env bash
# Runs units of Redis 7.0.15's own test suite with replscope-server in place of
# redis-server, and compares how many tests of each unit pass with the table kept in
# tests/redis-suite/expected.txt. Fails when a unit passes fewer than the table says (the
# table holds what replscope-server passes today; raise it as more passes).
#
#   scripts/redis-suite.sh [UNIT ...]      default: every unit in the table
#
# Where the suite comes from:
#   - ../shared/redis-suite/run-units (beside the main checkout): the harness and units of
#     Redis 7.0.15 as a tarball, with its runner;
#   - or REDIS_SUITE=/path/to/redis-7.0.15: any Redis 7.0.15 source tree (its `runtest`
#     and `tests/`), for whoever has no ../shared.
# Needs tclsh (Debian: tcl) and redis-cli/redis-benchmark (Debian: redis-tools);
# scripts/install.sh installs them.
#
#   UNIT_S=480   seconds allowed per unit: a hung unit cannot stall CI, and counts what
#                passed before it (real redis-server needs 262 s for the longest here)
#   OUT_DIR=...  full output per unit (default /tmp/redis-suite)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TABLE=$ROOT/tests/redis-suite/expected.txt
export UNIT_S=${UNIT_S:-480}
export OUT_DIR=${OUT_DIR:-/tmp/redis-suite}

units=("$@")
if [ ${#units[@]} -eq 0 ]; then
  mapfile -t units < <(grep -v '^#' "$TABLE" | awk 'NF { print $1 }')
fi

cargo build --quiet --profile release-native --no-default-features --bin replscope-server
server=$ROOT/target/release-native/replscope-server

# The units, one "unit: N passed, M failed[, aborted: why]" line each.
run_units() {
  if [ -n "${REDIS_SUITE:-}" ]; then
    run_from_tree "$REDIS_SUITE"
    return
  fi
  # ../shared sits beside the main checkout; from a worktree, beside the one that holds
  # the shared .git.
  local common
  common=$(cd "$(git rev-parse --git-common-dir)/.." && pwd)
  for shared in "$ROOT/../shared/redis-suite" "$common/../shared/redis-suite"; do
    if [ -x "$shared/run-units" ]; then
      "$shared/run-units" "$server" "${units[@]}"
      return
    fi
  done
  echo "redis-suite: no ../shared/redis-suite/run-units; set REDIS_SUITE=/path/to/redis-7.0.15" >&2
  exit 2
}

# What run-units does, from a Redis source tree instead of the tarball.
run_from_tree() {
  local tree=$1 work u log rc plain p f why line
  [ -x "$tree/runtest" ] && [ -d "$tree/tests" ] || {
    echo "redis-suite: $tree has no runtest and tests/" >&2
    exit 2
  }
  for t in tclsh redis-cli redis-benchmark; do
    command -v $t >/dev/null || { echo "redis-suite: $t not found" >&2; exit 2; }
  done
  work=$(mktemp -d)
  cp -r "$tree/runtest" "$tree/tests" "$work/"
  rm -rf "$work/tests/tmp"
  mkdir -p "$work/src" "$work/tests/tmp" "$OUT_DIR"
  ln -s "$server" "$work/src/redis-server"
  for b in redis-cli redis-benchmark redis-check-rdb redis-check-aof; do
    p=$(command -v $b) && ln -s "$p" "$work/src/$b"
  done
  for u in "${units[@]}"; do
    log="$OUT_DIR/$(echo "$u" | tr / -).log"
    rc=0
    (cd "$work" && timeout "$UNIT_S" ./runtest --single "$u" --clients 1 --dont-clean --timeout 600) >"$log" 2>&1 || rc=$?
    plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
    p=$(grep -ac '^\[ok\]:' <<<"$plain" || true)
    f=$(grep -acE '^\[err\]:' <<<"$plain" || true)
    why=$(grep -a -m1 '^\[exception\]:' <<<"$plain" | cut -c1-160 || true)
    [ $rc -eq 124 ] && why="timed out after ${UNIT_S}s"
    line="$u: $p passed, $f failed"
    [ -n "$why" ] && line="$line, aborted: ${why#\[exception\]: }"
    echo "$line"
  done
  rm -rf "$work"
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
run_units | tee "$results"
status=0
while IFS= read -r line; do
  case "$line" in
    total:*) continue ;;
  esac
  unit=${line%%:*}
  passed=$(sed -n 's/^[^:]*: \([0-9]*\) passed.*/\1/p' <<<"$line")
  want=$(awk -v u="$unit" '$1 == u { print $2 }' "$TABLE")
  if [ -z "$want" ]; then
    echo "  $unit is not in $TABLE" >&2
    status=1
  elif [ "${passed:-0}" -lt "$want" ]; then
    echo "  $unit: $passed passed, fewer than the $want in $TABLE" >&2
    status=1
  elif [ "$passed" -gt "$want" ]; then
    echo "  $unit: $passed passed, more than the $want in $TABLE: raise it"
  fi
done <"$results"
exit $status
