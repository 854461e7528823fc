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
import { mulberry32, sampleIndices } from '../math/random';
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

/** Step 1: per-column mean and the scale each column is read at (raw for shared-scale pixels, 1/σ for mixed tabular). */
interface Scaling {
	readonly mean: Float64Array;
	readonly scale: Float64Array;
	/** scale², the weights of squared distances. */
	readonly scale2: Float64Array;
	readonly standardised: boolean;
}

/** Step 3: the unique rows (one representative per exact-duplicate group) and their projections. */
interface UniqueRows {
	/** Representative row of each row's exact-duplicate group (-1 for rows not analysed). */
	readonly groupOf: Int32Array;
	/** Representative rows, in first-seen order; unique row k is `reps[k]`. */
	readonly reps: number[];
	/** Rows of each group, by representative. */
	readonly groupRows: Map<number, number[]>;
	/** Unique index k of a representative row (-1 otherwise). */
	readonly repIndex: Int32Array;
	/** Projections of the unique rows, `kq` values each. */
	readonly proj: Float64Array;
}

/** What the judging step needs about one cluster and the table around it. */
interface ClusterContext {
	readonly table: FeatureTable;
	readonly memberRows: number[];
	readonly counts: Map<string, number>;
	readonly votes: Map<string, number>;
	readonly voters: number;
	readonly radius: number;
	readonly radiusFactor: number;
	readonly medianNn: number;
	readonly partnerDistance: (i: number) => number;
	readonly groupHasOtherLabel: (rep: number, label: string) => boolean;
	readonly groupOf: Int32Array;
}

/** Rows that take part (valid, labelled), or why the analysis is skipped. */
function analysedRows(table: FeatureTable): { rows: number[] } | { skipped: string; analysed: number } {
	if (table.labelName === null) {
		return { skipped: 'no label column', analysed: 0 };
	}
	const rows: number[] = [];
	const labels = new Set<string>();
	for (let i = 0; i < table.rows; i++) {
		const l = table.labels[i];
		if (table.valid[i] === 1 && l !== null) {
			rows.push(i);
			labels.add(l);
		}
	}
	if (rows.length < 2) {
		return { skipped: 'fewer than two clean labelled rows', analysed: rows.length };
	}
	if (labels.size > Math.max(100, rows.length / 2)) {
		return { skipped: `labels look continuous (${labels.size} distinct values): no class checks`, analysed: rows.length };
	}
	if (table.dim === 0 && table.textKey === null) {
		return { skipped: 'no feature columns', analysed: rows.length };
	}
	return { rows };
}

/**
 * Step 1. Raw features when the columns share a scale (pixels), z-scores when they do not (mixed tabular).
 * Zeros are skipped in every pass over the matrix: image rows are mostly background.
 */
function columnScaling(table: FeatureTable, rows: readonly number[]): Scaling {
	const { dim, features } = table;
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
	return { mean, scale, scale2: Float64Array.from(scale, (s) => s * s), standardised };
}

