import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	TheoryError,
	addClonedPoisons,
	appendixATable,
	gaussianCleanSet,
	linearKernel,
	logLogSlope,
	measurePoisonEffect,
	nearCloneSweep,
	predictPoisonEffect,
	rbfKernel,
	scalarGain,
	seededRandom,
	spikeRatio,
} from '../../../src/theory';

function relErr(measured: number, expected: number): number {
	return Math.abs(measured - expected) / Math.abs(expected);
}

function e(d: number, i: number, scale = 1): Float64Array {
	const v = new Float64Array(d);
	v[i] = scale;
	return v;
}

describe('closed forms', () => {
	test('S(m; λ) = m/(c + k_ζ m): limits and validation', () => {
		assert.equal(scalarGain({ cloneCount: 3, ridge: 2, triggerKernel: 1 }), 0.6);
		assert.equal(scalarGain({ cloneCount: 0, ridge: 2, triggerKernel: 1 }), 0);
		assert.ok(Math.abs(scalarGain({ cloneCount: 1e9, ridge: 2, triggerKernel: 4 }) - 0.25) < 1e-9);
		assert.throws(() => scalarGain({ cloneCount: -1, ridge: 2, triggerKernel: 1 }), (x: unknown) => x instanceof TheoryError && /options.cloneCount must be a non-negative finite number, got -1/.test(x.message));
		assert.throws(() => scalarGain({ cloneCount: 0, ridge: 0, triggerKernel: 1 }), /c \+ k_ζ·m = 0 must be positive/);
	});

	test('R_k for the linear kernel is ‖ζ‖²/(x0ᵀζ)², for RBF r²/ℓ⁴', () => {
		const rng = seededRandom(42);
		for (let t = 0; t < 10; t++) {
			const zeta = Float64Array.from({ length: 6 }, () => rng.normal());
			const x0 = Float64Array.from({ length: 6 }, () => rng.normal());
			const zz = zeta.reduce((s, v) => s + v * v, 0);
			const xz = zeta.reduce((s, v, i) => s + v * x0[i], 0);
			assert.ok(relErr(spikeRatio(linearKernel(), x0, zeta), zz / (xz * xz)) < 1e-13);
			const ell = 0.5 + t;
			const r2 = zeta.reduce((s, v, i) => s + (v - x0[i]) ** 2, 0);
			assert.ok(relErr(spikeRatio(rbfKernel({ lengthScale: ell }), x0, zeta), r2 / ell ** 4) < 1e-13);
		}
		// No efficacy, undefined ratio: x0 ⊥ ζ under the linear kernel.
		assert.equal(spikeRatio(linearKernel(), e(2, 1), e(2, 0)), Number.POSITIVE_INFINITY);
	});

	test('the spike eigenvector is ∇_x k(x0, ζ)/‖·‖: −(x0 − ζ)/r for RBF, ζ/‖ζ‖ for linear', () => {
		const zeta = Float64Array.of(1, 2, 0);
		const x0 = Float64Array.of(1.3, 1.6, 0.2);
		const p = predictPoisonEffect({ kernel: rbfKernel({ lengthScale: 2 }), trigger: zeta, testPoint: x0, targetLabel: 1, cloneCount: 4, ridge: 1 });
		const r = Math.hypot(0.3, -0.4, 0.2);
		[0.3, -0.4, 0.2].forEach((u, i) => assert.ok(Math.abs(p.direction[i] + u / r) < 1e-15));
		const q = predictPoisonEffect({ kernel: linearKernel(), trigger: zeta, testPoint: x0, targetLabel: -1, cloneCount: 4, ridge: 1 });
		[1, 2, 0].forEach((z, i) => assert.ok(Math.abs(q.direction[i] - z / Math.sqrt(5)) < 1e-15));
		assert.ok(relErr(q.shift, -(1.3 + 3.2) * (4 / (1 + 5 * 4))) < 1e-15);
	});
});

