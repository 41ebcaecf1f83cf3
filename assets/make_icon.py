# Draws portwise's app icon: a rounded dark-teal tile with a socket outlet
# (a ring with a key notch) and a green "free" dot. Writes assets/icon.png.
#
#   python3 assets/make_icon.py OUT.png [SIZE]
#
# The design lives on a 256-unit grid; SIZE (default 256) scales it, keeping
# anti-aliased edges one pixel wide at every size. packaging/icons/make.sh
# renders the hicolor/ico/icns sizes with it; packaging/icons/portwise.svg is
# the same drawing as a vector.
import math, struct, zlib, sys

N = 256
P = int(sys.argv[2]) if len(sys.argv) > 2 else N   # output size in pixels
S = P / N                                           # pixels per design unit
def clamp(v): return max(0, min(255, int(round(v))))

def cover(dist):
    # Coverage of a pixel whose centre is `dist` design units inside an edge.
    return max(0.0, min(1.0, dist * S + 0.5))

def rounded_rect_alpha(x, y, r):
    # Coverage of a rounded square filling the tile with corner radius r.
    cx = min(max(x, r), N - r)
    cy = min(max(y, r), N - r)
    d = math.hypot(x - cx, y - cy)
    return cover(r - d) if d > r - 1 / S else 1.0

def blend(dst, src, a):
    return tuple(dst[i] * (1 - a) + src[i] * a for i in range(3))

px = []
for j in range(P):
    row = []
    for i in range(P):
        x, y = (i + 0.5) / S, (j + 0.5) / S
        a = rounded_rect_alpha(x, y, 48)
        # Background: vertical gradient teal -> deep blue.
        t = y / N
        col = (20 * (1 - t) + 18 * t, 110 * (1 - t) + 52 * t, 130 * (1 - t) + 96 * t)
        # Ring (the port): centre (128,120), radius 70, thickness 22.
        d = math.hypot(x - 128, y - 120)
        ring = cover(11 - abs(d - 70))
        # Key notch at the top of the ring: cut a gap.
        if abs(x - 128) < 14 and y < 120:
            ring = 0.0
        col = blend(col, (236, 244, 246), ring)
        # Two pins inside the ring.
        for px_ in (104, 152):
            pin = 1.0 if (abs(x - px_) < 8 and 100 < y < 146) else 0.0
            col = blend(col, (236, 244, 246), pin)
        # Green dot bottom right: "free".
        g = cover(28 - math.hypot(x - 196, y - 200))
        col = blend(col, (16, 40, 60), cover(34 - math.hypot(x - 196, y - 200)))
        col = blend(col, (72, 210, 110), g)
        row.append((clamp(col[0]), clamp(col[1]), clamp(col[2]), clamp(255 * a)))
    px.append(row)

def png(path, rows):
    raw = b''.join(b'\x00' + bytes(c for p in r for c in p) for r in rows)
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    h, w = len(rows), len(rows[0])
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0))
    data += chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    open(path, 'wb').write(data)

png(sys.argv[1], px)
