#!/usr/bin/env bash
# "Who holds port P?" on a busy machine: portwise against ss, in one run.
#
# Every goal of issue 14, each a ratio of medians with both tools timed in
# the same run:
#
# 1. The busy-machine shape, built by examples/busy_owners.rs (20 processes
#    x 1,500 descriptors = 30k descriptors, 3k of them loopback TCP
#    sockets), timed with hyperfine side by side:
#      portwise list --all --json      vs  ss -tuanp                 (<= 0.50)
#      portwise list --port P          vs  ss -tlnp 'sport = :P'     (<= 0.50)
#      portwise bind-test P            vs  ss -tlnp 'sport = :P'     (<= 0.60)
#      lsof -nP -i :P                  (for reference)
#      busy_owners floor               (a bare sock_diag dump: the floor)
#    for P held by the first holder started and by the last (lowest and
#    highest pid: the first and last holder a pid-order scan reads).
# 2. The CPU of `portwise list --watch 1 --all` against running `ss -tanp`
#    every second, for the same wall time, while connections churn (<= 0.50).
# 3. The busy shape gone, 30k TIME_WAIT sockets and few descriptors:
#      portwise list --all --json      vs  ss -tuanp                 (<= 0.40)
#
# Options: --runs N (hyperfine runs per command, default 30),
#          --watch-secs N (default 20), --tw N (TIME_WAIT sockets, default
#          30000), --no-timewait, --watch-only (only part 2),
#          --profile NAME (cargo profile to build and time, default
#          release; `profiling` is release plus line tables),
#          --no-build (time the binaries of that profile as they are).
# Prints the load average before and after each part: other work on the
# machine slows both tools, but not equally (portwise reads /proc on
# several threads, ss on one).
# Bounded and loopback only; every process it starts ends with it.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=30
watch_secs=20
tw=30000
timewait=1
watch_only=0
profile=release
build=1
usage() {
  echo "usage: $0 [--runs N] [--watch-secs N] [--tw N] [--no-timewait] [--watch-only] [--profile NAME] [--no-build]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 || usage ;;
    --watch-secs) watch_secs="${2:-}"; shift 2 || usage ;;
    --tw) tw="${2:-}"; shift 2 || usage ;;
    --no-timewait) timewait=0; shift ;;
    --watch-only) watch_only=1; timewait=0; shift ;;
    --profile) profile="${2:-}"; shift 2 || usage ;;
    --no-build) build=0; shift ;;
    *) usage ;;
  esac
done
for n in "$runs" "$watch_secs" "$tw"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: '$n'" >&2; usage; }
done
for tool in ss hyperfine jq lsof; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

if [ "$build" = 1 ]; then
  cargo build --profile "$profile" --quiet --bin portwise --example busy_owners
fi
dir=target/$profile
[ "$profile" = dev ] && dir=target/debug
pw=$dir/portwise
ex=$dir/examples/busy_owners
[ -x "$pw" ] && [ -x "$ex" ] || { echo "$pw or $ex is missing: build them (drop --no-build)" >&2; exit 2; }
work=$(mktemp -d)

fixture_pid=
churn_pid=
tw_pid=
# Exit status: 0 when every goal timed was met, 1 when one was missed, 2 on
# bad usage or a missing tool. The cleanup must not change it: `wait` on a
# process it just killed returns 143 (128 + SIGTERM), and under `set -e` that
# status, as the last of an && list, used to end the script with 143.
missed=0
cleanup() {
  local status=$?
  set +e
  for p in $churn_pid $fixture_pid $tw_pid; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$work"
  if [ "$status" = 0 ] && [ "$missed" != 0 ]; then status=1; fi
  exit "$status"
}
trap cleanup EXIT

load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
echo "machine: $(nproc) cpus, $(uname -r), $(load)"
echo "build: $profile ($pw)"
echo "tools: $(ss -V 2>&1 | head -1), $(lsof -v 2>&1 | grep -m1 revision | xargs), $(hyperfine --version)"

