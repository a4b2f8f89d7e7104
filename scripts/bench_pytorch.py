#!/usr/bin/env python3
"""The PSE* training step of `pse-trainer bench`, in PyTorch, for a side-by-side timing.

Same model (paper appendix A: encoder 784-512-64 with Gaussian heads, one-hot label
encoder, decoder d-64-512-784, PSE* classifier 784-512-64-10 on the reconstruction), same
loss (BCE + KL(q(z|x) || q(z|l)) + CE), Adam at 1e-3, batch 100 of random images, and the
same protocol (warm-up steps, then timed steps). Prints one JSON object per line.

Usage: bench_pytorch.py --threads N [--latent 20] [--batch 100] [--steps 500] [--warmup 20]
"""
import argparse
import json
import time

import torch
from torch import nn
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    d, b = a.latent, a.batch
    enc = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 64), nn.ReLU())
    enc_mu, enc_lv = nn.Linear(64, d), nn.Linear(64, d)
    lab_mu, lab_lv = nn.Linear(10, d), nn.Linear(10, d)
    dec = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 784))
    cla = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))
    mods = [enc, enc_mu, enc_lv, lab_mu, lab_lv, dec, cla]
    params = [p for m in mods for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.rand(b, 784)
    y = torch.arange(b) % 10
    onehot = F.one_hot(y, 10).float()

    def step():
        h = enc(x)
        mu, lv = enc_mu(h), enc_lv(h)
        mu_l, lv_l = lab_mu(onehot), lab_lv(onehot)
        z = mu + torch.exp(0.5 * lv) * torch.randn(b, d)
        logits = dec(z)
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / b
        kl = 0.5 * (lv_l - lv + (lv.exp() + (mu - mu_l) ** 2) / lv_l.exp() - 1).sum() / b
        ce = F.cross_entropy(cla(torch.sigmoid(logits)), y)
        loss = bce + kl + ce
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    secs = time.perf_counter() - t0
    print(json.dumps({
        "torch": torch.__version__,
        "threads": a.threads,
        "latent": d,
        "batch": b,
        "steps": a.steps,
        "steps_per_second": a.steps / secs,
        "paper_recipe_seconds": 2000 * secs / a.steps,
    }))


if __name__ == "__main__":
    main()
