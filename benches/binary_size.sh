#!/usr/bin/env bash
# Measures what each release-profile choice saves on the Linux binary
# (BENCHMARKS.md, "Release binary size"). Two full release builds, each in its
# own target dir so neither invalidates the other (several minutes each):
#   A: the shipping profile but unstripped (CARGO_PROFILE_RELEASE_STRIP=false),
#      then copies stripped with binutils: -g (= strip = "debuginfo") and
#      -s (= strip = "symbols", what `strip = true` does);
#   B: the same without thin LTO (CARGO_PROFILE_RELEASE_LTO=false), stripped.
# Usage: benches/binary_size.sh [target-dir-prefix]   (default /tmp/portwise-size)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/tmp/portwise-size}
size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

CARGO_TARGET_DIR=$prefix-lto CARGO_PROFILE_RELEASE_STRIP=false \
  cargo build --release --bin portwise
a=$prefix-lto/release/portwise
cp "$a" "$prefix-a-g" && strip -g "$prefix-a-g"
cp "$a" "$prefix-a-s" && strip -s "$prefix-a-s"

CARGO_TARGET_DIR=$prefix-nolto CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_LTO=false \
  cargo build --release --bin portwise
b=$prefix-nolto/release/portwise
cp "$b" "$prefix-b-s" && strip -s "$prefix-b-s"

printf '%-44s %s\n' \
  "thin LTO, debug = false, unstripped" "$(mib "$(size "$a")")" \
  "thin LTO, strip -g (strip = \"debuginfo\")" "$(mib "$(size "$prefix-a-g")")" \
  "thin LTO, strip -s (strip = true: shipped)" "$(mib "$(size "$prefix-a-s")")" \
  "no LTO, strip -s" "$(mib "$(size "$prefix-b-s")")"
