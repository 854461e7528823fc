/**
 * Linear models for experiment 2 in plain float64 (no tfjs: the input Hessians are exact closed
 * forms, docs/science.md §3): softmax regression trained by seeded mini-batch SGD, multi-output ridge
 * regression solved by Cholesky, and the top eigenpair of their input Hessians
 *
 *   softmax, cross-entropy: ∇²_x L = Wᵀ (diag p − p pᵀ) W   (depends on x through p, not on the label)
 *   ridge, squared loss:    ∇²_x L = Wᵀ W                    (constant)
 *
 * computed in the k-dimensional class space (k = 10 ≪ d = 784): for H = Wᵀ A W with A PSD,
 * H's non-zero eigenpairs are (μ, Wᵀ A^{1/2} u / √μ) for the eigenpairs (μ, u) of A^{1/2} W Wᵀ A^{1/2}.
 */
import { cholesky, choleskySolve, symmetricEigen } from '../../src/math/linalg';
import { mulberry32 } from '../../src/math/random';
import { cos2 } from '../../src/analyser/analysis/robust';

/** A linear classifier: logits = W x + b. */
export interface LinearModel {
	/** k × d, row-major. */
	readonly weights: Float64Array;
	readonly bias: Float64Array;
	readonly classes: number;
	readonly dimension: number;
}

/** Softmax of one logit vector (stable). */
export function softmax(z: Float64Array): Float64Array {
	let m = -Infinity;
	for (const v of z) {
		m = Math.max(m, v);
	}
	const p = new Float64Array(z.length);
	let s = 0;
	for (let i = 0; i < z.length; i++) {
		p[i] = Math.exp(z[i] - m);
		s += p[i];
	}
	for (let i = 0; i < z.length; i++) {
		p[i] /= s;
	}
	return p;
}

/** Logits W x + b for the item at `offset` of `images`. */
export function logits(model: LinearModel, images: Float32Array | Float64Array, offset: number): Float64Array {
	const { classes: k, dimension: d, weights: w, bias: b } = model;
	const z = new Float64Array(k);
	for (let c = 0; c < k; c++) {
		let s = b[c];
		const row = c * d;
		for (let j = 0; j < d; j++) {
			s += w[row + j] * images[offset + j];
		}
		z[c] = s;
	}
	return z;
}

/** Predicted classes of `count` items stored back to back. */
export function predict(model: LinearModel, images: Float32Array | Float64Array, count: number): Int32Array {
	const out = new Int32Array(count);
	for (let i = 0; i < count; i++) {
		const z = logits(model, images, i * model.dimension);
		let best = 0;
		for (let c = 1; c < z.length; c++) {
			if (z[c] > z[best]) {
				best = c;
			}
		}
		out[i] = best;
	}
	return out;
}

/** Options of {@link trainSoftmax}. */
export interface SoftmaxOptions {
	readonly classes: number;
	readonly epochs: number;
	readonly batchSize: number;
	readonly learningRate: number;
	/** L2 penalty (weightDecay/2)‖W‖² on the weights (not the bias). */
	readonly weightDecay: number;
	readonly seed: number;
}

