/**
 * Training works where analysis does: every zoo architecture trains on the wasm backend through
 * `model.fit` and through a custom loop (`tf.variableGrads` + an optimizer), after `installGradientFixes()`
 * (which `PoisonLens.start` calls): the loss is finite and every trainable weight moves.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../../src/tfjs/gradients';
import { ZOO, compileZoo, zooData, zooTargets } from '../../reference/zoo/makeZoo';
import { useBackend } from './backendHarness';

installGradientFixes();

function snapshot(m: tf.LayersModel): Float32Array[] {
	return m.trainableWeights.map((w) => w.read().dataSync() as Float32Array);
}

function allMoved(before: Float32Array[], after: Float32Array[]): boolean {
	return before.every((b, i) => b.some((v, j) => v !== after[i][j]));
}

describe('zoo architectures train on wasm', () => {
	before(() => useBackend('wasm'));
	for (const spec of ZOO) {
		test(spec.name, async () => {
			const data = zooData(spec.data, 32, 8);
			const xs = tf.tensor(data.train.xs, [32, ...data.itemShape]);
			const ys = zooTargets(spec, data.train.labels, data.numClasses);

			const m = spec.build();
			compileZoo(spec, m, 1e-2);
			const w0 = snapshot(m);
			const h = await m.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0, shuffle: false });
			assert.ok(Number.isFinite(h.history.loss[0]), `model.fit loss ${String(h.history.loss[0])}`);
			assert.ok(allMoved(w0, snapshot(m)), 'model.fit left a weight unchanged');

			const c = spec.build();
			const opt = tf.train.adam(1e-2);
			const w1 = snapshot(c);
			const lossOf = (): tf.Scalar =>
				tf.tidy(() => {
					const out = c.apply(xs, { training: true }) as tf.Tensor;
					if (spec.loss === 'binary') {
						return tf.losses.sigmoidCrossEntropy(ys, tf.log(tf.div(tf.add(out, 1e-7), tf.sub(1 + 1e-7, out))));
					}
					return spec.loss === 'logits' ? tf.losses.softmaxCrossEntropy(ys, out) : tf.neg(tf.mean(tf.sum(tf.mul(ys, tf.log(tf.add(out, 1e-7))), 1)));
				});
			for (let i = 0; i < 2; i++) {
				tf.tidy(() => {
					const { value, grads } = tf.variableGrads(lossOf);
					assert.ok(Number.isFinite(value.dataSync()[0]));
					opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
				});
			}
			assert.ok(allMoved(w1, snapshot(c)), 'custom loop left a weight unchanged');
			tf.dispose([xs, ys]);
			m.dispose();
			c.dispose();
		});
	}
});
