import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matVec, norm2, symmetricEigen } from '../../../src/math/linalg';
import {
	TheoryError,
	fitKrr,
	kernelMatrix,
	krrInputGradient,
	krrInputHessian,
	krrPredict,
	linearKernel,
	lossCurvature,
	rbfKernel,
	seededRandom,
} from '../../../src/theory';

function smallSet(seed: number, n: number, d: number): { inputs: Float64Array[]; targets: Float64Array } {
	const rng = seededRandom(seed);
	const inputs = Array.from({ length: n }, () => Float64Array.from({ length: d }, () => rng.normal()));
	const targets = Float64Array.from({ length: n }, () => (rng.uniform() < 0.5 ? -1 : 1));
	return { inputs, targets };
}

const H = 1e-5;

describe('fitKrr', () => {
	test('α solves (K + nλI) α = y to a tiny residual, with c = nλ', () => {
		const { inputs, targets } = smallSet(11, 30, 3);
		const kernel = rbfKernel({ lengthScale: 1.3 });
		const model = fitKrr({ kernel, inputs, targets, lambda: 1e-2 });
		assert.equal(model.ridge, 30 * 1e-2);
		const k = kernelMatrix(kernel, inputs);
		const r = matVec(k, model.alpha).map((v, i) => v + model.ridge * model.alpha[i] - targets[i]);
		assert.ok(norm2(r) < 1e-12 * norm2(targets), `residual ${norm2(r)}`);
		// f(x_i) = (Kα)_i.
		const kAlpha = matVec(k, model.alpha);
		assert.ok(Math.abs(krrPredict(model, inputs[4]) - kAlpha[4]) < 1e-13);
	});

	test('an explicit ridge c is used as given, and duplicate points are fine when c > 0', () => {
		const x = Float64Array.of(0, 0);
		const model = fitKrr({ kernel: rbfKernel({ lengthScale: 1 }), inputs: [x, x, x], targets: [1, 1, 1], ridge: 0.5 });
		// K = 11ᵀ: α_i = 1/(c + 3) for each clone, the m-clone gain S/m with m = 3.
		for (const a of model.alpha) {
			assert.ok(Math.abs(a - 1 / 3.5) < 1e-15);
		}
	});

	test('validation errors name the option and value', () => {
		const { inputs, targets } = smallSet(1, 4, 2);
		const kernel = linearKernel();
		assert.throws(() => fitKrr({ kernel, inputs, targets }), (e: unknown) => e instanceof TheoryError && /give exactly one of options.lambda and options.ridge, got lambda = undefined, ridge = undefined/.test(e.message));
		assert.throws(() => fitKrr({ kernel, inputs, targets, lambda: 1, ridge: 1 }), /exactly one/);
		assert.throws(() => fitKrr({ kernel, inputs, targets, lambda: -1 }), /options.lambda must be a non-negative finite number, got -1/);
		assert.throws(() => fitKrr({ kernel, inputs, targets: [1, 2], lambda: 1 }), /options.targets has length 2, expected 4/);
		assert.throws(() => fitKrr({ kernel, inputs: [Float64Array.of(1, 2), Float64Array.of(1)], targets: [1, 1], lambda: 1 }), /options.inputs\[1\] has dimension 1, expected 2/);
		assert.throws(() => fitKrr({ kernel, inputs: [Float64Array.of(1, Number.NaN)], targets: [1], lambda: 1 }), /options.inputs\[0\]\[1\] = NaN is not finite/);
		assert.throws(() => fitKrr({ kernel, inputs, targets: [1, 1, Number.POSITIVE_INFINITY, 1], lambda: 1 }), /options.targets\[2\] must be a finite number, got Infinity/);
		const model = fitKrr({ kernel, inputs, targets, lambda: 1 });
		assert.throws(() => krrPredict(model, Float64Array.of(1)), /krrPredict: x has dimension 1, expected 2/);
		assert.throws(() => krrPredict(model, Float64Array.of(1, 1), { start: 2, end: 9 }), /range \[2, 9\) is not a sub-range of \[0, 4\)/);
	});
});

