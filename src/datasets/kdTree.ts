/**
 * A k-d tree over low-dimensional points (the PCA projections), with radius and k-nearest queries. Pure module.
 * Points are the rows of a row-major `n × k` Float64Array.
 */

const LEAF_SIZE = 12;

/** A static k-d tree; build once, query many times. */
export class KdTree {
	private readonly perm: Int32Array;
	// Node arrays: a node is either a leaf (dim = -1, items perm[start, end)) or a split on `dim` at `value`.
	private readonly nodeDim: Int32Array;
	private readonly nodeValue: Float64Array;
	private readonly nodeLeft: Int32Array;
	private readonly nodeRight: Int32Array;
	private readonly nodeStart: Int32Array;
	private readonly nodeEnd: Int32Array;
	private nodes = 0;

	/**
	 * @param points row-major `n × k` coordinates
	 * @param k coordinates per point
	 * @param ids which rows to index (default: all)
	 */
	constructor(private readonly points: Float64Array, private readonly k: number, ids?: Int32Array) {
		const n = ids ? ids.length : points.length / k;
		this.perm = ids ? Int32Array.from(ids) : Int32Array.from({ length: n }, (_, i) => i);
		const cap = Math.max(1, Math.ceil((2 * n) / LEAF_SIZE) * 2 + 1);
		this.nodeDim = new Int32Array(cap);
		this.nodeValue = new Float64Array(cap);
		this.nodeLeft = new Int32Array(cap);
		this.nodeRight = new Int32Array(cap);
		this.nodeStart = new Int32Array(cap);
		this.nodeEnd = new Int32Array(cap);
		this.build(0, n);
	}

	private build(start: number, end: number): number {
		const id = this.nodes++;
		this.nodeStart[id] = start;
		this.nodeEnd[id] = end;
		if (end - start <= LEAF_SIZE) {
			this.nodeDim[id] = -1;
			return id;
		}
		const { points, k, perm } = this;
		let bestDim = 0;
		let bestSpread = -1;
		// The split axis only steers efficiency, so big nodes judge the spread on a strided sample of 128 points.
		const stride = Math.max(1, Math.floor((end - start) / 128));
		for (let c = 0; c < k; c++) {
			let lo = Infinity;
			let hi = -Infinity;
			for (let i = start; i < end; i += stride) {
				const v = points[perm[i] * k + c];
				if (v < lo) {
					lo = v;
				}
				if (v > hi) {
					hi = v;
				}
			}
			if (hi - lo > bestSpread) {
				bestSpread = hi - lo;
				bestDim = c;
			}
		}
		if (bestSpread <= 0 && stride > 1) {
			// The sample saw a single value; make sure the whole node does before calling it a leaf.
			for (let c = 0; c < k && bestSpread <= 0; c++) {
				let lo = Infinity;
				let hi = -Infinity;
				for (let i = start; i < end; i++) {
					const v = points[perm[i] * k + c];
					lo = Math.min(lo, v);
					hi = Math.max(hi, v);
				}
				if (hi - lo > bestSpread) {
					bestSpread = hi - lo;
					bestDim = c;
				}
			}
		}
		if (bestSpread <= 0) {
			this.nodeDim[id] = -1;
			return id;
		}
		const mid = (start + end) >> 1;
		this.select(start, end - 1, mid, bestDim);
		this.nodeDim[id] = bestDim;
		this.nodeValue[id] = points[perm[mid] * k + bestDim];
		this.nodeLeft[id] = this.build(start, mid);
		this.nodeRight[id] = this.build(mid, end);
		return id;
	}

	/** Quickselect: puts the `nth` smallest (by coordinate `c`) at `nth`, smaller before, larger after. */
	private select(lo: number, hi: number, nth: number, c: number): void {
		const { points, k, perm } = this;
		while (hi > lo) {
			const pivot = points[perm[(lo + hi) >> 1] * k + c];
			let i = lo;
			let j = hi;
			while (i <= j) {
				while (points[perm[i] * k + c] < pivot) {
					i++;
				}
				while (points[perm[j] * k + c] > pivot) {
					j--;
				}
				if (i <= j) {
					const t = perm[i];
					perm[i] = perm[j];
					perm[j] = t;
					i++;
					j--;
				}
			}
			if (nth <= j) {
				hi = j;
			} else if (nth >= i) {
				lo = i;
			} else {
				return;
			}
		}
	}

