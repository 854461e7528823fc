#!/usr/bin/python3
"""PyTorch side of bench/zoo.ts: the same zoo model (the referee's interpreter, test/reference/zoo/make_zoo_fixtures.py)
at float32 on the CPU, the same inputs, the same computations as the analyser:

  light:  two batch-mean top-5 spectra of 64 probes, 20 Lanczos steps of double-backprop HVPs (the usual method)
  full:   two batch-mean top-5 spectra of 128 probes (Lanczos to tol 1e-4, at most 60 steps) + the per-sample top
          eigenvalue of the 128 probes (batched power iteration, 20 steps)
  blind:  the per-sample top eigenvalue of every input (4096), in chunks of 256 (power iteration, 20 steps)

Usage: zoo_torch.py <modelDir> <inputs.bin> <labels.bin> <threads>. Prints one JSON object (wall ms).
"""
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'reference', 'zoo'))
import make_zoo_fixtures as ref  # noqa: E402
from curvature_torch import lanczos  # noqa: E402

torch.set_default_dtype(torch.float32)


def main():
    folder, inputs, labels_file, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(threads)
    with open(os.path.join(folder, 'meta.json')) as f:
        meta = json.load(f)
    model = ref.ZooModel(folder)
    model.w = {k: v.float() for k, v in model.w.items()}
    model.item_shape = meta['itemShape']
    d = int(np.prod(meta['itemShape']))
    X = torch.from_numpy(np.fromfile(inputs, dtype='<f4').reshape(-1, d).copy())
    Y = torch.from_numpy(np.fromfile(labels_file, dtype='<i4').astype(np.int64))

    def loss_sum(xx, yy):
        return -torch.log_softmax(model.logits(xx), dim=1).gather(1, yy[:, None]).sum()

    def mean_op(x, y):
        n = x.shape[0]

        def mv(v64):
            v = torch.from_numpy(v64.astype(np.float32)).expand(n, d)
            xx = x.clone().requires_grad_(True)
            g = torch.autograd.grad(loss_sum(xx, y), xx, create_graph=True)[0]
            return torch.autograd.grad((g * v).sum(), xx)[0].sum(0).double().numpy() / n
        return mv

    def per_sample_power(x, y, iters=20):
        n = x.shape[0]
        v = torch.randn(n, d)
        v = v / v.norm(dim=1, keepdim=True)
        lam = None
        for _ in range(iters):
            xx = x.clone().requires_grad_(True)
            g = torch.autograd.grad(loss_sum(xx, y), xx, create_graph=True)[0]
            hv = torch.autograd.grad((g * v).sum(), xx)[0]
            lam = (hv * v).sum(1)
            v = hv / hv.norm(dim=1, keepdim=True).clamp_min(1e-30)
        return lam

    def timed(fn):
        t0 = time.perf_counter()
        out = fn()
        return (time.perf_counter() - t0) * 1000, out

    lanczos(mean_op(X[:16], Y[:16]), d, 5, 6, 1e-4)  # warm-up
    light_ms, light = timed(lambda: [lanczos(mean_op(X[s:s + 64], Y[s:s + 64]), d, 5, 20, 1e-12) for s in (0, 64)])

    def full():
        a = [lanczos(mean_op(X[s:s + 128], Y[s:s + 128]), d, 5, 60, 1e-4) for s in (0, 128)]
        return a, per_sample_power(X[:128], Y[:128])
    full_ms, _ = timed(full)
    blind_ms, _ = timed(lambda: [per_sample_power(X[s:s + 256], Y[s:s + 256]) for s in range(0, X.shape[0], 256)])
    print(json.dumps({'threads': torch.get_num_threads(), 'lightMs': light_ms, 'fullMs': full_ms, 'blindMs': blind_ms,
                      'lightTop5': light[0][0].tolist(), 'samples': int(X.shape[0])}))


if __name__ == '__main__':
    main()
