/**
 * bench/detect/rescore.ts opens only dev runs unless told --held-out: the split of a kept folder comes from the
 * grid (or its key), and a key it cannot place counts as held-out.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGrid } from '../../../bench/detect/grid';
import { allowedKeys, splitOfKey } from '../../../bench/detect/rescore';

describe('rescore split rule', () => {
	test('every grid key gets the grid split', () => {
		for (const p of buildGrid()) {
			assert.equal(splitOfKey(p.key), p.split, p.key);
		}
	});

	test('keys outside the current grid are placed by their parts; unplaceable keys are refused by default', () => {
		assert.equal(splitOfKey('demo-cnn_mnist_blend-t0.005_sgd_long_s0'), 'dev');
		assert.equal(splitOfKey('mlp_fashion-mnist_clean-warp_adam_long_s0'), 'dev');
		assert.equal(splitOfKey('mlp_mnist_near-clone-t0.005_sgd_long_s1'), 'held-out');
		assert.equal(splitOfKey('mnist-node_fashion-mnist_clean-label-t0.05_sgd_short_s0'), 'held-out');
		assert.equal(splitOfKey('bn-cnn_mnist_badnets-t0.01_adam_long_s0'), 'held-out');
		assert.equal(splitOfKey('something-else'), null);
		// Not in the grid: the clean-label attack (bench-only) is not a clean control.
		assert.equal(splitOfKey('mlp_mnist_clean-label-t0.01_adam_long_s0'), 'held-out');
		assert.equal(splitOfKey('mlp_mnist_clean-nope_adam_long_s0'), null);
		const keys = ['demo-cnn_mnist_blend-t0.005_sgd_long_s0', 'mlp_mnist_near-clone-t0.005_sgd_long_s1', 'something-else'];
		assert.deepEqual(allowedKeys(keys, false), { allowed: ['demo-cnn_mnist_blend-t0.005_sgd_long_s0'], refused: 2 });
		assert.deepEqual(allowedKeys(keys, true), { allowed: ['mlp_mnist_near-clone-t0.005_sgd_long_s1', 'something-else'], refused: 1 });
	});
});