	private dist2(q: Float64Array, qOff: number, p: number, limit: number): number {
		const { points, k } = this;
		const o = p * k;
		let s = 0;
		for (let c = 0; c < k; c++) {
			const t = q[qOff + c] - points[o + c];
			s += t * t;
			if (s > limit) {
				return s;
			}
		}
		return s;
	}

	/**
	 * Calls `visit(id, d2)` for every indexed point within `radius` of the query (projected squared distance d2).
	 * Stops early when `visit` returns false. Uses incremental cell distances (Arya & Mount), which prune far better
	 * than per-axis tests once the ball straddles splits on several axes.
	 */
	radius(q: Float64Array, qOff: number, radius: number, visit: (id: number, d2: number) => boolean): void {
		const r2 = radius * radius;
		const off = new Float64Array(this.k);
		let stopped = false;
		const walk = (node: number, rd: number): void => {
			const dim = this.nodeDim[node];
			if (dim < 0) {
				for (let i = this.nodeStart[node]; i < this.nodeEnd[node] && !stopped; i++) {
					const p = this.perm[i];
					const d2 = this.dist2(q, qOff, p, r2);
					if (d2 <= r2 && !visit(p, d2)) {
						stopped = true;
					}
				}
				return;
			}
			const diff = q[qOff + dim] - this.nodeValue[node];
			const near = diff <= 0 ? this.nodeLeft[node] : this.nodeRight[node];
			const far = diff <= 0 ? this.nodeRight[node] : this.nodeLeft[node];
			walk(near, rd);
			if (stopped) {
				return;
			}
			const old = off[dim];
			const farRd = rd - old * old + diff * diff;
			if (farRd <= r2) {
				off[dim] = diff;
				walk(far, farRd);
				off[dim] = old;
			}
		};
		walk(0, 0);
	}

	/**
	 * Approximately the `count` nearest indexed points to the query by projected distance, nearest first, skipping ids
	 * for which `skip(id)` is true. A cell is skipped when even (1 + eps) times its distance exceeds the current k-th
	 * distance, so every returned neighbour is within (1 + eps) of the true k-th nearest (eps = 0: exact).
	 */
	nearest(q: Float64Array, qOff: number, count: number, skip: (id: number) => boolean, eps = 0): { ids: Int32Array; d2: Float64Array } {
		const ids = new Int32Array(count).fill(-1);
		const d2s = new Float64Array(count).fill(Infinity);
		const shrink = 1 / ((1 + eps) * (1 + eps));
		let worst = Infinity;
		const insert = (id: number, d2: number): void => {
			let i = count - 1;
			while (i > 0 && d2s[i - 1] > d2) {
				d2s[i] = d2s[i - 1];
				ids[i] = ids[i - 1];
				i--;
			}
			d2s[i] = d2;
			ids[i] = id;
			worst = d2s[count - 1];
		};
		const off = new Float64Array(this.k);
		const walk = (node: number, rd: number): void => {
			const dim = this.nodeDim[node];
			if (dim < 0) {
				for (let i = this.nodeStart[node]; i < this.nodeEnd[node]; i++) {
					const p = this.perm[i];
					if (skip(p)) {
						continue;
					}
					const d2 = this.dist2(q, qOff, p, worst);
					if (d2 < worst) {
						insert(p, d2);
					}
				}
				return;
			}
			const diff = q[qOff + dim] - this.nodeValue[node];
			const near = diff <= 0 ? this.nodeLeft[node] : this.nodeRight[node];
			const far = diff <= 0 ? this.nodeRight[node] : this.nodeLeft[node];
			walk(near, rd);
			const old = off[dim];
			const farRd = rd - old * old + diff * diff;
			if (farRd <= worst * shrink) {
				off[dim] = diff;
				walk(far, farRd);
				off[dim] = old;
			}
		};
		walk(0, 0);
		let n = count;
		while (n > 0 && ids[n - 1] < 0) {
			n--;
		}
		return { ids: ids.slice(0, n), d2: d2s.slice(0, n) };
	}
}
