import { type DenseMatrix, LinalgError, assertFinite, assertSquare, assertSymmetric, formatValue, zeroMatrix } from './dense';

/** Sort order of eigenvalues in a result. */
export type EigenOrder = 'ascending' | 'descending';

/** Options for {@link symmetricEigen} and {@link tridiagonalEigen}. */
export interface SymmetricEigenOptions {
	/** Order of the returned eigenpairs. Default `'descending'` (top eigenpairs first, as curvature code wants). */
	readonly order?: EigenOrder;
	/** Name of the matrix in error messages. Default `'matrix'`. */
	readonly label?: string;
	/** Relative symmetry tolerance (|a_ij − a_ji| ≤ tol·max|a|). Default 1e-10. Only the lower triangle is used. */
	readonly symmetryTolerance?: number;
	/**
	 * Cap on implicit QL sweeps, summed over all eigenvalues. Default 30·n (the LAPACK convention);
	 * in practice 1–2 sweeps per eigenvalue suffice, so hitting the cap means non-finite or absurd input.
	 */
	readonly maxIterations?: number;
	/** Compute the residual norms ‖A v − λ v‖ (an extra O(n³)). Default true. */
	readonly residuals?: boolean;
}

/** Read-only record of a symmetric eigendecomposition A = V diag(λ) Vᵀ. */
export interface SymmetricEigenResult {
	/** Eigenvalues λ_j in the requested order. Shape (n). */
	readonly eigenvalues: Float64Array;
	/** Orthonormal eigenvectors, column j belongs to eigenvalues[j]. Shape (n, n). */
	readonly eigenvectors: DenseMatrix;
	/** ‖A v_j − λ_j v_j‖₂ for each pair, measured against the input; empty when `residuals: false`. Shape (n) or (0). */
	readonly residualNorms: Float64Array;
	/** Implicit QL sweeps used in total. */
	readonly iterations: number;
	/** True when every off-diagonal element fell below machine precision within `maxIterations`. */
	readonly converged: boolean;
}

const EPSILON = 2 ** -52;

interface ResolvedOptions {
	readonly order: EigenOrder;
	readonly label: string;
	readonly symmetryTolerance: number;
	readonly maxIterations: number;
	readonly residuals: boolean;
}

function resolveOptions(where: string, n: number, options: SymmetricEigenOptions): ResolvedOptions {
	const order = options.order ?? 'descending';
	if (order !== 'ascending' && order !== 'descending') {
		throw new LinalgError(`${where}: options.order must be 'ascending' or 'descending', got ${JSON.stringify(order)}`);
	}
	const symmetryTolerance = options.symmetryTolerance ?? 1e-10;
	if (!(symmetryTolerance >= 0)) {
		throw new LinalgError(`${where}: options.symmetryTolerance must be >= 0, got ${formatValue(symmetryTolerance)}`);
	}
	const maxIterations = options.maxIterations ?? 30 * Math.max(n, 1);
	if (!Number.isInteger(maxIterations) || maxIterations < 1) {
		throw new LinalgError(`${where}: options.maxIterations must be a positive integer, got ${formatValue(maxIterations)}`);
	}
	return { order, label: options.label ?? 'matrix', symmetryTolerance, maxIterations, residuals: options.residuals ?? true };
}

/**
 * Eigendecomposition of a real symmetric matrix: Householder reduction to tridiagonal form, then the
 * implicit QL algorithm with Wilkinson-type shifts (the EISPACK tred2/tql2 pair, as in JAMA).
 *
 * Backward stable: computed eigenvalues are exact for a matrix within O(ε‖A‖) of A, so the
 * residual norms are O(ε‖A‖) and the eigenvectors orthonormal to O(ε).
 *
 * @param a symmetric n×n matrix (the lower triangle is used after a symmetry check)
 * @param options order, label, tolerances, residuals
 * @returns eigenpairs plus residual norms, sweep count and convergence flag
 * @throws LinalgError for a non-square, non-finite or asymmetric input, or invalid options
 */
export function symmetricEigen(a: DenseMatrix, options: SymmetricEigenOptions = {}): SymmetricEigenResult {
	assertSquare('symmetricEigen', a, options.label);
	const n = a.rows;
	const opts = resolveOptions('symmetricEigen', n, options);
	assertFinite('symmetricEigen', a, opts.label);
	assertSymmetric('symmetricEigen', a, opts.symmetryTolerance, opts.label);
	const v = new Float64Array(n * n);
	// Symmetrise from the lower triangle so that rounding asymmetry in the input cannot leak in.
	for (let i = 0; i < n; i++) {
		for (let j = 0; j <= i; j++) {
			const x = a.data[i * n + j];
			v[i * n + j] = x;
			v[j * n + i] = x;
		}
	}
	const d = new Float64Array(n);
	const e = new Float64Array(n);
	if (n > 0) {
		householderTridiagonalise(n, v, d, e);
	}
	// QL rotates pairs of eigenvector columns; on the transpose those are contiguous rows.
	const vt = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		for (let k = 0; k < n; k++) {
			vt[i * n + k] = v[k * n + i];
		}
	}
	const { iterations, converged } = implicitQl(n, vt, d, e, opts.maxIterations);
	return finish(a.data, n, vt, d, opts, iterations, converged);
}