# Medians (and fastest runs) from a hyperfine export, and one line per ratio.
med() { jq -r --arg c "$2" '.results[] | select(.command == $c) | .median' "$1"; }
fastest() { jq -r --arg c "$2" '.results[] | select(.command == $c) | .min' "$1"; }
header() {
  printf "%-44s %11s  %11s  %6s  %s\n" "command (median of $runs)" "it" "reference" "ratio" "goal"
}
row() { # json, label, command, reference command, goal ("" or a number)
  local m r fm fr
  m=$(med "$1" "$3"); r=$(med "$1" "$4")
  fm=$(fastest "$1" "$3"); fr=$(fastest "$1" "$4")
  awk -v l="$2" -v m="$m" -v r="$r" -v fm="$fm" -v fr="$fr" -v g="$5" 'BEGIN {
    ratio = m / r
    verdict = ""
    if (g != "" && g != "ref") {
      if (ratio <= g) verdict = sprintf("<= %.2f: met", g)
      else verdict = sprintf("<= %.2f: MISSED by %.2f", g, ratio - g)
    } else if (g == "ref") verdict = "(reference)"
    printf "%-44s %8.1f ms  %8.1f ms  %5.2fx  %s   [fastest %.1f / %.1f ms]\n",
      l, m * 1000, r * 1000, ratio, verdict, fm * 1000, fr * 1000
    if (verdict ~ /MISSED/) exit 3 }' || missed=1
}