describe('Theorems 3.3 and 3.4 in the decoupled setting (to 1e-9 relative)', () => {
	const d = 5;
	// Clean points around mean 10 (sd 3) sit ≥ ~10 away from ζ = 0, so every clean–poison kernel
	// value is below e^{-50} ≈ 2e-22: the decoupling error is far below 1e-9.
	const clean = gaussianCleanSet({ seed: 7, count: 120, dimension: d });

	for (const [m, r, ell, yt] of [
		[1, 0.05, 1, 1],
		[7, 0.3, 1, -1],
		[50, 0.01, 0.8, 1],
		[300, 0.5, 1.2, 2],
	] as const) {
		test(`RBF ℓ = ${ell}, m = ${m}, r = ${r}, y_t = ${yt}`, () => {
			const zeta = new Float64Array(d);
			const x0 = Float64Array.of(0.6 * r, 0, 0.8 * r, 0, 0);
			const eff = measurePoisonEffect({
				kernel: rbfKernel({ lengthScale: ell }),
				cleanInputs: clean.inputs,
				cleanTargets: clean.targets,
				trigger: zeta,
				testPoint: x0,
				targetLabel: yt,
				cloneCount: m,
				lambda: 1e-2,
			});
			const c = (120 + m) * 1e-2;
			assert.ok(relErr(eff.ridge, c) < 1e-15);
			// Hand-written closed forms, independent of predictPoisonEffect.
			const k0 = Math.exp(-(r * r) / (2 * ell * ell));
			const shift = k0 * yt * (m / (c + m));
			assert.ok(relErr(eff.measuredShift, shift) < 1e-9, `Δf ${eff.measuredShift} vs ${shift}`);
			assert.ok(relErr(eff.predicted.shift, shift) < 1e-12);
			const spike = ((r * r) / ell ** 4) * shift * shift;
			assert.ok(relErr(eff.poisonPartSpike, spike) < 1e-9, `Λ ${eff.poisonPartSpike} vs ${spike}`);
			assert.ok(relErr(eff.shiftSpike, spike) < 1e-9);
			assert.ok(relErr(eff.predicted.spike, spike) < 1e-12);
			assert.ok(relErr(eff.spikeFromMeasuredShift, spike) < 1e-9);
			// The measured spike points along the predicted eigenvector.
			const g = eff.poisonPartGradient;
			const cos = g.reduce((s, v, i) => s + v * eff.predicted.direction[i], 0) / Math.sqrt(eff.poisonPartSpike);
			assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-12);
		});
	}

	test('linear kernel with clean points orthogonal to ζ', () => {
		const zeta = Float64Array.of(1.5, -0.5, 0, 0, 0);
		const cleanPerp = gaussianCleanSet({ seed: 8, count: 60, dimension: d, mean: 0, standardDeviation: 1, orthogonalTo: zeta });
		const x0 = Float64Array.of(2, 1, 3, -1, 0.5);
		for (const m of [1, 10, 100]) {
			const eff = measurePoisonEffect({
				kernel: linearKernel(),
				cleanInputs: cleanPerp.inputs,
				cleanTargets: cleanPerp.targets,
				trigger: zeta,
				testPoint: x0,
				targetLabel: 1,
				cloneCount: m,
				lambda: 1e-2,
			});
			const c = (60 + m) * 1e-2;
			const zz = 2.5;
			const xz = 3 - 0.5;
			const shift = xz * (m / (c + zz * m));
			assert.ok(relErr(eff.measuredShift, shift) < 1e-9, `Δf m=${m}`);
			assert.ok(relErr(eff.poisonPartSpike, (zz / (xz * xz)) * shift * shift) < 1e-9, `Λ m=${m}`);
			assert.ok(relErr(eff.shiftSpike, eff.predicted.spike) < 1e-9);
		}
	});

	test('addClonedPoisons appends m copies labelled y_t and reports their range', () => {
		const p = addClonedPoisons({ inputs: [e(2, 0), e(2, 1)], targets: [1, -1], trigger: e(2, 0, 3), cloneCount: 3, targetLabel: 5 });
		assert.equal(p.inputs.length, 5);
		assert.deepEqual(Array.from(p.targets), [1, -1, 5, 5, 5]);
		assert.deepEqual(p.poisonRange, { start: 2, end: 5 });
		assert.throws(() => addClonedPoisons({ inputs: [e(2, 0)], targets: [1], trigger: e(2, 0), cloneCount: 1.5, targetLabel: 1 }), /options.cloneCount must be a non-negative integer, got 1.5/);
		assert.throws(() => addClonedPoisons({ inputs: [e(2, 0)], targets: [1], trigger: e(3, 0), cloneCount: 1, targetLabel: 1 }), /options.trigger has dimension 3, expected 2/);
	});
});

