#!/usr/bin/python3
"""bench_torch.py — reference timing of the ADM UNet forward in PyTorch, to
set beside `admctl bench` (not part of the product; needs torch, e.g.
Debian's python3-torch: run it with /usr/bin/python3).

guided-diffusion is not installed, so its UNetModel (unet.py, nn.py at
commit 22e0df8) is re-created here, layer for layer, in fp32 eval mode.

usage: /usr/bin/python3 tools/bench_torch.py [PRESET] [--batch 1,8] [--iters 3] [--threads N]
prints ms per forward and GFLOP/s (2 x multiply-adds of convs, linears and
the attention products) and one JSON line per batch size.
"""
import argparse
import json
import math
import os
import time

import torch as th
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # the released checkpoints' MODEL_FLAGS (README of guided-diffusion)
    "64x64": dict(image_size=64, num_channels=192, num_res_blocks=3, attention_resolutions="32,16,8",
                  num_heads=4, num_head_channels=64, class_cond=True, learn_sigma=True, resblock_updown=True,
                  use_scale_shift_norm=True, use_new_attention_order=True),
    "128x128": dict(image_size=128, num_channels=256, num_res_blocks=2, attention_resolutions="32,16,8",
                    num_heads=4, num_head_channels=-1, class_cond=True, learn_sigma=True, resblock_updown=True,
                    use_scale_shift_norm=True, use_new_attention_order=False),
    "256x256": dict(image_size=256, num_channels=256, num_res_blocks=2, attention_resolutions="32,16,8",
                    num_heads=4, num_head_channels=64, class_cond=True, learn_sigma=True, resblock_updown=True,
                    use_scale_shift_norm=True, use_new_attention_order=False),
}


# ---- nn.py -------------------------------------------------------------------
class GroupNorm32(nn.GroupNorm):
    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def normalization(channels):
    return GroupNorm32(32, channels)


def timestep_embedding(timesteps, dim, max_period=10000):
    half = dim // 2
    freqs = th.exp(-math.log(max_period) * th.arange(start=0, end=half, dtype=th.float32) / half)
    args = timesteps[:, None].float() * freqs[None]
    embedding = th.cat([th.cos(args), th.sin(args)], dim=-1)
    if dim % 2:
        embedding = th.cat([embedding, th.zeros_like(embedding[:, :1])], dim=-1)
    return embedding


# ---- unet.py -------------------------------------------------------------------
class TimestepBlock(nn.Module):
    pass


class TimestepEmbedSequential(nn.Sequential, TimestepBlock):
    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, TimestepBlock) else layer(x)
        return x


class Upsample(nn.Module):
    def __init__(self, channels, use_conv, out_channels=None):
        super().__init__()
        self.out_channels = out_channels or channels
        self.use_conv = use_conv
        if use_conv:
            self.conv = nn.Conv2d(channels, self.out_channels, 3, padding=1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x) if self.use_conv else x


class Downsample(nn.Module):
    def __init__(self, channels, use_conv, out_channels=None):
        super().__init__()
        self.out_channels = out_channels or channels
        self.op = nn.Conv2d(channels, self.out_channels, 3, stride=2, padding=1) if use_conv else nn.AvgPool2d(2, 2)

    def forward(self, x):
        return self.op(x)


class ResBlock(TimestepBlock):
    def __init__(self, channels, emb_channels, out_channels=None, use_scale_shift_norm=False, up=False, down=False):
        super().__init__()
        self.out_channels = out_channels or channels
        self.use_scale_shift_norm = use_scale_shift_norm
        self.in_layers = nn.Sequential(normalization(channels), nn.SiLU(), nn.Conv2d(channels, self.out_channels, 3, padding=1))
        self.updown = up or down
        if up:
            self.h_upd = Upsample(channels, False)
            self.x_upd = Upsample(channels, False)
        elif down:
            self.h_upd = Downsample(channels, False)
            self.x_upd = Downsample(channels, False)
        else:
            self.h_upd = self.x_upd = nn.Identity()
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, 2 * self.out_channels if use_scale_shift_norm else self.out_channels))
        self.out_layers = nn.Sequential(normalization(self.out_channels), nn.SiLU(), nn.Dropout(p=0.0),
                                        nn.Conv2d(self.out_channels, self.out_channels, 3, padding=1))
        self.skip_connection = nn.Identity() if self.out_channels == channels else nn.Conv2d(channels, self.out_channels, 1)

    def forward(self, x, emb):
        if self.updown:
            in_rest, in_conv = self.in_layers[:-1], self.in_layers[-1]
            h = in_rest(x)
            h = self.h_upd(h)
            x = self.x_upd(x)
            h = in_conv(h)
        else:
            h = self.in_layers(x)
        emb_out = self.emb_layers(emb).type(h.dtype)
        while len(emb_out.shape) < len(h.shape):
            emb_out = emb_out[..., None]
        if self.use_scale_shift_norm:
            out_norm, out_rest = self.out_layers[0], self.out_layers[1:]
            scale, shift = th.chunk(emb_out, 2, dim=1)
            h = out_norm(h) * (1 + scale) + shift
            h = out_rest(h)
        else:
            h = h + emb_out
            h = self.out_layers(h)
        return self.skip_connection(x) + h


