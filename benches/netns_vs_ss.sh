#!/usr/bin/env bash
# portwise list --netns all vs ss -N once per namespace: build in release
# mode, then make N namespaces with M listeners each and time both (see
# examples/netns_vs_ss.rs). Root only. Extra arguments go to the benchmark:
# --namespaces N --listeners M --rounds R.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ss >/dev/null || { echo "ss not found (Debian: apt-get install iproute2)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root: it makes and enters network namespaces" >&2; exit 2; }
cargo build --release --quiet --bin portwise --example netns_vs_ss
exec target/release/examples/netns_vs_ss target/release/portwise "$@"
