#!/usr/bin/python3
"""Float64 referee for the model zoo.

Loads every tfjs layers model saved by test/reference/zoo/makeZoo.ts under test/fixtures/zoo/<name>/,
rebuilds it in PyTorch float64 with identical weights (a small interpreter of the tfjs layer configs,
sequential or functional, NHWC like tfjs), and for the 8 stored probes (probes.bin, float32) writes
test/fixtures/zoo/<name>/reference.json:

  loss, perSampleLoss                 cross-entropy of the logits (softmax head removed; one sigmoid unit
                                      read as two-class logits [0, s])
  hvp                                 per-sample H_i v_i along fixed directions v_i
  perSampleTopEigenvalues             top eigenvalue of each full per-sample input Hessian (eigvalsh)
  meanTop5                            top-5 eigenvalues of (1/8) sum_i H_i (eigh), and the top eigenvector
  gnMeanTop5Eigenvalues               same for the Gauss-Newton J^T (diag p - pp^T) J
  gnVsHessianRelErr                   ||G - H|| / ||H|| over all samples (0 up to rounding for piecewise-linear nets)

Run: /usr/bin/python3 test/reference/zoo/make_zoo_fixtures.py [name ...]   (~1-3 minutes)
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
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
ZOO = os.path.join(ROOT, 'test', 'fixtures', 'zoo')

torch.set_default_dtype(torch.float64)

PWL_ACTS = {'linear', 'relu', 'relu6'}


def act(h, a):
    if a in (None, 'linear'):
        return h
    if a == 'relu':
        return torch.relu(h)
    if a == 'relu6':
        return torch.clamp(h, 0, 6)
    if a == 'elu':
        return F.elu(h)
    if a == 'selu':
        return 1.0507009873554804934193349852946 * torch.where(h > 0, h, 1.6732632423543772848170429916717 * (torch.exp(h) - 1))
    if a == 'sigmoid':
        return torch.sigmoid(h)
    if a == 'tanh':
        return torch.tanh(h)
    if a == 'softplus':
        return F.softplus(h)
    if a == 'swish':
        return h * torch.sigmoid(h)
    if a == 'gelu':
        return 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
    raise ValueError(f'activation {a}')


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_nchw(x, k, s, padding, value=0.0):
    """tfjs padding: 'same' pads (out - 1) * s + k - size in total, the smaller half first; k is the effective
    (dilated) kernel size (k - 1) * d + 1."""
    if padding == 'valid':
        return x
    t, b = same_pads(x.shape[2], k[0], s[0])
    l, r = same_pads(x.shape[3], k[1], s[1])
    return F.pad(x, (l, r, t, b), value=value)


def conv(h, W, b, strides, padding, groups=1, dilation=1):
    """h NHWC; W already OIHW; dilation as in tfjs (stride 1 then)."""
    x = h.permute(0, 3, 1, 2)
    d = pair(dilation)
    k = ((W.shape[2] - 1) * d[0] + 1, (W.shape[3] - 1) * d[1] + 1)
    s = pair(strides)
    y = F.conv2d(pad_nchw(x, k, s, padding), W, b, stride=s, groups=groups, dilation=d)
    return y.permute(0, 2, 3, 1)


def conv1d(h, K, b, stride, padding, dilation):
    """h [b, T, C] (NWC); K the tfjs kernel [k, cin, cout]: conv1d as a conv2d over a height-1 image, as tfjs does."""
    y = conv(h[:, None, :, :], K.permute(2, 1, 0)[:, :, None, :], b, (1, stride), padding, dilation=(1, dilation))
    return y[:, 0, :, :]


def first(v):
    return v[0] if isinstance(v, list) else v


def depthwise_weight(K):
    """tfjs depthwise kernel [kh, kw, c, M] -> torch [c*M, 1, kh, kw] (output channel k*M + m)."""
    kh, kw, c, m = K.shape
    return K.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)


class ZooModel:
    def __init__(self, folder):
        with open(os.path.join(folder, 'model.json')) as f:
            spec = json.load(f)
        topo = spec['modelTopology']
        cfg = topo['model_config'] if 'model_config' in topo else topo
        self.functional = cfg['class_name'] != 'Sequential'
        self.layers = cfg['config']['layers']
        manifest = spec['weightsManifest'][0]
        with open(os.path.join(folder, manifest['paths'][0]), 'rb') as f:
            buf = f.read()
        self.w = {}
        offset = 0
        for w in manifest['weights']:
            size = int(np.prod(w['shape'])) if w['shape'] else 1
            arr = np.frombuffer(buf, dtype='<f4', count=size, offset=offset).reshape(w['shape'])
            self.w[w['name']] = torch.from_numpy(arr.astype(np.float64))
            offset += 4 * size
        assert offset == len(buf)
        if self.functional:
            self.output_name = cfg['config']['output_layers'][0][0]
            self.input_name = cfg['config']['input_layers'][0][0]
        self.piecewise_linear = True
        for layer in self.layers:
            c = layer['config']
            a = c.get('activation')
            last = layer is self.layers[-1]
            if a is not None and a not in PWL_ACTS and not (last and a in ('softmax', 'sigmoid')):
                self.piecewise_linear = False
            if layer['class_name'] in ('BatchNormalization',):
                pass
            if layer['class_name'] in ('LeakyReLU',):
                pass
            if layer['class_name'] in ('LayerNormalization', 'Multiply'):
                self.piecewise_linear = False
            if layer['class_name'] == 'Activation' and a not in PWL_ACTS and not (last and a in ('softmax', 'sigmoid')):
                self.piecewise_linear = False

    def W(self, name, key):
        return self.w[f'{name}/{key}']

    def apply_layer(self, layer, inputs, head):
        """Returns the layer's output; for the head, its pre-activation (the logits)."""
        cls = layer['class_name']
        c = layer['config']
        name = c['name']
        h = inputs[0]
        a = c.get('activation')
        if head and a in ('softmax', 'sigmoid'):
            a = 'linear'
        if cls == 'Conv2D':
            b = self.W(name, 'bias') if c['use_bias'] else None
            return act(conv(h, self.W(name, 'kernel').permute(3, 2, 0, 1), b, c['strides'], c['padding'], dilation=c['dilation_rate']), a)
        if cls == 'Conv1D':
            b = self.W(name, 'bias') if c['use_bias'] else None
            return act(conv1d(h, self.W(name, 'kernel'), b, first(c['strides']), c['padding'], first(c['dilation_rate'])), a)
        if cls == 'DepthwiseConv2D':
            # tfjs-layers ignores a DepthwiseConv2D's dilation rate (the analyser refuses it).
            assert tuple(pair(c['dilation_rate'])) == (1, 1)
            b = self.W(name, 'bias') if c['use_bias'] else None
            K = self.W(name, 'depthwise_kernel')
            return act(conv(h, depthwise_weight(K), b, c['strides'], c['padding'], groups=K.shape[2]), a)
        if cls == 'SeparableConv2D':
            K = self.W(name, 'depthwise_kernel')
            d = conv(h, depthwise_weight(K), None, c['strides'], c['padding'], groups=K.shape[2], dilation=c['dilation_rate'])
            b = self.W(name, 'bias') if c['use_bias'] else None
            return act(conv(d, self.W(name, 'pointwise_kernel').permute(3, 2, 0, 1), b, 1, 'valid'), a)
        if cls == 'Dense':
            if h.dim() > 2:
                h = h.reshape(h.shape[0], -1)
            y = h @ self.W(name, 'kernel')
            if c['use_bias']:
                y = y + self.W(name, 'bias')
            return act(y, a)
        if cls == 'MaxPooling2D':
            k, s = pair(c['pool_size']), pair(c['strides'] or c['pool_size'])
            x = pad_nchw(h.permute(0, 3, 1, 2), k, s, c['padding'], value=-math.inf)
            return F.max_pool2d(x, k, s).permute(0, 2, 3, 1)
        if cls == 'AveragePooling2D':
            k, s = pair(c['pool_size']), pair(c['strides'] or c['pool_size'])
            x = pad_nchw(h.permute(0, 3, 1, 2), k, s, c['padding'])
            ones = pad_nchw(torch.ones_like(h[:1, :, :, :1]).permute(0, 3, 1, 2), k, s, c['padding'])
            return (F.avg_pool2d(x, k, s) / F.avg_pool2d(ones, k, s)).permute(0, 2, 3, 1)
        if cls == 'GlobalAveragePooling2D':
            return h.mean(dim=(1, 2))
        if cls == 'GlobalMaxPooling2D':
            return h.amax(dim=(1, 2))
        if cls == 'GlobalMaxPooling1D':
            return h.amax(dim=1)
        if cls == 'LayerNormalization':
            # tfjs: moments over the axes (population variance), (x - mean) / sqrt(var + eps) * gamma + beta.
            axes = c['axis'] if isinstance(c['axis'], list) else [c['axis']]
            axes = [ax % h.dim() for ax in axes]
            mean = h.mean(dim=axes, keepdim=True)
            var = ((h - mean) ** 2).mean(dim=axes, keepdim=True)
            y = (h - mean) / torch.sqrt(var + c['epsilon'])
            shape = [h.shape[ax] if ax in axes else 1 for ax in range(h.dim())]
            if c['scale']:
                y = y * self.W(name, 'gamma').reshape(shape)
            if c['center']:
                y = y + self.W(name, 'beta').reshape(shape)
            return y
        if cls == 'Permute':
            return h.permute(0, *c['dims'])
        if cls == 'ZeroPadding2D':
            (t, b), (l, r) = c['padding']
            return F.pad(h, (0, 0, l, r, t, b))
        if cls == 'Cropping2D':
            (t, b), (l, r) = c['cropping']
            return h[:, t:h.shape[1] - b, l:h.shape[2] - r, :]
        if cls == 'Multiply':
            out = inputs[0]
            for t in inputs[1:]:
                out = out * t
            return out
        if cls == 'BatchNormalization':
            assert c['axis'] in (-1, 3), c['axis']
            y = (h - self.W(name, 'moving_mean')) / torch.sqrt(self.W(name, 'moving_variance') + c['epsilon'])
            if c['scale']:
                y = y * self.W(name, 'gamma')
            if c['center']:
                y = y + self.W(name, 'beta')
            return y
        if cls == 'Flatten':
            return h.reshape(h.shape[0], -1)
        if cls in ('Dropout', 'GaussianNoise', 'GaussianDropout', 'SpatialDropout2D', 'InputLayer'):
            return h
        if cls == 'Activation':
            return act(h, a)
        if cls == 'Softmax':
            assert head
            return h
        if cls == 'ReLU':
            assert c.get('max_value') is None
            return torch.relu(h)
        if cls == 'LeakyReLU':
            return torch.where(h > 0, h, c['alpha'] * h)
        if cls == 'Add':
            out = inputs[0]
            for t in inputs[1:]:
                out = out + t
            return out
        if cls == 'Concatenate':
            return torch.cat(inputs, dim=-1)
        raise ValueError(f'layer {name} ({cls}) not supported by the referee')

    def logits(self, x):
        """x: [b, d] flat float64 -> logits [b, C]."""
        item = self.item_shape
        h = x.reshape(x.shape[0], *item)
        last = self.layers[-1]
        sigmoid_head = last['config'].get('activation') == 'sigmoid'
        if not self.functional:
            for layer in self.layers:
                h = self.apply_layer(layer, [h], layer is last)
            z = h
        else:
            values = {}
            for layer in self.layers:
                name = layer['config']['name']
                if layer['class_name'] == 'InputLayer':
                    values[name] = h
                    continue
                ins = [values[n[0]] for n in layer['inbound_nodes'][0]]
                values[name] = self.apply_layer(layer, ins, name == self.output_name)
            z = values[self.output_name]
        if sigmoid_head:
            z = torch.cat([torch.zeros_like(z), z], dim=1)
        return z


