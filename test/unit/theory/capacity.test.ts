import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matVec, norm2, symmetricEigen } from '../../../src/math/linalg';
import {
	TheoryError,
	addClonedPoisons,
	capacityCurve,
	gaussianCleanSet,
	kernelMatrix,
	krrInputGradient,
	krrPredict,
	modelFromAlpha,
	rawGradientGram,
	rbfKernel,
} from '../../../src/theory';

const KAPPAS = [0, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3];

describe('gradient Gram matrix Ĝ', () => {
	test('αᵀĜα = Σ_l ‖∇f(x_l)‖² for any α, and Ĝ is symmetric PSD', () => {
		const { inputs } = gaussianCleanSet({ seed: 2, count: 15, dimension: 3, mean: 0, standardDeviation: 1 });
		const kernel = rbfKernel({ lengthScale: 0.9 });
		const g = rawGradientGram(kernel, inputs);
		const alpha = Float64Array.from({ length: 15 }, (_, i) => Math.sin(i + 1));
		const model = modelFromAlpha(kernel, inputs, new Float64Array(15), alpha, 0);
		let energy = 0;
		for (const x of inputs) {
			energy += krrInputGradient(model, x).reduce((s, v) => s + v * v, 0);
		}
		const quad = alpha.reduce((s, a, i) => s + a * matVec(g, alpha)[i], 0);
		assert.ok(Math.abs(quad - energy) < 1e-12 * energy);
		const eig = symmetricEigen(g, { symmetryTolerance: 0 });
		assert.ok(eig.eigenvalues[eig.eigenvalues.length - 1] > -1e-12);
	});
});

