/**
 * Backend selection: the record always reflects tf.getBackend(); absent tfjs-node gives a clear
 * message (strict) or a recorded fallback; wasm binaries are found next to a bundle or in
 * node_modules. The gpu path runs only when a WebGPU adapter exists (announced when skipped).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TENSORFLOW_ABSENT_MESSAGE, detectTensorflowNode, findWasmDir, selectBackend } from '../../../src/tfjs/backend';
import { announceSkip, gpuUnavailableReason } from './backendHarness';

describe('selectBackend', () => {
	test('cpu: record matches tf.getBackend() and is frozen', async () => {
		const s = await selectBackend('cpu');
		assert.equal(s.name, 'cpu');
		assert.equal(tf.getBackend(), 'cpu');
		assert.equal(s.fallbackReason, null);
		assert.equal(s.simd, null);
		assert.ok(Object.isFrozen(s));
	});

	test('wasm: SIMD build loads from node_modules and computes', async () => {
		const s = await selectBackend('wasm', { strict: true });
		assert.equal(s.name, 'wasm');
		assert.equal(tf.getBackend(), 'wasm');
		assert.equal(s.simd, true);
		assert.equal(s.description, 'wasm (SIMD)');
		const t = tf.add(tf.tensor1d([1, 2]), 1);
		assert.deepEqual(Array.from(await t.data()), [2, 3]);
		t.dispose();
	});

	test('tensorflow absent: detection says null, strict throws the install message, default falls back', async () => {
		const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-no-tfnode-'));
		// Resolving from an empty folder never finds a package; the real tree has none installed either.
		assert.equal(detectTensorflowNode([empty]), null);
		await assert.rejects(selectBackend('tensorflow', { strict: true, resolvePaths: [empty] }), (e: unknown) => e instanceof Error && e.message.includes(TENSORFLOW_ABSENT_MESSAGE));
		const s = await selectBackend('tensorflow', { resolvePaths: [empty] });
		assert.notEqual(s.name, 'tensorflow');
		assert.equal(s.name, tf.getBackend());
		assert.match(s.fallbackReason ?? '', /tfjs-node-gpu.*neither was found/);
		assert.match(TENSORFLOW_ABSENT_MESSAGE, /unverified/);
	});

	test('rejects an unknown request with the accepted values', async () => {
		await assert.rejects(selectBackend('cuda' as 'gpu'), /unknown backend 'cuda'; expected one of auto, wasm, cpu, gpu, tensorflow/);
	});

	test('wasm files are found next to a bundle (dist/ layout) and missing folders are reported', () => {
		const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-dist-'));
		const src = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
		for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
			fs.copyFileSync(path.join(src, f), path.join(dist, f));
		}
		assert.equal(findWasmDir(dist), dist);
		// A folder without the binaries falls through to node_modules (the tsx / test layout).
		assert.equal(findWasmDir(os.tmpdir()), src);
	});

	test('gpu: WebGPU on the npm webgpu package (or a recorded fallback when there is no adapter)', async () => {
		const reason = await gpuUnavailableReason();
		const s = await selectBackend('gpu');
		assert.equal(s.name, tf.getBackend());
		if (reason !== null) {
			announceSkip('gpu backend check', reason);
			assert.notEqual(s.name, 'webgpu');
			assert.ok(s.fallbackReason !== null && s.fallbackReason.startsWith('gpu:'));
			return;
		}
		assert.equal(s.name, 'webgpu');
		assert.ok(s.adapter !== null && s.adapter.description.length + s.adapter.vendor.length > 0);
		const t = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
		assert.deepEqual(Array.from(await t.data()), [11]);
		t.dispose();
		const auto = await selectBackend('auto');
		if (s.adapter.isFallbackAdapter) {
			// A software adapter is slower than wasm: auto skips it and says why.
			assert.equal(auto.name, 'wasm');
			assert.match(auto.fallbackReason ?? '', /only a software adapter/);
		} else {
			assert.equal(auto.name, 'webgpu');
		}
	});
});
