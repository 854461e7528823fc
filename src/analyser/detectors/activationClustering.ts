/**
 * Activation Clustering (Chen et al., "Detecting Backdoor Attacks on Deep Neural Networks by
 * Activation Clustering", 2018): for each label, the penultimate-layer activations of the rows
 * with that label are reduced to 10 dimensions and split into two clusters by k-means (k = 2).
 * A poisoned label splits into a large clean cluster and a small poison cluster; the paper's
 * relative-size analysis flags the smaller cluster when it holds at most p = 0.35 of the label
 * (Chen et al. §4, and IBM ART's default), and reports the silhouette score as the fit of the two
 * clusters. Reduction here is PCA (the paper names ICA or PCA; PCA is deterministic and needs no
 * iteration-dependent unmixing), 2-means with k-means++ starts and the best of several restarts.
 *
 * Row score: rows of a label's smaller cluster get (1 − 2·relative size)·max(silhouette, 0)
 * (positive only when that cluster is the smaller one), everyone else 0, so a small, well-separated
 * cluster ranks first. Run score: the largest such value over labels; alarm when a label is flagged
 * (relative size ≤ 0.35) with silhouette ≥ {@link AC_SILHOUETTE_ALARM}.
 */
import { topDirections } from '../analysis/signature';
import { centredRows, groupByLabel, type DetectorResult } from './common';
import { mulberry32 } from '../../math/random';

/** Options of {@link activationClustering}. */
export interface ActivationClusteringOptions {
	/** Dimensions kept (paper: 10). */
	readonly dims?: number;
	/** Relative size at or below which the smaller cluster is flagged (paper/ART: 0.35). */
	readonly maxRelativeSize?: number;
	/** k-means restarts (default 5). */
	readonly restarts?: number;
	readonly seed?: number;
	readonly minClass?: number;
}

/** Run alarm: some label flagged with a silhouette at least this (a priori, not tuned). */
export const AC_SILHOUETTE_ALARM = 0.15;

