/**
 * Exact eigenpairs of the factored Gauss–Newton matrices.
 *
 * G_i = F_iᵀF_i has rank ≤ C−1, and its nonzero eigenpairs follow from the C×C Gram matrix
 * K_i = F_i F_iᵀ: K_i u = λu ⇒ G_i (F_iᵀu) = λ F_iᵀu with ‖F_iᵀu‖² = λ. The batch mean
 * (1/b) Σ G_i = FᵀF/b works the same way with the (b·C)×(b·C) Gram matrix FFᵀ/b.
 */
import { symmetricEigen } from '../../math/linalg';
import type { GaussNewtonFactors } from './operators';
import type { BlockEigenResult, EigenResult } from './types';
import { norm } from '../../math/vector';

function gram(F: Float64Array, rowStart: number, rows: number, d: number, scale: number): Float64Array {
	const K = new Float64Array(rows * rows);
	for (let a = 0; a < rows; a++) {
		const oa = (rowStart + a) * d;
		for (let c = a; c < rows; c++) {
			const oc = (rowStart + c) * d;
			let s = 0;
			for (let j = 0; j < d; j++) {
				s += F[oa + j] * F[oc + j];
			}
			K[a * rows + c] = s * scale;
			K[c * rows + a] = s * scale;
		}
	}
	return K;
}

/** Eigenpairs of an exactly symmetric Gram matrix (ascending; vectors as columns of a row-major matrix). */
function gramEigen(k: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
	const r = symmetricEigen({ rows: n, cols: n, data: k }, { order: 'ascending', residuals: false, symmetryTolerance: 0, label: 'Gram matrix' });
	return { values: r.eigenvalues, vectors: r.eigenvectors.data };
}

/** Lift Gram eigenvector u (length rows) to v = Fᵀu / ‖Fᵀu‖ in input space. */
function lift(F: Float64Array, rowStart: number, rows: number, d: number, u: (r: number) => number): Float64Array {
	const v = new Float64Array(d);
	for (let r = 0; r < rows; r++) {
		const ur = u(r);
		const o = (rowStart + r) * d;
		for (let j = 0; j < d; j++) {
			v[j] += ur * F[o + j];
		}
	}
	const nv = norm(v);
	if (nv > 0) {
		for (let j = 0; j < d; j++) {
			v[j] /= nv;
		}
	}
	return v;
}

/** ‖G v − λ v‖ for G = scale·Σ_r F_r F_rᵀ over the given rows (float64, explicit). */
function residual(F: Float64Array, rowStart: number, rows: number, d: number, scale: number, v: Float64Array, lambda: number): number {
	const gv = new Float64Array(d);
	for (let r = 0; r < rows; r++) {
		const o = (rowStart + r) * d;
		let s = 0;
		for (let j = 0; j < d; j++) {
			s += F[o + j] * v[j];
		}
		s *= scale;
		for (let j = 0; j < d; j++) {
			gv[j] += s * F[o + j];
		}
	}
	let r2 = 0;
	for (let j = 0; j < d; j++) {
		r2 += (gv[j] - lambda * v[j]) ** 2;
	}
	return Math.sqrt(r2);
}

/** Top eigenpair of every per-sample G_i, exactly, from C×C Gram matrices. */
export function perSampleGaussNewtonEigen(f: GaussNewtonFactors, tol = 1e-8): BlockEigenResult {
	const { batch: b, numClasses: C, dim: d, F } = f;
	const values: number[] = [];
	const vectors: Float64Array[] = [];
	const residuals: number[] = [];
	for (let i = 0; i < b; i++) {
		const eig = gramEigen(gram(F, i * C, C, d, 1), C);
		const top = C - 1;
		const lambda = Math.max(eig.values[top], 0);
		const v = lift(F, i * C, C, d, (r) => eig.vectors[r * C + top]);
		values.push(lambda);
		vectors.push(v);
		residuals.push(residual(F, i * C, C, d, 1, v, lambda));
	}
	return Object.freeze({
		eigenvalues: Object.freeze(values),
		eigenvectors: Object.freeze(vectors),
		residuals: Object.freeze(residuals),
		residualKind: 'explicit',
		converged: Object.freeze(residuals.map((r, i) => r <= tol * Math.max(values[i], 1e-30) || values[i] === 0)),
		iterations: 1,
		matvecs: 0,
		tol,
		algorithm: 'per-sample C×C Gram eigendecomposition (exact)',
		operator: `input Gauss–Newton (per sample, ${b} samples, factored)`,
	});
}

/**
 * Top-k eigenpairs of the batch-mean G = FᵀF/b from the (b·C)×(b·C) Gram matrix, exactly.
 * Cost O((bC)²d + (bC)³) in float64 JS: a cross-check and a path for small batches; Lanczos on
 * the factored operator is faster for b·C in the hundreds.
 */
export function meanGaussNewtonEigenGram(f: GaussNewtonFactors, k: number, tol = 1e-8): EigenResult {
	const { batch: b, numClasses: C, dim: d, F } = f;
	const rows = b * C;
	if (!Number.isInteger(k) || k < 1 || k > Math.min(rows, d)) {
		throw new Error(`meanGaussNewtonEigenGram: k=${k} must be an integer in [1, ${Math.min(rows, d)}]`);
	}
	const eig = gramEigen(gram(F, 0, rows, d, 1 / b), rows);
	const values: number[] = [];
	const vectors: Float64Array[] = [];
	const residuals: number[] = [];
	for (let t = 0; t < k; t++) {
		const col = rows - 1 - t;
		const lambda = Math.max(eig.values[col], 0);
		const v = lift(F, 0, rows, d, (r) => eig.vectors[r * rows + col]);
		values.push(lambda);
		vectors.push(v);
		residuals.push(residual(F, 0, rows, d, 1 / b, v, lambda));
	}
	return Object.freeze({
		eigenvalues: Object.freeze(values),
		eigenvectors: Object.freeze(vectors),
		residuals: Object.freeze(residuals),
		residualKind: 'explicit',
		iterations: 1,
		matvecs: 0,
		converged: residuals.every((r, i) => r <= tol * Math.max(values[i], 1e-30)),
		tol,
		algorithm: `(b·C)×(b·C) Gram eigendecomposition (exact, ${rows}×${rows})`,
		operator: `input Gauss–Newton (batch mean, ${b} samples, factored)`,
	});
}
