#!/usr/bin/env python3
# npy_accuracy.py — fraction of rows of a float32 logits .npy [N, K] whose argmax
# equals the label i % K (the class layout tools/quality_grid.sh samples with).
# Plain Python (no numpy): reads the .npy header and the little-endian floats.
import ast, struct, sys

def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not an .npy file")
    major = data[6]
    if major == 1:
        hlen = struct.unpack("<H", data[8:10])[0]; off = 10
    else:
        hlen = struct.unpack("<I", data[8:12])[0]; off = 12
    hdr = ast.literal_eval(data[off:off + hlen].decode("latin1"))
    if hdr["descr"] != "<f4" or hdr["fortran_order"] or len(hdr["shape"]) != 2:
        sys.exit(f"{path}: want little-endian float32 [N, K], got {hdr}")
    n, k = hdr["shape"]
    body = data[off + hlen:]
    if len(body) != 4 * n * k:
        sys.exit(f"{path}: {len(body)} bytes of data, want {4 * n * k}")
    vals = struct.unpack(f"<{n * k}f", body)
    return n, k, vals

n, k, v = read_npy(sys.argv[1])
hits = 0
for i in range(n):
    row = v[i * k:(i + 1) * k]
    if max(range(k), key=lambda j: row[j]) == i % k:
        hits += 1
print(f"{hits}\t{n}")
