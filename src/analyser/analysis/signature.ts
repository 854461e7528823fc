/**
 * Per-row poisoning scores for a run's training sample: a spectral signature
 * (Tran, Li & Mądry 2018) computed on input gradients instead of representations.
 *
 * For every sample the gradient gᵢ = ∇ₓ L(f(xᵢ), yᵢ) of the cross-entropy at the label it was
 * trained on. A dirty-label poison trained on the target label keeps a gradient that points along
 * its trigger, so within that label the poisons share a direction the clean rows do not.
 *
 * Per label: rows scaled to unit length (unscaled, a few badly fit rows with large gradients
 * dominate every label's spectrum), centred, and projected on each of the top singular directions.
 * Tran et al. then drop the 1.5ε highest scores per class, which needs the poison fraction ε. Here,
 * instead, the projections are cut into two groups where they separate best (the cut maximising
 * S = (μ₁ − μ₂)² / pooled within-group variance, the smaller group a minority of the label), and
 * the smaller group is flagged only when S reaches `minSeparation`: a label without a planted
 * direction has no well-separated minority and flags nothing. docs/datasets.md gives the numbers
 * behind the defaults.
 */
import * as tf from '@tensorflow/tfjs';
import { dot } from '../../math/vector';

/** Options of {@link spectralSignature}. */
export interface SignatureOptions {
	/**
	 * Smallest separation S = (μ_suspect − μ_rest)² / pooled within-group variance of the best cut along a
	 * direction; below it the class flags nothing. A median split of one Gaussian gives S ≈ 3.5. Default 25
	 * (the groups' means five pooled standard deviations apart); the analyser's row scores use 40.
	 */
	readonly minSeparation?: number;
	/** Largest fraction of a class the suspect group may hold (poisons are a minority). Default 0.35. */
	readonly maxFraction?: number;
	/** Smallest suspect group (also at least 0.5 % of the class): a few stray rows are not a cluster. Default 4. */
	readonly minGroup?: number;
	/** Classes with fewer rows are not scored. Default 8. */
	readonly minClass?: number;
	/** Top singular directions tried per class (the planted one is not always the first). Default 3. */
	readonly directions?: number;
	/** Power iterations per direction. Default 200. */
	readonly iterations?: number;
	/** Scale every row to unit length first (directions, not magnitudes, carry the signature). Default true. */
	readonly normalise?: boolean;
}

/** What one class's signature found. */
export interface ClassSignature {
	readonly label: number;
	readonly count: number;
	/** Which top singular direction (0-based) gave the best split. */
	readonly direction: number;
	/** σ² / Σσᵢ² of that direction: its share of the class's centred energy. */
	readonly share: number;
	/** Separation S of the best split (see {@link SignatureOptions.minSeparation}). */
	readonly separation: number;
	/** Projection at which the suspect group starts (the cut point). */
	readonly split: number;
	/** Rows flagged (the suspect group, when S passed and the group is a minority). */
	readonly flagged: number;
}

/** Scores of every row and which rows were flagged. */
export interface SignatureResult {
	/** Per row: signed distance from the rest of its class along the chosen direction, in pooled standard deviations (positive: the suspect side). */
	readonly score: Float64Array;
	/** Flagged rows, by decreasing score. */
	readonly flagged: number[];
	readonly classes: ClassSignature[];
	readonly minSeparation: number;
}

/**
 * Top right singular vectors of the rows × d matrix `c` (float64), one at a time by power iteration
 * on CᵀC with the earlier ones projected out, without forming CᵀC.
 */
export function topDirections(c: Float64Array, rows: number, d: number, k: number, iterations = 200): { v: Float64Array; sigma2: number }[] {
	const found: { v: Float64Array; sigma2: number }[] = [];
	const deflate = (x: Float64Array): void => {
		for (const f of found) {
			const s = dot(x, f.v);
			for (let j = 0; j < d; j++) {
				x[j] -= s * f.v[j];
			}
		}
	};
	const u = new Float64Array(rows);
	for (let q = 0; q < Math.min(k, rows, d); q++) {
		// Start from the row with the most energy outside the directions found so far.
		let v = new Float64Array(d);
		let best = -1;
		for (let i = 0; i < rows; i++) {
			const r = Float64Array.from(c.subarray(i * d, (i + 1) * d));
			deflate(r);
			const n2 = dot(r, r);
			if (n2 > best) {
				best = n2;
				v = r;
			}
		}
		let norm = Math.sqrt(dot(v, v));
		if (norm === 0) {
			break;
		}
		v = v.map((x) => x / norm);
		let sigma2 = 0;
		for (let it = 0; it < iterations; it++) {
			for (let i = 0; i < rows; i++) {
				u[i] = dot(c.subarray(i * d, (i + 1) * d), v);
			}
			const w = new Float64Array(d);
			for (let i = 0; i < rows; i++) {
				const ui = u[i];
				const off = i * d;
				for (let j = 0; j < d; j++) {
					w[j] += ui * c[off + j];
				}
			}
			deflate(w);
			norm = Math.sqrt(dot(w, w));
			if (norm === 0) {
				break;
			}
			let change = 0;
			for (let j = 0; j < d; j++) {
				const next = w[j] / norm;
				change += (next - v[j]) ** 2;
				w[j] = next;
			}
			v = w;
			sigma2 = norm;
			// ‖Δv‖ < 1e-6: the projections need a few digits, not machine precision.
			if (change < 1e-12) {
				break;
			}
		}
		found.push({ v, sigma2 });
	}
	return found;
}