/** Step 2. Projection of every analysed row on a randomized-PCA basis (`kq` values per row). */
function projectRows(table: FeatureTable, rows: readonly number[], sc: Scaling, uniform: () => number, progress?: ProgressFn): { rowProj: Float64Array; kq: number } {
	const { dim, features } = table;
	const kProj = Math.min(PROJECTION_DIM, dim);
	const kq = Math.max(1, kProj);
	const rowProj = new Float64Array(rows.length * kq);
	if (dim === 0) {
		return { rowProj, kq };
	}
	const rowArr = Int32Array.from(rows);
	const x: ScaledMatrix = { data: features, dim, mean: sc.mean, scale: sc.scale };
	const basis = randomizedPca(x, Int32Array.from(sampleIndices(rows.length, PCA_SAMPLE, uniform), (k) => rowArr[k]), kProj, uniform);
	progress?.(0.15, 'projecting rows');
	const w = new Float64Array(dim * kProj);
	const offset = new Float64Array(kProj);
	for (let j = 0; j < dim; j++) {
		for (let c = 0; c < kProj; c++) {
			w[j * kProj + c] = basis[j * kProj + c] * sc.scale[j];
			offset[c] += sc.mean[j] * w[j * kProj + c];
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
	return { rowProj, kq };
}

/**
 * Step 3. Exact duplicates: identical rows have bit-identical projections, so the projection (plus any text key) is
 * hashed and collisions are verified element-wise. This costs O(rows × k), not another pass over the matrix.
 */
function groupExactDuplicates(table: FeatureTable, rows: readonly number[], rowProj: Float64Array, kq: number): UniqueRows {
	const { dim, features } = table;
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
		const rep = bucket?.find((c) => sameRow(c, i)) ?? -1;
		if (rep < 0) {
			if (bucket) {
				bucket.push(i);
			} else {
				buckets.set(h, [i]);
			}
			reps.push(i);
			repSlot.push(r);
			groupRows.set(i, [i]);
			groupOf[i] = i;
		} else {
			groupRows.get(rep)?.push(i);
			groupOf[i] = rep;
		}
	}
	const repIndex = new Int32Array(table.rows).fill(-1);
	reps.forEach((r, k) => {
		repIndex[r] = k;
	});
	const proj = new Float64Array(reps.length * kq);
	repSlot.forEach((r, k) => {
		proj.set(rowProj.subarray(r * kq, (r + 1) * kq), k * kq);
	});
	return { groupOf, reps, groupRows, repIndex, proj };
}

/** Full-space distances between rows, read at the column scaling, and nearest-neighbour queries over the unique rows. */
class Neighbourhood {
	private readonly tree: KdTree;
	constructor(
		private readonly table: FeatureTable,
		private readonly scale2: Float64Array,
		private readonly unique: UniqueRows,
		private readonly kq: number,
	) {
		this.tree = new KdTree(unique.proj, kq);
	}

	/** Full-space squared distance between rows a and b, stopping once it exceeds `limit`. */
	dist2(a: number, b: number, limit: number): number {
		const { dim, features } = this.table;
		let s = 0;
		const oa = a * dim;
		const ob = b * dim;
		for (let j = 0; j < dim; j++) {
			const t = features[oa + j] - features[ob + j];
			if (t !== 0) {
				s += t * t * this.scale2[j];
				if (s > limit) {
					return s;
				}
			}
		}
		return s;
	}

	/** Full-space distance from row i to a point. */
	distToPoint(i: number, p: Float64Array): number {
		const { dim, features } = this.table;
		let s = 0;
		for (let j = 0; j < dim; j++) {
			const t = features[i * dim + j] - p[j];
			s += t * t * this.scale2[j];
		}
		return Math.sqrt(s);
	}

	/** True when two rows have the same text key (or none): only such rows can be duplicates. */
	sameText(a: number, b: number): boolean {
		return (this.table.textKey?.[a] ?? null) === (this.table.textKey?.[b] ?? null);
	}

	/** The `count` nearest unique rows to unique row `k` in full space, among projected candidates, skipping some. */
	nearest(k: number, count: number, skip: (rep: number) => boolean): { rep: number; d: number }[] {
		const { reps, proj } = this.unique;
		const cand = this.tree.nearest(proj, k * this.kq, count + KNN_EXTRA, (id) => id === k || skip(id), KNN_EPS);
		const out: { rep: number; d: number }[] = [];
		for (const id of cand.ids) {
			out.push({ rep: id, d: Math.sqrt(this.dist2(reps[k], reps[id], Infinity)) });
		}
		out.sort((a, b) => a.d - b.d);
		return out.slice(0, count);
	}
}

/** Step 4. Median nearest-neighbour distance over distinct rows (exact duplicates are counted by the hash step). */
function medianNnDistance(nb: Neighbourhood, reps: readonly number[], uniform: () => number): number {
	const nn: number[] = [];
	for (const k of sampleIndices(reps.length, MEDIAN_SAMPLE, uniform)) {
		const best = nb.nearest(k, 1, (id) => !nb.sameText(reps[id], reps[k]));
		if (best.length > 0 && best[0].d > 0) {
			nn.push(best[0].d);
		}
	}
	nn.sort((a, b) => a - b);
	return nn.length > 0 ? nn[nn.length >> 1] : 0;
}

/**
 * Step 5. Radius graph over the unique rows, verified in full space; components by union-find. Only clusters of two
 * or more rows (counting exact duplicates) are returned, so 100 000 singletons cost no arrays.
 * @returns the clusters (unique indices) and each unique row's nearest partner distance
 */
function radiusClusters(nb: Neighbourhood, unique: UniqueRows, kq: number, radius: number, uniform: () => number): { components: number[][]; nearestPartner: Float64Array } {
	const { reps, proj, groupRows } = unique;
	const nRep = reps.length;
	const uf = new UnionFind(nRep);
	const nearestPartner = new Float64Array(nRep).fill(Infinity);
	if (radius > 0) {
		const r2 = radius * radius;
		const links = new Int32Array(nRep);
		lshPairs(proj, nRep, kq, radius, uniform, (a, b) => {
			if ((links[a] >= MAX_LINKS && links[b] >= MAX_LINKS) || !nb.sameText(reps[a], reps[b])) {
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
			const d2 = nb.dist2(reps[a], reps[b], r2);
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
	return { components: [...components.values()], nearestPartner };
}

/** Per label: the class mean and the 95th percentile of its rows' distances to it (for the near-clone test). */
function classStatistics(table: FeatureTable, rows: readonly number[], nb: Neighbourhood): Map<string, { mean: Float64Array; p95: number }> {
	const { dim, features } = table;
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
		(dists.get(l) as number[]).push(nb.distToPoint(i, means.get(l) as Float64Array));
	}
	const stats = new Map<string, { mean: Float64Array; p95: number }>();
	for (const [l, ds] of dists) {
		ds.sort((a, b) => a - b);
		stats.set(l, { mean: means.get(l) as Float64Array, p95: ds[Math.min(ds.length - 1, Math.floor(0.95 * ds.length))] });
	}
	return stats;
}

/** The labels of the nearest rows outside a cluster, gathered around its first members. */
function neighbourVotes(nb: Neighbourhood, unique: UniqueRows, table: FeatureTable, members: readonly number[]): { votes: Map<string, number>; voters: number } {
	const votes = new Map<string, number>();
	let voters = 0;
	if (table.dim === 0) {
		return { votes, voters };
	}
	const memberSet = new Set(members);
	const seen = new Set<number>();
	const pool: { rep: number; d: number }[] = [];
	for (const k of members.slice(0, members.length > 2 ? VOTING_MEMBERS : 1)) {
		for (const n of nb.nearest(k, VOTERS, (id) => memberSet.has(id))) {
			if (!seen.has(n.rep)) {
				seen.add(n.rep);
				pool.push(n);
			}
		}
	}
	pool.sort((a, b) => a.d - b.d);
	for (const n of pool.slice(0, VOTERS)) {
		for (const i of unique.groupRows.get(unique.reps[n.rep]) as number[]) {
			const l = table.labels[i] as string;
			votes.set(l, (votes.get(l) ?? 0) + 1);
			voters++;
		}
	}
	return { votes, voters };
}

function appendAll<T>(to: T[], items: readonly T[]): void {
	for (const item of items) {
		to.push(item);
	}
}

function rangeOf(table: FeatureTable, i: number): { line: number; column: number; endLine?: number; endColumn: number } {
	return table.endLine[i] !== table.startLine[i]
		? { line: table.startLine[i], column: 1, endLine: table.endLine[i], endColumn: table.endColumn[i] }
		: { line: table.startLine[i], column: 1, endColumn: table.endColumn[i] };
}

/** Partner lines of a row, listed from the cluster's first rows only, so a cluster of a million copies stays linear. */
function partnerLines(c: ClusterContext, i: number): number[] {
	return c.memberRows
		.slice(0, MAX_RELATED + 1)
		.filter((r) => r !== i)
		.slice(0, MAX_RELATED)
		.map((r) => c.table.startLine[r]);
}

function partnerList(c: ClusterContext, partners: readonly number[]): string {
	return `${partners.join(', ')}${c.memberRows.length - 1 > partners.length ? `, … (${c.memberRows.length - 1} in all)` : ''}`;
}

function labelList(counts: Map<string, number>): string {
	return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ×${n}`).join(', ');
}

function voteText(c: ClusterContext): string {
	const ranked = [...c.votes.entries()].sort((a, b) => b[1] - a[1]);
	return c.voters > 0 ? ranked.map(([l, n]) => `${l} ×${n}`).join(', ') : 'no neighbours outside the cluster';
}

/**
 * Step 6a. A cluster whose rows carry different labels: the neighbourhood decides which of the cluster's own labels is
 * right; votes for other labels say nothing about which member is mislabelled (the clean source may itself be an odd
 * example). Without a winner, fall back to the cluster's own majority; with a tie there too, flag every row.
 */
function dirtyLabelProblems(c: ClusterContext): Problem[] {
	const inCluster = [...c.counts.keys()].map((l): [string, number] => [l, c.votes.get(l) ?? 0]).sort((a, b) => b[1] - a[1]);
	let expected = inCluster[0][1] > inCluster[1][1] ? inCluster[0][0] : null;
	if (expected === null) {
		const own = [...c.counts.entries()].sort((a, b) => b[1] - a[1]);
		expected = own[0][1] > own[1][1] ? own[0][0] : null;
	}
	const labels = labelList(c.counts);
	const problems: Problem[] = [];
	for (const i of c.memberRows) {
		const l = c.table.labels[i] as string;
		if (expected !== null && l === expected) {
			continue;
		}
		const exact = c.groupHasOtherLabel(c.groupOf[i], l);
		const partners = partnerLines(c, i);
		const evidence: EvidenceItem[] = [
			{ label: 'cluster', value: `${c.memberRows.length} rows: labels ${labels}` },
			{ label: 'partner rows', value: partnerList(c, partners) },
			{ label: 'nearest partner distance', value: `${fmt(c.partnerDistance(i))} (radius ${fmt(c.radius)} = ${c.radiusFactor} × median NN distance ${fmt(c.medianNn)})` },
			{ label: `labels of the ${Math.min(VOTERS, c.voters)} nearest rows outside the cluster`, value: voteText(c) },
		];
		problems.push({
			...rangeOf(c.table, i),
			code: exact ? ProblemCode.dirtyLabelDuplicate : ProblemCode.dirtyLabelNearDuplicate,
			severity: 'warning',
			message: `${exact ? 'exact' : 'near'} duplicate of ${partners.length === 1 ? 'line' : 'lines'} ${partners.slice(0, 5).join(', ')}${c.memberRows.length - 1 > 5 ? ', …' : ''} with a different label: '${l}' here, ${expected !== null ? `'${expected}' expected from the neighbourhood` : `labels ${labels}`} (possible dirty-label poison)`,
			related: partners,
			evidence,
		});
	}
	return problems;
}

/**
 * Step 6b. A tight same-label cluster is a near-clone poison candidate when it is far from its class mean, or sits
 * among rows of other classes: either way it does not look like its label (a class can be broad enough that a clone
 * of another class stays inside its 95th percentile).
 */
function nearCloneProblems(c: ClusterContext, stats: { mean: Float64Array; p95: number }, scale2: Float64Array): Problem[] {
	const { dim, features } = c.table;
	const label = c.table.labels[c.memberRows[0]] as string;
	const centroid = new Float64Array(dim);
	for (const i of c.memberRows) {
		for (let j = 0; j < dim; j++) {
			centroid[j] += features[i * dim + j] / c.memberRows.length;
		}
	}
	let dc = 0;
	for (let j = 0; j < dim; j++) {
		dc += (centroid[j] - stats.mean[j]) ** 2 * scale2[j];
	}
	dc = Math.sqrt(dc);
	const ownVotes = c.votes.get(label) ?? 0;
	const outvoted = c.voters >= VOTERS / 2 && ownVotes < 0.3 * c.voters;
	if (!(dc > stats.p95) && !outvoted) {
		return [];
	}
	return c.memberRows.map((i): Problem => {
		const partners = partnerLines(c, i);
		return {
			...rangeOf(c.table, i),
			code: ProblemCode.nearCloneCluster,
			severity: 'warning',
			message: `one of ${c.memberRows.length} near-identical rows labelled '${label}' that sit ${dc > stats.p95 ? `far from the '${label}' class mean` : `among rows of other classes`} (possible near-clone poison; spectral checks cannot see it)`,
			related: partners,
			evidence: [
				{ label: 'cluster', value: `${c.memberRows.length} rows labelled '${label}' within radius ${fmt(c.radius)}` },
				{ label: 'partner rows', value: partnerList(c, partners) },
				{ label: 'centroid distance to class mean', value: `${fmt(dc)} (95th percentile of class '${label}': ${fmt(stats.p95)})` },
				{ label: `labels of the ${Math.min(VOTERS, c.voters)} nearest rows outside the cluster`, value: voteText(c) },
			],
		};
	});
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
	const picked = analysedRows(table);
	if ('skipped' in picked) {
		return { problems: [], stats: { analysedRows: picked.analysed, uniqueRows: 0, medianNnDistance: 0, radius: 0, standardised: false, skipped: picked.skipped } };
	}
	const { rows } = picked;
	progress?.(0, 'scaling');
	const sc = columnScaling(table, rows);
	progress?.(0.05, 'projecting');
	const { rowProj, kq } = projectRows(table, rows, sc, uniform, progress);
	progress?.(0.3, 'duplicates');
	const unique = groupExactDuplicates(table, rows, rowProj, kq);
	progress?.(0.4, 'indexing');
	const nb = new Neighbourhood(table, sc.scale2, unique, kq);
	const medianNn = table.dim > 0 && unique.reps.length > 1 ? medianNnDistance(nb, unique.reps, uniform) : 0;
	const radius = radiusFactor * medianNn;
	progress?.(0.55, 'searching');
	const { components, nearestPartner } = radiusClusters(nb, unique, kq, radius, uniform);

	progress?.(0.9, 'judging');
	let classStats: Map<string, { mean: Float64Array; p95: number }> | null = null;
	// Labels per exact-duplicate group, computed once per group (a group can hold a million rows).
	const groupLabels = new Map<number, Set<string>>();
	const groupHasOtherLabel = (rep: number, label: string): boolean => {
		let set = groupLabels.get(rep);
		if (!set) {
			set = new Set((unique.groupRows.get(rep) as number[]).map((g) => table.labels[g] as string));
			groupLabels.set(rep, set);
		}
		return set.size > 1 || !set.has(label);
	};
	const partnerDistance = (i: number): number =>
		(unique.groupRows.get(unique.groupOf[i]) as number[]).length > 1 ? 0 : nearestPartner[unique.repIndex[unique.groupOf[i]]];
	const problems: Problem[] = [];
	for (const members of components) {
		const memberRows = members.flatMap((k) => unique.groupRows.get(unique.reps[k]) as number[]).sort((a, b) => a - b);
		const counts = new Map<string, number>();
		for (const i of memberRows) {
			const l = table.labels[i] as string;
			counts.set(l, (counts.get(l) ?? 0) + 1);
		}
		const conflicting = counts.size > 1;
		if (memberRows.length < 2 || (!conflicting && memberRows.length < minClone)) {
			continue;
		}
		const { votes, voters } = neighbourVotes(nb, unique, table, members);
		const c: ClusterContext = { table, memberRows, counts, votes, voters, radius, radiusFactor, medianNn, partnerDistance, groupHasOtherLabel, groupOf: unique.groupOf };
		// Appended one by one: a cluster can hold a million rows, too many for a spread argument list.
		if (conflicting) {
			appendAll(problems, dirtyLabelProblems(c));
			continue;
		}
		if (table.dim === 0) {
			continue;
		}
		classStats ??= classStatistics(table, rows, nb);
		const stats = classStats.get(table.labels[memberRows[0]] as string);
		if (stats) {
			appendAll(problems, nearCloneProblems(c, stats, sc.scale2));
		}
	}
	progress?.(1, 'done');
	return { problems, stats: { analysedRows: rows.length, uniqueRows: unique.reps.length, medianNnDistance: medianNn, radius, standardised: sc.standardised } };
}
