#!/usr/bin/env bash
# CPU the real window uses while it stays open (issue: "Quiet CPU"), under
# Xvfb with software GL, in three situations:
#  - idle:  nothing on the machine changes;
#  - churn: one new TIME_WAIT socket on loopback every 2 s (a python3 client
#           connects to a loopback listener and closes first), measured
#           from its start;
#  - steady: the same churn after a minute, when TIME_WAIT rows expire as
#           fast as new ones come (about 30 on screen, each counting down
#           with its own timer phase);
#  - countdowns: the churn stopped, its TIME_WAIT rows still count down on
#           screen (one repaint a second);
#  - minimised: the churn again, the window minimised (only where a window
#           manager can minimise it: openbox is started on the Xvfb display
#           when installed; the phase is skipped, saying so, otherwise).
# Each is measured over SECONDS_EACH seconds (default 20) after a 5 s
# warm-up, from /proc/<pid>/stat (user+system time of every thread of the
# window, llvmpipe's included), as a percentage of one core.
# Usage: benches/window_cpu.sh [SECONDS_EACH]     (Linux; needs Xvfb, python3)
# Uses DISPLAY=:98 (BENCH_DISPLAY=:N for another; starts Xvfb there if
# nothing listens) and a throwaway HOME so saved settings of a real user
# don't change the result.
# NETNS=1 (root; util-linux unshare, iproute2) runs the window and the
# churn in a new network namespace with only loopback: "nothing changing"
# then means it, even on a machine where other programs open and close
# sockets all the time (the window lists the sockets of its own
# namespace). Without it the figures include the machine's own churn.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
profile=${PROFILE:-release}   # PROFILE=debug measures the debug build (slower UI code: an upper bound)
if [ "${NETNS:-}" != inside ]; then
  if [ "$profile" = release ]; then cargo build --release --bin portwise; else cargo build --bin portwise; fi
fi
if [ "${NETNS:-}" = 1 ]; then
  exec unshare --net -- env NETNS=inside bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
if [ "${NETNS:-}" = inside ]; then
  echo "in a new network namespace: $(readlink /proc/self/ns/net); sockets there: $(ss -Htan | wc -l) TCP"
fi
bin=$PWD/target/$profile/portwise
display=${BENCH_DISPLAY:-:98}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
if ! xdpyinfo -display "$display" >/dev/null 2>&1 && [ ! -e "/tmp/.X11-unix/X${display#:}" ]; then
  Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  pids+=($!)
  sleep 1
fi
clk=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# user+system ticks per thread name ("portwise" is the UI thread).
threads() { for t in /proc/"$app"/task/*; do
  printf '%s %s\n' "$(tr ' ' _ <"$t/comm" 2>/dev/null)" "$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
done | awk 'NF == 2 { s[$1] += $2 } END { for (k in s) print k, s[k] }' | sort; }
measure() { # label
  local t0 t1 w0 w1 p0 p1
  p0=$(threads); t0=$(ticks "$app"); w0=$(date +%s.%N)
  sleep "$secs"
  p1=$(threads); t1=$(ticks "$app"); w1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v c="$clk" -v w0="$w0" -v w1="$w1" -v l="$1" \
    'BEGIN { printf "%-10s %5.1f%% of one core over %.1f s", l, 100*(b-a)/c/(w1-w0), w1-w0 }'
  # The split by thread (threads that ended meanwhile are left out).
  join <(echo "$p0") <(echo "$p1") | awk -v c="$clk" -v w="$(echo "$w1 - $w0" | bc)" \
    '{ d = $3 - $2; if (d > 0) printf "  %s %.1f%%", $1, 100 * d / c / w } END { print "" }'
}
churn() { # seconds: one new TIME_WAIT on loopback every 2 s
python3 - "$1" <<'PY' &
import socket, sys, time
end = time.time() + int(sys.argv[1]) + 2
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
while time.time() < end:
    c = socket.create_connection(srv.getsockname()); s, _ = srv.accept()
    c.close(); time.sleep(0.05); s.close()   # the client closes first: its side goes to TIME_WAIT
    time.sleep(1.95)
PY
pids+=($!)
}
HOME=$tmp XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config DISPLAY=$display \
  LIBGL_ALWAYS_SOFTWARE=1 "$bin" >/dev/null 2>&1 &
app=$!
pids+=("$app")
sleep 5
kill -0 "$app"
measure idle
# One churn for both churn phases: the first SECONDS_EACH, then after a
# minute of it (TIME_WAIT lasts 60 s on Linux: the pile stops growing).
churn $((secs + 40 + secs))
sleep 1
measure churn
sleep 40
echo "  (TIME_WAIT sockets now: $(ss -Htan state time-wait | wc -l))"
measure steady
# The churn has stopped; its TIME_WAIT rows (60 s each) are still on
# screen counting down: one repaint a second, nothing else.
sleep 2
measure countdowns
# Minimised: needs a window manager to honour the request (Xvfb alone has
# none); the ICCCM WM_STATE "Iconic" confirms it took effect.
if command -v openbox >/dev/null && command -v xdotool >/dev/null && command -v xprop >/dev/null; then
  DISPLAY=$display openbox >/dev/null 2>&1 &
  pids+=($!)
  sleep 1
  win=$(DISPLAY=$display xdotool search --pid "$app" | head -n 1)
  DISPLAY=$display xdotool windowminimize "$win"
  sleep 1
  if DISPLAY=$display xprop -id "$win" WM_STATE | grep -q Iconic; then
    churn "$secs"
    sleep 1
    measure minimised
  else
    echo "minimised: skipped (the window manager did not minimise the window)"
  fi
else
  echo "minimised: skipped (needs openbox, xdotool and xprop to minimise the window under Xvfb)"
fi
