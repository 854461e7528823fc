/** Seeded explicit test matrices with known spectra, for the algorithm tests (float64). */
import { gaussianVector } from '../../../../src/math/random';

/**
 * A = Q diag(eigs) Qᵀ with Q a product of three seeded Householder reflections, so the exact
 * eigenvalues are `eigs` and the eigenvector of eigs[j] is Q e_j.
 */
export function matrixWithSpectrum(eigs: readonly number[], seed: number): { a: Float64Array; q: Float64Array } {
	const n = eigs.length;
	const q = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		q[i * n + i] = 1;
	}
	for (let r = 0; r < 3; r++) {
		const h = gaussianVector(n, seed * 7 + r);
		let hh = 0;
		for (const x of h) {
			hh += x * x;
		}
		// Q ← Q (I − 2 h hᵀ / hᵀh)
		for (let i = 0; i < n; i++) {
			let s = 0;
			for (let k = 0; k < n; k++) {
				s += q[i * n + k] * h[k];
			}
			for (let k = 0; k < n; k++) {
				q[i * n + k] -= (2 * s * h[k]) / hh;
			}
		}
	}
	const a = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < n; j++) {
			let s = 0;
			for (let k = 0; k < n; k++) {
				s += q[i * n + k] * eigs[k] * q[j * n + k];
			}
			a[i * n + j] = s;
		}
	}
	return { a, q };
}

/** Column j of a row-major n×n matrix. */
export function column(m: Float64Array, n: number, j: number): Float64Array {
	const out = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		out[i] = m[i * n + j];
	}
	return out;
}

export function absCos(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let ab = 0;
	let aa = 0;
	let bb = 0;
	for (let i = 0; i < a.length; i++) {
		ab += a[i] * b[i];
		aa += a[i] * a[i];
		bb += b[i] * b[i];
	}
	return Math.abs(ab) / Math.sqrt(aa * bb);
}
