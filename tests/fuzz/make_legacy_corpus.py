#!/usr/bin/env python3
"""make_legacy_corpus.py — write the seed corpus of fuzz_legacy: small state
dicts in torch's legacy (non-zip) format, made with the standard pickle
module the way torch.save(..., _use_new_zipfile_serialization=False) writes
them (stand-in torch modules, so the pickles name the same globals).  The
fuzz input is what follows the sys_info pickle: the state-dict pickle, the
key-list pickle, then per storage an int64 count and the raw bytes.

    python3 tests/fuzz/make_legacy_corpus.py tests/fuzz/corpus/legacy
"""
import collections, io, os, pickle, struct, sys, types

torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch; sys.modules["torch._utils"] = utils
torch._utils = utils

def _rebuild_tensor_v2(*a): pass
def _rebuild_parameter(*a): pass
_rebuild_tensor_v2.__module__ = "torch._utils"; _rebuild_parameter.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2; utils._rebuild_parameter = _rebuild_parameter

class Storage:
    def __init__(self, key, values, fmt): self.key, self.values, self.fmt = key, values, fmt
for name in ("FloatStorage", "HalfStorage", "LongStorage", "DoubleStorage"):
    cls = type(name, (), {}); cls.__module__ = "torch"; setattr(torch, name, cls)
TYPES = {"f": torch.FloatStorage, "e": torch.HalfStorage, "q": torch.LongStorage, "d": torch.DoubleStorage}

class Tensor:
    def __init__(self, storage, offset, shape):
        self.storage, self.offset, self.shape = storage, offset, shape
    def __reduce__(self):
        stride, s = [], 1
        for d in reversed(self.shape): stride.insert(0, s); s *= d
        return (_rebuild_tensor_v2, (self.storage, self.offset, tuple(self.shape), tuple(stride), False,
                                     collections.OrderedDict()))

def legacy_tail(state):
    keys = []
    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                if obj.key not in [k.key for k in keys]: keys.append(obj)
                return ("storage", TYPES[obj.fmt], obj.key, "cpu", len(obj.values), None)
            return None
    f = io.BytesIO()
    P(f, protocol=2).dump(state)
    pickle.dump([s.key for s in keys], f, protocol=2)
    for s in keys:
        f.write(struct.pack("<q", len(s.values)))
        f.write(struct.pack("<%d%s" % (len(s.values), s.fmt), *s.values))
    return f.getvalue()

def conv_bn(prefix, cin, cout, k, base):
    d, n = collections.OrderedDict(), base
    w = Storage(str(n), [((i * 7) % 13 - 6) / 64 for i in range(cout * cin * k * k)], "f")
    d[prefix + ".conv.weight"] = Tensor(w, 0, [cout, cin, k, k])
    for j, nm in enumerate(("weight", "bias", "running_mean", "running_var")):
        d[prefix + ".bn." + nm] = Tensor(Storage(str(n + 1 + j), [1.0 + j / 8] * cout, "f"), 0, [cout])
    d[prefix + ".bn.num_batches_tracked"] = Tensor(Storage(str(n + 5), [0], "q"), 0, [])
    return d

def main(out):
    os.makedirs(out, exist_ok=True)
    shared = Storage("9", [float(i) for i in range(24)], "f")
    cases = {
        "conv_bn": conv_bn("Conv2d_1a_3x3", 3, 4, 3, 100),
        "shared_views": collections.OrderedDict([("a", Tensor(shared, 0, [2, 3])), ("b", Tensor(shared, 6, [3, 6]))]),
        "dtypes": collections.OrderedDict([("h", Tensor(Storage("1", [0.5, -2.0], "e"), 0, [2])),
                                           ("d", Tensor(Storage("2", [3.25], "d"), 0, [1])),
                                           ("n", Tensor(Storage("3", [7], "q"), 0, []))]),
        "nested": collections.OrderedDict([("fc", collections.OrderedDict([("weight", Tensor(Storage("4", [1.0] * 6, "f"), 0, [3, 2]))]))]),
    }
    for name, state in cases.items():
        with open(os.path.join(out, name), "wb") as f: f.write(legacy_tail(state))

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/legacy")
