# shellcheck shell=bash
# What the benchmark scripts share: wrk, the release binary and bench_tool built, a temp work
# directory cleaned up on exit, starting and stopping Twofold, and reading wrk's results.
# Sourced by bench/run and bench/instances after `cd` to the repository's root.

ROOT=$PWD
RUNS=${RUNS:-5}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CORES=$(nproc)
CPU=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')

if ! command -v wrk >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  echo "Installing wrk and curl (Debian's packages)"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq wrk curl >/dev/null
fi

echo "Building the release binary and the benchmark helpers"
# Two invocations: built together, the examples' dev-dependencies would switch on features of
# shared crates inside the binary, and the binary measured would not be the one shipped.
cargo build --release --locked --bin twofold
cargo build --release --locked --example bench_tool --example bench_baseline
BIN=${BENCH_BIN:-$TARGET/release/twofold}
TOOL=$TARGET/release/examples/bench_tool
BASELINE=$TARGET/release/examples/bench_baseline
LUA=$ROOT/bench/wrk.lua

WORK=$(mktemp -d /tmp/twofold-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A free port on 127.0.0.1, picked by the kernel.
free_port() { "$TOOL" free-port; }

# start_app NAME BCRYPT_COST: starts Twofold on a new data directory; sets APP_PID, APP_URL.
# The variables in APP_ENV (e.g. DATABASE_URL=...) are set for it too. Its log (one line per
# request, formatted and written as always) goes to /dev/null, so that a disk busy with other
# work cannot stall the measurements through it.
APP_ENV=()
start_app() {
  local name=$1 cost=$2 port
  port=$(free_port)
  mkdir -p "$WORK/$name"
  # Every benchmark account is made from 127.0.0.1: no sign-up limit per address.
  env TWOFOLD_SIGNUPS_PER_HOUR=1000000 "${APP_ENV[@]}" TWOFOLD_DATA_DIR="$WORK/$name" \
    TWOFOLD_BIND="127.0.0.1:$port" TWOFOLD_BCRYPT_COST="$cost" "$BIN" >/dev/null 2>"$WORK/$name.err" &
  APP_PID=$!
  PIDS+=("$APP_PID")
  APP_URL="http://127.0.0.1:$port"
  "$TOOL" wait "$APP_URL"
}

# expect_page URL COOKIE: stops the benchmark unless the signed-in page answers 200 (in `get`
# mode wrk counts only 4xx and 5xx as errors, so a redirect to sign-in would pass unnoticed).
expect_page() {
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: twofold_session=$2" "$1")
  [ "$status" = 200 ] || { echo "$1 answered $status, not 200, to the benchmark's cookie" >&2; exit 1; }
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# bcrypt_idle PID: waits (at most 120 s) until the app's bcrypt threads stop using CPU. When
# wrk stops, the sign-ins it had in flight are still being hashed; the next measurement must
# not start behind them.
bcrypt_idle() {
  local pid=$1 before after deadline=$((SECONDS + 120))
  bcrypt_ticks() {
    local total=0 f
    for f in /proc/"$pid"/task/*; do
      grep -q '^bcrypt' "$f/comm" 2>/dev/null || continue
      total=$((total + $(awk '{ print $14 + $15 }' "$f/stat")))
    done
    echo "$total"
  }
  before=$(bcrypt_ticks)
  while ((SECONDS < deadline)); do
    sleep 0.5
    after=$(bcrypt_ticks)
    [ "$after" = "$before" ] && return 0
    before=$after
  done
  echo "bcrypt threads still busy after 120 s" >&2
}

rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# field NAME LINE: the value of NAME=... in a wrk RESULT line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# median of the numbers on stdin.
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# wrk_result ARGS...: runs wrk with the benchmark script; prints its RESULT line.
wrk_result() {
  local out
  out=$(wrk --timeout 60s -s "$LUA" "$@")
  grep '^RESULT' <<<"$out" || { echo "wrk printed no result: $out" >&2; return 1; }
}

