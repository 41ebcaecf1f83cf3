#!/usr/bin/env bash
# Packs the Windows release zip: portwise.exe (console: the command line),
# portwisew.exe (GUI subsystem: the window without a console window), this
# folder's README.txt and the license.
#
#   cargo build --release --target x86_64-pc-windows-gnu --features portwisew
#   packaging/windows/make-zip.sh target/x86_64-pc-windows-gnu/release dist
#   # -> dist/portwise-<version>-windows-x86_64.zip
#
# The scoop manifest (portwise.json) installs this zip.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <dir with portwise.exe and portwisew.exe> <output dir>" >&2; exit 2; }
bin=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/../../Cargo.toml" | head -n 1)
for exe in portwise.exe portwisew.exe; do
  [ -f "$bin/$exe" ] || { echo "$0: missing $bin/$exe (build with --features portwisew)" >&2; exit 1; }
done
name=portwise-$version-windows-x86_64
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$bin/portwise.exe" "$bin/portwisew.exe" "$stage/$name/"
# Notepad reads CRLF line ends.
sed 's/$/\r/' "$here/README.txt" > "$stage/$name/README.txt"
sed 's/$/\r/' "$here/../../LICENSE" > "$stage/$name/LICENSE.txt"
mkdir -p "$out"
zip_path=$(cd "$out" && pwd)/$name.zip
rm -f "$zip_path"
(cd "$stage" && zip -q -r -X "$zip_path" "$name")
echo "$zip_path"
