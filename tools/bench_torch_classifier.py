#!/usr/bin/python3
"""bench_torch_classifier.py — PyTorch autograd timing of the noisy
classifier's forward and forward+backward (grad of sum log_softmax[y] with
respect to x), the computation `admctl bench --classifier` times, for
comparison on the same machine.  Not part of admd (a developer tool; run
with Debian's /usr/bin/python3, which has torch).

The network is EncoderUNetModel as guided-diffusion builds it (written
here from its description, with the same state-dict names), in fp32 on
the CPU.  `--check DIR` first loads a reference case (DIR/model.pt,
config.txt, x/t/y.npy) and compares with DIR/logits.npy and grad.npy, to
show the timed network is the reference's.

  /usr/bin/python3 tools/bench_torch_classifier.py --preset 64x64 [--batch 1] [--iters 3]
  /usr/bin/python3 tools/bench_torch_classifier.py --check tests/data/reference/classifier_a
"""
import argparse
import json
import math
import time

import numpy as np
import torch as th
import torch.nn as nn
import torch.nn.functional as F


def gn(ch):
    return nn.GroupNorm(32, ch)


class Down(nn.Module):
    def __init__(self, ch, use_conv):
        super().__init__()
        self.op = nn.Conv2d(ch, ch, 3, stride=2, padding=1) if use_conv else nn.AvgPool2d(2, 2)

    def forward(self, x, emb):
        return self.op(x)


class Res(nn.Module):
    def __init__(self, cin, emb_ch, cout, ss, down=False):
        super().__init__()
        self.ss, self.down = ss, down
        self.in_layers = nn.Sequential(gn(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_ch, 2 * cout if ss else cout))
        self.out_layers = nn.Sequential(gn(cout), nn.SiLU(), nn.Dropout(0.0), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip_connection = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        if self.down:
            h = self.in_layers[:-1](x)
            h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
            h = self.in_layers[-1](h)
        else:
            h = self.in_layers(x)
        e = self.emb_layers(emb)[:, :, None, None]
        if self.ss:
            scale, shift = th.chunk(e, 2, dim=1)
            h = self.out_layers[0](h) * (1 + scale) + shift
            h = self.out_layers[1:](h)
        else:
            h = self.out_layers(h + e)
        return self.skip_connection(x) + h


def attention(qkv, heads, legacy):
    b, width, t = qkv.shape
    ch = width // (3 * heads)
    s = 1 / math.sqrt(math.sqrt(ch))
    if legacy:
        q, k, v = qkv.reshape(b * heads, 3 * ch, t).split(ch, dim=1)
    else:
        q, k, v = (z.reshape(b * heads, ch, t) for z in qkv.chunk(3, dim=1))
    w = th.softmax(th.einsum("bct,bcs->bts", q * s, k * s), dim=-1)
    return th.einsum("bts,bcs->bct", w, v).reshape(b, -1, t)


class Attn(nn.Module):
    def __init__(self, ch, heads, legacy):
        super().__init__()
        self.heads, self.legacy = heads, legacy
        self.norm = gn(ch)
        self.qkv = nn.Conv1d(ch, 3 * ch, 1)
        self.proj_out = nn.Conv1d(ch, ch, 1)

    def forward(self, x, emb):
        b, c, hh, ww = x.shape
        x = x.reshape(b, c, -1)
        h = self.proj_out(attention(self.qkv(self.norm(x)), self.heads, self.legacy))
        return (x + h).reshape(b, c, hh, ww)


class Seq(nn.ModuleList):
    def forward(self, x, emb):
        for m in self:
            x = m(x, emb)
        return x


class Conv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.c = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x, emb):
        return self.c(x)


class Pool(nn.Module):   # AttentionPool2d
    def __init__(self, side, ch, head_ch, out):
        super().__init__()
        self.positional_embedding = nn.Parameter(th.randn(ch, side * side + 1) / ch ** 0.5)
        self.qkv_proj = nn.Conv1d(ch, 3 * ch, 1)
        self.c_proj = nn.Conv1d(ch, out, 1)
        self.heads = ch // head_ch

    def forward(self, x):
        b, c = x.shape[:2]
        x = x.reshape(b, c, -1)
        x = th.cat([x.mean(dim=-1, keepdim=True), x], dim=-1) + self.positional_embedding[None]
        return self.c_proj(attention(self.qkv_proj(x), self.heads, False))[:, :, 0]