def per_sample_loss(model, x, y):
    return -F.log_softmax(model.logits(x), dim=1).gather(1, y[:, None])[:, 0]


def direction_matrix(rows, cols, phase):
    k = np.arange(rows * cols, dtype=np.float64)
    return np.sin(phase + 0.37 * k).astype(np.float32).astype(np.float64).reshape(rows, cols)


def full_hessians(model, x, y):
    n, d = x.shape
    xr = x.clone().requires_grad_(True)
    g = torch.autograd.grad(per_sample_loss(model, xr, y).sum(), xr, create_graph=True)[0]
    H = torch.zeros(n, d, d)
    chunk = 64
    for j0 in range(0, d, chunk):
        m = min(chunk, d - j0)
        E = torch.zeros(m, n, d)
        E[torch.arange(m), :, j0 + torch.arange(m)] = 1.0
        try:
            cols = torch.autograd.grad(g, xr, grad_outputs=E, is_grads_batched=True, retain_graph=True)[0]
        except RuntimeError:
            cols = torch.stack([torch.autograd.grad(g, xr, grad_outputs=E[k], retain_graph=True)[0] for k in range(m)])
        H[:, :, j0:j0 + m] = cols.permute(1, 2, 0)
    return 0.5 * (H + H.transpose(1, 2))


