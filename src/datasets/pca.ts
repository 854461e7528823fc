/**
 * Randomized PCA (Halko, Martinsson & Tropp 2011, subspace iteration) on a row sample, used to project rows into a
 * low-dimensional space for the nearest-neighbour index. Because the basis is orthonormal, projected distances never
 * exceed true distances, so a radius search in the projection misses no true neighbour; PCA only makes it selective.
 * Pure module.
 */
import { gaussian } from '../math/random';
import { symmetricEigen } from '../math/linalg';

/** Feature matrix view: row `r` is `data[r*dim .. r*dim+dim)`, read through `(x - mean) * scale`. */
export interface ScaledMatrix {
	readonly data: Float32Array;
	readonly dim: number;
	readonly mean: Float64Array;
	readonly scale: Float64Array;
}

/** Orthonormalises the `cols` columns of a row-major `rows × cols` matrix in place (modified Gram-Schmidt). */
export function orthonormaliseColumns(a: Float64Array, rows: number, cols: number): void {
	for (let c = 0; c < cols; c++) {
		for (let p = 0; p < c; p++) {
			let dot = 0;
			for (let r = 0; r < rows; r++) {
				dot += a[r * cols + c] * a[r * cols + p];
			}
			for (let r = 0; r < rows; r++) {
				a[r * cols + c] -= dot * a[r * cols + p];
			}
		}
		let norm = 0;
		for (let r = 0; r < rows; r++) {
			norm += a[r * cols + c] ** 2;
		}
		norm = Math.sqrt(norm);
		// A zero column (rank-deficient sample) stays zero; the eigen step then gives it a zero eigenvalue.
		const inv = norm > 1e-12 ? 1 / norm : 0;
		for (let r = 0; r < rows; r++) {
			a[r * cols + c] *= inv;
		}
	}
}

/** YᵀY for the row-major `m × l` matrix Y (exactly symmetric). */
function gramOfColumns(y: Float64Array, m: number, l: number): Float64Array {
	const g = new Float64Array(l * l);
	for (let i = 0; i < m; i++) {
		for (let a = 0; a < l; a++) {
			const ya = y[i * l + a];
			for (let b = a; b < l; b++) {
				g[a * l + b] += ya * y[i * l + b];
			}
		}
	}
	for (let a = 0; a < l; a++) {
		for (let b = 0; b < a; b++) {
			g[a * l + b] = g[b * l + a];
		}
	}
	return g;
}

/**
 * Top-`k` principal directions of the rows `sample` of `x`.
 * @returns a row-major `dim × k` matrix with orthonormal columns (fewer useful columns if the sample has lower rank)
 */
export function randomizedPca(x: ScaledMatrix, sample: Int32Array, k: number, uniform: () => number, powerIterations = 1): Float64Array {
	const d = x.dim;
	const m = sample.length;
	const l = Math.min(d, k + 6);
	const s = new Float64Array(m * d);
	for (let i = 0; i < m; i++) {
		const base = sample[i] * d;
		for (let j = 0; j < d; j++) {
			s[i * d + j] = (x.data[base + j] - x.mean[j]) * x.scale[j];
		}
	}
	const normal = gaussian(uniform);
	let z = new Float64Array(d * l);
	for (let i = 0; i < z.length; i++) {
		z[i] = normal();
	}
	const y = new Float64Array(m * l);
	const mulSZ = (): void => {
		y.fill(0);
		for (let i = 0; i < m; i++) {
			for (let j = 0; j < d; j++) {
				const sij = s[i * d + j];
				if (sij === 0) {
					continue;
				}
				for (let c = 0; c < l; c++) {
					y[i * l + c] += sij * z[j * l + c];
				}
			}
		}
	};
	const mulStY = (): void => {
		z = new Float64Array(d * l);
		for (let i = 0; i < m; i++) {
			for (let j = 0; j < d; j++) {
				const sij = s[i * d + j];
				if (sij === 0) {
					continue;
				}
				for (let c = 0; c < l; c++) {
					z[j * l + c] += sij * y[i * l + c];
				}
			}
		}
		orthonormaliseColumns(z, d, l);
	};
	for (let it = 0; it <= powerIterations; it++) {
		mulSZ();
		mulStY();
	}
	mulSZ();
	const g = gramOfColumns(y, m, l);
	const kk = Math.min(k, l);
	if (!g.every(Number.isFinite)) {
		// Features too large to square in float64 (|x| above ~1e154) overflow the sketch. Coordinate axes are still an
		// orthonormal projection (distances only shrink), so the radius search stays a superset, only less selective.
		const axes = new Float64Array(d * kk);
		for (let c = 0; c < kk; c++) {
			axes[c * kk + c] = 1;
		}
		return axes;
	}
	const vectors = symmetricEigen({ rows: l, cols: l, data: g }, { order: 'descending', residuals: false, symmetryTolerance: 0, label: 'PCA Gram matrix' }).eigenvectors.data;
	const out = new Float64Array(d * kk);
	for (let j = 0; j < d; j++) {
		for (let c = 0; c < kk; c++) {
			let acc = 0;
			for (let b = 0; b < l; b++) {
				acc += z[j * l + b] * vectors[b * l + c];
			}
			out[j * kk + c] = acc;
		}
	}
	return out;
}
