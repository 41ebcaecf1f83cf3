#!/usr/bin/env bash
# Assembles portwise.app, the macOS application bundle, around a portwise
# binary built for macOS:
#
#   cargo build --release --target aarch64-apple-darwin
#   packaging/macos/make-app.sh target/aarch64-apple-darwin/release/portwise dist
#   # -> dist/portwise.app; zip it for a release (the cask downloads this):
#   ditto -c -k --keepParent dist/portwise.app dist/portwise-<version>-macos.zip
#
# For Intel and Apple silicon in one bundle, pass a universal binary
# (lipo -create -output portwise <x86_64 binary> <aarch64 binary>).
#
# Layout (Apple, "Bundle Programming Guide", Anatomy of a macOS Application
# Bundle):
#   portwise.app/Contents/Info.plist            bundle id, executable, icon, version
#   portwise.app/Contents/PkgInfo               "APPL????"
#   portwise.app/Contents/MacOS/portwise        the binary
#   portwise.app/Contents/Resources/portwise.icns
#
# The .icns is written here from the committed PNGs (packaging/icons), so the
# script needs only bash and runs on Linux too (the test suite runs it with
# any binary and checks the result). On a Mac with codesign the bundle gets an
# ad-hoc signature, which Apple silicon requires to launch it.
set -euo pipefail

usage() { echo "usage: $0 <portwise binary> <output dir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
binary=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
icons=$here/../icons
[ -f "$binary" ] || { echo "$0: no such binary: $binary" >&2; exit 2; }

# The version is the crate's, so the bundle and `portwise --version` agree.
version=${PORTWISE_VERSION:-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/../../Cargo.toml" | head -n 1)}
[ -n "$version" ] || { echo "$0: cannot read the version from Cargo.toml" >&2; exit 1; }
# CFBundleVersion must be up to three integers: drop a "-pre" or "+build" suffix.
build_version=${version%%[-+]*}

app=$out/portwise.app
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
cp "$binary" "$app/Contents/MacOS/portwise"
chmod 755 "$app/Contents/MacOS/portwise"
printf 'APPL????' > "$app/Contents/PkgInfo"

# --- the icon -------------------------------------------------------------
# An .icns file: "icns", the total length (32-bit big-endian), then entries,
# each a 4-byte type, its length including this 8-byte header, and the data;
# these types hold PNG data (the types iconutil writes).
be32() {
  local n=$1
  printf "\\$(printf '%03o' $(( (n >> 24) & 255 )))\\$(printf '%03o' $(( (n >> 16) & 255 )))"
  printf "\\$(printf '%03o' $(( (n >> 8) & 255 )))\\$(printf '%03o' $(( n & 255 )))"
}
entries=(
  "icp4 hicolor/16x16/apps/portwise.png"
  "icp5 hicolor/32x32/apps/portwise.png"
  "ic11 hicolor/32x32/apps/portwise.png"
  "ic12 hicolor/64x64/apps/portwise.png"
  "ic07 hicolor/128x128/apps/portwise.png"
  "ic13 hicolor/256x256/apps/portwise.png"
  "ic08 hicolor/256x256/apps/portwise.png"
  "ic14 hicolor/512x512/apps/portwise.png"
  "ic09 hicolor/512x512/apps/portwise.png"
  "ic10 portwise-1024.png"
)
total=8
for e in "${entries[@]}"; do
  total=$(( total + 8 + $(wc -c < "$icons/${e#* }") ))
done
icns=$app/Contents/Resources/portwise.icns
{
  printf 'icns'
  be32 "$total"
  for e in "${entries[@]}"; do
    file=$icons/${e#* }
    printf '%s' "${e%% *}"
    be32 $(( 8 + $(wc -c < "$file") ))
    cat "$file"
  done
} > "$icns"

# --- Info.plist -----------------------------------------------------------
# Keys: Apple, "Information Property List" (Bundle configuration).
# LSMinimumSystemVersion 11.0 is Rust's aarch64-apple-darwin minimum.
cat > "$app/Contents/Info.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleDevelopmentRegion</key>
	<string>en</string>
	<key>CFBundleDisplayName</key>
	<string>portwise</string>
	<key>CFBundleExecutable</key>
	<string>portwise</string>
	<key>CFBundleIconFile</key>
	<string>portwise</string>
	<key>CFBundleIdentifier</key>
	<string>io.github.portwise.portwise</string>
	<key>CFBundleInfoDictionaryVersion</key>
	<string>6.0</string>
	<key>CFBundleName</key>
	<string>portwise</string>
	<key>CFBundlePackageType</key>
	<string>APPL</string>
	<key>CFBundleShortVersionString</key>
	<string>$build_version</string>
	<key>CFBundleVersion</key>
	<string>$build_version</string>
	<key>LSApplicationCategoryType</key>
	<string>public.app-category.developer-tools</string>
	<key>LSMinimumSystemVersion</key>
	<string>11.0</string>
	<key>NSHighResolutionCapable</key>
	<true/>
	<key>NSHumanReadableCopyright</key>
	<string>MIT License, the portwise developers</string>
</dict>
</plist>
PLIST

if command -v codesign >/dev/null 2>&1; then
  codesign --force --sign - "$app"
fi
echo "$app"