def gauss_newton(model, x):
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


LARGE_D = int(os.environ.get('ZOO_LARGE_D', '1000'))


def hvp(model, x, y, v):
    xr = x.clone().requires_grad_(True)
    g = torch.autograd.grad(per_sample_loss(model, xr, y).sum(), xr, create_graph=True)[0]
    return torch.autograd.grad((g * v).sum(), xr)[0]


def gn_matvec(model, x, v):
    """Per-sample G_i v_i = J^T (diag p - pp^T) J v by a forward-over-reverse JVP (double-vjp trick)."""
    xr = x.clone().requires_grad_(True)
    z = model.logits(xr)
    u = torch.zeros_like(z, requires_grad=True)
    jt_u = torch.autograd.grad(z, xr, grad_outputs=u, create_graph=True)[0]
    jv = torch.autograd.grad(jt_u, u, grad_outputs=v)[0]
    p = torch.softmax(z.detach(), dim=1)
    mjv = p * jv - p * (p * jv).sum(1, keepdim=True)
    return torch.autograd.grad(z, xr, grad_outputs=mjv)[0]


def lanczos64(matvec, d, k=5, max_iter=400, tol=1e-12):
    q = torch.ones(d) / math.sqrt(d)
    Q, alpha, beta = [], [], []
    for j in range(max_iter):
        Q.append(q)
        w = matvec(q)
        alpha.append(float(q @ w))
        Qm = torch.stack(Q)
        for _ in range(2):
            w = w - Qm.T @ (Qm @ w)
        b = float(torch.linalg.norm(w))
        beta.append(b)
        m = len(alpha)
        if m >= k + 5 and m % 5 == 0:
            T = torch.diag(torch.tensor(alpha)) + torch.diag(torch.tensor(beta[:m - 1]), 1) + torch.diag(torch.tensor(beta[:m - 1]), -1)
            vals, vecs = torch.linalg.eigh(T)
            order = torch.argsort(vals, descending=True)[:k]
            res = (b * vecs[m - 1, order]).abs()
            if bool(torch.all(res <= tol * vals[order].abs())):
                return vals[order], Qm.T @ vecs[:, order[0]]
        q = w / b
    raise RuntimeError(f'Lanczos did not converge in {max_iter} steps')