FLOPS = [0]


class QKVAttentionLegacy(nn.Module):
    def __init__(self, n_heads):
        super().__init__()
        self.n_heads = n_heads

    def forward(self, qkv):
        bs, width, length = qkv.shape
        ch = width // (3 * self.n_heads)
        q, k, v = qkv.reshape(bs * self.n_heads, ch * 3, length).split(ch, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        weight = th.einsum("bct,bcs->bts", q * scale, k * scale)
        weight = th.softmax(weight.float(), dim=-1).type(weight.dtype)
        a = th.einsum("bts,bcs->bct", weight, v)
        FLOPS[0] += 4 * bs * self.n_heads * ch * length * length
        return a.reshape(bs, -1, length)


class QKVAttention(nn.Module):
    def __init__(self, n_heads):
        super().__init__()
        self.n_heads = n_heads

    def forward(self, qkv):
        bs, width, length = qkv.shape
        ch = width // (3 * self.n_heads)
        q, k, v = qkv.chunk(3, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        weight = th.einsum("bct,bcs->bts", (q * scale).view(bs * self.n_heads, ch, length),
                           (k * scale).view(bs * self.n_heads, ch, length))
        weight = th.softmax(weight.float(), dim=-1).type(weight.dtype)
        a = th.einsum("bts,bcs->bct", weight, v.reshape(bs * self.n_heads, ch, length))
        FLOPS[0] += 4 * bs * self.n_heads * ch * length * length
        return a.reshape(bs, -1, length)


class AttentionBlock(nn.Module):
    def __init__(self, channels, num_heads=1, num_head_channels=-1, use_new_attention_order=False):
        super().__init__()
        self.num_heads = num_heads if num_head_channels == -1 else channels // num_head_channels
        self.norm = normalization(channels)
        self.qkv = nn.Conv1d(channels, channels * 3, 1)
        self.attention = QKVAttention(self.num_heads) if use_new_attention_order else QKVAttentionLegacy(self.num_heads)
        self.proj_out = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        b, c, *spatial = x.shape
        x = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(x))
        h = self.proj_out(self.attention(qkv))
        return (x + h).reshape(b, c, *spatial)


class UNetModel(nn.Module):
    def __init__(self, image_size, in_channels, model_channels, out_channels, num_res_blocks, attention_resolutions,
                 channel_mult, conv_resample=True, num_classes=None, num_heads=1, num_head_channels=-1,
                 num_heads_upsample=-1, use_scale_shift_norm=False, resblock_updown=False, use_new_attention_order=False):
        super().__init__()
        if num_heads_upsample == -1:
            num_heads_upsample = num_heads
        self.model_channels = model_channels
        self.num_classes = num_classes
        ted = model_channels * 4
        self.time_embed = nn.Sequential(nn.Linear(model_channels, ted), nn.SiLU(), nn.Linear(ted, ted))
        if num_classes is not None:
            self.label_emb = nn.Embedding(num_classes, ted)
        ch = input_ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList([TimestepEmbedSequential(nn.Conv2d(in_channels, ch, 3, padding=1))])
        input_block_chans = [ch]
        ds = 1
        attn = dict(num_head_channels=num_head_channels, use_new_attention_order=use_new_attention_order)
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [ResBlock(ch, ted, int(mult * model_channels), use_scale_shift_norm)]
                ch = int(mult * model_channels)
                if ds in attention_resolutions:
                    layers.append(AttentionBlock(ch, num_heads=num_heads, **attn))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                input_block_chans.append(ch)
            if level != len(channel_mult) - 1:
                out_ch = ch
                self.input_blocks.append(TimestepEmbedSequential(
                    ResBlock(ch, ted, out_ch, use_scale_shift_norm, down=True) if resblock_updown
                    else Downsample(ch, conv_resample, out_ch)))
                ch = out_ch
                input_block_chans.append(ch)
                ds *= 2
        self.middle_block = TimestepEmbedSequential(
            ResBlock(ch, ted, None, use_scale_shift_norm), AttentionBlock(ch, num_heads=num_heads, **attn),
            ResBlock(ch, ted, None, use_scale_shift_norm))
        self.output_blocks = nn.ModuleList([])
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for i in range(num_res_blocks + 1):
                ich = input_block_chans.pop()
                layers = [ResBlock(ch + ich, ted, int(model_channels * mult), use_scale_shift_norm)]
                ch = int(model_channels * mult)
                if ds in attention_resolutions:
                    layers.append(AttentionBlock(ch, num_heads=num_heads_upsample, **attn))
                if level and i == num_res_blocks:
                    out_ch = ch
                    layers.append(ResBlock(ch, ted, out_ch, use_scale_shift_norm, up=True) if resblock_updown
                                  else Upsample(ch, conv_resample, out_ch))
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))
        self.out = nn.Sequential(normalization(ch), nn.SiLU(), nn.Conv2d(input_ch, out_channels, 3, padding=1))

    def forward(self, x, timesteps, y=None):
        hs = []
        emb = self.time_embed(timestep_embedding(timesteps, self.model_channels))
        if self.num_classes is not None:
            emb = emb + self.label_emb(y)
        h = x
        for module in self.input_blocks:
            h = module(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for module in self.output_blocks:
            h = th.cat([h, hs.pop()], dim=1)
            h = module(h, emb)
        return self.out(h)


def create(preset):
    p = PRESETS[preset]
    size = p["image_size"]
    mult = {512: (0.5, 1, 1, 2, 2, 4, 4), 256: (1, 1, 2, 2, 4, 4), 128: (1, 1, 2, 3, 4), 64: (1, 2, 3, 4)}[size]
    attention_ds = [size // int(r) for r in p["attention_resolutions"].split(",")]
    return UNetModel(size, 3, p["num_channels"], 6 if p["learn_sigma"] else 3, p["num_res_blocks"], tuple(attention_ds),
                     mult, num_classes=1000 if p["class_cond"] else None, num_heads=p["num_heads"],
                     num_head_channels=p["num_head_channels"], use_scale_shift_norm=p["use_scale_shift_norm"],
                     resblock_updown=p["resblock_updown"], use_new_attention_order=p["use_new_attention_order"])


def count_flops(model, x, t, y):
    """2 x multiply-adds of every conv / linear (+ the attention products)."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, (nn.Conv2d, nn.Conv1d)):
            k = 1
            for s in mod.kernel_size:
                k *= s
            total[0] += 2 * out.numel() * mod.in_channels * k
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Conv1d, nn.Linear))]
    FLOPS[0] = 0
    with th.no_grad():
        model(x, t, y)
    for h in hs:
        h.remove()
    return total[0] + FLOPS[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("preset", nargs="?", default="64x64", choices=sorted(PRESETS))
    ap.add_argument("--batch", default="1")
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="default: all CPUs (os.cpu_count())")
    a = ap.parse_args()
    # torch's OpenMP may start with 1 thread here; use every CPU unless told otherwise
    th.set_num_threads(a.threads or os.cpu_count() or 1)
    th.manual_seed(0)
    model = create(a.preset).eval()
    size = PRESETS[a.preset]["image_size"]
    for B in [int(b) for b in a.batch.split(",")]:
        x = th.randn(B, 3, size, size)
        t = th.randint(0, 1000, (B,))
        y = th.randint(0, 1000, (B,))
        flops = count_flops(model, x, t, y)
        with th.no_grad():
            t0 = time.time()
            model(x, t, y)
            first = time.time() - t0
            t0, c0 = time.time(), time.process_time()
            for _ in range(a.iters):
                model(x, t, y)
            ms = (time.time() - t0) * 1e3 / a.iters
            cpu_ms = (time.process_time() - c0) * 1e3 / a.iters   # all threads: fairer on a shared machine
        print(f"torch {th.__version__} {a.preset} batch {B}: {ms:.1f} ms/forward (first {first * 1e3:.1f} ms), "
              f"{flops / (ms * 1e-3) / 1e9:.1f} GFLOP/s ({flops / 1e9:.2f} GFLOP), process CPU {cpu_ms:.1f} ms/forward, "
              f"{th.get_num_threads()} threads")
        print(json.dumps({"bench": "torch_unet", "model": a.preset, "batch": B, "iters": a.iters,
                          "ms_per_forward": round(ms, 2), "cpu_ms_per_forward": round(cpu_ms, 1), "gflop": round(flops / 1e9, 3),
                          "gflops": round(flops / (ms * 1e-3) / 1e9, 2), "threads": th.get_num_threads()}))


if __name__ == "__main__":
    main()
