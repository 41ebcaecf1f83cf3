#!/usr/bin/env bash
# Benchmark of the window's Sockets view (figures go to BENCHMARKS.md,
# section "sockets view frame"):
#  - CPU cost of one frame with 100k rows vs 30 rows, headless (layout and
#    tessellation, no GPU);
#  - what a new 100k snapshot costs on the UI thread (diff, filter, sort);
#  - frame times of the whole app while a slow 50k-socket refresh runs on
#    the sampler thread.
# Usage: benches/sockets_view.sh   (release build; takes about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test ui_bench -- --ignored --nocapture --test-threads=1 2>&1 \
  | grep -oE '(frame,|new 100k|re-sort|app frames|frames that).*'