/**
 * Eigendecomposition of the symmetric tridiagonal matrix T with diagonal `diagonal` and
 * off-diagonal `offDiagonal` (T_{i,i+1} = T_{i+1,i} = offDiagonal[i]); the eigenproblem Lanczos
 * leaves behind.
 *
 * @param diagonal length n
 * @param offDiagonal length n − 1
 * @param options order, tolerances, residuals (`symmetryTolerance` is unused here)
 * @returns eigenpairs of T (eigenvectors in T's basis), residuals measured against T
 * @throws LinalgError on mismatched lengths or non-finite entries (named by index)
 */
export function tridiagonalEigen(diagonal: ArrayLike<number>, offDiagonal: ArrayLike<number>, options: SymmetricEigenOptions = {}): SymmetricEigenResult {
	const n = diagonal.length;
	const opts = resolveOptions('tridiagonalEigen', n, options);
	if (offDiagonal.length !== Math.max(n - 1, 0)) {
		throw new LinalgError(`tridiagonalEigen: offDiagonal has length ${offDiagonal.length}, expected ${Math.max(n - 1, 0)} (diagonal length ${n} minus 1)`);
	}
	const d = new Float64Array(n);
	const e = new Float64Array(n);
	const t = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		if (!Number.isFinite(diagonal[i])) {
			throw new LinalgError(`tridiagonalEigen: diagonal[${i}] = ${formatValue(diagonal[i])} is not finite`);
		}
		d[i] = diagonal[i];
		t[i * n + i] = diagonal[i];
		if (i > 0) {
			const b = offDiagonal[i - 1];
			if (!Number.isFinite(b)) {
				throw new LinalgError(`tridiagonalEigen: offDiagonal[${i - 1}] = ${formatValue(b)} is not finite`);
			}
			// tql2 wants e[i] to couple rows i−1 and i.
			e[i] = b;
			t[i * n + i - 1] = b;
			t[(i - 1) * n + i] = b;
		}
	}
	const vt = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		vt[i * n + i] = 1;
	}
	const { iterations, converged } = implicitQl(n, vt, d, e, opts.maxIterations);
	return finish(t, n, vt, d, opts, iterations, converged);
}

/** `vt` holds the eigenvectors as rows (vt[i·n + k] = component k of eigenvector i). */
function finish(
	original: Float64Array,
	n: number,
	vt: Float64Array,
	d: Float64Array,
	opts: ResolvedOptions,
	iterations: number,
	converged: boolean,
): SymmetricEigenResult {
	const index = Array.from({ length: n }, (_, i) => i);
	index.sort((p, q) => (opts.order === 'ascending' ? d[p] - d[q] : d[q] - d[p]));
	const eigenvalues = new Float64Array(n);
	const vectors = zeroMatrix(n, n);
	for (let j = 0; j < n; j++) {
		const src = index[j];
		eigenvalues[j] = d[src];
		for (let k = 0; k < n; k++) {
			vectors.data[k * n + j] = vt[src * n + k];
		}
	}
	const residualNorms = opts.residuals ? eigenResidualNorms(original, n, eigenvalues, vectors.data) : new Float64Array(0);
	return Object.freeze({ eigenvalues, eigenvectors: vectors, residualNorms, iterations, converged });
}

function eigenResidualNorms(a: Float64Array, n: number, lambda: Float64Array, vectors: Float64Array): Float64Array {
	const out = new Float64Array(n);
	const r = new Float64Array(n);
	for (let j = 0; j < n; j++) {
		for (let i = 0; i < n; i++) {
			let s = -lambda[j] * vectors[i * n + j];
			const row = i * n;
			for (let k = 0; k < n; k++) {
				s += a[row + k] * vectors[k * n + j];
			}
			r[i] = s;
		}
		let ss = 0;
		for (let i = 0; i < n; i++) {
			ss += r[i] * r[i];
		}
		out[j] = Math.sqrt(ss);
	}
	return out;
}

/**
 * Householder reduction of the symmetric matrix in `v` (row-major, overwritten with the orthogonal
 * transformation) to tridiagonal form with diagonal `d` and sub-diagonal `e` (e[i] couples i−1, i).
 * EISPACK tred2 as transcribed in JAMA; the scaling by `scale` avoids under/overflow.
 */
