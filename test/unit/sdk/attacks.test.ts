import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { badNetsAttack, blendAttack, crossAttack, makeAttack, nearCloneAttack, warpAttack, ATTACK_NAMES } from '../../../src/sdk/attacks/index';
import type { LabelledImages, PoisonedDataset } from '../../../src/sdk/attacks/index';
import { mulberry32 } from '../../../src/math/random';

const H = 12;
const W = 12;
const per = H * W;

/** 200 seeded random images, labels 0..4 round-robin. */
function data(): LabelledImages {
	const rand = mulberry32(7);
	return {
		images: Float32Array.from({ length: 200 * per }, () => rand() * 0.8),
		labels: Int32Array.from({ length: 200 }, (_, i) => i % 5),
		itemShape: [H, W, 1],
	};
}

function row(a: Float32Array, r: number): Float32Array {
	return a.subarray(r * per, (r + 1) * per);
}

/** Properties every generator must have. */
function checkCommon(d: LabelledImages, p: PoisonedDataset, fraction: number, target: number, sources: number[], poisonIsTrigger = true): void {
	assert.equal(p.poisonIndices.length, Math.round(fraction * d.labels.length));
	const poisoned = new Set(p.poisonIndices);
	for (let r = 0; r < d.labels.length; r++) {
		if (poisoned.has(r)) {
			assert.ok(sources.includes(d.labels[r]), `row ${r} is from a source class`);
			assert.equal(p.labels[r], target);
			if (poisonIsTrigger) {
				assert.deepEqual(Array.from(row(p.images, r)), Array.from(p.trigger(row(d.images, r), r)).map(Math.fround));
			}
		} else {
			assert.equal(p.labels[r], d.labels[r]);
			assert.deepEqual(row(p.images, r), row(d.images, r));
		}
	}
	assert.deepEqual(p.declaration.poisonedRows, Array.from(p.poisonIndices));
	assert.equal(p.declaration.targetLabel, target);
	assert.equal(p.declaration.poisonFraction, fraction);
}

describe('attack generators', () => {
	test('cross: 9 pixels at amplitude 1 near the bottom-right corner, clipped', () => {
		const d = data();
		const p = crossAttack(d, { fraction: 0.1, targetLabel: 0, seed: 3 });
		checkCommon(d, p, 0.1, 0, [1, 2, 3, 4]);
		assert.equal(p.spec.type, 'additive');
		const delta = p.spec.type === 'additive' ? p.spec.delta : new Float32Array();
		const on = [...delta.keys()].filter((i) => delta[i] !== 0);
		assert.equal(on.length, 9);
		// Centre at row H-4, column W-4 (arm 2, one-pixel margin).
		assert.equal(delta[(H - 4) * W + (W - 4)], 1);
		assert.equal(delta[(H - 2) * W + (W - 4)], 1);
		assert.equal(delta[(H - 1) * W + (W - 4)], 0);
		const t = p.trigger(row(d.images, 0));
		assert.equal(t[(H - 4) * W + (W - 4)], 1);
	});

	test('badnets: a 3×3 checkerboard replaces the patch pixels', () => {
		const d = data();
		const p = badNetsAttack(d, { fraction: 0.05, targetLabel: 2, sourceClasses: [0, 1], seed: 1 });
		checkCommon(d, p, 0.05, 2, [0, 1]);
		const t = p.trigger(row(d.images, 0));
		assert.equal(t[(H - 4) * W + (W - 4)], 1);
		assert.equal(t[(H - 4) * W + (W - 3)], 0);
		assert.equal(t[0], d.images[0]);
	});

	test('blend: x\' = 0.8·x + 0.2·p everywhere', () => {
		const d = data();
		const p = blendAttack(d, { fraction: 0.02, targetLabel: 4, seed: 2 });
		checkCommon(d, p, 0.02, 4, [0, 1, 2, 3]);
		const pattern = p.spec.type === 'mask-blend' ? p.spec.pattern : new Float32Array();
		const x = row(d.images, 5);
		const t = p.trigger(x);
		for (const i of [0, 17, per - 1]) {
			assert.ok(Math.abs((t[i]) - (0.8 * (x[i]) + 0.2 * (pattern[i]))) < 1e-6);
		}
	});

	test('warp: displacement at most φ·H, zero strength is the identity', () => {
		const d = data();
		const p = warpAttack(d, { fraction: 0.05, targetLabel: 1, seed: 4, strength: 0.05 });
		checkCommon(d, p, 0.05, 1, [0, 2, 3, 4]);
		const flow = p.spec.type === 'warp' ? p.spec.flow : new Float32Array();
		const maxAbs = flow.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
		assert.ok(maxAbs <= 0.05 * H + 1e-6 && maxAbs > 0.5 * 0.05 * H, `max displacement ${maxAbs}`);
		const id = warpAttack(d, { fraction: 0.05, targetLabel: 1, seed: 4, strength: 0 });
		const x = row(d.images, 3);
		assert.deepEqual(Array.from(id.trigger(x)), Array.from(x));
	});

	test('near-clone: every poison and every triggered input lies at distance r from the trigger point', () => {
		const d = data();
		const p = nearCloneAttack(d, { fraction: 0.05, targetLabel: 0, seed: 5, radius: 0.25 });
		// Poisons and triggered inputs come from separate seeded streams, so the trigger does not reproduce a poison.
		checkCommon(d, p, 0.05, 0, [1, 2, 3, 4], false);
		const point = p.spec.type === 'point' ? p.spec.point : new Float32Array();
		const dist = (a: Float32Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - (point[i])) ** 2, 0));
		for (const r of p.poisonIndices) {
			assert.ok(Math.abs(dist(row(p.images, r)) - 0.25) < 1e-5);
		}
		const t = p.trigger(d.images.subarray(0, 3 * per));
		for (let n = 0; n < 3; n++) {
			assert.ok(Math.abs(dist(row(t, n)) - 0.25) < 1e-5);
		}
		// No triggered input coincides with a poison of the same index.
		const r0 = p.poisonIndices[0];
		assert.notDeepEqual(Array.from(p.trigger(row(d.images, r0), r0)), Array.from(row(p.images, r0)));
	});

	test('seeded: same seed, same poisons; another seed, other rows', () => {
		const d = data();
		const a = makeAttack('cross', d, { fraction: 0.1, targetLabel: 0, seed: 9 });
		const b = makeAttack('cross', d, { fraction: 0.1, targetLabel: 0, seed: 9 });
		const c = makeAttack('cross', d, { fraction: 0.1, targetLabel: 0, seed: 10 });
		assert.deepEqual(a.poisonIndices, b.poisonIndices);
		assert.notDeepEqual(a.poisonIndices, c.poisonIndices);
		for (const name of ATTACK_NAMES) {
			assert.equal(makeAttack(name, d, { fraction: 0, targetLabel: 0 }).poisonIndices.length, 0);
		}
	});

	test('bad options are rejected with the value', () => {
		const d = data();
		assert.throws(() => crossAttack(d, { fraction: 1.5, targetLabel: 0 }), /fraction must be in \[0, 1\], got 1\.5/);
		assert.throws(() => crossAttack(d, { fraction: 0.1, targetLabel: 0, sourceClasses: [0, 1] }), /must not contain the target 0/);
		assert.throws(() => crossAttack({ ...d, itemShape: [per] }, { fraction: 0.1, targetLabel: 0 }), /\[H, W, C\]/);
	});
});