describe('input derivatives of f and of the loss ½(f − y)²', () => {
	const { inputs, targets } = smallSet(5, 25, 4);
	const model = fitKrr({ kernel: rbfKernel({ lengthScale: 1.1 }), inputs, targets, lambda: 1e-3 });
	const x = Float64Array.of(0.2, -0.3, 0.5, 0.1);

	test('∇f and ∇²f agree with central differences of f', () => {
		const g = krrInputGradient(model, x);
		const h = krrInputHessian(model, x);
		const d = 4;
		const scale = Math.max(1, norm2(g), norm2(h.data));
		for (let a = 0; a < d; a++) {
			const xp = Float64Array.from(x);
			const xm = Float64Array.from(x);
			xp[a] += H;
			xm[a] -= H;
			const fd = (krrPredict(model, xp) - krrPredict(model, xm)) / (2 * H);
			assert.ok(Math.abs(fd - g[a]) < 1e-8 * scale, `∂f/∂x${a}`);
			const gp = krrInputGradient(model, xp);
			const gm = krrInputGradient(model, xm);
			for (let b = 0; b < d; b++) {
				assert.ok(Math.abs((gp[b] - gm[b]) / (2 * H) - h.data[a * d + b]) < 1e-8 * scale, `∂²f/∂x${a}∂x${b}`);
			}
		}
	});

	test('loss gradient, loss Hessian = ∇f∇fᵀ + (f − y)∇²f, and Λ_GN = ‖∇f‖² is the GN term\'s eigenvalue', () => {
		const y = 0.7;
		const c = lossCurvature(model, x, y);
		const d = 4;
		const loss = (z: Float64Array): number => 0.5 * (krrPredict(model, z) - y) ** 2;
		for (let a = 0; a < d; a++) {
			const xp = Float64Array.from(x);
			const xm = Float64Array.from(x);
			xp[a] += H;
			xm[a] -= H;
			assert.ok(Math.abs((loss(xp) - loss(xm)) / (2 * H) - c.lossGradient[a]) < 1e-9);
			const gp = lossCurvature(model, xp, y).lossGradient;
			const gm = lossCurvature(model, xm, y).lossGradient;
			for (let b = 0; b < d; b++) {
				assert.ok(Math.abs((gp[b] - gm[b]) / (2 * H) - c.lossHessian.data[a * d + b]) < 1e-8, `∂²L/∂x${a}∂x${b}`);
			}
		}
		assert.ok(Math.abs(c.loss - loss(x)) < 1e-16);
		assert.equal(c.residual, c.prediction - y);
		// GN term alone: its top eigenvalue is ‖∇f‖² (rank one).
		const gn = c.lossHessian.data.map((v, k) => v - c.residual * c.predictionHessian.data[k]);
		const eig = symmetricEigen({ rows: d, cols: d, data: gn });
		assert.ok(Math.abs(eig.eigenvalues[0] - c.gaussNewtonEigenvalue) < 1e-14 * Math.max(1, c.gaussNewtonEigenvalue));
		assert.ok(Math.abs(eig.eigenvalues[1]) < 1e-14);
	});

	test('linear kernel: ∇²f = 0, so the loss Hessian is exactly the rank-one GN term', () => {
		const lin = fitKrr({ kernel: linearKernel(), inputs, targets, lambda: 1e-2 });
		const c = lossCurvature(lin, x, -1);
		assert.ok(c.predictionHessian.data.every((v) => v === 0));
		const eig = symmetricEigen(c.lossHessian);
		assert.ok(Math.abs(eig.eigenvalues[0] - c.gaussNewtonEigenvalue) < 1e-14 * c.gaussNewtonEigenvalue);
		// ∇f = Σ α_i x_i for the linear kernel, independent of x.
		const w = new Float64Array(4);
		inputs.forEach((xi, i) => xi.forEach((v, a) => (w[a] += lin.alpha[i] * v)));
		assert.ok(norm2(c.predictionGradient.map((v, a) => v - w[a])) < 1e-14);
	});
});
