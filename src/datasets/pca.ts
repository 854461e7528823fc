/**
 * Randomized PCA (Halko, Martinsson & Tropp 2011, subspace iteration) on a row sample, used to project rows into a
 * low-dimensional space for the nearest-neighbour index. Because the basis is orthonormal, projected distances never
 * exceed true distances, so a radius search in the projection misses no true neighbour; PCA only makes it selective.
 * Pure module.
 */
import { gaussian } from './random';

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

/**
 * Eigen-decomposition of a symmetric `n × n` matrix by cyclic Jacobi rotations.
 * @returns eigenvalues (descending) and the matching eigenvectors as columns of a row-major matrix
 */
export function symmetricEigen(m: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
	const a = Float64Array.from(m);
	const v = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		v[i * n + i] = 1;
	}
	for (let sweep = 0; sweep < 100; sweep++) {
		let off = 0;
		for (let p = 0; p < n; p++) {
			for (let q = p + 1; q < n; q++) {
				off += a[p * n + q] ** 2;
			}
		}
		if (off < 1e-22) {
			break;
		}
		for (let p = 0; p < n; p++) {
			for (let q = p + 1; q < n; q++) {
				const apq = a[p * n + q];
				if (Math.abs(apq) < 1e-300) {
					continue;
				}
				const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
				const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
				const c = 1 / Math.sqrt(t * t + 1);
				const s = t * c;
				for (let k = 0; k < n; k++) {
					const akp = a[k * n + p];
					const akq = a[k * n + q];
					a[k * n + p] = c * akp - s * akq;
					a[k * n + q] = s * akp + c * akq;
				}
				for (let k = 0; k < n; k++) {
					const apk = a[p * n + k];
					const aqk = a[q * n + k];
					a[p * n + k] = c * apk - s * aqk;
					a[q * n + k] = s * apk + c * aqk;
				}
				for (let k = 0; k < n; k++) {
					const vkp = v[k * n + p];
					const vkq = v[k * n + q];
					v[k * n + p] = c * vkp - s * vkq;
					v[k * n + q] = s * vkp + c * vkq;
				}
			}
		}
	}
	const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
	const values = Float64Array.from(order, (i) => a[i * n + i]);
	const vectors = new Float64Array(n * n);
	for (let r = 0; r < n; r++) {
		for (let c = 0; c < n; c++) {
			vectors[r * n + c] = v[r * n + order[c]];
		}
	}
	return { values, vectors };
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
	const { vectors } = symmetricEigen(g, l);
	const kk = Math.min(k, l);
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
