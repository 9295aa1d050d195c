#!/usr/bin/python3
# make_pt_data.py — regenerate tests/data/pt/ (run once by hand with Debian's
# python3-torch; the tests themselves never need Python).
#
#   /usr/bin/python3 tests/data/pt/make_pt_data.py
#
# Writes:
#   <case>.sha256     one line per tensor of a checkpoint, in file order:
#                     "name dtype dim0,dim1,.. sha256-of-the-contiguous-bytes"
#                     (values exactly as torch.load returns them)
#   proto4.pt         small state dict saved with pickle_protocol=4 (FRAME,
#                     SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL), every dtype,
#                     a 0-d tensor, a view with a storage offset
#   zip64.pt          the same archive rewritten with ZIP64 records and a
#                     another archive prefix
#   small.safetensors the same tensors as .safetensors
#   bad/*.pt          hand-made bad inputs (see the list at the end)
import collections, hashlib, io, json, os, struct, sys, zipfile, zlib
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DT = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16", torch.float64: "f64",
      torch.int64: "i64", torch.int32: "i32", torch.uint8: "u8"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def sha_list(sd, out):
    with open(out, "w") as f:
        for k, v in sd.items():
            f.write("%s %s %s %s\n" % (k, DT[v.dtype], ",".join(str(s) for s in v.shape) or "-",
                                       hashlib.sha256(tensor_bytes(v)).hexdigest()))


CASES = {
    "unet_a": "tests/data/reference/unet_a/model.pt",
    "unet_a_f16": "tests/data/reference/unet_a_f16/model.pt",
    "unet_b": "tests/data/reference/unet_b/model.pt",
    "unet_c": "tests/data/reference/unet_c/model.pt",
    "superres_a": "tests/data/reference/superres_a/model.pt",
    "classifier_a": "tests/data/reference/classifier_a/model.pt",
    "mnist_unet": "tests/data/mnist/unet.pt",
    "mnist_classifier": "tests/data/mnist/classifier.pt",
}

for name, rel in CASES.items():
    sd = torch.load(os.path.join(ROOT, rel), map_location="cpu")
    sha_list(sd, os.path.join(HERE, name + ".sha256"))

# A small state dict with every dtype, written with protocol 4.
g = torch.Generator().manual_seed(7)
base = torch.randn(64, generator=g)
small = collections.OrderedDict()
small["a.weight"] = torch.randn(4, 3, 3, 3, generator=g)
small["a.bias"] = torch.randn(4, generator=g)
small["half"] = torch.randn(5, 2, generator=g).half()
small["bf16"] = torch.randn(3, generator=g).bfloat16()
small["f64"] = torch.randn(2, 2, generator=g).double()
small["i64"] = torch.arange(-3, 3, dtype=torch.int64)
small["i32"] = torch.arange(7, dtype=torch.int32) * -1000
small["u8"] = torch.arange(250, 256, dtype=torch.uint8)
small["scalar"] = torch.tensor(3.5)
small["view.a"] = base[8:24].view(4, 4)          # storage offset 8, shared storage
small["view.b"] = base[40:46]
small["param"] = torch.nn.Parameter(torch.randn(2, 3, generator=g))
small["empty"] = torch.zeros(0, 3)
torch.save(small, os.path.join(HERE, "proto4.pt"), pickle_protocol=4)
sha_list(torch.load(os.path.join(HERE, "proto4.pt")), os.path.join(HERE, "proto4.sha256"))


