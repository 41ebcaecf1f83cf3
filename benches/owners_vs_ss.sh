#!/usr/bin/env bash
# "Who holds port P?" on a busy machine: portwise against ss, in one run.
#
# Builds the busy-machine shape with examples/busy_owners.rs (20 processes
# x 1,500 descriptors = 30k descriptors, 3k of them loopback TCP sockets),
# then times with hyperfine, side by side:
#   portwise list --all --json      vs  ss -tuanp
#   portwise list --port P          vs  ss -tlnp 'sport = :P'
#   portwise bind-test P            vs  ss -tlnp 'sport = :P'
#   lsof -nP -i :P                  (for reference)
#   busy_owners floor               (a bare sock_diag dump: the floor)
# for P held by the first holder started and by the last (lowest and
# highest pid: the first and last process a pid-order scan reads), and
# prints every ratio of medians. Then the CPU of `portwise list --watch 1
# --all` against running `ss -tanp` every second, while connections churn.
# With --timewait it also runs the 30k TIME_WAIT case (benches/list_vs_ss.sh).
#
# Options: --runs N (hyperfine runs per command, default 30),
#          --watch-secs N (default 20), --timewait, --watch-only (skip the
#          hyperfine part).
# Bounded and loopback only; every process it starts ends with it.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=30
watch_secs=20
timewait=0
watch_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --watch-secs) watch_secs="$2"; shift 2 ;;
    --timewait) timewait=1; shift ;;
    --watch-only) watch_only=1; shift ;;
    *) echo "usage: $0 [--runs N] [--watch-secs N] [--timewait] [--watch-only]" >&2; exit 2 ;;
  esac
done
for tool in ss hyperfine jq lsof; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

cargo build --release --quiet --bin portwise --example busy_owners
pw=target/release/portwise
ex=target/release/examples/busy_owners
work=$(mktemp -d)

fixture_pid=
churn_pid=
cleanup() {
  [ -n "$churn_pid" ] && kill "$churn_pid" 2>/dev/null && wait "$churn_pid" 2>/dev/null
  [ -n "$fixture_pid" ] && kill "$fixture_pid" 2>/dev/null && wait "$fixture_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
echo "tools: $(ss -V 2>&1 | head -1), $(lsof -v 2>&1 | grep -m1 revision | xargs), $(hyperfine --version)"

# The fixture runs until its stdin (a fifo we hold open) closes.
mkfifo "$work/hold"
"$ex" fixture --procs 20 --fds 1500 --sockets 150 <"$work/hold" >"$work/fixture.out" &
fixture_pid=$!
exec 9>"$work/hold"
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
echo "shape: ${#ports[@]} holder processes; $fds descriptors in all on the machine;" \
  "$(ss -tanH | wc -l) TCP sockets; P = $first (first holder), $last (last holder)"
echo "owners found: $("$pw" list --port "$first" | grep -c busy_owners) for P=$first," \
  "$("$pw" list --port "$last" | grep -c busy_owners) for P=$last"
echo

if [ "$watch_only" = 0 ]; then
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

med() { jq -r --arg c "$1" '.results[] | select(.command == $c) | .median' "$work/h.json"; }
row() { # label, command, reference command, goal
  local m r
  m=$(med "$2"); r=$(med "$3")
  awk -v l="$1" -v m="$m" -v r="$r" -v g="$4" 'BEGIN {
    printf "%-42s %8.1f ms  %8.1f ms  %5.2fx  %s\n", l, m * 1000, r * 1000, m / r, g }'
}
printf "%-42s %11s  %11s  %6s  %s\n" "command (median of $runs)" "it" "reference" "ratio" "goal"
row "floor: bare sock_diag dump / ss -tuanp" "$ex floor" "ss -tuanp" ""
row "portwise list --all --json / ss -tuanp" "$pw list --all --json" "ss -tuanp" "<= 0.50"
for p in "$first" "$last"; do
  which=first; [ "$p" = "$last" ] && which=last
  ref="ss -tlnp 'sport = :$p'"
  row "floor / ss -tlnp sport ($which)" "$ex floor" "$ref" ""
  row "portwise list --port P ($which) / ss" "$pw list --port $p" "$ref" "<= 0.50"
  row "portwise bind-test P ($which) / ss" "$pw bind-test $p" "$ref" "<= 0.60"
  row "lsof -nP -i :P ($which) / ss" "lsof -nP -i :$p" "$ref" "(reference)"
done
echo
fi

# --watch under churn: CPU seconds over the same wall time.
"$ex" churn --rate 100 <"$work/hold" &
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
  printf "%-42s %8.2f s   %8.2f s   %5.2fx  %s\n",
    "list --watch 1 --all CPU / ss -tanp each s", p, s, p / s, "<= 0.50"
  printf "  (%d s each, 100 new connections/s, %d TCP sockets at the end)\n", n, t }'
kill "$churn_pid" 2>/dev/null; wait "$churn_pid" 2>/dev/null || true
churn_pid=

if [ "$timewait" = 1 ]; then
  echo
  echo "30k TIME_WAIT, few descriptors (benches/list_vs_ss.sh):"
  kill "$fixture_pid" 2>/dev/null; wait "$fixture_pid" 2>/dev/null || true
  fixture_pid=
  exec 9>&-
  benches/list_vs_ss.sh --rounds 21
fi