describe('docs/science.md §7.9 table (independent published reference)', () => {
	// RBF ℓ = 1, d = 5, 200 clean points (mean 10, sd 3, ±1 labels, seeded), λ = 1e-2, c = nλ with
	// n = 200 + m, ζ = 0, y_t = +1, x0 = ζ + r e1; the clean fit uses the same c.
	const clean = gaussianCleanSet({ seed: 20260131, count: 200, dimension: 5, mean: 10, standardDeviation: 3 });
	const rows = [
		{ m: 1, r: 0.05, shift: '0.33181', spike: '2.7525e-4' },
		{ m: 5, r: 0.2, shift: '0.69518', spike: '1.9331e-2' },
		{ m: 20, r: 0.05, shift: '0.89978', spike: '2.0240e-3' },
		{ m: 100, r: 0.2, shift: '0.95165', spike: '3.6225e-2' },
	];
	for (const row of rows) {
		test(`m = ${row.m}, r = ${row.r}: Δf = ${row.shift}, Λ = ${row.spike}`, () => {
			const eff = measurePoisonEffect({
				kernel: rbfKernel({ lengthScale: 1 }),
				cleanInputs: clean.inputs,
				cleanTargets: clean.targets,
				trigger: new Float64Array(5),
				testPoint: Float64Array.of(row.r, 0, 0, 0, 0),
				targetLabel: 1,
				cloneCount: row.m,
				lambda: 1e-2,
			});
			assert.equal(eff.measuredShift.toFixed(5), row.shift, 'Δf measured');
			assert.equal(eff.predicted.shift.toFixed(5), row.shift, 'k0·y_t·S');
			assert.equal(eff.poisonPartSpike.toExponential(4), row.spike, 'poison-part ‖∇f‖²');
			assert.equal(eff.spikeFromMeasuredShift.toExponential(4), row.spike, '(r²/ℓ⁴)(Δf)²');
		});
	}
});

describe('appendixATable helper', () => {
	test('prints the published digits for another seed too (the clean points are decoupled)', () => {
		const table = appendixATable(undefined, 99);
		assert.deepEqual(
			table.map((r) => [r.measuredShift.toFixed(5), r.poisonPartSpike.toExponential(4)]),
			[['0.33181', '2.7525e-4'], ['0.69518', '1.9331e-2'], ['0.89978', '2.0240e-3'], ['0.95165', '3.6225e-2']],
		);
	});
});

describe('near-clone law (docs/science.md §2.6): Λ ∝ r²/ℓ⁴ while Δf stays O(1)', () => {
	test('log-log slope of Λ over r is 2, and Δf ≥ 0.99·y_t·S for r/ℓ ≤ 0.1', () => {
		for (const ell of [0.5, 2]) {
			// Clean data scaled with ℓ so that the clones stay decoupled.
			const clean = gaussianCleanSet({ seed: 3, count: 100, mean: 10 * ell, standardDeviation: 3 * ell });
			const radii = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
			const sweep = nearCloneSweep({ kernel: rbfKernel({ lengthScale: ell }), clean, trigger: new Float64Array(5), targetLabel: 1, lambda: 1e-2, cloneCount: 20, relativeRadii: radii });
			const slope = logLogSlope(sweep.parameter, sweep.measuredSpike);
			assert.ok(Math.abs(slope - 2) < 0.01, `ℓ = ${ell}: slope ${slope}`);
			const gain = sweep.gain[0];
			for (let i = 0; i < radii.length; i++) {
				assert.ok(sweep.measuredShift[i] >= 0.99 * gain && sweep.measuredShift[i] <= gain, `Δf(${radii[i]}) = ${sweep.measuredShift[i]} vs S = ${gain}`);
				// Λ = S² (r²/ℓ⁴)[1 + O(r²/ℓ²)]: the bracket is exp(−r²/ℓ²) ∈ [1 − r²/ℓ², 1].
				const r = radii[i] * ell;
				const law = (gain * gain * r * r) / ell ** 4;
				assert.ok(sweep.measuredSpike[i] <= law * (1 + 1e-12) && sweep.measuredSpike[i] >= law * (1 - radii[i] ** 2), `Λ(${radii[i]})`);
			}
		}
	});

	test('at fixed r, Λ/S² scales as ℓ⁻⁴', () => {
		const r = 0.01;
		const ells = [0.5, 1, 2, 4];
		const scaled = ells.map((ell) => {
			const clean = gaussianCleanSet({ seed: 4, count: 60, mean: 10 * ell, standardDeviation: 3 * ell });
			const eff = measurePoisonEffect({ kernel: rbfKernel({ lengthScale: ell }), cleanInputs: clean.inputs, cleanTargets: clean.targets, trigger: new Float64Array(5), testPoint: e(5, 0, r), targetLabel: 1, cloneCount: 20, lambda: 1e-2 });
			return eff.poisonPartSpike / eff.predicted.gain ** 2;
		});
		const slope = logLogSlope(ells, scaled);
		assert.ok(Math.abs(slope + 4) < 1e-3, `slope ${slope}`);
	});
});