# ZIP64: rewrite proto4.pt by hand with ZIP64 extra fields everywhere and the
# ZIP64 end-of-central-directory record, under another prefix.
def write_zip64(path, entries):
    out = io.BytesIO(); central = []
    for name, data in entries:
        nb = name.encode(); crc = zlib.crc32(data); off = out.tell()
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(extra)))
        out.write(nb); out.write(extra); out.write(data)
        central.append((nb, crc, len(data), off))
    cd = out.tell()
    for nb, crc, size, off in central:
        extra = struct.pack("<HHQQQ", 1, 24, size, size, off)
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                              len(nb), len(extra), 0, 0, 0, 0, 0xFFFFFFFF))
        out.write(nb); out.write(extra)
    cdlen = out.tell() - cd; z64 = out.tell()
    out.write(struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, len(central), len(central), cdlen, cd))
    out.write(struct.pack("<IIQI", 0x07064b50, 0, z64, 1))
    out.write(struct.pack("<IHHHHIIH", 0x06054b50, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    open(path, "wb").write(out.getvalue())


z = zipfile.ZipFile(os.path.join(HERE, "proto4.pt"))
entries = [("zip64_archive/" + n.split("/", 1)[1], z.read(n)) for n in z.namelist()]
write_zip64(os.path.join(HERE, "zip64.pt"), entries)
assert all(torch.equal(a, b) for a, b in zip(torch.load(os.path.join(HERE, "zip64.pt")).values(), small.values()))

# safetensors (written by hand: the format is a length, a JSON header, the bytes).
ST = {"f32": "F32", "f16": "F16", "bf16": "BF16", "f64": "F64", "i64": "I64", "i32": "I32", "u8": "U8"}
hdr, blob = collections.OrderedDict(), b""
hdr["__metadata__"] = {"format": "pt", "note": "made by make_pt_data.py"}
for k, v in small.items():
    b = tensor_bytes(v)
    hdr[k] = {"dtype": ST[DT[v.dtype]], "shape": list(v.shape), "data_offsets": [len(blob), len(blob) + len(b)]}
    blob += b
h = json.dumps(hdr).encode()
h += b" " * (-len(h) % 8)
open(os.path.join(HERE, "small.safetensors"), "wb").write(struct.pack("<Q", len(h)) + h + blob)

# Bad inputs: each one is a small archive that torch itself also rejects or
# that would make a naive reader misbehave.
BAD = os.path.join(HERE, "bad")
os.makedirs(BAD, exist_ok=True)


def rezip(path, replace):
    """Copy proto2 archive entries, replacing some (name suffix -> bytes)."""
    src = zipfile.ZipFile(io.BytesIO(P2))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for n in src.namelist():
            data = src.read(n)
            for suf, new in replace.items():
                if n.endswith(suf):
                    data = new
            if data is not None:
                dst.writestr(n, data)


tiny = collections.OrderedDict()
tiny["w"] = torch.arange(12, dtype=torch.float32).view(3, 4)
tiny["b"] = torch.arange(3, dtype=torch.float32)
buf = io.BytesIO(); torch.save(tiny, buf, _use_new_zipfile_serialization=True, pickle_protocol=2); P2 = buf.getvalue()
open(os.path.join(HERE, "tiny.pt"), "wb").write(P2)
sha_list(tiny, os.path.join(HERE, "tiny.sha256"))
pkl = zipfile.ZipFile(io.BytesIO(P2)).read([n for n in zipfile.ZipFile(io.BytesIO(P2)).namelist() if n.endswith("data.pkl")][0])

# unknown global: os.system instead of collections.OrderedDict
rezip(os.path.join(BAD, "global_os_system.pt"), {"data.pkl": pkl.replace(b"ccollections\nOrderedDict\n", b"cos\nsystem\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")})
# unknown opcode in the middle of the pickle
i = pkl.index(b"X\x01\x00\x00\x00w")
rezip(os.path.join(BAD, "bad_opcode.pt"), {"data.pkl": pkl[:i] + b"\xff" + pkl[i + 1:]})
# storage shorter than the pickle says: cut storage 0 to 20 bytes
rezip(os.path.join(BAD, "short_storage.pt"), {"data/0": b"\0" * 20})
# absurd shape: size (3,4) -> (3, 2**48) via LONG1; and a size overflow (2**39, 2**39)
p = pkl.replace(b"K\x03K\x04\x86", b"K\x03\x8a\x07\x00\x00\x00\x00\x00\x00\x01\x86", 1)
rezip(os.path.join(BAD, "absurd_shape.pt"), {"data.pkl": p})
p = pkl.replace(b"K\x03K\x04\x86", b"\x8a\x05\x00\x00\x00\x00\x80\x8a\x05\x00\x00\x00\x00\x80\x86", 1)
rezip(os.path.join(BAD, "size_overflow.pt"), {"data.pkl": p})
# non-contiguous: a transposed view (torch keeps the strides in the checkpoint)
nc = collections.OrderedDict(); nc["wt"] = torch.arange(12, dtype=torch.float32).view(3, 4).t()
torch.save(nc, os.path.join(BAD, "noncontiguous.pt"))
# truncated: the first 60% of a good archive
open(os.path.join(BAD, "truncated.pt"), "wb").write(P2[: len(P2) * 6 // 10])
# corrupt zip: central directory signature smashed
c = bytearray(P2); j = c.rindex(b"PK\x01\x02"); c[j:j + 4] = b"XXXX"
open(os.path.join(BAD, "corrupt_zip.pt"), "wb").write(bytes(c))
# a zip without data.pkl
with zipfile.ZipFile(os.path.join(BAD, "no_pickle.pt"), "w") as dst:
    dst.writestr("archive/hello.txt", "hi")
# empty file
open(os.path.join(BAD, "empty.pt"), "wb").close()
# truncated pickle (no STOP)
rezip(os.path.join(BAD, "pickle_no_stop.pt"), {"data.pkl": pkl[: len(pkl) // 2]})
print("ok")