describe('capacityCurve: df(κ) = tr[K(K + nλI + κG)⁻¹] and the training residual', () => {
	test('matches an independent numpy float64 reference (K² + cK + κĜ formulation)', () => {
		// /usr/bin/python3: x = [0, 1, 2], y = 1, ℓ = 1, c = 0.05,
		// K = exp(−(x_i − x_j)²/2), Ĝ = Σ_l J_lᵀJ_l with (J_l)_i = −(x_l − x_i) K_li,
		// α = solve(K@K + c*K + κ*Ĝ, K@y); residual = ‖y − Kα‖²; df = tr(solve(K@K + c*K + κĜ, K@K)).
		const reference = [
			{ kappa: 0, residual: 0.0038051981743673757, df: 2.725686412375385 },
			{ kappa: 0.1, residual: 0.00272260624161197, df: 2.410187283500866 },
			{ kappa: 1, residual: 0.0077730009341323925, df: 1.6010929735027115 },
		];
		const curve = capacityCurve({
			kernel: rbfKernel({ lengthScale: 1 }),
			inputs: [0, 1, 2].map((v) => Float64Array.of(v)),
			targets: [1, 1, 1],
			ridge: 0.05,
			kappas: reference.map((r) => r.kappa),
		});
		reference.forEach((r, i) => {
			const p = curve.points[i];
			assert.ok(Math.abs(p.trainingResidual / r.residual - 1) < 1e-10, `residual κ=${r.kappa}: ${p.trainingResidual}`);
			assert.ok(Math.abs(p.degreesOfFreedom / r.df - 1) < 1e-12, `df κ=${r.kappa}: ${p.degreesOfFreedom}`);
		});
		// The documented counterexample: the plain residual FALLS from κ = 0 to κ = 0.1 (targets
		// are constant, and the gradient penalty favours flat functions more than the ridge does).
		assert.ok(curve.points[1].trainingResidual < curve.points[0].trainingResidual);
		assert.ok(curve.points[1].penalisedFit > curve.points[0].penalisedFit);
	});

	test('κ = 0 is plain KRR: df = Σ μ_i/(μ_i + c) and f equals the fitKrr predictor', () => {
		const data = gaussianCleanSet({ seed: 9, count: 40, dimension: 2, mean: 0, standardDeviation: 1.5 });
		const kernel = rbfKernel({ lengthScale: 1 });
		const curve = capacityCurve({ kernel, inputs: data.inputs, targets: data.targets, lambda: 1e-2, kappas: [0] });
		const mu = symmetricEigen(kernelMatrix(kernel, data.inputs)).eigenvalues;
		const df = mu.reduce((s, m) => s + m / (m + 0.4), 0);
		assert.ok(Math.abs(curve.points[0].degreesOfFreedom - df) < 1e-10 * df);
		const k = kernelMatrix(kernel, data.inputs);
		const direct = matVec(k, curve.points[0].alpha).map((v, i) => v + 0.4 * curve.points[0].alpha[i] - data.targets[i]);
		assert.ok(norm2(direct) < 1e-9, `(K + cI)α − y = ${norm2(direct)}`);
	});

	test('α(κ) satisfies the normal equations (K² + cK + κĜ)α = Ky', () => {
		const data = gaussianCleanSet({ seed: 10, count: 30, dimension: 2, mean: 0, standardDeviation: 1.5 });
		const kernel = rbfKernel({ lengthScale: 1 });
		const k = kernelMatrix(kernel, data.inputs);
		const g = rawGradientGram(kernel, data.inputs);
		const c = 30 * 1e-2;
		const curve = capacityCurve({ kernel, inputs: data.inputs, targets: data.targets, ridge: c, kappas: [0.5, 20] });
		const ky = matVec(k, data.targets);
		for (const p of curve.points) {
			const ka = matVec(k, p.alpha);
			const lhs = matVec(k, ka).map((v, i) => v + c * ka[i] + p.kappa * matVec(g, p.alpha)[i] - ky[i]);
			assert.ok(norm2(lhs) < 1e-9 * norm2(ky), `κ = ${p.kappa}: ${norm2(lhs)}`);
			// fitted = f(x_i) through the model wrapper.
			const model = modelFromAlpha(kernel, data.inputs, data.targets, p.alpha, c);
			assert.ok(Math.abs(krrPredict(model, data.inputs[3]) - p.fitted[3]) < 1e-12);
		}
	});

	test('Theorem 3.9: df strictly decreasing, residual and penalised fit strictly increasing, on a poisoned RBF set', () => {
		const clean = gaussianCleanSet({ seed: 12, count: 50, dimension: 3, mean: 0, standardDeviation: 2 });
		const poisoned = addClonedPoisons({ inputs: clean.inputs, targets: clean.targets, trigger: Float64Array.of(0.5, 0.5, 0.5), cloneCount: 10, targetLabel: 1 });
		const curve = capacityCurve({ kernel: rbfKernel({ lengthScale: 1 }), inputs: poisoned.inputs, targets: poisoned.targets, lambda: 1e-2, kappas: KAPPAS });
		// 10 clones make K rank-deficient by 9; the range tolerance must find exactly that.
		assert.equal(curve.rank, 51);
		for (let i = 1; i < KAPPAS.length; i++) {
			const [p, q] = [curve.points[i - 1], curve.points[i]];
			assert.ok(q.degreesOfFreedom < p.degreesOfFreedom, `df at κ=${q.kappa}`);
			assert.ok(q.trainingResidual > p.trainingResidual, `residual at κ=${q.kappa}`);
			assert.ok(q.penalisedFit > p.penalisedFit, `penalised fit at κ=${q.kappa}`);
			assert.ok(q.gradientEnergy < p.gradientEnergy, `gradient energy at κ=${q.kappa}`);
		}
	});

	test('validation errors name the option', () => {
		const inputs = [Float64Array.of(0), Float64Array.of(1)];
		const kernel = rbfKernel({ lengthScale: 1 });
		assert.throws(() => capacityCurve({ kernel, inputs, targets: [1, 1], lambda: 1, kappas: [0, -1] }), (x: unknown) => x instanceof TheoryError && /options.kappas\[1\] must be a non-negative finite number, got -1/.test(x.message));
		assert.throws(() => capacityCurve({ kernel, inputs, targets: [1], lambda: 1, kappas: [0] }), /options.targets has length 1, expected 2/);
		assert.throws(() => rawGradientGram(kernel, inputs, [Float64Array.of(1, 2)]), /penaltyPoints have dimension 2, inputs 1/);
	});
});