function householderTridiagonalise(n: number, v: Float64Array, d: Float64Array, e: Float64Array): void {
	for (let j = 0; j < n; j++) {
		d[j] = v[(n - 1) * n + j];
	}
	for (let i = n - 1; i > 0; i--) {
		let scale = 0;
		let h = 0;
		for (let k = 0; k < i; k++) {
			scale += Math.abs(d[k]);
		}
		if (scale === 0) {
			e[i] = d[i - 1];
			for (let j = 0; j < i; j++) {
				d[j] = v[(i - 1) * n + j];
				v[i * n + j] = 0;
				v[j * n + i] = 0;
			}
		} else {
			for (let k = 0; k < i; k++) {
				d[k] /= scale;
				h += d[k] * d[k];
			}
			let f = d[i - 1];
			let g = Math.sqrt(h);
			if (f > 0) {
				g = -g;
			}
			e[i] = scale * g;
			h -= f * g;
			d[i - 1] = f - g;
			for (let j = 0; j < i; j++) {
				e[j] = 0;
			}
			for (let j = 0; j < i; j++) {
				f = d[j];
				v[j * n + i] = f;
				g = e[j] + v[j * n + j] * f;
				for (let k = j + 1; k <= i - 1; k++) {
					g += v[k * n + j] * d[k];
					e[k] += v[k * n + j] * f;
				}
				e[j] = g;
			}
			f = 0;
			for (let j = 0; j < i; j++) {
				e[j] /= h;
				f += e[j] * d[j];
			}
			const hh = f / (h + h);
			for (let j = 0; j < i; j++) {
				e[j] -= hh * d[j];
			}
			for (let j = 0; j < i; j++) {
				f = d[j];
				g = e[j];
				for (let k = j; k <= i - 1; k++) {
					v[k * n + j] -= f * e[k] + g * d[k];
				}
				d[j] = v[(i - 1) * n + j];
				v[i * n + j] = 0;
			}
		}
		d[i] = h;
	}
	for (let i = 0; i < n - 1; i++) {
		v[(n - 1) * n + i] = v[i * n + i];
		v[i * n + i] = 1;
		const h = d[i + 1];
		if (h !== 0) {
			for (let k = 0; k <= i; k++) {
				d[k] = v[k * n + i + 1] / h;
			}
			for (let j = 0; j <= i; j++) {
				let g = 0;
				for (let k = 0; k <= i; k++) {
					g += v[k * n + i + 1] * v[k * n + j];
				}
				for (let k = 0; k <= i; k++) {
					v[k * n + j] -= g * d[k];
				}
			}
		}
		for (let k = 0; k <= i; k++) {
			v[k * n + i + 1] = 0;
		}
	}
	for (let j = 0; j < n; j++) {
		d[j] = v[(n - 1) * n + j];
		v[(n - 1) * n + j] = 0;
	}
	v[(n - 1) * n + n - 1] = 1;
	e[0] = 0;
}

/**
 * Implicit QL iteration on the tridiagonal (d, e) with e[i] coupling i−1 and i, accumulating the
 * rotations into the rows of `vt` (EISPACK tql2 on the transposed eigenvector matrix). Deflates
 * when |e| ≤ ε·max(|d|+|e|) so far.
 */
function implicitQl(n: number, vt: Float64Array, d: Float64Array, e: Float64Array, maxIterations: number): { iterations: number; converged: boolean } {
	for (let i = 1; i < n; i++) {
		e[i - 1] = e[i];
	}
	if (n > 0) {
		e[n - 1] = 0;
	}
	let f = 0;
	let tst1 = 0;
	let iterations = 0;
	let converged = true;
	for (let l = 0; l < n; l++) {
		tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
		let m = l;
		while (m < n - 1) {
			if (Math.abs(e[m]) <= EPSILON * tst1) {
				break;
			}
			m++;
		}
		if (m > l) {
			do {
				if (iterations >= maxIterations) {
					converged = false;
					break;
				}
				iterations++;
				let g = d[l];
				let p = (d[l + 1] - g) / (2 * e[l]);
				let r = Math.hypot(p, 1);
				if (p < 0) {
					r = -r;
				}
				d[l] = e[l] / (p + r);
				d[l + 1] = e[l] * (p + r);
				const dl1 = d[l + 1];
				let h = g - d[l];
				for (let i = l + 2; i < n; i++) {
					d[i] -= h;
				}
				f += h;
				p = d[m];
				let c = 1;
				let c2 = c;
				let c3 = c;
				const el1 = e[l + 1];
				let s = 0;
				let s2 = 0;
				for (let i = m - 1; i >= l; i--) {
					c3 = c2;
					c2 = c;
					s2 = s;
					g = c * e[i];
					h = c * p;
					r = Math.hypot(p, e[i]);
					e[i + 1] = s * r;
					s = e[i] / r;
					c = p / r;
					p = c * d[i] - s * g;
					d[i + 1] = h + s * (c * g + s * d[i]);
					const rowI = i * n;
					const rowNext = rowI + n;
					for (let k = 0; k < n; k++) {
						h = vt[rowNext + k];
						vt[rowNext + k] = s * vt[rowI + k] + c * h;
						vt[rowI + k] = c * vt[rowI + k] - s * h;
					}
				}
				p = (-s * s2 * c3 * el1 * e[l]) / dl1;
				e[l] = s * p;
				d[l] = c * p;
			} while (Math.abs(e[l]) > EPSILON * tst1);
		}
		d[l] += f;
		e[l] = 0;
	}
	return { iterations, converged };
}
