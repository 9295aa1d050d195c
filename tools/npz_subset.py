#!/usr/bin/env python3
# npz_subset.py — a reference batch of N images taken evenly from a larger one
# (every (count/N)-th image, with its label when the batch has `labels`), for
# precision and recall between sets of equal size: with k = 3 nearest neighbours,
# balls around 32 samples are so wide that they cover nearly all of 10,000
# references, and recall against the whole batch reads ~1 whatever the samples.
# Plain Python (no numpy).  usage: npz_subset.py IN.npz N OUT.npz
import ast, io, struct, sys, zipfile

def parse(data):
    if data[:6] != b"\x93NUMPY":
        sys.exit("not an .npy member")
    if data[6] == 1:
        hl = struct.unpack("<H", data[8:10])[0]; off = 10
    else:
        hl = struct.unpack("<I", data[8:12])[0]; off = 12
    return ast.literal_eval(data[off:off + hl].decode("latin1")), data[off + hl:]

def npy(descr, shape, body):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1") + body

src, n, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
z = zipfile.ZipFile(src)
hdr, body = parse(z.read("arr_0.npy"))
total = hdr["shape"][0]
if hdr["descr"] != "|u1" or hdr["fortran_order"] or not 0 < n <= total:
    sys.exit("%s: want uint8 arr_0 with at least %d images, got %s" % (src, n, hdr))
per = len(body) // total
idx = [i * total // n for i in range(n)]
out = {"arr_0.npy": npy("|u1", (n,) + tuple(hdr["shape"][1:]), b"".join(body[i * per:(i + 1) * per] for i in idx))}
if "labels.npy" in z.namelist():
    lh, lb = parse(z.read("labels.npy"))
    w = len(lb) // lh["shape"][0]
    out["labels.npy"] = npy(lh["descr"], (n,), b"".join(lb[i * w:(i + 1) * w] for i in idx))
with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as o:
    for k, v in out.items():
        o.writestr(k, v)
print("%s: %d of %d images (every %g-th)" % (dst, n, total, total / n))
