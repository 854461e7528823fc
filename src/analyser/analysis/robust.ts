/**
 * Robust statistics and the consensus clustering of blind mode (docs/metrics.md §4). Pure float64
 * JS: no tfjs, so the unit tests check them against hand-computed values.
 */
import { dot } from '../../math/vector';

/** Median of the values (mean of the two middle ones for an even count); NaN for none. */
export function median(values: ArrayLike<number>): number {
	const n = values.length;
	if (n === 0) {
		return NaN;
	}
	const s = Float64Array.from(values).sort();
	const mid = n >> 1;
	return n % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Quantile q ∈ [0, 1] with linear interpolation between order statistics (type 7, the default of
 * R and numpy); NaN for no values.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
	if (!(q >= 0 && q <= 1)) {
		throw new Error(`quantile: q=${q} must lie in [0, 1]`);
	}
	const n = values.length;
	if (n === 0) {
		return NaN;
	}
	const s = Float64Array.from(values).sort();
	const h = (n - 1) * q;
	const lo = Math.floor(h);
	const hi = Math.min(n - 1, lo + 1);
	return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/** 1.4826 · median |x − median|: the MAD scaled to estimate σ for Gaussian data. */
export function scaledMad(values: ArrayLike<number>, center = median(values)): number {
	const dev = Array.from(values, (v) => Math.abs(v - center));
	return 1.4826 * median(dev);
}

/** Options of {@link robustOutliers}. */
export interface OutlierOptions {
	/** Robust z above which a sample is an outlier (default 3.5, Iglewicz & Hoaglin's cut-off). */
	readonly zThreshold?: number;
	/** Groups smaller than this are not scored (too few for a median/MAD; default 8). */
	readonly minGroup?: number;
	/**
	 * Score log(value) instead of value (default false). Per-sample λ1 has a heavy right tail of
	 * uncertain samples; on a log scale the MAD is so wide that the poisons of the MNIST demo
	 * (45× the median λ1 of their label) scored z ≈ 2 (docs/metrics.md §4).
	 */
	readonly logScale?: boolean;
}

/** Robust z-score of each sample within its group, and which samples are high outliers. */
export interface OutlierResult {
	/** Robust z per sample: (x − median_g) / max(MAD_g, floor); NaN for samples of groups too small to score. */
	readonly z: Float64Array;
	/** Indices of the samples with z > threshold, by decreasing z. */
	readonly outliers: number[];
	/** Per group: its median and scaled MAD (on the scale scored). */
	readonly groups: ReadonlyMap<number, { readonly count: number; readonly median: number; readonly mad: number }>;
}

/**
 * High outliers of `values` within each group (e.g. per-sample λ1 within each training label),
 * judged by median and MAD so that the outliers themselves cannot inflate the yardstick.
 * A group whose MAD is zero uses a floor of 1e-9·(1 + |median|), so identical values never divide by zero.
 */
export function robustOutliers(values: ArrayLike<number>, groups: ArrayLike<number>, options: OutlierOptions = {}): OutlierResult {
	const n = values.length;
	if (groups.length !== n) {
		throw new Error(`robustOutliers: ${n} values but ${groups.length} group labels`);
	}
	const zThreshold = options.zThreshold ?? 3.5;
	const minGroup = options.minGroup ?? 8;
	const logScale = options.logScale ?? false;
	const scored = Float64Array.from(values, (v) => (logScale ? Math.log(Math.max(v, 1e-30)) : v));
	const members = new Map<number, number[]>();
	for (let i = 0; i < n; i++) {
		const g = groups[i];
		const list = members.get(g);
		if (list === undefined) {
			members.set(g, [i]);
		} else {
			list.push(i);
		}
	}
	const z = new Float64Array(n).fill(NaN);
	const stats = new Map<number, { count: number; median: number; mad: number }>();
	for (const [g, idx] of members) {
		const xs = idx.map((i) => scored[i]);
		const med = median(xs);
		const mad = scaledMad(xs, med);
		stats.set(g, { count: idx.length, median: med, mad });
		if (idx.length < minGroup) {
			continue;
		}
		const scale = Math.max(mad, 1e-9 * (1 + Math.abs(med)));
		for (const i of idx) {
			z[i] = (scored[i] - med) / scale;
		}
	}
	const outliers: number[] = [];
	for (let i = 0; i < n; i++) {
		if (z[i] > zThreshold) {
			outliers.push(i);
		}
	}
	outliers.sort((a, b) => z[b] - z[a]);
	return { z, outliers, groups: stats };
}

/** Options of {@link consensusDirection}. */
export interface ConsensusOptions {
	/** Two unit vectors are neighbours when cos² ≥ this (default 0.5: within 45°). */
	readonly minCos2?: number;
	/** Fewer members than this is no consensus (default 3). */
	readonly minCluster?: number;
	/** Power iterations for the cluster's principal direction (default 100). */
	readonly iterations?: number;
}

/** The densest sign-invariant cluster of directions and its principal direction. */
export interface ConsensusResult {
	/** Indices (into the input list) of the cluster's members. */
	readonly members: number[];
	/** Unit principal direction of Σ v vᵀ over the members (the candidate trigger); sign chosen so its largest entry is positive. */
	readonly direction: Float64Array;
	/** Mean cos² of the members with the direction (1 = all identical up to sign). */
	readonly coherence: number;
}

/** cos² of two vectors (sign-invariant); 0 when either is zero. */
export function cos2(a: ArrayLike<number>, b: ArrayLike<number>): number {
	if (a.length !== b.length) {
		throw new Error(`cos2: lengths ${a.length} and ${b.length} differ`);
	}
	const ab = dot(a, b);
	const aa = dot(a, a);
	const bb = dot(b, b);
	return aa > 0 && bb > 0 ? (ab * ab) / (aa * bb) : 0;
}

/**
 * Clusters directions by cos² (eigenvectors have no sign) and returns the densest cluster's
 * principal direction: the member with the most neighbours (cos² ≥ minCos2) seeds the cluster, its
 * neighbours form it, and the top eigenvector of Σ vᵢvᵢᵀ over them is the consensus. `null` when
 * no cluster reaches `minCluster` members. Deterministic: ties go to the lowest index.
 */
export function consensusDirection(vectors: readonly ArrayLike<number>[], options: ConsensusOptions = {}): ConsensusResult | null {
	const minCos2 = options.minCos2 ?? 0.5;
	const minCluster = options.minCluster ?? 3;
	const m = vectors.length;
	if (m === 0) {
		return null;
	}
	const d = vectors[0].length;
	const unit = vectors.map((v, i) => {
		if (v.length !== d) {
			throw new Error(`consensusDirection: vector ${i} has ${v.length} values, vector 0 has ${d}`);
		}
		const nv = Math.sqrt(dot(v, v));
		return Float64Array.from(v, (x) => (nv > 0 ? x / nv : 0));
	});
	let best = -1;
	let bestMembers: number[] = [];
	for (let i = 0; i < m; i++) {
		const members: number[] = [];
		for (let j = 0; j < m; j++) {
			const c = dot(unit[i], unit[j]);
			if (c * c >= minCos2) {
				members.push(j);
			}
		}
		if (members.length > bestMembers.length) {
			best = i;
			bestMembers = members;
		}
	}
	if (best < 0 || bestMembers.length < minCluster) {
		return null;
	}
	// The principal direction of Σ v vᵀ over the cluster, power iteration started from the seed.
	const seedFirst = [unit[best], ...bestMembers.filter((j) => j !== best).map((j) => unit[j])];
	const { direction, coherence } = principalDirection(seedFirst, options.iterations ?? 100);
	return { members: bestMembers, direction, coherence };
}

/**
 * Disjoint dense clusters of a symmetric neighbour relation, greedily: the node with the most
 * unassigned neighbours (itself included) seeds a cluster made of those neighbours; repeat on
 * what is left. Stops at `maxClusters` or when the best seed has fewer than `minCluster`.
 * @param adjacency n×n row-major, 1 where i and j are neighbours (the diagonal should be 1)
 * @returns member index lists, largest first; deterministic (ties go to the lowest index)
 */
export function denseClusters(adjacency: Uint8Array, n: number, options: { minCluster?: number; maxClusters?: number } = {}): number[][] {
	if (adjacency.length !== n * n) {
		throw new Error(`denseClusters: adjacency has ${adjacency.length} entries, expected ${n}×${n}`);
	}
	const minCluster = options.minCluster ?? 3;
	const maxClusters = options.maxClusters ?? 5;
	const assigned = new Uint8Array(n);
	const clusters: number[][] = [];
	while (clusters.length < maxClusters) {
		let best = -1;
		let bestCount = 0;
		for (let i = 0; i < n; i++) {
			if (assigned[i]) {
				continue;
			}
			let count = 0;
			const row = i * n;
			for (let j = 0; j < n; j++) {
				count += adjacency[row + j] & (assigned[j] ^ 1);
			}
			if (count > bestCount) {
				best = i;
				bestCount = count;
			}
		}
		if (best < 0 || bestCount < minCluster) {
			break;
		}
		const members: number[] = [];
		for (let j = 0; j < n; j++) {
			if (adjacency[best * n + j] && !assigned[j]) {
				members.push(j);
				assigned[j] = 1;
			}
		}
		clusters.push(members);
	}
	return clusters;
}

/**
 * Unit principal direction of Σ vᵢvᵢᵀ over the members (power iteration from the first member),
 * signed so that its largest entry is positive, and the members' mean cos² with it.
 */
export function principalDirection(vectors: readonly ArrayLike<number>[], iterations = 100): { direction: Float64Array; coherence: number } {
	if (vectors.length === 0) {
		throw new Error('principalDirection: no vectors');
	}
	const d = vectors[0].length;
	const unit = vectors.map((v) => {
		const nv = Math.sqrt(dot(v, v));
		return Float64Array.from(v, (x) => (nv > 0 ? x / nv : 0));
	});
	let x = Float64Array.from(unit[0]);
	for (let it = 0; it < iterations; it++) {
		const y = new Float64Array(d);
		for (const v of unit) {
			const s = dot(v, x);
			for (let t = 0; t < d; t++) {
				y[t] += s * v[t];
			}
		}
		const ny = Math.sqrt(dot(y, y));
		if (ny === 0) {
			break;
		}
		let change = 0;
		for (let t = 0; t < d; t++) {
			const next = y[t] / ny;
			change += (next - x[t]) ** 2;
			y[t] = next;
		}
		x = y;
		if (change < 1e-24) {
			break;
		}
	}
	let maxAbs = 0;
	let sign = 1;
	for (let t = 0; t < d; t++) {
		if (Math.abs(x[t]) > maxAbs) {
			maxAbs = Math.abs(x[t]);
			sign = x[t] >= 0 ? 1 : -1;
		}
	}
	if (sign < 0) {
		for (let t = 0; t < d; t++) {
			x[t] = -x[t];
		}
	}
	const coherence = unit.reduce((acc, v) => acc + dot(v, x) ** 2, 0) / unit.length;
	return { direction: x, coherence };
}
