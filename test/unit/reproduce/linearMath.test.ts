import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen } from '../../../src/math/linalg';
import { mulberry32 } from '../../../src/math/random';
import {
	type LinearModel,
	alignedEigen,
	cosineSquared,
	predict,
	sandwichQuadratic,
	softmax,
	softmaxCurvature,
	topEigenOfSandwich,
	trainRidge,
	trainSoftmax,
} from '../../../bench/reproduce/linearMath';

function randomModel(k: number, d: number, seed: number): LinearModel {
	const r = mulberry32(seed);
	return { weights: Float64Array.from({ length: k * d }, () => 2 * r() - 1), bias: new Float64Array(k), classes: k, dimension: d };
}

/** The explicit d×d matrix Wᵀ A W: the independent reference for the k-space shortcut. */
function explicitSandwich(m: LinearModel, a: Float64Array): Float64Array {
	const { classes: k, dimension: d, weights: w } = m;
	const h = new Float64Array(d * d);
	for (let i = 0; i < d; i++) {
		for (let j = 0; j < d; j++) {
			let s = 0;
			for (let p = 0; p < k; p++) {
				for (let q = 0; q < k; q++) {
					s += w[p * d + i] * a[p * k + q] * w[q * d + j];
				}
			}
			h[i * d + j] = s;
		}
	}
	return h;
}

describe('linear input Hessians in class space', () => {
	test('softmax Hessian Wᵀ(diag p − ppᵀ)W: top eigenpair equals the explicit d×d eigendecomposition', () => {
		const m = randomModel(4, 9, 3);
		const p = softmax(Float64Array.of(0.3, -1, 2, 0.5));
		const a = softmaxCurvature(p);
		const fast = topEigenOfSandwich(m, a);
		const ref = symmetricEigen({ rows: 9, cols: 9, data: explicitSandwich(m, a) });
		assert.ok(Math.abs(fast.value / ref.eigenvalues[0] - 1) < 1e-10, `${fast.value} vs ${ref.eigenvalues[0]}`);
		assert.ok(Math.abs(fast.second / ref.eigenvalues[1] - 1) < 1e-10);
		const v = Float64Array.from({ length: 9 }, (_, i) => ref.eigenvectors.data[i * 9]);
		assert.ok(Math.abs(cosineSquared(fast.vector, v) - 1) < 1e-10);
		// diag p − ppᵀ has the all-ones null vector, so the rank is at most k − 1 = 3.
		assert.ok(Math.abs(ref.eigenvalues[3]) < 1e-10 * ref.eigenvalues[0]);
		assert.ok(Math.abs(fast.all[3].value) < 1e-10 * ref.eigenvalues[0]);
	});

	test('ridge Hessian WᵀW (A = I) and the quadratic form tᵀHt/‖t‖²', () => {
		const m = randomModel(3, 7, 11);
		const eye = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
		const h = explicitSandwich(m, eye);
		const ref = symmetricEigen({ rows: 7, cols: 7, data: h });
		const fast = topEigenOfSandwich(m, eye);
		assert.ok(Math.abs(fast.value / ref.eigenvalues[0] - 1) < 1e-10);
		const t = Float64Array.of(1, 0, -2, 0, 0.5, 0, 3);
		let tht = 0;
		for (let i = 0; i < 7; i++) {
			for (let j = 0; j < 7; j++) {
				tht += t[i] * h[i * 7 + j] * t[j];
			}
		}
		const tt = t.reduce((s, v) => s + v * v, 0);
		assert.ok(Math.abs(sandwichQuadratic(m, eye, t) / (tht / tt) - 1) < 1e-12);
	});

	test('alignedEigen picks the eigenvector most aligned with a direction, with its rank', () => {
		const m = randomModel(3, 6, 5);
		const eye = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
		const e = topEigenOfSandwich(m, eye);
		const second = e.all[1].vector;
		const a = alignedEigen(e, second);
		assert.equal(a.rank, 2);
		assert.ok(Math.abs(a.overlap - 1) < 1e-10);
		assert.ok(Math.abs(a.value - e.all[1].value) < 1e-12);
	});
});

describe('linear model training', () => {
	// Two separable Gaussian blobs in d = 2: an independent, checkable problem.
	const r = mulberry32(1);
	const n = 200;
	const x = new Float32Array(2 * n);
	const y = new Int32Array(n);
	for (let i = 0; i < n; i++) {
		y[i] = i % 2;
		x[2 * i] = (y[i] === 0 ? -2 : 2) + 0.5 * (r() - 0.5);
		x[2 * i + 1] = 0.5 * (r() - 0.5);
	}

	test('softmax regression separates two blobs and is deterministic for a seed', () => {
		const opts = { classes: 2, epochs: 5, batchSize: 16, learningRate: 0.5, weightDecay: 0, seed: 3 };
		const m1 = trainSoftmax(x, y, opts);
		const m2 = trainSoftmax(x, y, opts);
		assert.deepEqual(m1.weights, m2.weights);
		const pred = predict(m1, x, n);
		assert.equal(pred.filter((p, i) => p === y[i]).length, n);
	});

	test('ridge regression meets its normal equations (centred, unpenalised intercept)', () => {
		const lambda = 0.7;
		const m = trainRidge(x, y, 2, lambda);
		// Gradient of ½Σ‖Wx + b − y‖² + (λ/2)‖W‖² must vanish: Σ (Wx_i + b − y_i) x_iᵀ + λW = 0 and Σ (Wx_i + b − y_i) = 0.
		for (let c = 0; c < 2; c++) {
			const g = [0, 0];
			let gb = 0;
			for (let i = 0; i < n; i++) {
				const f = m.weights[c * 2] * x[2 * i] + m.weights[c * 2 + 1] * x[2 * i + 1] + m.bias[c] - (y[i] === c ? 1 : 0);
				g[0] += f * x[2 * i];
				g[1] += f * x[2 * i + 1];
				gb += f;
			}
			g[0] += lambda * m.weights[c * 2];
			g[1] += lambda * m.weights[c * 2 + 1];
			assert.ok(Math.abs(g[0]) < 1e-8 && Math.abs(g[1]) < 1e-8 && Math.abs(gb) < 1e-8, `class ${c}: ${g.join(', ')}, ${gb}`);
		}
	});
});
