#!/usr/bin/env bash
# Prepare a Wine prefix that can run Rust .exe files (the Windows test
# suite in CI): create the prefix without dialogs, then build
# bcryptprimitives.dll (ProcessPrng, missing from Wine 8.0; see
# bcryptprimitives.c) and copy it into the prefix's system32.
#
# Usage: tools/wine/install-shim.sh    (WINEPREFIX defaults to ~/.wine)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${WINEPREFIX:-$HOME/.wine}"
export WINEPREFIX="$prefix" WINEDEBUG=-all
if [ ! -f "$prefix/system.reg" ]; then
  # -i: initialise the prefix; no Mono/Gecko install dialogs (a test
  # runner needs neither).
  WINEDLLOVERRIDES="mscoree,mshtml=" wineboot -i
  wineserver -w
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" \
  "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" -ladvapi32
install -m 0644 "$out/bcryptprimitives.dll" "$prefix/drive_c/windows/system32/bcryptprimitives.dll"
echo "installed $prefix/drive_c/windows/system32/bcryptprimitives.dll"
