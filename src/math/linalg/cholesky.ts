import { type DenseMatrix, LinalgError, assertFinite, assertSquare, assertSymmetric, formatValue, zeroMatrix } from './dense';

/** Options for {@link cholesky}. */
export interface CholeskyOptions {
	/** Name of the matrix in error messages, e.g. `'K + cI'`. Default `'matrix'`. */
	readonly label?: string;
	/**
	 * Relative symmetry tolerance checked before factorising (|a_ij − a_ji| ≤ tol·max|a|).
	 * Default 1e-10; the factorisation reads only the lower triangle, so an asymmetric input
	 * would otherwise be factorised silently as something else.
	 */
	readonly symmetryTolerance?: number;
}

/**
 * Cholesky factorisation A = L·Lᵀ of a symmetric positive-definite matrix.
 *
 * Plain row-oriented Cholesky–Banachiewicz in float64; backward stable for SPD input, so no
 * pivoting is needed.
 *
 * @param a symmetric positive-definite n×n matrix (only the lower triangle is read after the symmetry check)
 * @param options label for messages and the symmetry tolerance
 * @returns the lower-triangular factor L (upper triangle zero)
 * @throws LinalgError when `a` is not square, has a non-finite entry, is not symmetric, or a pivot
 *   is not positive (the message gives the pivot index and value)
 */
export function cholesky(a: DenseMatrix, options: CholeskyOptions = {}): DenseMatrix {
	const label = options.label ?? 'matrix';
	const symmetryTolerance = options.symmetryTolerance ?? 1e-10;
	if (!(symmetryTolerance >= 0)) {
		throw new LinalgError(`cholesky: options.symmetryTolerance must be >= 0, got ${formatValue(symmetryTolerance)}`);
	}
	assertSquare('cholesky', a, label);
	assertFinite('cholesky', a, label);
	assertSymmetric('cholesky', a, symmetryTolerance, label);
	const n = a.rows;
	const l = zeroMatrix(n, n);
	const L = l.data;
	const A = a.data;
	for (let i = 0; i < n; i++) {
		const rowI = i * n;
		for (let j = 0; j <= i; j++) {
			const rowJ = j * n;
			let s = A[rowI + j];
			for (let k = 0; k < j; k++) {
				s -= L[rowI + k] * L[rowJ + k];
			}
			if (i === j) {
				if (!(s > 0)) {
					throw new LinalgError(
						`cholesky: ${label} is not positive definite: pivot ${i} = ${formatValue(s)} ` +
						`(diagonal entry (${i}, ${i}) = ${formatValue(A[rowI + i])})`,
					);
				}
				L[rowI + i] = Math.sqrt(s);
			} else {
				L[rowI + j] = s / L[rowJ + j];
			}
		}
	}
	return l;
}

/** Options for {@link solveTriangular}. */
export interface TriangularSolveOptions {
	/** Solve with Lᵀ (an upper-triangular system) instead of L. Default false. */
	readonly transpose?: boolean;
}

function checkRhs(where: string, n: number, b: DenseMatrix | Float64Array): void {
	const rows = b instanceof Float64Array ? b.length : b.rows;
	if (rows !== n) {
		throw new LinalgError(`${where}: right-hand side has ${rows} rows, expected ${n}`);
	}
}

/**
 * Solves L·x = b (or Lᵀ·x = b with `{ transpose: true }`) for lower-triangular L.
 *
 * @param l lower-triangular n×n matrix with a non-zero diagonal (the upper triangle is ignored)
 * @param b right-hand side: a vector of length n, or an n×k matrix solved column by column
 * @returns a new vector or matrix holding x
 * @throws LinalgError on a shape mismatch or a zero diagonal entry (named by index)
 */
export function solveTriangular(l: DenseMatrix, b: Float64Array, options?: TriangularSolveOptions): Float64Array;
export function solveTriangular(l: DenseMatrix, b: DenseMatrix, options?: TriangularSolveOptions): DenseMatrix;
export function solveTriangular(l: DenseMatrix, b: Float64Array | DenseMatrix, options: TriangularSolveOptions = {}): Float64Array | DenseMatrix {
	assertSquare('solveTriangular', l, 'L');
	const n = l.rows;
	checkRhs('solveTriangular', n, b);
	const L = l.data;
	for (let i = 0; i < n; i++) {
		if (L[i * n + i] === 0 || !Number.isFinite(L[i * n + i])) {
			throw new LinalgError(`solveTriangular: diagonal entry (${i}, ${i}) of L = ${formatValue(L[i * n + i])} (must be finite and non-zero)`);
		}
	}
	const k = b instanceof Float64Array ? 1 : b.cols;
	const x = Float64Array.from(b instanceof Float64Array ? b : b.data);
	if (options.transpose === true) {
		// Back substitution with Lᵀ: (Lᵀ)_ij = L_ji.
		for (let i = n - 1; i >= 0; i--) {
			for (let c = 0; c < k; c++) {
				let s = x[i * k + c];
				for (let j = i + 1; j < n; j++) {
					s -= L[j * n + i] * x[j * k + c];
				}
				x[i * k + c] = s / L[i * n + i];
			}
		}
	} else {
		for (let i = 0; i < n; i++) {
			for (let c = 0; c < k; c++) {
				let s = x[i * k + c];
				for (let j = 0; j < i; j++) {
					s -= L[i * n + j] * x[j * k + c];
				}
				x[i * k + c] = s / L[i * n + i];
			}
		}
	}
	return b instanceof Float64Array ? x : { rows: n, cols: k, data: x };
}

/**
 * Solves A·x = b given the Cholesky factor L of A (A = L·Lᵀ).
 * @param l the factor returned by {@link cholesky}
 * @param b a vector of length n, or an n×k matrix
 */
export function choleskySolve(l: DenseMatrix, b: Float64Array): Float64Array;
export function choleskySolve(l: DenseMatrix, b: DenseMatrix): DenseMatrix;
export function choleskySolve(l: DenseMatrix, b: Float64Array | DenseMatrix): Float64Array | DenseMatrix {
	if (b instanceof Float64Array) {
		return solveTriangular(l, solveTriangular(l, b), { transpose: true });
	}
	return solveTriangular(l, solveTriangular(l, b), { transpose: true });
}

/** Returns log det A = 2 Σ log L_ii from the Cholesky factor L. */
export function choleskyLogDeterminant(l: DenseMatrix): number {
	let s = 0;
	for (let i = 0; i < l.rows; i++) {
		s += Math.log(l.data[i * l.cols + i]);
	}
	return 2 * s;
}
