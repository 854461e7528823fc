/**
 * Poisoning evidence per row, from the features alone (no model needed):
 * - dirty-label duplicates: exact or near duplicates (within `radiusFactor × median nearest-neighbour distance`, as
 *   cleanlab's near_duplicate issue manager) that carry different labels. The row(s) whose label disagrees with the
 *   cluster's neighbourhood are flagged; the partners are named in `related`.
 * - near-clone clusters: tight same-label clusters (≥ minCloneCluster rows) whose centroid sits farther from its
 *   label's class mean than 95 % of that class (docs/science.md §2.6-2.7: spectrally invisible, so it must be caught here).
 *
 * Scaling: exact duplicates are hashed first (so 10 000 identical rows cost one search, not 10^8 pairs); the unique
 * rows are projected on a randomized-PCA basis and indexed in a k-d tree; every radius query in the projection is a
 * superset of the true one (orthonormal projections only shrink distances) and candidates are verified in the full
 * space. Pure module.
 */
import { KdTree } from './kdTree';
import { lshPairs } from './lsh';
import { randomizedPca } from './pca';
import type { ScaledMatrix } from './pca';
import { ProblemCode } from './problem';
import type { EvidenceItem, Problem } from './problem';
import { mulberry32, sampleIndices } from './random';
import type { FeatureTable, ProgressFn, ScanOptions } from './table';

/** Dimensions kept by the projection used for the index. */
const PROJECTION_DIM = 16;
/** Rows used to fit the PCA basis. */
const PCA_SAMPLE = 500;
/** Rows whose nearest-neighbour distance estimates the median. */
const MEDIAN_SAMPLE = 300;
/** Extra projected candidates re-ranked in full space for each k-nearest query. */
const KNN_EXTRA = 10;
/** Approximation factor of the k-nearest search in the projection (each neighbour within (1 + eps) of exact). */
const KNN_EPS = 2;
/** Cluster members whose neighbours are polled for the vote. */
const VOTING_MEMBERS = 3;
/** Neighbours outside a cluster that vote on its label. */
const VOTERS = 10;
/** Verified neighbours kept per radius query; connectivity needs few, and this bounds dense clumps. */
const MAX_LINKS = 64;
/** Partner lines listed per finding. */
const MAX_RELATED = 50;

/** Statistics of the analysis, reported by the CLI and the bench. */
export interface PoisonStats {
	readonly analysedRows: number;
	readonly uniqueRows: number;
	readonly medianNnDistance: number;
	readonly radius: number;
	readonly standardised: boolean;
	readonly skipped?: string;
}

/** Result of {@link analysePoisoning}. */
export interface PoisonResult {
	readonly problems: Problem[];
	readonly stats: PoisonStats;
}

class UnionFind {
	private readonly parent: Int32Array;
	constructor(n: number) {
		this.parent = Int32Array.from({ length: n }, (_, i) => i);
	}
	find(i: number): number {
		let r = i;
		while (this.parent[r] !== r) {
			r = this.parent[r];
		}
		while (this.parent[i] !== r) {
			const next = this.parent[i];
			this.parent[i] = r;
			i = next;
		}
		return r;
	}
	union(a: number, b: number): void {
		const ra = this.find(a);
		const rb = this.find(b);
		if (ra !== rb) {
			this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
		}
	}
}