def fmt(a):
    return [float(f'{v:.12g}') for v in np.asarray(a, dtype=np.float64).ravel()]


def main(names):
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in names or sorted(os.listdir(ZOO)):
        folder = os.path.join(ZOO, name)
        if not os.path.exists(os.path.join(folder, 'meta.json')):
            continue
        t0 = time.time()
        with open(os.path.join(folder, 'meta.json')) as f:
            meta = json.load(f)
        model = ZooModel(folder)
        model.item_shape = meta['itemShape']
        d = int(np.prod(meta['itemShape']))
        n = meta['probes']
        raw = np.fromfile(os.path.join(folder, 'probes.bin'), dtype='<f4')
        x = torch.from_numpy(raw.astype(np.float64).reshape(n, d))
        y = torch.tensor(meta['labels'], dtype=torch.int64)
        v = torch.from_numpy(direction_matrix(n, d, 0.5))
        losses = per_sample_loss(model, x, y)
        if d <= LARGE_D:
            H = full_hessians(model, x, y)
            hv = torch.einsum('nij,nj->ni', H, v)
            G = gauss_newton(model, x)
            gn_vs_h = float(torch.linalg.norm(G - H) / torch.linalg.norm(H))
            evals, evecs = torch.linalg.eigh(H.mean(0))
            order = torch.argsort(evals, descending=True)
            top5, top = evals[order[:5]], evecs[:, order[0]]
            gn_top5 = torch.sort(torch.linalg.eigvalsh(G.mean(0)), descending=True).values[:5]
            per_sample_top = torch.linalg.eigvalsh(H)[:, -1]
        else:
            # Large inputs (32x32x3): no explicit d x d Hessians. Exact products instead: the top-5 by float64
            # Lanczos with full reorthogonalisation to a Ritz residual of 1e-12 |lambda|, and GN = H checked on
            # random directions (||Gv - Hv|| / ||Hv||).
            hv = hvp(model, x, y, v)
            top5, top = lanczos64(lambda u: hvp(model, x, y, u.expand(n, d)).mean(0), d)
            gn_top5, _ = lanczos64(lambda u: gn_matvec(model, x, u.expand(n, d)).mean(0), d)
            gen = torch.Generator().manual_seed(5)
            errs = []
            for _ in range(3):
                r = torch.randn(n, d, generator=gen)
                h_r = hvp(model, x, y, r)
                errs.append(float(torch.linalg.norm(gn_matvec(model, x, r) - h_r) / torch.linalg.norm(h_r)))
            gn_vs_h = max(errs)
            per_sample_top = None
        if top[torch.argmax(top.abs())] < 0:
            top = -top
        out = {
            'generatedBy': 'test/reference/zoo/make_zoo_fixtures.py (PyTorch %s, float64)' % torch.__version__,
            'model': name,
            'piecewiseLinear': model.piecewise_linear,
            'directions': {'formula': 'float32(sin(phase + 0.37 k)), k = row*d + col', 'phase': 0.5},
            'loss': float(losses.sum()),
            'perSampleLoss': fmt(losses.detach()),
            'hvp': fmt(hv),
            'perSampleTopEigenvalues': None if per_sample_top is None else fmt(per_sample_top),
            'meanTop5': {'eigenvalues': fmt(top5), 'topEigenvector': fmt(top)},
            'gnMeanTop5Eigenvalues': fmt(gn_top5),
            'gnVsHessianRelErr': gn_vs_h,
        }
        with open(os.path.join(folder, 'reference.json'), 'w') as f:
            json.dump(out, f, separators=(',', ':'))
        print(f'{name}: loss {out["loss"]:.6f}, top-5 {[round(e, 6) for e in out["meanTop5"]["eigenvalues"]]}, '
              f'GN vs H {gn_vs_h:.2e} (piecewise linear: {model.piecewise_linear}), {time.time() - t0:.1f} s', flush=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
