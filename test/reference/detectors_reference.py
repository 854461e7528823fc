"""Reference values for the baseline detectors (src/analyser/detectors), computed independently with numpy
(float64): Spectral Signatures' squared projections on the top right singular vector of each label's centred
representations, PCA projections + the silhouette of a given two-cluster split, prediction entropies, per-row
cross-entropy and the Mann-Whitney AUROC. Writes test/fixtures/detectors/reference.json.

Run: /usr/bin/python3 test/reference/detectors_reference.py
"""
import json
import os

import numpy as np

rng = np.random.default_rng(14)
out = {}

# Spectral Signatures: two labels, 40 and 30 rows of dimension 6, label 1 with a planted shifted group of 5.
n0, n1, d = 40, 30, 6
reps = rng.normal(size=(n0 + n1, d)) * np.array([3.0, 2.0, 1.5, 1.0, 0.7, 0.5])
reps[n0:n0 + 5] += np.array([0, 0, 0, 0, 6.0, 6.0])
labels = np.array([0] * n0 + [1] * n1)
scores = np.zeros(n0 + n1)
gaps = {}
for c in (0, 1):
    idx = np.where(labels == c)[0]
    r = reps[idx] - reps[idx].mean(axis=0)
    _, s, vt = np.linalg.svd(r, full_matrices=False)
    scores[idx] = (r @ vt[0]) ** 2
    gaps[c] = float(s[0] ** 2 / s[1] ** 2)
out["spectral"] = {"reps": reps.ravel().tolist(), "labels": labels.tolist(), "n": n0 + n1, "d": d, "scores": scores.tolist(), "gaps": [gaps[0], gaps[1]]}

# PCA + silhouette: 50 points in 8 dims, two clusters (sizes 40 and 10), reduced to 3 dims.
m, d2, k = 50, 8, 3
x = rng.normal(size=(m, d2))
x[:10] += 5.0
c = x - x.mean(axis=0)
_, _, vt = np.linalg.svd(c, full_matrices=False)
z = c @ vt[:k].T
assign = np.array([1] * 10 + [0] * 40)
def silhouette(z, a):
    dist = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    s = []
    for i in range(len(z)):
        own = a == a[i]
        own[i] = False
        ai = dist[i, own].mean()
        bi = dist[i, a != a[i]].mean()
        s.append((bi - ai) / max(ai, bi))
    return float(np.mean(s))
out["cluster"] = {"x": x.ravel().tolist(), "m": m, "d": d2, "k": k, "abs_z": np.abs(z).ravel().tolist(), "assign": assign.tolist(), "silhouette": silhouette(z, assign)}

# Entropy and cross-entropy of softmax rows.
logits = rng.normal(size=(6, 4)) * 2
p = np.exp(logits - logits.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
lab = np.array([0, 1, 2, 3, 0, 1])
out["probs"] = {"p": p.ravel().tolist(), "n": 6, "classes": 4, "labels": lab.tolist(), "entropy": (-(p * np.log(p)).sum(1)).tolist(), "ce": (-np.log(p[np.arange(6), lab])).tolist()}

# AUROC by the rank-sum formula with average ranks for ties.
s = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.2, 0.9, 0.4])
t = np.array([0, 1, 0, 1, 0, 0, 1, 1], dtype=bool)
order = np.argsort(s, kind="mergesort")
ranks = np.empty(len(s))
sorted_s = s[order]
i = 0
while i < len(s):
    j = i
    while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
        j += 1
    ranks[order[i:j + 1]] = (i + j) / 2 + 1
    i = j + 1
npos, nneg = t.sum(), (~t).sum()
out["auroc"] = {"scores": s.tolist(), "truth": t.tolist(), "auroc": float((ranks[t].sum() - npos * (npos + 1) / 2) / (npos * nneg))}

path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "detectors", "reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
