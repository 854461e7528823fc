import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Kernel, TheoryError, linearKernel, rbfKernel, seededRandom } from '../../../src/theory';

// Central differences in float64 with h = 1e-5: truncation O(h²·k''') ≈ 1e-10, rounding
// O(ε/h) ≈ 2e-11, so agreement to 1e-8 (relative to the derivative's scale) is a real check.
const H = 1e-5;
const FD_TOLERANCE = 1e-8;

function gradient(kernel: Kernel, x: Float64Array, xp: Float64Array): Float64Array {
	const g = new Float64Array(x.length);
	kernel.addGradient(x, xp, 1, g);
	return g;
}

function hessian(kernel: Kernel, x: Float64Array, xp: Float64Array): Float64Array {
	const h = new Float64Array(x.length * x.length);
	kernel.addHessian(x, xp, 1, h);
	return h;
}

function checkDerivatives(kernel: Kernel, x: Float64Array, xp: Float64Array): void {
	const d = x.length;
	const g = gradient(kernel, x, xp);
	const h = hessian(kernel, x, xp);
	const scale = Math.max(1, ...Array.from(g, Math.abs), ...Array.from(h, Math.abs));
	for (let a = 0; a < d; a++) {
		const xPlus = Float64Array.from(x);
		const xMinus = Float64Array.from(x);
		xPlus[a] += H;
		xMinus[a] -= H;
		const fd = (kernel.value(xPlus, xp) - kernel.value(xMinus, xp)) / (2 * H);
		assert.ok(Math.abs(fd - g[a]) <= FD_TOLERANCE * scale, `${kernel.name} ∂k/∂x${a}: ${g[a]} vs FD ${fd}`);
		const gPlus = gradient(kernel, xPlus, xp);
		const gMinus = gradient(kernel, xMinus, xp);
		for (let b = 0; b < d; b++) {
			const fdh = (gPlus[b] - gMinus[b]) / (2 * H);
			assert.ok(Math.abs(fdh - h[a * d + b]) <= FD_TOLERANCE * scale, `${kernel.name} ∂²k/∂x${a}∂x${b}: ${h[a * d + b]} vs FD ${fdh}`);
		}
	}
}

describe('kernels', () => {
	test('RBF value, gradient and Hessian: closed forms and finite differences', () => {
		const k = rbfKernel({ lengthScale: 1.7 });
		const x = Float64Array.of(0.3, -1.2, 0.8);
		const xp = Float64Array.of(1.1, -0.4, 0.2);
		const r2 = 0.8 ** 2 + 0.8 ** 2 + 0.6 ** 2;
		const kv = Math.exp(-r2 / (2 * 1.7 ** 2));
		assert.ok(Math.abs(k.value(x, xp) - kv) < 1e-16);
		assert.equal(k.value(xp, xp), 1);
		assert.equal(k.lengthScale, 1.7);
		const g = gradient(k, x, xp);
		for (let a = 0; a < 3; a++) {
			assert.ok(Math.abs(g[a] - (-(x[a] - xp[a]) * kv) / 1.7 ** 2) < 1e-16);
		}
		// At its own centre the RBF bump is flat: ∇_x k(ζ, ζ) = 0, ∇²_x k(ζ, ζ) = −I/ℓ².
		assert.deepEqual(Array.from(gradient(k, xp, xp)), [0, 0, 0]);
		const h0 = hessian(k, xp, xp);
		assert.ok(Math.abs(h0[0] + 1 / 1.7 ** 2) < 1e-16 && h0[1] === 0);
		const rng = seededRandom(3);
		for (let t = 0; t < 5; t++) {
			const a = Float64Array.from({ length: 4 }, () => rng.normal());
			const b = Float64Array.from({ length: 4 }, () => rng.normal());
			checkDerivatives(rbfKernel({ lengthScale: 0.5 + t * 0.5 }), a, b);
		}
	});

	test('linear kernel: k = xᵀx′, ∇k = x′, ∇²k = 0', () => {
		const k = linearKernel();
		const x = Float64Array.of(1, 2, 3);
		const xp = Float64Array.of(-1, 0.5, 2);
		assert.equal(k.value(x, xp), 6);
		assert.deepEqual(Array.from(gradient(k, x, xp)), [-1, 0.5, 2]);
		assert.ok(hessian(k, x, xp).every((v) => v === 0));
		assert.equal(k.lengthScale, undefined);
		checkDerivatives(k, x, xp);
	});

	test('accumulating form adds scale × derivative into the output', () => {
		const k = rbfKernel({ lengthScale: 1 });
		const x = Float64Array.of(0.5, 0);
		const xp = Float64Array.of(0, 0);
		const out = Float64Array.of(1, 1);
		const value = k.addGradient(x, xp, 2, out);
		assert.ok(Math.abs(value - Math.exp(-0.125)) < 1e-16);
		assert.ok(Math.abs(out[0] - (1 - 2 * 0.5 * value)) < 1e-16);
		assert.equal(out[1], 1);
	});

	test('rejects a bad length scale by value', () => {
		assert.throws(() => rbfKernel({ lengthScale: 0 }), (e: unknown) => e instanceof TheoryError && e.message === 'rbfKernel: options.lengthScale must be a positive finite number, got 0');
		assert.throws(() => rbfKernel({ lengthScale: Number.NaN }), /got NaN/);
	});
});
