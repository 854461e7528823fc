/**
 * The WebGPU fallback trap (docs/numerics.md §2) in its own process: Dawn is told to look for an
 * adapter that does not exist, so requestAdapter() finds none; selectBackend must then leave
 * tfjs on a working backend (not on a half-initialised 'webgpu') and say why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/tfjs/backend';

test('gpu without an adapter falls back to wasm with the reason; strict throws', async () => {
	const s = await selectBackend('gpu', { dawnOptions: ['adapter=NoSuchAdapterForPoisonLensTests'] });
	assert.equal(s.name, 'wasm');
	assert.equal(tf.getBackend(), 'wasm');
	// Dawn either returns no adapter or throws "no suitable backends found"; both become the reason.
	assert.match(s.fallbackReason ?? '', /^gpu: (no WebGPU adapter|no suitable backends found)/);
	const t = tf.add(tf.scalar(1), 2);
	assert.equal((await t.data())[0], 3);
	t.dispose();
	await assert.rejects(selectBackend('gpu', { strict: true }), /backend 'gpu' unavailable: gpu:/);
	const auto = await selectBackend('auto');
	assert.equal(auto.name, 'wasm');
	assert.match(auto.fallbackReason ?? '', /^gpu:/);
});