/** Softmax regression by mini-batch SGD on the mean cross-entropy, seeded shuffles, zero init. */
export function trainSoftmax(images: Float32Array, labels: Int32Array, options: SoftmaxOptions): LinearModel {
	const n = labels.length;
	const d = images.length / n;
	if (!Number.isInteger(d)) {
		throw new Error(`trainSoftmax: ${images.length} values for ${n} labels`);
	}
	const k = options.classes;
	const w = new Float64Array(k * d);
	const b = new Float64Array(k);
	const model: LinearModel = { weights: w, bias: b, classes: k, dimension: d };
	const rand = mulberry32(options.seed);
	const order = Int32Array.from({ length: n }, (_, i) => i);
	const gw = new Float64Array(k * d);
	const gb = new Float64Array(k);
	for (let epoch = 0; epoch < options.epochs; epoch++) {
		for (let i = n - 1; i > 0; i--) {
			const j = Math.floor(rand() * (i + 1));
			const t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (let start = 0; start < n; start += options.batchSize) {
			const end = Math.min(n, start + options.batchSize);
			gw.fill(0);
			gb.fill(0);
			for (let q = start; q < end; q++) {
				const i = order[q];
				const off = i * d;
				const p = softmax(logits(model, images, off));
				p[labels[i]] -= 1;
				for (let c = 0; c < k; c++) {
					const e = p[c];
					gb[c] += e;
					if (e === 0) {
						continue;
					}
					const row = c * d;
					for (let j = 0; j < d; j++) {
						gw[row + j] += e * images[off + j];
					}
				}
			}
			const scale = options.learningRate / (end - start);
			const decay = 1 - options.learningRate * options.weightDecay;
			for (let t = 0; t < w.length; t++) {
				w[t] = decay * w[t] - scale * gw[t];
			}
			for (let c = 0; c < k; c++) {
				b[c] -= scale * gb[c];
			}
		}
	}
	return model;
}

/**
 * Multi-output ridge regression on one-hot targets with an unpenalised intercept:
 * minimise ½Σ‖W x_i + b − y_i‖² + (λ/2)‖W‖², solved on centred data by Cholesky.
 */
export function trainRidge(images: Float32Array, labels: Int32Array, classes: number, lambda: number): LinearModel {
	const n = labels.length;
	const d = images.length / n;
	const mean = new Float64Array(d);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < d; j++) {
			mean[j] += images[i * d + j];
		}
	}
	for (let j = 0; j < d; j++) {
		mean[j] /= n;
	}
	const yMean = new Float64Array(classes);
	for (let i = 0; i < n; i++) {
		yMean[labels[i]] += 1 / n;
	}
	// Gram XcᵀXc + λI and XcᵀYc, accumulated row by row (upper triangle, then mirrored).
	const g = new Float64Array(d * d);
	const xy = new Float64Array(d * classes);
	const xc = new Float64Array(d);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < d; j++) {
			xc[j] = images[i * d + j] - mean[j];
		}
		for (let a = 0; a < d; a++) {
			const va = xc[a];
			if (va === 0) {
				continue;
			}
			const row = a * d;
			for (let c = a; c < d; c++) {
				g[row + c] += va * xc[c];
			}
			for (let c = 0; c < classes; c++) {
				xy[a * classes + c] += va * ((labels[i] === c ? 1 : 0) - yMean[c]);
			}
		}
	}
	for (let a = 0; a < d; a++) {
		g[a * d + a] += lambda;
		for (let c = 0; c < a; c++) {
			g[a * d + c] = g[c * d + a];
		}
	}
	const sol = choleskySolve(cholesky({ rows: d, cols: d, data: g }, { label: 'ridge Gram matrix' }), { rows: d, cols: classes, data: xy });
	const w = new Float64Array(classes * d);
	const b = new Float64Array(classes);
	for (let c = 0; c < classes; c++) {
		let s = yMean[c];
		for (let j = 0; j < d; j++) {
			const v = sol.data[j * classes + c];
			w[c * d + j] = v;
			s -= v * mean[j];
		}
		b[c] = s;
	}
	return { weights: w, bias: b, classes, dimension: d };
}

/** Top eigenpair of an input Hessian. */
export interface TopEigen {
	readonly value: number;
	/** Unit vector, length d. */
	readonly vector: Float64Array;
	/** Second eigenvalue (for the gap λ1/λ2). */
	readonly second: number;
	/** All non-trivial eigenpairs (at most k), descending. */
	readonly all: readonly { readonly value: number; readonly vector: Float64Array }[];
}

/**
 * Top eigenpair of H = Wᵀ A W for a PSD k×k matrix A (row-major), through the k×k matrix
 * A^{1/2} W Wᵀ A^{1/2}; exact, O(k²d + k³).
 */
