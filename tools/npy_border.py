#!/usr/bin/env python3
# npy_border.py — background grain of samples: the mean grey level (0..255, as the
# PNGs are written: (x + 1) * 127.5 clamped, truncated) of the outer 2-pixel ring of
# every image in a float32 [N, C, H, W] .npy.  MNIST's reference digits are 28x28
# zero-padded to 32x32, so that ring is exactly 0 in every real image: anything above
# is noise the sampler left.  The classifier features barely see it (README).
# Plain Python (no numpy).  usage: npy_border.py FINAL.npy  -> "mean<TAB>max-image-mean"
import ast, struct, sys
d = open(sys.argv[1], "rb").read()
if d[:6] != b"\x93NUMPY":
    sys.exit("not an .npy file")
hl, off = (struct.unpack("<H", d[8:10])[0], 10) if d[6] == 1 else (struct.unpack("<I", d[8:12])[0], 12)
h = ast.literal_eval(d[off:off + hl].decode("latin1"))
if h["descr"] != "<f4" or h["fortran_order"] or len(h["shape"]) != 4:
    sys.exit("want float32 [N, C, H, W], got %s" % h)
n, c, hh, ww = h["shape"]
v = struct.unpack("<%df" % (n * c * hh * ww), d[off + hl:off + hl + 4 * n * c * hh * ww])
means = []
for i in range(n):
    tot = cnt = 0
    for ch in range(c):
        base = (i * c + ch) * hh * ww
        for y in range(hh):
            for x in range(ww):
                if y < 2 or y >= hh - 2 or x < 2 or x >= ww - 2:
                    q = (v[base + y * ww + x] + 1.0) * 127.5
                    tot += int(min(255.0, max(0.0, q))); cnt += 1
    means.append(tot / cnt)
print("%.2f\t%.2f" % (sum(means) / n, max(means)))
