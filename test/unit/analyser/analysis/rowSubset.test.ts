import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rowWindow, stratifiedOrder, subsetReader } from '../../../../src/analyser/analysis/rowSubset';
import { openTensorSet, writeTensorSet } from '../../../../src/protocol/tensorFile';

/** Unbalanced labels: 10 classes with 50…950 rows each (5000 rows), interleaved the way a shuffled training set is. */
function unbalancedLabels(): Int32Array {
	const out: number[] = [];
	for (let c = 0; c < 10; c++) {
		for (let k = 0; k < 50 + 100 * c; k++) {
			out.push(c);
		}
	}
	// A fixed interleaving (not sorted by label), so file order says nothing about labels.
	return Int32Array.from(out.map((l, i) => ({ l, k: (i * 7919) % out.length })).sort((a, b) => a.k - b.k), (x) => x.l);
}

function countsOf(labels: Int32Array, positions: ArrayLike<number>): Map<number, number> {
	const m = new Map<number, number>();
	for (let k = 0; k < positions.length; k++) {
		m.set(labels[positions[k]], (m.get(labels[positions[k]]) ?? 0) + 1);
	}
	return m;
}

describe('live scan row subsample', () => {
	test('the ordering is a permutation; any window holds each label\'s share to within two rows', () => {
		const labels = unbalancedLabels();
		const n = labels.length;
		const order = stratifiedOrder(labels, 7);
		assert.deepEqual(Array.from(order).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
		const total = countsOf(labels, order);
		for (const [size, cursor] of [[256, 0], [1000, 123], [777, 4800], [64, 4990]]) {
			const w = rowWindow(order, cursor, size);
			assert.equal(w.length, size);
			assert.equal(new Set(w).size, size, 'distinct rows');
			for (const [label, count] of total) {
				const got = countsOf(labels, w).get(label) ?? 0;
				const want = (size * count) / n;
				assert.ok(Math.abs(got - want) < 2, `window ${size}@${cursor}, label ${label}: ${got} rows, its share is ${want.toFixed(2)}`);
			}
		}
	});

	test('seeded: the same seed gives the same rows, another seed other rows; windows are in file order', () => {
		const labels = unbalancedLabels();
		const a = rowWindow(stratifiedOrder(labels, 3), 500, 1024);
		assert.deepEqual(rowWindow(stratifiedOrder(labels, 3), 500, 1024), a);
		assert.notDeepEqual(rowWindow(stratifiedOrder(labels, 4), 500, 1024), a);
		assert.ok(a.every((v, i) => i === 0 || v > a[i - 1]), 'ascending');
	});

	test('rotating windows of varying sizes cover every row once their sizes add up to the row count', () => {
		const labels = unbalancedLabels();
		const n = labels.length;
		const order = stratifiedOrder(labels, 11);
		const seen = new Uint16Array(n);
		let cursor = 0;
		const sizes = [1024, 1536, 960, 1088, 512];
		assert.equal(sizes.reduce((x, y) => x + y, 0), n + 120, 'the last window wraps around by 120 rows');
		for (const size of sizes) {
			for (const p of rowWindow(order, cursor, size)) {
				seen[p]++;
			}
			cursor = (cursor + size) % n;
		}
		assert.equal(seen.filter((c) => c === 0).length, 0, 'every row scored at least once');
		assert.equal(seen.filter((c) => c === 2).length, 120, 'only the wrap-around rows twice');
		// k = ⌈n/N⌉ scans of a fixed size N cover every row.
		const N = 1200;
		const cover = new Set<number>();
		for (let k = 0; k < Math.ceil(n / N); k++) {
			rowWindow(order, k * N, N).forEach((p) => cover.add(p));
		}
		assert.equal(cover.size, n);
		assert.equal(rowWindow(order, 0, n + 5).length, n, 'a window larger than the set is the whole set');
	});

	test('the subset view reads, labels and numbers the rows at its positions', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-subset-'));
		const file = path.join(dir, 'rows.bin');
		// Row i holds (i, 10 i); labels i mod 3; source row numbers 100 + i.
		const count = 10;
		await writeTensorSet(file, {
			itemShape: [2],
			count,
			data: Float32Array.from({ length: 2 * count }, (_, k) => (k % 2 === 0 ? k / 2 : 5 * k - 5)),
			labels: Int32Array.from({ length: count }, (_, i) => i % 3),
			rowIndices: Uint32Array.from({ length: count }, (_, i) => 100 + i),
		});
		const reader = await openTensorSet(file);
		try {
			const labelled = Object.assign(reader, { labels: reader.labels ?? new Int32Array(0) });
			const view = subsetReader(labelled, Int32Array.from([1, 4, 8]));
			assert.equal(view.count, 3);
			assert.deepEqual(Array.from(view.labels), [1, 1, 2]);
			assert.deepEqual(Array.from(view.rowIndices ?? []), [101, 104, 108]);
			assert.deepEqual(Array.from(await view.read(1, 2)), [4, 40, 8, 80]);
			assert.deepEqual(Array.from(await view.readRows([2, 0])), [8, 80, 1, 10]);
			await assert.rejects(view.read(2, 2), /outside 0…2/);
			await assert.rejects(view.readRows([3]), /outside the subset/);
			assert.throws(() => subsetReader(labelled, Int32Array.from([4, 1])), /not ascending/);
			assert.throws(() => subsetReader(labelled, Int32Array.from([10])), /outside 0…9/);
			await view.close();
			assert.deepEqual(Array.from(await reader.read(9, 1)), [9, 90], 'closing the view leaves the file open');
		} finally {
			await reader.close();
		}
	});
});
