#!/usr/bin/env bash
# Renders portwise's icons from the one drawing in assets/make_icon.py:
#   hicolor/<N>x<N>/apps/portwise.png  (16-512, the freedesktop icon theme sizes)
#   portwise-1024.png                  (the macOS .icns's largest entry)
#   ../windows/portwise.ico            (16-256, PNG-compressed entries)
# The results are committed; run this only after changing the drawing.
# hicolor/scalable/apps/portwise.svg is drawn by hand to match.
set -euo pipefail
cd "$(dirname "$0")"
draw=../../assets/make_icon.py
for n in 16 24 32 48 64 128 256 512; do
  mkdir -p "hicolor/${n}x${n}/apps"
  python3 "$draw" "hicolor/${n}x${n}/apps/portwise.png" "$n"
done
python3 "$draw" portwise-1024.png 1024
python3 - ../windows/portwise.ico hicolor/{16x16,24x24,32x32,48x48,64x64,256x256}/apps/portwise.png <<'PY'
# An .ico is a directory of images; since Windows Vista each may be a PNG.
import struct, sys
out, pngs = sys.argv[1], [open(p, 'rb').read() for p in sys.argv[2:]]
head = struct.pack('<HHH', 0, 1, len(pngs))
offset = len(head) + 16 * len(pngs)
entries, blobs = b'', b''
for data in pngs:
    w, h = struct.unpack('>II', data[16:24])   # the PNG's IHDR
    entries += struct.pack('<BBBBHHII', w % 256, h % 256, 0, 0, 1, 32, len(data), offset)
    blobs += data
    offset += len(data)
open(out, 'wb').write(head + entries + blobs)
PY
