#!/usr/bin/env python3
# png_tile.py — one PNG of many same-size 8-bit grey PNGs (the sample folders of
# tools/quality_grid.sh), COLS per row, each pixel drawn ZOOM x ZOOM, 2 px gaps.
# Plain Python (zlib only).  usage: png_tile.py OUT.png COLS ZOOM IN.png...
import struct, sys, zlib

def read_grey(path):
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("%s: not a PNG" % path)
    p, idat, w = 8, b"", None
    while p < len(d):
        n = struct.unpack(">I", d[p:p + 4])[0]; t = d[p + 4:p + 8]; c = d[p + 8:p + 8 + n]; p += 12 + n
        if t == b"IHDR":
            w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", c)
            if depth != 8 or ctype != 0 or inter:
                sys.exit("%s: want 8-bit grey, not interlaced" % path)
        elif t == b"IDAT":
            idat += c
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(w)
    for y in range(h):
        f = raw[y * (w + 1)]; line = bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0; b = prev[x]; c = prev[x - 1] if x else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return w, h, rows

out, cols, zoom, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
imgs = [read_grey(f) for f in files]
w, h = imgs[0][0], imgs[0][1]
nrow = (len(imgs) + cols - 1) // cols
W, H = cols * (w * zoom + 2) + 2, nrow * (h * zoom + 2) + 2
canvas = [bytearray([128]) * W for _ in range(H)]
for k, (_, _, rows) in enumerate(imgs):
    ox, oy = 2 + (k % cols) * (w * zoom + 2), 2 + (k // cols) * (h * zoom + 2)
    for y in range(h * zoom):
        src = rows[y // zoom]
        canvas[oy + y][ox:ox + w * zoom] = bytes(src[x // zoom] for x in range(w * zoom))
def chunk(t, c): return struct.pack(">I", len(c)) + t + c + struct.pack(">I", zlib.crc32(t + c) & 0xffffffff)
body = zlib.compress(b"".join(b"\0" + bytes(r) for r in canvas), 9)
with open(out, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0)) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
