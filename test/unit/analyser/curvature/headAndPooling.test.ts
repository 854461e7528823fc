/**
 * Regression tests for two silently wrong results:
 * - a net ending in a separate `tf.layers.softmax()` / Activation('softmax') layer is a probability
 *   head: `logits()` must return the values *before* it, not probabilities;
 * - average pooling with 'same' padding: tfjs 4.22's input gradient divides border windows by the
 *   full window size. The fixed gradient must equal the explicit adjoint Aᵀ of the pooling matrix A
 *   (built here in float64 from the definition: each output averages its in-bounds cells), and its
 *   second derivative must exist and match 2Aᵀdiag(w)A.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../../../src/tfjs/gradients';
import { logitModelFromLayers } from '../../../../src/analyser/curvature/index';
import { HVP_REL_TOL, relErr, seeded, useBackend, type TestBackend } from '../../tfjs/backendHarness';

installGradientFixes();

function headNet(head: 'softmaxLayer' | 'activation'): tf.Sequential {
	const m = tf.sequential();
	m.add(tf.layers.dense({ inputShape: [6], units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
	m.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), biasInitializer: 'ones' }));
	m.add(head === 'softmaxLayer' ? tf.layers.softmax() : tf.layers.activation({ activation: 'softmax' }));
	return m;
}

/** The matrix A [out, in] of a 1D 'same'/'valid' average pool (tfjs/TF padding rule), from the definition. */
function poolMatrix1d(n: number, k: number, s: number, pad: 'same' | 'valid'): number[][] {
	const out = pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
	const total = pad === 'same' ? Math.max((out - 1) * s + k - n, 0) : 0;
	const before = Math.floor(total / 2);
	const A: number[][] = [];
	for (let o = 0; o < out; o++) {
		const row = new Array<number>(n).fill(0);
		const cells: number[] = [];
		for (let t = 0; t < k; t++) {
			const i = o * s - before + t;
			if (i >= 0 && i < n) {
				cells.push(i);
			}
		}
		cells.forEach((i) => (row[i] = 1 / cells.length));
		A.push(row);
	}
	return A;
}

function randomData(n: number, seed: number): Float32Array {
	const r = seeded(seed);
	return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

for (const backend of ['cpu', 'wasm'] as TestBackend[]) {
	describe(`two once-silent errors on ${backend}`, () => {
		before(() => useBackend(backend));

		for (const head of ['softmaxLayer', 'activation'] as const) {
			test(`${head} head: logits() are the values before the softmax`, () => {
				const m = headNet(head);
				const lm = logitModelFromLayers(m);
				const x = tf.tensor2d(randomData(4 * 6, 3), [4, 6]);
				const pre = tf.model({ inputs: m.inputs, outputs: m.layers[1].output });
				const want = (pre.predict(x) as tf.Tensor).dataSync();
				const got = tf.tidy(() => lm.logits(x).dataSync());
				assert.equal(lm.numClasses, 3);
				assert.ok(relErr(got, want) < 1e-6, `logits relErr ${relErr(got, want)} (probabilities returned?)`);
				// And the head really is a softmax of them.
				const probs = (m.predict(x) as tf.Tensor).dataSync();
				const sm = tf.tidy(() => tf.softmax(lm.logits(x)).dataSync());
				assert.ok(relErr(sm, probs) < 1e-6);
				tf.dispose([x]);
				lm.dispose();
				m.dispose();
			});
		}

		for (const [n, k, s] of [
			[7, 3, 1],
			[8, 3, 2],
			[9, 4, 2],
		] as const) {
			test(`AveragePooling1D 'same' n=${n} pool=${k} stride=${s}: input gradient Aᵀw and HVP 2Aᵀdiag(w)Av`, () => {
				const c = 2;
				const layer = tf.layers.averagePooling1d({ poolSize: k, strides: s, padding: 'same' });
				const A = poolMatrix1d(n, k, s, 'same');
				const out = A.length;
				const xs = randomData(n * c, 5);
				const ws = randomData(out * c, 6);
				const vs = randomData(n * c, 7);
				const x = tf.tensor3d(xs, [1, n, c]);
				const w = tf.tensor3d(ws, [1, out, c]);
				const v = tf.tensor3d(vs, [1, n, c]);
				const lin = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, w));
				const quad = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.square(layer.apply(t) as tf.Tensor), w));
				const grad = tf.tidy(() => tf.grad(lin)(x).dataSync());
				const hv = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(tf.grad(quad)(t), v)))(x).dataSync());
				const wantGrad = new Float64Array(n * c);
				const wantHv = new Float64Array(n * c);
				for (let ch = 0; ch < c; ch++) {
					const Av = A.map((row) => row.reduce((a, aij, j) => a + aij * vs[j * c + ch], 0));
					for (let j = 0; j < n; j++) {
						for (let o = 0; o < out; o++) {
							wantGrad[j * c + ch] += A[o][j] * ws[o * c + ch];
							wantHv[j * c + ch] += 2 * A[o][j] * ws[o * c + ch] * Av[o];
						}
					}
				}
				tf.dispose([x, w, v]);
				assert.ok(relErr(grad, wantGrad) < HVP_REL_TOL[backend], `gradient relErr ${relErr(grad, wantGrad)}`);
				assert.ok(relErr(hv, wantHv) < HVP_REL_TOL[backend], `HVP relErr ${relErr(hv, wantHv)}`);
			});
		}

		test(`AveragePooling2D 'same' 5x5, pool 2, stride 2: input gradient is the explicit adjoint`, () => {
			const layer = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' });
			const A = poolMatrix1d(5, 2, 2, 'same');
			const xs = randomData(25, 8);
			const ws = randomData(9, 9);
			const x = tf.tensor4d(xs, [1, 5, 5, 1]);
			const w = tf.tensor4d(ws, [1, 3, 3, 1]);
			const grad = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(layer.apply(t) as tf.Tensor, w)))(x).dataSync());
			// 2D pooling is separable: A2 = A ⊗ A.
			const want = new Float64Array(25);
			for (let i = 0; i < 5; i++) {
				for (let j = 0; j < 5; j++) {
					for (let p = 0; p < 3; p++) {
						for (let q = 0; q < 3; q++) {
							want[i * 5 + j] += A[p][i] * A[q][j] * ws[p * 3 + q];
						}
					}
				}
			}
			tf.dispose([x, w]);
			assert.ok(relErr(grad, want) < HVP_REL_TOL[backend], `gradient relErr ${relErr(grad, want)}`);
		});
	});
}
