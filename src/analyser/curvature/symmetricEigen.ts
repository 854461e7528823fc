/**
 * The curvature code's view of the dense float64 eigensolvers in src/math/linalg (Householder tridiagonalisation
 * + implicit QL, EISPACK tred2/tql2): ascending eigenvalues and a flat row-major eigenvector matrix, without the
 * residual pass (Lanczos and the Gauss–Newton paths compute their own residuals against the operator).
 * Used for the Lanczos tridiagonal T_m, the per-sample C×C Gauss–Newton Gram matrices and the exact (n·C)×(n·C) path.
 */
import { symmetricEigen as denseSymmetricEigen, tridiagonalEigen as denseTridiagonalEigen } from '../../math/linalg/symmetricEigen';

/** Eigen-decomposition of a symmetric matrix: values ascending, vectors as columns. */
export interface SymmetricEigen {
	/** Ascending. Shape (n). */
	readonly values: Float64Array;
	/** Column j (entries vectors[i*n + j]) is the unit eigenvector of values[j]. Shape (n, n), row-major. */
	readonly vectors: Float64Array;
	readonly n: number;
}

/**
 * Eigenpairs of the symmetric tridiagonal matrix with diagonal `alpha` (length m) and
 * off-diagonal `beta` (length ≥ m−1; entries past m−1 are ignored).
 */
export function tridiagonalEigen(alpha: ArrayLike<number>, beta: ArrayLike<number>): SymmetricEigen {
	const n = alpha.length;
	if (beta.length < n - 1) {
		throw new Error(`tridiagonalEigen: beta has length ${beta.length}, need ${n - 1}`);
	}
	const off = Float64Array.from({ length: Math.max(n - 1, 0) }, (_, i) => beta[i]);
	const r = denseTridiagonalEigen(alpha, off, { order: 'ascending', residuals: false, label: 'Lanczos T' });
	return { values: r.eigenvalues, vectors: r.eigenvectors.data, n };
}

/** Eigenpairs of a dense symmetric matrix given row-major; it is symmetrised as (A + Aᵀ)/2 first (rounding asymmetry). */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
	if (a.length !== n * n) {
		throw new Error(`symmetricEigen: matrix has ${a.length} entries, expected ${n}x${n}`);
	}
	const data = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < n; j++) {
			data[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
		}
	}
	const r = denseSymmetricEigen({ rows: n, cols: n, data }, { order: 'ascending', residuals: false, label: 'Gram matrix' });
	return { values: r.eigenvalues, vectors: r.eigenvectors.data, n };
}
