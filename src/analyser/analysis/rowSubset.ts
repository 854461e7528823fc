/**
 * The rows a live blind scan scores (docs/analyser.md §4.1): a seeded, label-stratified ordering of the training rows,
 * read as a ring; each live scan takes the next window of it, as many rows as its time box holds, so consecutive
 * scans cover every recorded row once before any row comes round again. The final scan (and every scan outside
 * follow mode) scores every row and does not use this.
 *
 * No stage-1 score is carried from one scan to the next: each live scan runs on a newer checkpoint, whose scores
 * differ from the older one's (the robust z of a row is relative to its label's other rows *at that checkpoint*), so
 * mixing them would compare rows scored by different models. The rotation is what gives coverage over the epochs.
 *
 * Pure, apart from {@link subsetReader}, a read-only view of a tensor file restricted to some of its rows.
 */
import { mulberry32 } from '../../math/random';
import { groupByLabel } from '../detectors/common';
import type { TensorSetReader } from '../../protocol/tensorFile';

/**
 * A seeded, label-stratified ordering of the positions 0…n−1: within each label the rows are shuffled (seeded), the
 * r-th of label L's n_L rows gets the key (r + u_L)/n_L with a seeded offset u_L ∈ [0, 1), and all rows are sorted by
 * key. Any window of N consecutive positions of the ordering (read as a ring) then holds each label's share of N to
 * within two rows: a key interval of length ℓ holds n_L·ℓ ± 1 rows of label L.
 */
export function stratifiedOrder(labels: ArrayLike<number>, seed: number): Int32Array {
	const n = labels.length;
	const groups = groupByLabel(labels);
	const rand = mulberry32((seed * 2_654_435_761 + 0x5eed) >>> 0);
	const keys = new Float64Array(n);
	// Labels in ascending order (groupByLabel sorts them), so the seed gives the same order whatever the file order.
	for (const rows of groups.values()) {
		for (let i = rows.length - 1; i > 0; i--) {
			const j = Math.floor(rand() * (i + 1));
			const t = rows[i];
			rows[i] = rows[j];
			rows[j] = t;
		}
		const u = rand();
		rows.forEach((row, r) => {
			keys[row] = (r + u) / rows.length;
		});
	}
	return Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || labels[a] - labels[b] || a - b);
}

/**
 * The window of `size` positions of `order` starting at `cursor` (as a ring), ascending (file order, so the rows are
 * read in one pass); all of them when `size` ≥ the order's length.
 */
export function rowWindow(order: Int32Array, cursor: number, size: number): Int32Array {
	const n = order.length;
	if (n === 0) {
		return new Int32Array(0);
	}
	const m = Math.max(0, Math.min(n, Math.floor(size)));
	const start = ((Math.floor(cursor) % n) + n) % n;
	const out = new Int32Array(m);
	for (let k = 0; k < m; k++) {
		out[k] = order[(start + k) % n];
	}
	return out.sort();
}

/**
 * A read-only view of `reader` holding only the rows at `positions` (ascending, distinct), in that order: `count`,
 * `labels`, `read` and `readRows` speak of the view's own positions 0…k−1; `rowIndices` map them to the source rows
 * the training set numbers (the reader's own row indices where it has them). Closing the view does not close `reader`.
 * @throws RangeError when a position is outside the reader or the positions are not ascending and distinct
 */
export function subsetReader(reader: TensorSetReader & { readonly labels: Int32Array }, positions: Int32Array): TensorSetReader & { readonly labels: Int32Array } {
	for (let k = 0; k < positions.length; k++) {
		const p = positions[k];
		if (!(Number.isInteger(p) && p >= 0 && p < reader.count) || (k > 0 && p <= positions[k - 1])) {
			throw new RangeError(`${reader.file}: row subset position ${p} (entry ${k}) is outside 0…${reader.count - 1} or not ascending`);
		}
	}
	const source = reader.rowIndices;
	const parentLabels = reader.labels;
	const at = (items: ArrayLike<number>): Int32Array => Int32Array.from({ length: items.length }, (_, i) => {
		const k = items[i];
		if (!(Number.isInteger(k) && k >= 0 && k < positions.length)) {
			throw new RangeError(`${reader.file}: item ${k} is outside the subset's 0…${positions.length - 1}`);
		}
		return positions[k];
	});
	return {
		file: reader.file,
		itemShape: reader.itemShape,
		count: positions.length,
		encoding: reader.encoding,
		size: reader.size,
		labels: Int32Array.from(positions, (p) => parentLabels[p]),
		rowIndices: Uint32Array.from(positions, (p) => (source === undefined ? p : source[p])),
		read: async (start, n) => {
			if (!(Number.isInteger(start) && Number.isInteger(n) && start >= 0 && n >= 0 && start + n <= positions.length)) {
				throw new RangeError(`${reader.file}: subset items ${start}…${start + n - 1} are outside 0…${positions.length - 1}`);
			}
			return await reader.readRows(positions.subarray(start, start + n));
		},
		readRows: async (items) => await reader.readRows(at(items)),
		close: () => Promise.resolve(),
	};
}
