#!/usr/bin/python3
"""PyTorch side of bench/curvature.ts (the peer, run with Debian's python3-torch, CPU, 1 thread).

Same tfjs weights (rebuilt by test/reference/make_fixtures.py's TfjsModel), same 64 MNIST test
images, float32 like tfjs. Two methods for the batch-mean input-curvature top-5 eigenpairs:

  usual:      double-backprop HVP + Lanczos with full reorthogonalisation (float64 basis), the
              PyHessian approach; same stopping rule as ours (Ritz residual <= tol*|lambda|,
              checked every 5 steps).
  structured: J_i from C vector-Jacobian products in one replicated backward pass, then Lanczos
              whose matvecs are two small matmuls (float64), exactly as src/analyser/curvature.

Prints one JSON object on stdout.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'reference'))
import make_fixtures as mf  # noqa: E402

torch.set_num_threads(1)


def lanczos(matvec, n, k, max_iter, tol, seed=3, check_every=5):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    Q, alpha, beta = [], [], []
    result = None
    matvecs = 0
    for j in range(max_iter):
        Q.append(q)
        w = matvec(q)
        matvecs += 1
        a = float(q @ w)
        alpha.append(a)
        Qm = np.array(Q)
        for _ in range(2):
            w = w - Qm.T @ (Qm @ w)
        b = float(np.linalg.norm(w))
        beta.append(b)
        m = len(alpha)
        if j == max_iter - 1 or (m >= k and m % check_every == 0):
            T = np.diag(alpha) + np.diag(beta[:m - 1], 1) + np.diag(beta[:m - 1], -1)
            vals, vecs = np.linalg.eigh(T)
            order = np.argsort(vals)[::-1][:k]
            res = np.abs(b * vecs[m - 1, order])
            result = (vals[order], Qm.T @ vecs[:, order], res)
            if len(order) == k and np.all(res <= tol * np.abs(vals[order])):
                break
        q = w / b
    vals, vecs, res = result
    return vals, vecs, res, len(alpha), matvecs


def timed(fn, repeats):
    """Median process CPU ms (user+sys, as the TS side measures) and median wall ms."""
    cpu, wall = [], []
    out = None
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(cpu), statistics.median(wall), out


def main():
    model_dir = sys.argv[1]
    n = int(sys.argv[2])
    tol = float(sys.argv[3])
    max_iter = int(sys.argv[4])
    model = mf.TfjsModel(model_dir)
    # float32 copies of the weights: the peer runs in its usual precision, like tfjs.
    model.layers = [tuple(t.float() if isinstance(t, torch.Tensor) else t for t in layer) for layer in model.layers]
    pixels, labels = mf.read_mnist('t10k', 0, n)
    x = torch.from_numpy(pixels.astype(np.float32) / np.float32(255))
    y = torch.from_numpy(labels)
    d = x.shape[1]

    def loss_sum(xx):
        return -torch.log_softmax(model.logits(xx), dim=1).gather(1, y[:, None]).sum()

    def hvp_mean(v64):
        v = torch.from_numpy(v64.astype(np.float32)).expand(n, d)
        xx = x.clone().requires_grad_(True)
        g = torch.autograd.grad(loss_sum(xx), xx, create_graph=True)[0]
        hv = torch.autograd.grad((g * v).sum(), xx)[0]
        return hv.sum(0).double().numpy() / n

    probe = np.sin(0.5 + 0.37 * np.arange(d))
    for _ in range(3):
        hvp_mean(probe)
    hvp_ms, hvp_wall, _ = timed(lambda: hvp_mean(probe), 9)

    usual_ms, usual_wall, usual = timed(lambda: lanczos(hvp_mean, d, 5, max_iter, tol), 7)

    def structured():
        C = 10
        xr = x.repeat(C, 1).requires_grad_(True)
        z = model.logits(xr)
        sel = torch.nn.functional.one_hot(torch.arange(C).repeat_interleave(n), C).float()
        J = torch.autograd.grad((z * sel).sum(), xr)[0].reshape(C, n, d).transpose(0, 1).double()
        with torch.no_grad():
            p = torch.softmax(model.logits(x), dim=1).double()
        Jbar = torch.einsum('ic,icd->id', p, J)
        F = (p.sqrt()[:, :, None] * (J - Jbar[:, None, :])).reshape(n * C, d).numpy()

        def mv(v):
            return F.T @ (F @ v) / n

        return lanczos(mv, d, 5, max_iter, tol)

    structured()
    struct_ms, struct_wall, struct = timed(structured, 7)
    print(json.dumps({
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'hvpMs': hvp_ms,
        'hvpWallMs': hvp_wall,
        'usual': {'ms': usual_ms, 'wallMs': usual_wall, 'eigenvalues': usual[0].tolist(), 'iterations': usual[3], 'matvecs': usual[4],
                  'residuals': usual[2].tolist(), 'eigenvectors': usual[1].T.tolist()},
        'structured': {'ms': struct_ms, 'wallMs': struct_wall, 'eigenvalues': struct[0].tolist(), 'iterations': struct[3]},
    }))


if __name__ == '__main__':
    main()