/**
 * The best-separated split of 1-D values into a lower and an upper group, one of them (the suspect
 * group) holding between `minGroup` rows and `maxFraction` of all: over every such cut, the one
 * maximising S = (μ_upper − μ_lower)² / pooled within-group variance.
 * @returns the cut t (values > t form the upper group), S, the group sizes, and which group is the smaller
 */
export function bestSplit(values: ArrayLike<number>, minGroup: number, maxFraction: number): { threshold: number; separation: number; low: number; high: number } {
	const xs = Float64Array.from(values).sort();
	const n = xs.length;
	const none = { threshold: n > 0 ? xs[n - 1] : 0, separation: 0, low: n, high: 0 };
	const pre = new Float64Array(n + 1);
	const pre2 = new Float64Array(n + 1);
	for (let i = 0; i < n; i++) {
		pre[i + 1] = pre[i] + xs[i];
		pre2[i + 1] = pre2[i] + xs[i] * xs[i];
	}
	const maxGroup = Math.floor(maxFraction * n);
	let best = none;
	for (let k = 1; k < n; k++) {
		const small = Math.min(k, n - k);
		if (xs[k] === xs[k - 1] || small < minGroup || small > maxGroup) {
			continue;
		}
		const m1 = pre[k] / k;
		const m2 = (pre[n] - pre[k]) / (n - k);
		const within = (pre2[k] - k * m1 * m1 + (pre2[n] - pre2[k]) - (n - k) * m2 * m2) / Math.max(1, n - 2);
		const separation = within > 0 ? (m2 - m1) ** 2 / within : Infinity;
		if (separation > best.separation) {
			best = { threshold: (xs[k - 1] + xs[k]) / 2, separation, low: k, high: n - k };
		}
	}
	return best;
}

/** The class's rows, (optionally) scaled to unit length and centred, row-major `m × d`; `total` is their squared norm. */
function centredClassRows(vectors: Float32Array | Float64Array, idx: readonly number[], d: number, normalise: boolean): { c: Float64Array; total: number } {
	const m = idx.length;
	const c = new Float64Array(m * d);
	idx.forEach((i, r) => {
		const row = vectors.subarray(i * d, (i + 1) * d);
		const nr = normalise ? Math.sqrt(dot(row, row)) : 1;
		const inv = nr > 0 ? 1 / nr : 0;
		for (let j = 0; j < d; j++) {
			c[r * d + j] = row[j] * inv;
		}
	});
	const mean = new Float64Array(d);
	for (let r = 0; r < m; r++) {
		for (let j = 0; j < d; j++) {
			mean[j] += c[r * d + j] / m;
		}
	}
	let total = 0;
	for (let r = 0; r < m; r++) {
		for (let j = 0; j < d; j++) {
			c[r * d + j] -= mean[j];
			total += c[r * d + j] ** 2;
		}
	}
	return { c, total };
}

/** The best-separated split of one class along its top singular directions. */
interface ClassSplit {
	/** Index of the direction. */
	readonly q: number;
	/** Its share of the class's variance. */
	readonly share: number;
	/** Projections of the class's rows on it. */
	readonly p: number[];
	/** +1 when the suspect (smaller) group lies above the threshold, −1 below. */
	readonly sign: number;
	readonly threshold: number;
	readonly separation: number;
	readonly suspects: number;
}

function bestClassSplit(c: Float64Array, total: number, m: number, d: number, k: number, minGroup: number, maxFraction: number, iterations: number | undefined): ClassSplit | null {
	let best: ClassSplit | null = null;
	topDirections(c, m, d, k, iterations).forEach(({ v, sigma2 }, q) => {
		const p = Array.from({ length: m }, (_, r) => dot(c.subarray(r * d, (r + 1) * d), v));
		const s = bestSplit(p, Math.max(minGroup, Math.ceil(0.005 * m)), maxFraction);
		// The suspect group is the smaller one; orient the axis so that it lies on the positive side.
		const sign = s.high <= s.low ? 1 : -1;
		const suspects = Math.min(s.high, s.low);
		if (best === null || s.separation > best.separation) {
			best = { q, share: total > 0 ? sigma2 / total : 0, p, sign, threshold: s.threshold, separation: s.separation, suspects };
		}
	});
	return best;
}

