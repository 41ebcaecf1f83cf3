#!/usr/bin/env bash
# portwise list vs ss: build in release mode, then time
# `portwise list --all --json` against `ss -tuanp` over 30k TIME_WAIT
# sockets and a few hundred listeners on loopback (see examples/list_vs_ss.rs).
# Extra arguments go to the benchmark: --tw N --listeners N --rounds N.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ss >/dev/null || { echo "ss not found (Debian: apt-get install iproute2)" >&2; exit 2; }
cargo build --release --quiet --bin portwise --example list_vs_ss
exec target/release/examples/list_vs_ss target/release/portwise "$@"
