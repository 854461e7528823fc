/**
 * The wasm training kernels (src/tfjs/wasmKernels.ts): Conv2DBackpropFilter on wasm equals the cpu
 * kernel for strides 1/2, 'valid'/'same' and odd sizes; and the block that failed before
 * (conv with linear activation → BatchNormalization → relu) trains on wasm through model.fit and
 * through a custom loop (tf.variableGrads), with the loss going down.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../../src/tfjs/gradients';
import { relErr, seeded, useBackend } from './backendHarness';

installGradientFixes();

function data(n: number, seed: number): Float32Array {
	const r = seeded(seed);
	return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

function filterGrad(xs: Float32Array, xShape: [number, number, number, number], dys: Float32Array, dyShape: [number, number, number, number], filterShape: [number, number, number, number], strides: number, pad: 'valid' | 'same'): Float32Array {
	return tf.tidy(() => {
		const x = tf.tensor4d(xs, xShape);
		const dy = tf.tensor4d(dys, dyShape);
		return tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', dilations: 1, filterShape }).dataSync() as Float32Array;
	});
}

function convBnNet(): tf.Sequential {
	const m = tf.sequential();
	m.add(tf.layers.conv2d({ inputShape: [10, 10, 2], filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
	m.add(tf.layers.batchNormalization());
	m.add(tf.layers.activation({ activation: 'relu' }));
	m.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
	m.add(tf.layers.flatten());
	m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
	return m;
}

describe('wasm training kernels', () => {
	test('Conv2DBackpropFilter on wasm equals cpu', async () => {
		const cases: Array<[[number, number, number, number], [number, number, number, number], number, 'valid' | 'same']> = [
			[[2, 7, 6, 3], [3, 3, 3, 4], 1, 'valid'],
			[[2, 7, 6, 3], [3, 3, 3, 4], 1, 'same'],
			[[2, 9, 8, 2], [3, 3, 2, 5], 2, 'valid'],
			[[2, 9, 8, 2], [3, 2, 2, 5], 2, 'same'],
			[[1, 10, 10, 1], [5, 5, 1, 2], 3, 'same'],
		];
		for (const [xShape, fShape, s, pad] of cases) {
			await useBackend('cpu');
			const outShape = tf.tidy(() => tf.conv2d(tf.zeros<tf.Rank.R4>(xShape), tf.zeros<tf.Rank.R4>(fShape), s, pad).shape);
			const xs = data(xShape.reduce((a, b) => a * b, 1), 1);
			const dys = data(outShape.reduce((a, b) => a * b, 1), 2);
			const want = filterGrad(xs, xShape, dys, outShape, fShape, s, pad);
			await useBackend('wasm');
			const before = tf.memory().numTensors;
			const got = filterGrad(xs, xShape, dys, outShape, fShape, s, pad);
			assert.equal(tf.memory().numTensors, before);
			assert.ok(relErr(got, want) < 1e-5, `x ${xShape.join('x')} filter ${fShape.join('x')} stride ${s} ${pad}: relErr ${relErr(got, want)}`);
		}
	});

	test('conv(linear) → BatchNorm → relu trains on wasm via model.fit and via a custom loop', async () => {
		await useBackend('wasm');
		const n = 32;
		const xs = tf.tensor4d(data(n * 200, 3), [n, 10, 10, 2]);
		const labels = Array.from({ length: n }, (_, i) => i % 3);
		const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat();
		const m = convBnNet();
		m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
		const h = await m.fit(xs, ys, { epochs: 5, batchSize: 16, verbose: 0, shuffle: false });
		const losses = h.history.loss as number[];
		assert.ok(losses[losses.length - 1] < losses[0], `model.fit loss ${losses.join(' → ')}`);

		const c = convBnNet();
		const opt = tf.train.adam(0.01);
		const lossOf = (): tf.Scalar => tf.mean<tf.Scalar>(tf.losses.softmaxCrossEntropy(ys, c.apply(xs, { training: true }) as tf.Tensor));
		const first = tf.tidy(() => lossOf().dataSync()[0]);
		for (let i = 0; i < 5; i++) {
			tf.tidy(() => {
				const { grads } = tf.variableGrads(lossOf);
				opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
			});
		}
		const last = tf.tidy(() => lossOf().dataSync()[0]);
		assert.ok(last < first, `custom loop loss ${first} → ${last}`);
		tf.dispose([xs, ys]);
		m.dispose();
		c.dispose();
	});
});
