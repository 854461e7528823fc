import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decimateSeries, lttbIndices } from '../../../src/host/dashboard/decimate';
import { mulberry32 } from '../../../src/math/random';

/** Seeded PRNG (mulberry32) so the property tests are reproducible. */
const rng = mulberry32;

describe('lttbIndices', () => {
	test('keeps every point when the series is already short enough', () => {
		assert.deepEqual(lttbIndices([0, 1, 2], [5, 6, 7], 3), [0, 1, 2]);
		assert.deepEqual(lttbIndices([0, 1, 2], [5, 6, 7], 10), [0, 1, 2]);
		assert.deepEqual(lttbIndices([], [], 10), []);
	});

	test('a threshold below 3 keeps only the ends', () => {
		assert.deepEqual(lttbIndices([0, 1, 2, 3], [0, 1, 0, 1], 2), [0, 3]);
	});

	test('picks the peak: one bucket, the largest triangle is the spike (worked by hand)', () => {
		// n = 5, threshold 3: one interior bucket holding indices 1..3; the triangle with vertex (0,0)
		// and the next bucket's mean (4,0) is largest at the spike (2,10).
		assert.deepEqual(lttbIndices([0, 1, 2, 3, 4], [0, 0, 10, 0, 0], 3), [0, 2, 4]);
		assert.deepEqual(lttbIndices([0, 1, 2, 3, 4], [0, 0, -10, 0, 0], 3), [0, 2, 4]);
	});

	test('returns exactly `threshold` strictly increasing indices with both ends', () => {
		const r = rng(1);
		const n = 10_000;
		const x = Array.from({ length: n }, (_, i) => i);
		const y = x.map(() => r());
		const idx = lttbIndices(x, y, 500);
		assert.equal(idx.length, 500);
		assert.equal(idx[0], 0);
		assert.equal(idx[idx.length - 1], n - 1);
		for (let i = 1; i < idx.length; i++) {
			assert.ok(idx[i] > idx[i - 1], `indices must increase at ${i}`);
		}
	});

	test('never loses an isolated spike (the reason to use LTTB rather than striding)', () => {
		const r = rng(7);
		for (let trial = 0; trial < 20; trial++) {
			const n = 5000;
			const x = Array.from({ length: n }, (_, i) => i * 0.5);
			const y = x.map(() => r() * 0.1);
			const spike = 1 + Math.floor(r() * (n - 2));
			y[spike] = 50;
			const idx = lttbIndices(x, y, 300);
			assert.ok(idx.includes(spike), `trial ${trial}: spike at ${spike} was dropped`);
		}
	});

	test('rejects columns of different lengths', () => {
		assert.throws(() => lttbIndices([0, 1], [0], 5), /x has 2 points but y has 1/);
	});
});

describe('decimateSeries', () => {
	test('keeps the four columns aligned', () => {
		const n = 2000;
		const step = Array.from({ length: n }, (_, i) => i + 1);
		const s = { step, epoch: step.map((v) => v / 157), time: step.map((v) => v * 0.02), value: step.map((v) => Math.sin(v / 30)) };
		const d = decimateSeries(s, 200);
		assert.equal(d.step.length, 200);
		for (let i = 0; i < d.step.length; i++) {
			const k = d.step[i] - 1;
			assert.equal(d.epoch[i], s.epoch[k]);
			assert.equal(d.time[i], s.time[k]);
			assert.equal(d.value[i], s.value[k]);
		}
	});

	test('returns the same object when there is nothing to thin', () => {
		const s = { step: [1, 2], epoch: [0, 0], time: [0, 1], value: [3, 4] };
		assert.equal(decimateSeries(s, 500), s);
	});
});
