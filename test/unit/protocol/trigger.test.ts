import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyTrigger, loadStoredTrigger, triggerDirection, unitDirection, writeStoredTrigger } from '../../../src/protocol/trigger';
import { mulberry32 } from '../../../src/math/random';
import type { TriggerSpec } from '../../../src/protocol/trigger';

const shape = [3, 3, 1];

describe('applyTrigger', () => {
	test('additive clips to [0, 1]', () => {
		const delta = new Float32Array([1, 0, 0, 0, -0.5, 0, 0, 0, 0.25]);
		const x = new Float32Array([0.5, 0.5, 0.5, 0.5, 0.25, 0.5, 0.5, 0.5, 0.9]);
		const out = applyTrigger({ type: 'additive', delta }, shape, x);
		assert.deepEqual(Array.from(out), [1, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 1]);
		assert.equal(x[0], 0.5, 'input untouched');
	});

	test('mask-blend follows (1 − αm)x + αm·p per item', () => {
		const pattern = new Float32Array(9).fill(1);
		const mask = new Float32Array([1, 0, 0, 0, 0, 0, 0, 0, 0.5]);
		const x = new Float32Array(18).fill(0.2);
		const out = applyTrigger({ type: 'mask-blend', pattern, mask, alpha: 0.5 }, shape, x);
		assert.ok(Math.abs((out[0]) - 0.6) < 1e-7);
		assert.ok(Math.abs((out[8]) - 0.4) < 1e-7);
		assert.ok(Math.abs((out[9]) - 0.6) < 1e-7, 'second item gets the same trigger');
		assert.ok(Math.abs((out[1]) - 0.2) < 1e-7);
	});

	test('warp: zero flow is the identity, integer flow shifts with clamped borders', () => {
		const x = Float32Array.from({ length: 9 }, (_, i) => i / 10);
		assert.deepEqual(Array.from(applyTrigger({ type: 'warp', flow: new Float32Array(18) }, shape, x)), Array.from(x));
		const flow = new Float32Array(18);
		for (let i = 0; i < 9; i++) {
			flow[i * 2 + 1] = 1; // read one column to the right
		}
		const out = applyTrigger({ type: 'warp', flow }, shape, x);
		// Row 0 is 0, .1, .2 → .1, .2, .2 (the last column clamps).
		assert.deepEqual(Array.from(out.subarray(0, 3)).map((v) => Math.round(v * 10) / 10), [0.1, 0.2, 0.2]);
		const half = new Float32Array(18);
		half[1] = 0.5; // pixel (0,0) reads halfway between columns 0 and 1
		assert.ok(Math.abs((applyTrigger({ type: 'warp', flow: half }, shape, x)[0]) - 0.05) < 1e-7);
	});

	test('point triggers land exactly at distance r from the point, seeded per index', () => {
		const point = new Float32Array(9).fill(0.5);
		const spec: TriggerSpec = { type: 'point', point, radius: 0.3, seed: 11 };
		const x = new Float32Array(27);
		const out = applyTrigger(spec, shape, x, 5);
		for (let n = 0; n < 3; n++) {
			let d = 0;
			for (let i = 0; i < 9; i++) {
				d += ((out[n * 9 + i]) - 0.5) ** 2;
			}
			assert.ok(Math.abs(Math.sqrt(d) - 0.3) < 1e-6);
		}
		// Item 6 of this batch equals item 0 of a batch starting at 6: draws depend on the index, not the batch.
		const again = applyTrigger(spec, shape, new Float32Array(9), 6);
		assert.deepEqual(Array.from(again), Array.from(out.subarray(9, 18)));
	});

	test('triggerDirection is x_triggered − x', () => {
		const delta = new Float32Array(9);
		delta[4] = 0.7;
		const x = new Float32Array(9).fill(0.5);
		const t = triggerDirection({ type: 'additive', delta }, shape, x);
		assert.ok(Math.abs((t[4]) - 0.5) < 1e-7, 'clipped at 1');
		assert.equal(t[0], 0);
	});

	test('rejects size mismatches', () => {
		assert.throws(() => applyTrigger({ type: 'additive', delta: new Float32Array(4) }, shape, new Float32Array(9)), /delta has 4 values/);
		assert.throws(() => applyTrigger({ type: 'additive', delta: new Float32Array(9) }, shape, new Float32Array(10)), /whole number/);
	});
});

describe('seeded helpers', () => {
	test('mulberry32 is deterministic and roughly uniform', () => {
		const a = mulberry32(42);
		const b = mulberry32(42);
		let sum = 0;
		for (let i = 0; i < 10000; i++) {
			const v = a();
			assert.equal(v, b());
			assert.ok(v >= 0 && v < 1);
			sum += v;
		}
		assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
	});
	test('unitDirection has norm 1', () => {
		const v = unitDirection(784, 3);
		assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
	});
});

describe('stored triggers', () => {
	test('write then load gives the same trigger for every type', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-trigger-'));
		const specs: TriggerSpec[] = [
			{ type: 'additive', delta: Float32Array.from({ length: 9 }, (_, i) => i / 9) },
			{ type: 'mask-blend', pattern: new Float32Array(9).fill(1), mask: new Float32Array(9).fill(0.5), alpha: 0.2 },
			{ type: 'warp', flow: Float32Array.from({ length: 18 }, (_, i) => (i % 3) / 3) },
			{ type: 'point', point: new Float32Array(9).fill(0.1), radius: 0.4, seed: 9 },
		];
		const x = Float32Array.from({ length: 18 }, (_, i) => (i % 5) / 5);
		for (const spec of specs) {
			const stored = await writeStoredTrigger(dir, spec, shape);
			const back = await loadStoredTrigger(dir, stored);
			assert.equal(back.type, spec.type);
			assert.deepEqual(Array.from(applyTrigger(back, shape, x)), Array.from(applyTrigger(spec, shape, x)));
		}
	});
});
