/**
 * Dense symmetric eigensolvers in float64 JS: Householder tridiagonalisation (tred2) and the
 * implicit QL algorithm (tql2), after the public-domain JAMA / EISPACK routines. Used for the
 * Lanczos tridiagonal T_m (m ≤ a few hundred), the per-sample C×C Gauss–Newton Gram matrices
 * and the exact (n·C)×(n·C) Gram path.
 */

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
 * off-diagonal `beta` (length m−1).
 */
export function tridiagonalEigen(alpha: ArrayLike<number>, beta: ArrayLike<number>): SymmetricEigen {
	const n = alpha.length;
	if (beta.length < n - 1) {
		throw new Error(`tridiagonalEigen: beta has length ${beta.length}, need ${n - 1}`);
	}
	const d = Float64Array.from(alpha);
	const e = new Float64Array(n);
	for (let i = 1; i < n; i++) {
		e[i] = beta[i - 1];
	}
	const V = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		V[i * n + i] = 1;
	}
	tql2(n, V, d, e);
	return { values: d, vectors: V, n };
}

/** Eigenpairs of a dense symmetric matrix given row-major (only symmetry up to rounding is assumed). */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
	if (a.length !== n * n) {
		throw new Error(`symmetricEigen: matrix has ${a.length} entries, expected ${n}x${n}`);
	}
	const V = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < n; j++) {
			V[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
		}
	}
	const d = new Float64Array(n);
	const e = new Float64Array(n);
	tred2(n, V, d, e);
	tql2(n, V, d, e);
	return { values: d, vectors: V, n };
}

/** Householder reduction to tridiagonal form; V is overwritten with the accumulated transform. */
function tred2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
	for (let j = 0; j < n; j++) {
		d[j] = V[(n - 1) * n + j];
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
				d[j] = V[(i - 1) * n + j];
				V[i * n + j] = 0;
				V[j * n + i] = 0;
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
				V[j * n + i] = f;
				g = e[j] + V[j * n + j] * f;
				for (let k = j + 1; k <= i - 1; k++) {
					g += V[k * n + j] * d[k];
					e[k] += V[k * n + j] * f;
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
					V[k * n + j] -= f * e[k] + g * d[k];
				}
				d[j] = V[(i - 1) * n + j];
				V[i * n + j] = 0;
			}
		}
		d[i] = h;
	}
	for (let i = 0; i < n - 1; i++) {
		V[(n - 1) * n + i] = V[i * n + i];
		V[i * n + i] = 1;
		const h = d[i + 1];
		if (h !== 0) {
			for (let k = 0; k <= i; k++) {
				d[k] = V[k * n + i + 1] / h;
			}
			for (let j = 0; j <= i; j++) {
				let g = 0;
				for (let k = 0; k <= i; k++) {
					g += V[k * n + i + 1] * V[k * n + j];
				}
				for (let k = 0; k <= i; k++) {
					V[k * n + j] -= g * d[k];
				}
			}
		}
		for (let k = 0; k <= i; k++) {
			V[k * n + i + 1] = 0;
		}
	}
	for (let j = 0; j < n; j++) {
		d[j] = V[(n - 1) * n + j];
		V[(n - 1) * n + j] = 0;
	}
	V[(n - 1) * n + n - 1] = 1;
	e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e[1..n-1]); accumulates into V; sorts ascending. */
function tql2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
	for (let i = 1; i < n; i++) {
		e[i - 1] = e[i];
	}
	if (n > 0) {
		e[n - 1] = 0;
	}
	let f = 0;
	let tst1 = 0;
	const eps = 2 ** -52;
	for (let l = 0; l < n; l++) {
		tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
		let m = l;
		while (m < n) {
			if (Math.abs(e[m]) <= eps * tst1) {
				break;
			}
			m++;
		}
		if (m > l) {
			let iter = 0;
			do {
				iter++;
				if (iter > 300) {
					throw new Error(`tql2: no convergence for eigenvalue ${l} of ${n}`);
				}
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
					for (let k = 0; k < n; k++) {
						h = V[k * n + i + 1];
						V[k * n + i + 1] = s * V[k * n + i] + c * h;
						V[k * n + i] = c * V[k * n + i] - s * h;
					}
				}
				p = (-s * s2 * c3 * el1 * e[l]) / dl1;
				e[l] = s * p;
				d[l] = c * p;
			} while (Math.abs(e[l]) > eps * tst1);
		}
		d[l] = d[l] + f;
		e[l] = 0;
	}
	for (let i = 0; i < n - 1; i++) {
		let k = i;
		let p = d[i];
		for (let j = i + 1; j < n; j++) {
			if (d[j] < p) {
				k = j;
				p = d[j];
			}
		}
		if (k !== i) {
			d[k] = d[i];
			d[i] = p;
			for (let j = 0; j < n; j++) {
				const t = V[j * n + i];
				V[j * n + i] = V[j * n + k];
				V[j * n + k] = t;
			}
		}
	}
}