function fmt(v: number): string {
	return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** Hash of a row's feature bits and text key (FNV-1a, two lanes). */
function rowHash(words: Uint32Array, base: number, dim: number, text: string | null): number {
	let h1 = 0x811c9dc5;
	let h2 = 0x9e3779b9;
	for (let j = 0; j < dim; j++) {
		const w = words[base + j];
		h1 = Math.imul(h1 ^ w, 16777619);
		h2 = Math.imul(h2 ^ (w >>> 7) ^ (w << 11), 0x85ebca6b);
	}
	if (text !== null) {
		for (let i = 0; i < text.length; i++) {
			h1 = Math.imul(h1 ^ text.charCodeAt(i), 16777619);
			h2 = Math.imul(h2 ^ text.charCodeAt(i), 0x85ebca6b);
		}
	}
	return (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff);
}

/**
 * `out[o .. o+16) += Σ_j x_j w[j, :]` over the non-zero x_j of one row. Unrolled by hand: V8 runs this about twice as
 * fast as the inner loop, and the projection of every row is one of the largest costs of a 100 MB scan.
 */
function projectRow16(x: Float32Array, b: number, dim: number, w: Float64Array, out: Float64Array, o: number): void {
	let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
	let a8 = 0, a9 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0, a14 = 0, a15 = 0;
	for (let j = 0; j < dim; j++) {
		const v = x[b + j];
		if (v === 0) {
			continue;
		}
		const q = j * 16;
		a0 += v * w[q]; a1 += v * w[q + 1]; a2 += v * w[q + 2]; a3 += v * w[q + 3];
		a4 += v * w[q + 4]; a5 += v * w[q + 5]; a6 += v * w[q + 6]; a7 += v * w[q + 7];
		a8 += v * w[q + 8]; a9 += v * w[q + 9]; a10 += v * w[q + 10]; a11 += v * w[q + 11];
		a12 += v * w[q + 12]; a13 += v * w[q + 13]; a14 += v * w[q + 14]; a15 += v * w[q + 15];
	}
	out[o] += a0; out[o + 1] += a1; out[o + 2] += a2; out[o + 3] += a3;
	out[o + 4] += a4; out[o + 5] += a5; out[o + 6] += a6; out[o + 7] += a7;
	out[o + 8] += a8; out[o + 9] += a9; out[o + 10] += a10; out[o + 11] += a11;
	out[o + 12] += a12; out[o + 13] += a13; out[o + 14] += a14; out[o + 15] += a15;
}

/**
 * Finds dirty-label duplicate clusters and near-clone clusters in a parsed table.
 * Rows with `valid = 0` or no label take no part. Returns no problems when the file has no label column or the labels
 * look continuous (more distinct values than half the rows: a regression target, not classes).
 */
export function analysePoisoning(table: FeatureTable, opts: ScanOptions = {}, progress?: ProgressFn): PoisonResult {
	const radiusFactor = opts.radiusFactor ?? 0.13;
	const minClone = opts.minCloneCluster ?? 3;
	const uniform = mulberry32(opts.seed ?? 1);
	const { dim, features } = table;
	const emptyStats = (skipped: string, analysed = 0): PoisonResult => ({
		problems: [],
		stats: { analysedRows: analysed, uniqueRows: 0, medianNnDistance: 0, radius: 0, standardised: false, skipped },
	});
	if (table.labelName === null) {
		return emptyStats('no label column');
	}
	const rows: number[] = [];
	const labelCounts = new Map<string, number>();
	for (let i = 0; i < table.rows; i++) {
		const l = table.labels[i];
		if (table.valid[i] === 1 && l !== null) {
			rows.push(i);
			labelCounts.set(l, (labelCounts.get(l) ?? 0) + 1);
		}
	}
	if (rows.length < 2) {
		return emptyStats('fewer than two clean labelled rows', rows.length);
	}
	if (labelCounts.size > Math.max(100, rows.length / 2)) {
		return emptyStats(`labels look continuous (${labelCounts.size} distinct values): no class checks`, rows.length);
	}
	if (dim === 0 && table.textKey === null) {
		return emptyStats('no feature columns', rows.length);
	}

	// 1. Scaling: raw features when the columns share a scale (pixels), z-scores when they do not (mixed tabular).
	// Zeros are skipped in every pass over the matrix: image rows are mostly background.
	progress?.(0, 'scaling');
	const mean = new Float64Array(dim);
	const sq = new Float64Array(dim);
	for (const i of rows) {
		const b = i * dim;
		for (let j = 0; j < dim; j++) {
			const v = features[b + j];
			if (v !== 0) {
				mean[j] += v;
				sq[j] += v * v;
			}
		}
	}
	const std = new Float64Array(dim);
	for (let j = 0; j < dim; j++) {
		mean[j] /= rows.length;
		std[j] = Math.sqrt(Math.max(0, sq[j] / rows.length - mean[j] * mean[j]));
	}
	const live = [...std].filter((s) => s > 1e-12).sort((a, b) => a - b);
	const medianStd = live.length > 0 ? live[live.length >> 1] : 0;
	const standardised = live.length > 0 && live[live.length - 1] > 10 * medianStd;
	const scale = Float64Array.from(std, (s) => (s <= 1e-12 ? 0 : standardised ? 1 / s : 1));
	const scale2 = Float64Array.from(scale, (s) => s * s);
	const x: ScaledMatrix = { data: features, dim, mean, scale };

	/** Full-space squared distance between rows a and b, stopping once it exceeds `limit`. */
	const fullDist2 = (a: number, b: number, limit: number): number => {
		let s = 0;
		const oa = a * dim;
		const ob = b * dim;
		for (let j = 0; j < dim; j++) {
			const t = features[oa + j] - features[ob + j];
			if (t !== 0) {
				s += t * t * scale2[j];
				if (s > limit) {
					return s;
				}
			}
		}
		return s;
	};

	// 2. Projection of every analysed row on a randomized-PCA basis.
	progress?.(0.05, 'projecting');
	const kProj = Math.min(PROJECTION_DIM, dim);
	const kq = Math.max(1, kProj);
	const rowProj = new Float64Array(rows.length * kq);
	if (dim > 0) {
		const rowArr = Int32Array.from(rows);
		const basis = randomizedPca(x, Int32Array.from(sampleIndices(rows.length, PCA_SAMPLE, uniform), (k) => rowArr[k]), kProj, uniform);
		progress?.(0.15, 'projecting rows');
		const w = new Float64Array(dim * kProj);
		const offset = new Float64Array(kProj);
		for (let j = 0; j < dim; j++) {
			for (let c = 0; c < kProj; c++) {
				w[j * kProj + c] = basis[j * kProj + c] * scale[j];
				offset[c] += mean[j] * w[j * kProj + c];
			}
		}
		for (let r = 0; r < rows.length; r++) {
			const b = rows[r] * dim;
			const o = r * kProj;
			if (kProj === 16) {
				projectRow16(features, b, dim, w, rowProj, o);
			} else {
				for (let j = 0; j < dim; j++) {
					const v = features[b + j];
					if (v === 0) {
						continue;
					}
					const wo = j * kProj;
					for (let c = 0; c < kProj; c++) {
						rowProj[o + c] += v * w[wo + c];
					}
				}
			}
			for (let c = 0; c < kProj; c++) {
				rowProj[o + c] -= offset[c];
			}
		}
	}

	// 3. Exact duplicates: identical rows have bit-identical projections, so the projection (plus any text key) is
	// hashed and collisions are verified element-wise. This costs O(rows × k), not another pass over the matrix.
	progress?.(0.3, 'duplicates');
	const projWords = new Uint32Array(rowProj.buffer);
	const groupOf = new Int32Array(table.rows).fill(-1);
	const buckets = new Map<number, number[]>();
	const reps: number[] = [];
	const repSlot: number[] = [];
	const groupRows = new Map<number, number[]>();
	const sameRow = (a: number, b: number): boolean => {
		for (let j = 0; j < dim; j++) {
			if (features[a * dim + j] !== features[b * dim + j]) {
				return false;
			}
		}
		return (table.textKey?.[a] ?? null) === (table.textKey?.[b] ?? null);
	};
	for (let r = 0; r < rows.length; r++) {
		const i = rows[r];
		const h = rowHash(projWords, r * kq * 2, kq * 2, table.textKey?.[i] ?? null);
		const bucket = buckets.get(h);
		let rep = -1;
		if (bucket) {
			for (const c of bucket) {
				if (sameRow(c, i)) {
					rep = c;
					break;
				}
			}
		}
		if (rep < 0) {
			rep = i;
			if (bucket) {
				bucket.push(i);
			} else {
				buckets.set(h, [i]);
			}
			reps.push(i);
			repSlot.push(r);
			groupRows.set(i, [i]);
		} else {
			groupRows.get(rep)?.push(i);
		}
		groupOf[i] = rep;
	}
	buckets.clear();
	const nRep = reps.length;
	const repIndex = new Int32Array(table.rows).fill(-1);
	reps.forEach((r, k) => {
		repIndex[r] = k;
	});
	const proj = new Float64Array(nRep * kq);
	repSlot.forEach((r, k) => {
		proj.set(rowProj.subarray(r * kq, (r + 1) * kq), k * kq);
	});
	progress?.(0.4, 'indexing');
	const tree = new KdTree(proj, kq);
	const sameText = (a: number, b: number): boolean => (table.textKey?.[a] ?? null) === (table.textKey?.[b] ?? null);

	/** The `count` nearest unique rows to unique row `k` in full space, among projected candidates, skipping some. */
	const nearestFull = (k: number, count: number, skip: (rep: number) => boolean): { rep: number; d: number }[] => {
		const cand = tree.nearest(proj, k * kq, count + KNN_EXTRA, (id) => id === k || skip(id), KNN_EPS);
		const out: { rep: number; d: number }[] = [];
		for (const id of cand.ids) {
			out.push({ rep: id, d: Math.sqrt(fullDist2(reps[k], reps[id], Infinity)) });
		}
		out.sort((a, b) => a.d - b.d);
		return out.slice(0, count);
	};

	// 4. Median nearest-neighbour distance (over distinct rows: exact duplicates are counted by the hash step).
	let medianNn = 0;
	if (dim > 0 && nRep > 1) {
		const nn: number[] = [];
		for (const k of sampleIndices(nRep, MEDIAN_SAMPLE, uniform)) {
			const best = nearestFull(k, 1, (id) => !sameText(reps[id], reps[k]));
			if (best.length > 0 && best[0].d > 0) {
				nn.push(best[0].d);
			}
		}
		nn.sort((a, b) => a - b);
		medianNn = nn.length > 0 ? nn[nn.length >> 1] : 0;
	}
	const radius = radiusFactor * medianNn;

	// 5. Radius graph over the unique rows, verified in full space; components by union-find.
	progress?.(0.55, 'searching');
	const uf = new UnionFind(nRep);
	const nearestPartner = new Float64Array(nRep).fill(Infinity);
	if (radius > 0) {
		const r2 = radius * radius;
		const links = new Int32Array(nRep);
		lshPairs(proj, nRep, kq, radius, uniform, (a, b) => {
			if ((links[a] >= MAX_LINKS && links[b] >= MAX_LINKS) || !sameText(reps[a], reps[b])) {
				return;
			}
			let p2 = 0;
			for (let c = 0; c < kq; c++) {
				const t = proj[a * kq + c] - proj[b * kq + c];
				p2 += t * t;
			}
			if (p2 > r2) {
				return;
			}
			const d2 = fullDist2(reps[a], reps[b], r2);
			if (d2 <= r2) {
				uf.union(a, b);
				const d = Math.sqrt(d2);
				nearestPartner[a] = Math.min(nearestPartner[a], d);
				nearestPartner[b] = Math.min(nearestPartner[b], d);
				links[a]++;
				links[b]++;
			}
		});
	}
	// Only clusters of two or more rows (counting exact duplicates) are collected, so 100 000 singletons cost no arrays.
	const rootRows = new Int32Array(nRep);
	for (let k = 0; k < nRep; k++) {
		rootRows[uf.find(k)] += (groupRows.get(reps[k]) as number[]).length;
	}
	const components = new Map<number, number[]>();
	for (let k = 0; k < nRep; k++) {
		const root = uf.find(k);
		if (rootRows[root] < 2) {
			continue;
		}
		const list = components.get(root);
		if (list) {
			list.push(k);
		} else {
			components.set(root, [k]);
		}
	}

	// 6. Judge each cluster with two or more rows.
	progress?.(0.9, 'judging');
	const problems: Problem[] = [];
	let classStats: Map<string, { mean: Float64Array; p95: number }> | null = null;
	const getClassStats = (): Map<string, { mean: Float64Array; p95: number }> => {
		if (classStats) {
			return classStats;
		}
		const sums = new Map<string, { sum: Float64Array; n: number }>();
		for (const i of rows) {
			const l = table.labels[i] as string;
			let e = sums.get(l);
			if (!e) {
				e = { sum: new Float64Array(dim), n: 0 };
				sums.set(l, e);
			}
			e.n++;
			for (let j = 0; j < dim; j++) {
				e.sum[j] += features[i * dim + j];
			}
		}
		const dists = new Map<string, number[]>();
		const means = new Map<string, Float64Array>();
		for (const [l, e] of sums) {
			means.set(l, e.sum.map((v) => v / e.n));
			dists.set(l, []);
		}
		for (const i of rows) {
			const l = table.labels[i] as string;
			(dists.get(l) as number[]).push(distToPoint(i, means.get(l) as Float64Array));
		}
		classStats = new Map();
		for (const [l, ds] of dists) {
			ds.sort((a, b) => a - b);
			classStats.set(l, { mean: means.get(l) as Float64Array, p95: ds[Math.min(ds.length - 1, Math.floor(0.95 * ds.length))] });
		}
		return classStats;
	};
	const distToPoint = (i: number, p: Float64Array): number => {
		let s = 0;
		for (let j = 0; j < dim; j++) {
			const t = features[i * dim + j] - p[j];
			s += t * t * scale2[j];
		}
		return Math.sqrt(s);
	};

	// Labels per exact-duplicate group, computed once per group (a group can hold a million rows).
	const groupLabels = new Map<number, Set<string>>();
	const groupHasOtherLabel = (rep: number, label: string): boolean => {
		let set = groupLabels.get(rep);
		if (!set) {
			set = new Set((groupRows.get(rep) as number[]).map((g) => table.labels[g] as string));
			groupLabels.set(rep, set);
		}
		return set.size > 1 || !set.has(label);
	};

	for (const members of components.values()) {
		const memberRows: number[] = [];
		for (const k of members) {
			for (const i of groupRows.get(reps[k]) as number[]) {
				memberRows.push(i);
			}
		}
		if (memberRows.length < 2) {
			continue;
		}
		memberRows.sort((a, b) => a - b);
		const counts = new Map<string, number>();
		for (const i of memberRows) {
			const l = table.labels[i] as string;
			counts.set(l, (counts.get(l) ?? 0) + 1);
		}
		const conflicting = counts.size > 1;
		if (!conflicting && memberRows.length < minClone) {
			continue;
		}
		const memberSet = new Set(members);
		const votes = new Map<string, number>();
		let voters = 0;
		if (dim > 0) {
			const seen = new Set<number>();
			const pool: { rep: number; d: number }[] = [];
			for (const k of members.slice(0, members.length > 2 ? VOTING_MEMBERS : 1)) {
				for (const nb of nearestFull(k, VOTERS, (id) => memberSet.has(id))) {
					if (!seen.has(nb.rep)) {
						seen.add(nb.rep);
						pool.push(nb);
					}
				}
			}
			pool.sort((a, b) => a.d - b.d);
			for (const nb of pool.slice(0, VOTERS)) {
				for (const i of groupRows.get(reps[nb.rep]) as number[]) {
					const l = table.labels[i] as string;
					votes.set(l, (votes.get(l) ?? 0) + 1);
					voters++;
				}
			}
		}
		const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
		const labelList = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ×${n}`).join(', ');
		const voteText = voters > 0 ? ranked.map(([l, n]) => `${l} ×${n}`).join(', ') : 'no neighbours outside the cluster';
		const lineOf = (i: number): number => table.startLine[i];
		// Partners are listed from the cluster's first rows only, so a cluster of a million copies stays linear.
		const head = memberRows.slice(0, MAX_RELATED + 1);
		const related = (i: number): number[] => head.filter((r) => r !== i).slice(0, MAX_RELATED).map(lineOf);
		const partnerDistance = (i: number): number => {
			const k = repIndex[groupOf[i]];
			const exactPartner = (groupRows.get(groupOf[i]) as number[]).length > 1;
			return exactPartner ? 0 : nearestPartner[k];
		};
		const rangeOf = (i: number): { line: number; column: number; endLine?: number; endColumn: number } =>
			table.endLine[i] !== table.startLine[i]
				? { line: table.startLine[i], column: 1, endLine: table.endLine[i], endColumn: table.endColumn[i] }
				: { line: table.startLine[i], column: 1, endColumn: table.endColumn[i] };

		if (conflicting) {
			// The neighbourhood decides which of the cluster's own labels is right; votes for other labels say nothing
			// about which member is mislabelled (the clean source may itself be an odd example). Without a winner, fall
			// back to the cluster's own majority; with a tie there too, flag every row.
			const inCluster = [...counts.keys()].map((l): [string, number] => [l, votes.get(l) ?? 0]).sort((a, b) => b[1] - a[1]);
			let expected = inCluster[0][1] > inCluster[1][1] ? inCluster[0][0] : null;
			if (expected === null) {
				const own = [...counts.entries()].sort((a, b) => b[1] - a[1]);
				expected = own[0][1] > own[1][1] ? own[0][0] : null;
			}
			for (const i of memberRows) {
				const l = table.labels[i] as string;
				if (expected !== null && l === expected) {
					continue;
				}
				const exact = groupHasOtherLabel(groupOf[i], l);
				const d = partnerDistance(i);
				const partners = related(i);
				const evidence: EvidenceItem[] = [
					{ label: 'cluster', value: `${memberRows.length} rows: labels ${labelList}` },
					{ label: 'partner rows', value: `${partners.join(', ')}${memberRows.length - 1 > partners.length ? `, … (${memberRows.length - 1} in all)` : ''}` },
					{ label: 'nearest partner distance', value: `${fmt(d)} (radius ${fmt(radius)} = ${radiusFactor} × median NN distance ${fmt(medianNn)})` },
					{ label: `labels of the ${Math.min(VOTERS, voters)} nearest rows outside the cluster`, value: voteText },
				];
				problems.push({
					...rangeOf(i),
					code: exact ? ProblemCode.dirtyLabelDuplicate : ProblemCode.dirtyLabelNearDuplicate,
					severity: 'warning',
					message: `${exact ? 'exact' : 'near'} duplicate of ${partners.length === 1 ? 'line' : 'lines'} ${partners.slice(0, 5).join(', ')}${memberRows.length - 1 > 5 ? ', …' : ''} with a different label: '${l}' here, ${expected !== null ? `'${expected}' expected from the neighbourhood` : `labels ${labelList}`} (possible dirty-label poison)`,
					related: partners,
					evidence,
				});
			}
			continue;
		}
		if (dim === 0) {
			continue;
		}
		const label = table.labels[memberRows[0]] as string;
		const stats = getClassStats().get(label);
		if (!stats) {
			continue;
		}
		const centroid = new Float64Array(dim);
		for (const i of memberRows) {
			for (let j = 0; j < dim; j++) {
				centroid[j] += features[i * dim + j] / memberRows.length;
			}
		}
		let dc = 0;
		for (let j = 0; j < dim; j++) {
			dc += (centroid[j] - stats.mean[j]) ** 2 * scale2[j];
		}
		dc = Math.sqrt(dc);
		// Far from its class mean, or sitting among rows of other classes: either way the cluster does not look like
		// its label (a class can be broad enough that a clone of another class stays inside its 95th percentile).
		const ownVotes = votes.get(label) ?? 0;
		const outvoted = voters >= VOTERS / 2 && ownVotes < 0.3 * voters;
		if (!(dc > stats.p95) && !outvoted) {
			continue;
		}
		for (const i of memberRows) {
			const partners = related(i);
			problems.push({
				...rangeOf(i),
				code: ProblemCode.nearCloneCluster,
				severity: 'warning',
				message: `one of ${memberRows.length} near-identical rows labelled '${label}' that sit ${dc > stats.p95 ? `far from the '${label}' class mean` : `among rows of other classes`} (possible near-clone poison; spectral checks cannot see it)`,
				related: partners,
				evidence: [
					{ label: 'cluster', value: `${memberRows.length} rows labelled '${label}' within radius ${fmt(radius)}` },
					{ label: 'partner rows', value: `${partners.join(', ')}${memberRows.length - 1 > partners.length ? `, … (${memberRows.length - 1} in all)` : ''}` },
					{ label: 'centroid distance to class mean', value: `${fmt(dc)} (95th percentile of class '${label}': ${fmt(stats.p95)})` },
					{ label: `labels of the ${Math.min(VOTERS, voters)} nearest rows outside the cluster`, value: voteText },
				],
			});
		}
	}
	progress?.(1, 'done');
	return {
		problems,
		stats: { analysedRows: rows.length, uniqueRows: nRep, medianNnDistance: medianNn, radius, standardised },
	};
}