export function topEigenOfSandwich(model: LinearModel, a: Float64Array): TopEigen {
	const { classes: k, dimension: d, weights: w } = model;
	const ea = symmetricEigen({ rows: k, cols: k, data: a });
	// A^{1/2} = V diag(√max(μ, 0)) Vᵀ.
	const root = new Float64Array(k * k);
	for (let t = 0; t < k; t++) {
		const mu = Math.sqrt(Math.max(0, ea.eigenvalues[t]));
		if (mu === 0) {
			continue;
		}
		for (let i = 0; i < k; i++) {
			const vi = ea.eigenvectors.data[i * k + t] * mu;
			for (let j = 0; j < k; j++) {
				root[i * k + j] += vi * ea.eigenvectors.data[j * k + t];
			}
		}
	}
	// B = A^{1/2} W (k × d); M = B Bᵀ.
	const bm = new Float64Array(k * d);
	for (let i = 0; i < k; i++) {
		for (let c = 0; c < k; c++) {
			const r = root[i * k + c];
			if (r === 0) {
				continue;
			}
			for (let j = 0; j < d; j++) {
				bm[i * d + j] += r * w[c * d + j];
			}
		}
	}
	const m = new Float64Array(k * k);
	for (let i = 0; i < k; i++) {
		for (let j = i; j < k; j++) {
			let s = 0;
			for (let t = 0; t < d; t++) {
				s += bm[i * d + t] * bm[j * d + t];
			}
			m[i * k + j] = s;
			m[j * k + i] = s;
		}
	}
	const em = symmetricEigen({ rows: k, cols: k, data: m });
	const all: { value: number; vector: Float64Array }[] = [];
	for (let t = 0; t < k; t++) {
		const vector = new Float64Array(d);
		for (let i = 0; i < k; i++) {
			const u = em.eigenvectors.data[i * k + t];
			for (let j = 0; j < d; j++) {
				vector[j] += u * bm[i * d + j];
			}
		}
		let norm = 0;
		for (const v of vector) {
			norm += v * v;
		}
		norm = Math.sqrt(norm);
		if (norm > 0) {
			for (let j = 0; j < d; j++) {
				vector[j] /= norm;
			}
		}
		all.push({ value: em.eigenvalues[t], vector });
	}
	return { value: all[0].value, vector: all[0].vector, second: k > 1 ? all[1].value : 0, all };
}

/**
 * The eigenpair most aligned with a direction t (largest cos²), with its rank (1 = top): the
 * poison-aligned mode, which need not be the top one.
 */
export function alignedEigen(e: TopEigen, t: ArrayLike<number>): { value: number; overlap: number; rank: number } {
	let best = { value: Number.NaN, overlap: -1, rank: 0 };
	e.all.forEach((p, i) => {
		const o = cos2(p.vector, t);
		if (o > best.overlap) {
			best = { value: p.value, overlap: o, rank: i + 1 };
		}
	});
	return best;
}

/** diag p − p pᵀ for a probability vector p. */
export function softmaxCurvature(p: Float64Array): Float64Array {
	const k = p.length;
	const a = new Float64Array(k * k);
	for (let i = 0; i < k; i++) {
		for (let j = 0; j < k; j++) {
			a[i * k + j] = (i === j ? p[i] : 0) - p[i] * p[j];
		}
	}
	return a;
}

/** vᵀ H v / ‖v‖² for H = Wᵀ A W: ‖A^{1/2} W v‖² computed as (Wv)ᵀ A (Wv). */
export function sandwichQuadratic(model: LinearModel, a: Float64Array, v: Float64Array | Float32Array): number {
	const { classes: k, dimension: d, weights: w } = model;
	const wv = new Float64Array(k);
	let vv = 0;
	for (let j = 0; j < d; j++) {
		vv += v[j] * v[j];
	}
	for (let c = 0; c < k; c++) {
		let s = 0;
		for (let j = 0; j < d; j++) {
			s += w[c * d + j] * v[j];
		}
		wv[c] = s;
	}
	let q = 0;
	for (let i = 0; i < k; i++) {
		for (let j = 0; j < k; j++) {
			q += wv[i] * a[i * k + j] * wv[j];
		}
	}
	return vv === 0 ? 0 : q / vv;
}

/** Squared cosine between two vectors: the analyser's own measure, so the figures use the product's definition. */
export { cos2 as cosineSquared } from '../../src/analyser/analysis/robust';