/** Per row of the class: signed distance from the rest of the class along the split, in pooled standard deviations. */
function splitScores(b: ClassSplit, m: number): { scores: number[]; suspectSide: (x: number) => boolean } {
	const suspectSide = (x: number): boolean => (b.sign > 0 ? x > b.threshold : x <= b.threshold);
	const rest = b.p.filter((x) => !suspectSide(x));
	const sus = b.p.filter(suspectSide);
	const meanOf = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
	const mr = meanOf(rest);
	const ms = meanOf(sus);
	const pooled = Math.sqrt((rest.reduce((a, x) => a + (x - mr) ** 2, 0) + sus.reduce((a, x) => a + (x - ms) ** 2, 0)) / Math.max(1, m - 2));
	const scale = pooled > 0 ? pooled : 1;
	return { scores: b.p.map((x) => (b.sign * (x - mr)) / scale), suspectSide };
}

/**
 * Spectral-signature scores of n rows of dimension d (row-major `vectors`) grouped by `labels`:
 * per class, the rows are (optionally) scaled to unit length and centred; along each of the top
 * singular directions the best-separated cut is made ({@link bestSplit}), and the direction with the best-separated split is
 * kept; when its smaller group holds at most `maxFraction` of the class and the groups are at least
 * `minSeparation` apart, the smaller group is flagged.
 * Pure and deterministic: the unit tests check it against planted clusters and explicit decompositions.
 * @throws Error when the sizes disagree
 */
export function spectralSignature(vectors: Float32Array | Float64Array, n: number, d: number, labels: ArrayLike<number>, options: SignatureOptions = {}): SignatureResult {
	if (vectors.length !== n * d) {
		throw new Error(`spectralSignature: ${vectors.length} values for ${n} rows of ${d}`);
	}
	if (labels.length !== n) {
		throw new Error(`spectralSignature: ${n} rows but ${labels.length} labels`);
	}
	const minSeparation = options.minSeparation ?? 25;
	const maxFraction = options.maxFraction ?? 0.35;
	const minClass = options.minClass ?? 8;
	const minGroup = options.minGroup ?? 4;
	const members = new Map<number, number[]>();
	for (let i = 0; i < n; i++) {
		const list = members.get(labels[i]);
		if (list === undefined) {
			members.set(labels[i], [i]);
		} else {
			list.push(i);
		}
	}
	const score = new Float64Array(n).fill(NaN);
	const flagged: number[] = [];
	const classes: ClassSignature[] = [];
	for (const label of [...members.keys()].sort((a, b) => a - b)) {
		const idx = members.get(label) ?? [];
		const m = idx.length;
		let split: ClassSplit | null = null;
		if (m >= minClass) {
			const { c, total } = centredClassRows(vectors, idx, d, options.normalise ?? true);
			split = bestClassSplit(c, total, m, d, options.directions ?? 3, minGroup, maxFraction, options.iterations);
		}
		if (split === null) {
			classes.push({ label, count: m, direction: -1, share: 0, separation: 0, split: NaN, flagged: 0 });
			continue;
		}
		const { scores, suspectSide } = splitScores(split, m);
		const pass = split.separation >= minSeparation && split.suspects <= maxFraction * m && split.suspects >= 1;
		let count = 0;
		idx.forEach((i, r) => {
			score[i] = scores[r];
			if (pass && suspectSide(split.p[r])) {
				flagged.push(i);
				count++;
			}
		});
		classes.push({ label, count: m, direction: split.q, share: split.share, separation: split.separation, split: split.threshold, flagged: count });
	}
	flagged.sort((a, b) => score[b] - score[a]);
	return { score, flagged, classes, minSeparation };
}

/**
 * Per-sample input gradients ∇ₓ CE(logits(xᵢ), yᵢ) (rows of `items`, back to back), in chunks.
 * The loss is summed over the chunk: each sample's loss depends only on its own input, so the
 * gradient of the sum with respect to the batch is the stack of per-sample gradients.
 */
export async function inputGradients(
	logits: (x: tf.Tensor) => tf.Tensor2D,
	items: Float32Array,
	labels: ArrayLike<number>,
	itemShape: readonly number[],
	numClasses: number,
	chunk = 256,
): Promise<Float32Array> {
	const d = itemShape.reduce((a, b) => a * b, 1);
	const n = labels.length;
	const out = new Float32Array(n * d);
	for (let start = 0; start < n; start += chunk) {
		const size = Math.min(chunk, n - start);
		// One-hot built here: tf.oneHot is unreliable on wasm (docs/numerics.md).
		const hot = new Float32Array(size * numClasses);
		for (let i = 0; i < size; i++) {
			hot[i * numClasses + labels[start + i]] = 1;
		}
		const g = tf.tidy(() => {
			const x = tf.tensor(items.subarray(start * d, (start + size) * d), [size, ...itemShape]);
			const y = tf.tensor2d(hot, [size, numClasses]);
			const f = (xi: tf.Tensor): tf.Scalar => tf.sum(tf.mul(y, tf.neg(tf.logSoftmax(logits(xi)))));
			return tf.grad(f)(x);
		});
		// data(), not dataSync(): the WebGPU backend cannot read synchronously in Node.
		out.set(await g.data(), start * d);
		g.dispose();
	}
	return out;
}