class Classifier(nn.Module):
    """EncoderUNetModel with pool='attention' (or 'adaptive')."""

    def __init__(self, c):
        super().__init__()
        mc, ed = c["model_channels"], 4 * c["model_channels"]
        self.mc = mc
        self.time_embed = nn.Sequential(nn.Linear(mc, ed), nn.SiLU(), nn.Linear(ed, ed))
        heads = lambda ch: ch // c["num_head_channels"] if c["num_head_channels"] > 0 else c["num_heads"]
        legacy = not c["use_new_attention_order"]
        ch = c["channel_mult"][0] * mc
        blocks = [Seq([Conv(c["in_channels"], ch)])]
        ds = 1
        for level, mult in enumerate(c["channel_mult"]):
            for _ in range(c["num_res_blocks"]):
                layers = [Res(ch, ed, mult * mc, c["use_scale_shift_norm"])]
                ch = mult * mc
                if ds in c["attention_resolutions"]:
                    layers.append(Attn(ch, heads(ch), legacy))
                blocks.append(Seq(layers))
            if level != len(c["channel_mult"]) - 1:
                blocks.append(Seq([Res(ch, ed, ch, c["use_scale_shift_norm"], down=True) if c["resblock_updown"]
                                   else Down(ch, True)]))
                ds *= 2
        self.input_blocks = nn.ModuleList(blocks)
        self.middle_block = Seq([Res(ch, ed, ch, c["use_scale_shift_norm"]), Attn(ch, heads(ch), legacy),
                                 Res(ch, ed, ch, c["use_scale_shift_norm"])])
        if c["pool"] == "attention":
            self.out = nn.Sequential(gn(ch), nn.SiLU(), Pool(c["image_size"] // ds, ch, c["num_head_channels"], c["out_channels"]))
        else:
            self.out = nn.Sequential(gn(ch), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Conv2d(ch, c["out_channels"], 1), nn.Flatten())

    def forward(self, x, t):
        half = self.mc // 2
        f = th.exp(-math.log(10000) * th.arange(half, dtype=th.float32) / half)
        a = t[:, None].float() * f[None]
        emb = self.time_embed(th.cat([th.cos(a), th.sin(a)], dim=-1))
        h = x
        for m in self.input_blocks:
            h = m(h, emb)
        return self.out(self.middle_block(h, emb))


def state_dict_names(sd):
    """Map our module names onto the reference's (Conv wrapper: input_blocks.0.0.c -> input_blocks.0.0)."""
    return {k.replace("input_blocks.0.0.", "input_blocks.0.0.c."): v for k, v in sd.items()}


PRESETS = {   # the README's classifier flags (64x64: depth 4; 128/256: depth 2), 1000 classes
    "64x64": dict(image_size=64, channel_mult=(1, 2, 3, 4), num_res_blocks=4),
    "128x128": dict(image_size=128, channel_mult=(1, 1, 2, 3, 4), num_res_blocks=2),
    "256x256": dict(image_size=256, channel_mult=(1, 1, 2, 2, 4, 4), num_res_blocks=2),
}


def preset(name):
    p = PRESETS[name]
    return dict(in_channels=3, model_channels=128, out_channels=1000, num_heads=1, num_head_channels=64,
                use_new_attention_order=False, use_scale_shift_norm=True, resblock_updown=True, pool="attention",
                attention_resolutions=[p["image_size"] // r for r in (32, 16, 8)], **p)


def grad_and_logits(model, x, t, y):
    x = x.detach().requires_grad_(True)
    logits = model(x, t)
    lp = F.log_softmax(logits, dim=-1)[th.arange(len(y)), y].sum()
    return th.autograd.grad(lp, x)[0], logits


def check(d):
    kv = dict(l.strip().split("=", 1) for l in open(d + "/config.txt") if "=" in l)
    ints = lambda s: [int(v) for v in s.split(",") if v]
    c = dict(in_channels=int(kv["in_channels"]), model_channels=int(kv["model_channels"]),
             out_channels=int(kv["out_channels"]), num_res_blocks=int(kv["num_res_blocks"]),
             attention_resolutions=ints(kv["attention_resolutions"]), channel_mult=ints(kv["channel_mult"]),
             num_heads=int(kv.get("num_heads", 1)), num_head_channels=int(kv.get("num_head_channels", -1)),
             use_scale_shift_norm=kv.get("use_scale_shift_norm") == "1", resblock_updown=kv.get("resblock_updown") == "1",
             use_new_attention_order=kv.get("use_new_attention_order") == "1", pool=kv.get("pool", "adaptive"),
             image_size=int(kv["image_size"]))
    m = Classifier(c).eval()
    m.load_state_dict(state_dict_names(th.load(d + "/model.pt", map_location="cpu")))
    x, t, y = (th.from_numpy(np.load(d + f"/{n}.npy")) for n in ("x", "t", "y"))
    g, l = grad_and_logits(m, x, t, y)
    el = (l.detach() - th.from_numpy(np.load(d + "/logits.npy"))).abs().max().item()
    eg = (g - th.from_numpy(np.load(d + "/grad.npy"))).abs().max().item()
    print(f"check {d}: max|logits - ref| {el:.3g}, max|grad - ref| {eg:.3g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="64x64", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--check", help="a reference case folder to compare against first")
    a = ap.parse_args()
    if a.threads:
        th.set_num_threads(a.threads)
    if a.check:
        check(a.check)
    th.manual_seed(0)
    c = preset(a.preset)
    m = Classifier(c).eval()
    x = th.randn(a.batch, 3, c["image_size"], c["image_size"])
    t = th.arange(a.batch) * 997 % 1000
    y = th.arange(a.batch) * 7 % 1000
    with th.no_grad():
        m(x, t)                                # warm-up
    t0 = time.perf_counter()
    with th.no_grad():
        for _ in range(a.iters):
            m(x, t)
    ms_f = (time.perf_counter() - t0) * 1e3 / a.iters
    # forward+backward twice: as the reference's cond_fn runs it (parameters
    # still require grad, so autograd also forms the weight gradients), and
    # with the parameters frozen (the input gradient only, what admctl does)
    ms_fb = {}
    for mode in ("reference", "input_only"):
        for p in m.parameters():
            p.requires_grad_(mode == "reference")
        grad_and_logits(m, x, t, y)            # warm-up
        t0 = time.perf_counter()
        for _ in range(a.iters):
            grad_and_logits(m, x, t, y)
        ms_fb[mode] = (time.perf_counter() - t0) * 1e3 / a.iters
    print(json.dumps({"bench": "torch_classifier", "model": a.preset + "_classifier", "batch": a.batch,
                      "threads": th.get_num_threads(), "torch": th.__version__, "iters": a.iters,
                      "ms_forward": round(ms_f, 2), "ms_forward_backward": round(ms_fb["reference"], 2),
                      "ms_forward_backward_input_grad_only": round(ms_fb["input_only"], 2)}))


if __name__ == "__main__":
    main()
