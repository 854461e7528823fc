import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	capacitySweep,
	cloneCountSweep,
	gaussianCleanSet,
	kernelComparison,
	logLogSlope,
	rbfKernel,
	regularisedPoisonSweep,
	seededRandom,
} from '../../../src/theory';

describe('seeded data', () => {
	test('seededRandom is reproducible and roughly standard normal', () => {
		const a = seededRandom(5);
		const b = seededRandom(5);
		const xs = Array.from({ length: 20000 }, () => a.normal());
		assert.deepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => b.normal()));
		const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
		const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
		// 5σ bands: sd(mean) = 1/√20000 ≈ 0.007, sd(variance) ≈ √(2/20000) = 0.01.
		assert.ok(Math.abs(mean) < 0.035, `mean ${mean}`);
		assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
		assert.notEqual(seededRandom(6).uniform(), seededRandom(5).uniform());
		assert.throws(() => seededRandom(-1), /seed must be a non-negative safe integer, got -1/);
	});

	test('gaussianCleanSet: deterministic, ±1 labels, optional projection off ζ', () => {
		const s1 = gaussianCleanSet({ seed: 1, count: 10 });
		const s2 = gaussianCleanSet({ seed: 1, count: 10 });
		assert.deepEqual(s1, s2);
		assert.ok(s1.targets.every((t) => t === 1 || t === -1));
		const zeta = Float64Array.of(1, 1, 0, 0, 0);
		const p = gaussianCleanSet({ seed: 1, count: 10, orthogonalTo: zeta });
		for (const x of p.inputs) {
			assert.ok(Math.abs(x[0] + x[1]) < 1e-12);
		}
		assert.throws(() => gaussianCleanSet({ count: 0 }), /options.count must be a positive integer, got 0/);
	});

	test('logLogSlope recovers an exact power law', () => {
		const x = [1, 2, 4, 8];
		assert.ok(Math.abs(logLogSlope(x, x.map((v) => 3 * v ** -1.5)) + 1.5) < 1e-14);
		assert.throws(() => logLogSlope([1, 2], [1, 0]), /values must be positive, got x\[1\] = 2, y\[1\] = 0/);
	});
});

describe('§5.1 sweeps as plain arrays', () => {
	test('Δf and Λ_GN vs m: Λ/Δf² is the constant R_k, and Δf saturates toward y_t k0/k_ζ', () => {
		const clean = gaussianCleanSet({ count: 80 });
		const sweep = cloneCountSweep({ kernel: rbfKernel({ lengthScale: 1 }), clean, trigger: new Float64Array(5), targetLabel: 1, lambda: 1e-2, testPoint: Float64Array.of(0.2, 0, 0, 0, 0), cloneCounts: [1, 3, 10, 30, 100] });
		for (let i = 0; i < sweep.parameter.length; i++) {
			assert.ok(Math.abs(sweep.measuredSpike[i] / sweep.measuredShift[i] ** 2 / 0.04 - 1) < 1e-9);
			if (i > 0) {
				assert.ok(sweep.measuredShift[i] > sweep.measuredShift[i - 1]);
			}
		}
		assert.ok(sweep.measuredShift[4] < Math.exp(-0.02));
	});

	test('linear vs RBF: R_k = ‖ζ‖²/(x0ᵀζ)² (no lag) against r²/ℓ⁴ (lag)', () => {
		const cmp = kernelComparison({ cloneCounts: [1, 10, 100], relativeRadius: 0.1, clean: { count: 60 } });
		// ζ = 2e1, x0 = 2.1e1: linear R_k = 4/4.2², RBF R_k = 0.01.
		for (let i = 0; i < 3; i++) {
			assert.ok(Math.abs(cmp.linear.measuredSpike[i] / cmp.linear.measuredShift[i] ** 2 / (4 / 4.2 ** 2) - 1) < 1e-9);
			assert.ok(Math.abs(cmp.rbf.measuredSpike[i] / cmp.rbf.measuredShift[i] ** 2 / 0.01 - 1) < 1e-9);
		}
	});

	test('capacitySweep returns columns; df falls with κ', () => {
		const data = gaussianCleanSet({ seed: 4, count: 25, dimension: 2, mean: 0, standardDeviation: 1 });
		const s = capacitySweep({ kernel: rbfKernel({ lengthScale: 1 }), data, lambda: 1e-2, kappas: [0, 1, 10] });
		assert.deepEqual(s.kappa, [0, 1, 10]);
		assert.ok(s.degreesOfFreedom[0] > s.degreesOfFreedom[1] && s.degreesOfFreedom[1] > s.degreesOfFreedom[2]);
		assert.equal(s.trainingResidual.length, 3);
	});

	test('gradient penalty alone cannot see a decoupled clone cluster; with augmented penalty points it suppresses it', () => {
		const clean = gaussianCleanSet({ count: 40 });
		const base = { kernel: rbfKernel({ lengthScale: 1 }), clean, trigger: new Float64Array(5), targetLabel: 1, lambda: 1e-2, testPoint: Float64Array.of(0.1, 0, 0, 0, 0), cloneCount: 20, kappas: [0, 1, 100] };
		const plain = regularisedPoisonSweep(base);
		// ∇_x k(ζ, ζ) = 0, so the penalty at the clones is zero whatever their coefficient.
		for (const s of plain.shift) {
			assert.ok(Math.abs(s / plain.shift[0] - 1) < 1e-9);
		}
		const augmented = regularisedPoisonSweep({ ...base, augmentationCopies: 2, augmentationScale: 0.3 });
		assert.ok(Math.abs(augmented.shift[0] / plain.shift[0] - 1) < 1e-9);
		assert.ok(augmented.shift[1] < 0.9 * augmented.shift[0] && augmented.shift[2] < 0.2 * augmented.shift[0], `shifts ${augmented.shift.join(', ')}`);
		assert.ok(augmented.spike[2] < augmented.spike[1] && augmented.spike[1] < augmented.spike[0]);
	});
});
