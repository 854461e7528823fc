import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticRgb } from '../../../bench/syntheticRgb';

describe('bench/syntheticRgb (the scale bench colour set)', () => {
	test('32×32×3 rows of 8-bit values (k/255, so the SDK stores bytes), seeded, all ten classes', () => {
		const a = syntheticRgb(200, 1);
		assert.deepEqual([...a.itemShape], [32, 32, 3]);
		assert.equal(a.images.length, 200 * 32 * 32 * 3);
		for (const v of a.images) {
			assert.ok(v >= 0 && v <= 1 && Math.abs(v * 255 - Math.round(v * 255)) < 1e-4, `value ${v}`);
		}
		assert.equal(new Set(a.labels).size, 10);
		assert.deepEqual(syntheticRgb(200, 1).images, a.images);
		assert.notDeepEqual(syntheticRgb(200, 2).images.subarray(0, 3072), a.images.subarray(0, 3072));
	});
	test('the class square is brighter in its own colour than the background', () => {
		const { images, labels } = syntheticRgb(500, 3);
		// Class 0 is red: its rows are redder on average than class 1 (green) rows.
		const red = (i: number): number => {
			let s = 0;
			for (let p = 0; p < 1024; p++) {
				s += images[i * 3072 + p * 3] - images[i * 3072 + p * 3 + 1];
			}
			return s / 1024;
		};
		const mean = (c: number): number => {
			const rows = [...labels.keys()].filter((i) => labels[i] === c);
			return rows.reduce((s, i) => s + red(i), 0) / rows.length;
		};
		assert.ok(mean(0) > mean(1) + 0.05, `red − green: class 0 ${mean(0)}, class 1 ${mean(1)}`);
	});
});