function sqDist(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number {
	let s = 0;
	for (let j = 0; j < d; j++) {
		const t = a[ao + j] - b[bo + j];
		s += t * t;
	}
	return s;
}

/** 2-means on m points of dimension d (row-major). Returns the assignment (0/1) and the within-cluster sum of squares. */
export function twoMeans(x: Float64Array, m: number, d: number, rand: () => number, restarts = 5, iterations = 100): { assign: Uint8Array; inertia: number } {
	let best: { assign: Uint8Array; inertia: number } | null = null;
	for (let rs = 0; rs < restarts; rs++) {
		// k-means++: first centre uniform, second with probability ∝ squared distance.
		const c = new Float64Array(2 * d);
		const first = Math.min(m - 1, Math.floor(rand() * m));
		c.set(x.subarray(first * d, (first + 1) * d), 0);
		const w = new Float64Array(m);
		let total = 0;
		for (let i = 0; i < m; i++) {
			w[i] = sqDist(x, i * d, c, 0, d);
			total += w[i];
		}
		let pick = first;
		if (total > 0) {
			let u = rand() * total;
			for (let i = 0; i < m; i++) {
				u -= w[i];
				if (u <= 0) {
					pick = i;
					break;
				}
			}
		}
		c.set(x.subarray(pick * d, (pick + 1) * d), d);
		const assign = new Uint8Array(m);
		for (let it = 0; it < iterations; it++) {
			let changed = it === 0;
			for (let i = 0; i < m; i++) {
				const a = sqDist(x, i * d, c, 0, d) <= sqDist(x, i * d, c, d, d) ? 0 : 1;
				if (a !== assign[i]) {
					assign[i] = a;
					changed = true;
				}
			}
			const next = new Float64Array(2 * d);
			const count = [0, 0];
			for (let i = 0; i < m; i++) {
				count[assign[i]]++;
				for (let j = 0; j < d; j++) {
					next[assign[i] * d + j] += x[i * d + j];
				}
			}
			for (let k = 0; k < 2; k++) {
				for (let j = 0; j < d; j++) {
					c[k * d + j] = count[k] > 0 ? next[k * d + j] / count[k] : c[k * d + j];
				}
			}
			if (!changed) {
				break;
			}
		}
		let inertia = 0;
		for (let i = 0; i < m; i++) {
			inertia += sqDist(x, i * d, c, assign[i] * d, d);
		}
		if (best === null || inertia < best.inertia) {
			best = { assign, inertia };
		}
	}
	return best ?? { assign: new Uint8Array(m), inertia: 0 };
}

/** Mean silhouette coefficient of a two-cluster assignment (Euclidean; O(m²)). Single-member clusters score 0. */
export function silhouette(x: Float64Array, m: number, d: number, assign: Uint8Array): number {
	const count = [0, 0];
	for (let i = 0; i < m; i++) {
		count[assign[i]]++;
	}
	if (count[0] === 0 || count[1] === 0) {
		return 0;
	}
	let sum = 0;
	const dist = [0, 0];
	for (let i = 0; i < m; i++) {
		dist[0] = 0;
		dist[1] = 0;
		for (let k = 0; k < m; k++) {
			if (k !== i) {
				dist[assign[k]] += Math.sqrt(sqDist(x, i * d, x, k * d, d));
			}
		}
		const own = assign[i];
		if (count[own] === 1) {
			continue;
		}
		const a = dist[own] / (count[own] - 1);
		const b = dist[1 - own] / count[1 - own];
		const s = Math.max(a, b) > 0 ? (b - a) / Math.max(a, b) : 0;
		sum += s;
	}
	return sum / m;
}

/** Projects the centred rows onto their top `k` principal directions (m×k). */
export function pcaReduce(c: Float64Array, m: number, d: number, k: number): { z: Float64Array; k: number } {
	const dirs = topDirections(c, m, d, Math.min(k, d), 300);
	const kk = dirs.length;
	const z = new Float64Array(m * kk);
	for (let r = 0; r < m; r++) {
		for (let q = 0; q < kk; q++) {
			let s = 0;
			const v = dirs[q].v;
			for (let j = 0; j < d; j++) {
				s += c[r * d + j] * v[j];
			}
			z[r * kk + q] = s;
		}
	}
	return { z, k: kk };
}

/**
 * @param acts n×d penultimate activations, row-major
 * @throws Error when the sizes disagree
 */
export function activationClustering(acts: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>, options: ActivationClusteringOptions = {}): DetectorResult {
	if (acts.length !== n * d || labels.length !== n) {
		throw new Error(`activationClustering: ${acts.length} values and ${labels.length} labels for ${n} rows of ${d}`);
	}
	const dims = options.dims ?? 10;
	const maxRel = options.maxRelativeSize ?? 0.35;
	const minClass = options.minClass ?? 8;
	const rand = mulberry32(options.seed ?? 1);
	const rowScores = new Float64Array(n).fill(NaN);
	const flagged: number[] = [];
	const classes: Record<string, number>[] = [];
	let runScore = 0;
	let alarm = false;
	for (const [label, idx] of groupByLabel(labels)) {
		const m = idx.length;
		if (m < minClass) {
			classes.push({ label, count: m, relativeSize: NaN, silhouette: NaN, flagged: 0 });
			continue;
		}
		const { z, k } = pcaReduce(centredRows(acts, d, idx), m, d, dims);
		if (k === 0) {
			idx.forEach((i) => (rowScores[i] = 0));
			classes.push({ label, count: m, relativeSize: NaN, silhouette: NaN, flagged: 0 });
			continue;
		}
		const { assign } = twoMeans(z, m, k, rand, options.restarts ?? 5);
		const ones = assign.reduce((a, b) => a + b, 0);
		const small = ones <= m - ones ? 1 : 0;
		const rel = Math.min(ones, m - ones) / m;
		const sil = silhouette(z, m, k, assign);
		const s = rel > 0 ? (1 - 2 * rel) * Math.max(sil, 0) : 0;
		const isFlagged = rel > 0 && rel <= maxRel;
		let count = 0;
		idx.forEach((i, r) => {
			const inSmall = assign[r] === small;
			rowScores[i] = inSmall ? s : 0;
			if (inSmall && isFlagged) {
				flagged.push(i);
				count++;
			}
		});
		runScore = Math.max(runScore, isFlagged ? s : 0);
		alarm = alarm || (isFlagged && sil >= AC_SILHOUETTE_ALARM);
		classes.push({ label, count: m, relativeSize: rel, silhouette: sil, flagged: count });
	}
	return { detector: 'activation-clustering', rowScores, flagged, runScore, alarm, classes };
}