# The fixture runs until its stdin (a fifo we hold open) closes.
mkfifo "$work/hold"
exec 9<>"$work/hold"
{
  "$ex" fixture --procs 20 --fds 1500 --sockets 150 <"$work/hold" >"$work/fixture.out" 9>&- &
  fixture_pid=$!
  for _ in $(seq 600); do
    grep -q '^pids' "$work/fixture.out" 2>/dev/null && break
    kill -0 "$fixture_pid" 2>/dev/null || { echo "fixture failed" >&2; exit 1; }
    sleep 0.1
  done
  read -r -a ports <<<"$(sed -n 's/^ports //p' "$work/fixture.out")"
  first=${ports[0]}
  last=${ports[${#ports[@]}-1]}
  fds=0
  for p in /proc/[0-9]*/fd; do
    n=$(ls "$p" 2>/dev/null | wc -l) || n=0
    fds=$((fds + n))
  done
  echo
  echo "1. busy machine: ${#ports[@]} holder processes; $fds descriptors in all on the machine" \
    "in $(ls -d /proc/[0-9]* | wc -l) processes; $(ss -tanH | wc -l) TCP sockets;" \
    "P = $first (first holder), $last (last holder)"
  echo "   owners named: $("$pw" list --port "$first" | grep -c busy_owners) for P=$first," \
    "$("$pw" list --port "$last" | grep -c busy_owners) for P=$last"
}

if [ "$watch_only" = 0 ]; then
  echo "   before: $(load)"
  hyperfine -N --warmup 3 --runs "$runs" -i --style none --export-json "$work/h.json" \
    "$ex floor" \
    "ss -tuanp" \
    "$pw list --all --json" \
    "ss -tlnp 'sport = :$first'" \
    "$pw list --port $first" \
    "$pw bind-test $first" \
    "lsof -nP -i :$first" \
    "ss -tlnp 'sport = :$last'" \
    "$pw list --port $last" \
    "$pw bind-test $last" \
    "lsof -nP -i :$last" >/dev/null
  echo "   after:  $(load)"
  header
  h=$work/h.json
  row "$h" "floor: bare sock_diag dump / ss -tuanp" "$ex floor" "ss -tuanp" ""
  row "$h" "portwise list --all --json / ss -tuanp" "$pw list --all --json" "ss -tuanp" 0.50
  for p in "$first" "$last"; do
    which=first; [ "$p" = "$last" ] && which=last
    ref="ss -tlnp 'sport = :$p'"
    row "$h" "floor / ss -tlnp sport ($which)" "$ex floor" "$ref" ""
    row "$h" "portwise list --port P ($which) / ss" "$pw list --port $p" "$ref" 0.50
    row "$h" "portwise bind-test P ($which) / ss" "$pw bind-test $p" "$ref" 0.60
    row "$h" "lsof -nP -i :P ($which) / ss" "lsof -nP -i :$p" "$ref" ref
  done
fi

# --watch under churn: CPU seconds over the same wall time.
echo
echo "2. list --watch 1 --all under churn (100 new connections/s), busy machine; $(load)"
"$ex" churn --rate 100 <"$work/hold" 9>&- &
churn_pid=$!
sleep 2
cpu() { /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null 2>&1 || true
        # The last line: time writes "Command exited with non-zero status"
        # first when timeout ends the command.
        tail -n 1 "$work/cpu" | awk '{ printf "%.3f", $1 + $2 }'; }
pw_cpu=$(cpu timeout -s INT "$watch_secs" "$pw" list --watch 1 --all)
ss_cpu=$(cpu bash -c "for i in \$(seq $watch_secs); do ss -tanp >/dev/null; sleep 1; done")
tcp_now=$(ss -tanH | wc -l)
awk -v p="$pw_cpu" -v s="$ss_cpu" -v n="$watch_secs" -v t="$tcp_now" 'BEGIN {
  ratio = p / s
  verdict = ratio <= 0.5 ? "<= 0.50: met" : sprintf("<= 0.50: MISSED by %.2f", ratio - 0.5)
  printf "%-44s %8.2f s   %8.2f s   %5.2fx  %s\n",
    "list --watch 1 --all CPU / ss -tanp each s", p, s, ratio, verdict
  printf "   (%d s each, %d TCP sockets at the end)\n", n, t
  if (ratio > 0.5) exit 3 }' || missed=1
kill "$churn_pid" 2>/dev/null; wait "$churn_pid" 2>/dev/null || true
churn_pid=
echo "   after: $(load)"

if [ "$timewait" = 1 ]; then
  echo
  kill "$fixture_pid" 2>/dev/null; wait "$fixture_pid" 2>/dev/null || true
  fixture_pid=
  echo "3. $tw TIME_WAIT, few descriptors (busy processes gone); making them" \
    "(first waiting, at most 65 s, for older TIME_WAIT to expire)..."
  "$ex" timewait --tw "$tw" --listeners 300 <"$work/hold" >"$work/tw.out" 9>&- &
  tw_pid=$!
  for _ in $(seq 1800); do
    grep -q '^ready' "$work/tw.out" 2>/dev/null && break
    kill -0 "$tw_pid" 2>/dev/null || { echo "timewait fixture failed" >&2; exit 1; }
    sleep 0.1
  done
  grep -q '^ready' "$work/tw.out" || { echo "timewait fixture never got ready" >&2; exit 1; }
  pw_rows=$("$pw" list --all --json | grep -c '^{"proto"' || true)
  ss_rows=$(ss -tuanH | wc -l)
  fds=0
  for p in /proc/[0-9]*/fd; do
    n=$(ls "$p" 2>/dev/null | wc -l) || n=0
    fds=$((fds + n))
  done
  echo "   $(sed -n 's/^ready //p' "$work/tw.out"); portwise lists $pw_rows sockets," \
    "ss $ss_rows; $fds descriptors on the machine"
  echo "   before: $(load)"
  hyperfine -N --warmup 3 --runs "$runs" -i --style none --export-json "$work/tw.json" \
    "$ex floor" \
    "ss -tuanp" \
    "$pw list --all --json" >/dev/null
  echo "   after:  $(load)"
  header
  row "$work/tw.json" "floor: bare sock_diag dump / ss -tuanp" "$ex floor" "ss -tuanp" ""
  row "$work/tw.json" "portwise list --all --json / ss -tuanp" "$pw list --all --json" "ss -tuanp" 0.40
fi
