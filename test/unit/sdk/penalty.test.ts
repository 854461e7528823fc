import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { crossEntropyPerSample, inputGradientPenalty } from '../../../src/sdk/penalty';
import { mulberry32 } from '../../../src/math/random';

before(async () => {
	await tf.setBackend('cpu');
});

describe('inputGradientPenalty', () => {
	test('value and weight gradient match the closed form for squared loss on a linear model', () => {
		// ℓ_i = ½(wᵀx_i − y_i)², so ∇ₓℓ_i = r_i·w with r_i = wᵀx_i − y_i, and
		// P = κ/2 · mean_i r_i²‖w‖²,  ∂P/∂w = κ/B · Σ_i (r_i‖w‖² x_i + r_i² w).
		const kappa = 0.7;
		const wv = [0.3, -1.2, 0.5];
		const xv = [
			[1, 2, 3],
			[-1, 0.5, 2],
			[0.2, 0.1, -0.4],
			[2, -1, 1],
		];
		const yv = [0.5, -1, 2, 0];
		const w = tf.variable(tf.tensor1d(wv));
		const x = tf.tensor2d(xv);
		const y = tf.tensor1d(yv);
		const penalised = inputGradientPenalty(kappa);
		const perSample = (xx: tf.Tensor): tf.Tensor => tf.mul(0.5, tf.square(tf.sub(tf.sum(tf.mul(xx, w), 1), y)));
		const { value, grads } = tf.variableGrads(() => penalised(perSample, x).penalty, [w]);
		const w2 = wv.reduce((a, v) => a + v * v, 0);
		const r = xv.map((row, i) => row.reduce((a, v, j) => a + v * (wv[j]), 0) - (yv[i]));
		const B = xv.length;
		const expectedValue = (kappa / 2) * (r.reduce((a, v) => a + v * v, 0) * w2) / B;
		const expectedGrad = wv.map((wj, j) => (kappa / B) * r.reduce((a, ri, i) => a + ri * w2 * (xv[i]?.[j] ?? 0) + ri * ri * wj, 0));
		assert.ok(Math.abs(value.dataSync()[0] - expectedValue) < 1e-4 * Math.abs(expectedValue));
		const got = Array.from(grads[w.name].dataSync());
		got.forEach((g, j) => assert.ok(Math.abs(g - expectedGrad[j]) < 1e-4 * Math.max(1, Math.abs(expectedGrad[j])), `grad ${j}: ${g} vs ${expectedGrad[j]}`));
		const total = penalised(perSample, x);
		const meanLoss = r.reduce((a, v) => a + 0.5 * v * v, 0) / B;
		assert.ok(Math.abs(total.total.dataSync()[0] - (meanLoss + expectedValue)) < 1e-4 * (meanLoss + expectedValue));
	});

	test('κ = 0 is the plain mean loss', () => {
		const x = tf.tensor2d([[1, 2]]);
		const out = inputGradientPenalty(0)((xx) => tf.sum(xx, 1), x);
		assert.equal(out.total.dataSync()[0], 3);
		assert.equal(out.penalty.dataSync()[0], 0);
		assert.throws(() => inputGradientPenalty(-1), /kappa must be a finite number ≥ 0, got -1/);
	});

	test('training with κ > 0 lowers ‖∇ₓL‖ on a toy problem against κ = 0', () => {
		// Two overlapping Gaussian blobs in 8-D (the loss cannot reach 0, so input gradients stay finite), a ReLU MLP
		// with a softmax output; same seed, data and steps for both runs.
		const rand = mulberry32(3);
		const g = (): number => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
		const n = 64;
		const d = 8;
		const xs = tf.tensor2d(Array.from({ length: n }, (_, i) => Array.from({ length: d }, () => g() + (i % 2 === 0 ? 0.3 : -0.3))));
		const ys = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'int32'), 2);
		const run = (kappa: number): number => {
			const init = mulberry32(11);
			const w1 = tf.variable(tf.tensor2d(Array.from({ length: d * 16 }, () => (init() - 0.5) * 0.8), [d, 16]));
			const b1 = tf.variable(tf.zeros([16]));
			const w2 = tf.variable(tf.tensor2d(Array.from({ length: 16 * 2 }, () => (init() - 0.5) * 0.8), [16, 2]));
			const net = (x: tf.Tensor): tf.Tensor => tf.softmax(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2));
			const loss = (x: tf.Tensor): tf.Tensor => crossEntropyPerSample(net(x), ys);
			const penalised = inputGradientPenalty(kappa);
			const opt = tf.train.adam(0.02);
			for (let step = 0; step < 100; step++) {
				tf.tidy(() => {
					opt.minimize(() => penalised(loss, xs).total);
				});
			}
			const gnorm = tf.tidy(() => {
				const gx = tf.grad((x: tf.Tensor) => tf.sum(loss(x)))(xs);
				return tf.mean(tf.sum(tf.square(gx), 1)).dataSync()[0];
			});
			for (const v of [w1, b1, w2]) {
				v.dispose();
			}
			return gnorm;
		};
		const plain = run(0);
		const regularised = run(1);
		assert.ok(regularised < 0.5 * plain, `mean ‖∇ₓL‖²: κ=1 ${regularised} vs κ=0 ${plain}`);
	});
});
