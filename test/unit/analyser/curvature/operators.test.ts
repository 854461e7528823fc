/**
 * Operators and entry points on small seeded nets (cpu): the Gauss–Newton identity
 * H = Jᵀ(diag p − ppᵀ)J for piecewise-linear nets (exact a.e., docs/numerics.md §1), GN ≠ H for
 * smooth nets, exact Gram paths vs Lanczos, validation, and a tf.memory() leak test per path.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
	InputHessianOperator,
	blockPowerIteration,
	curvatureAlong,
	gaussNewtonFactors,
	gaussNewtonMeanTrace,
	lanczos,
	logitModelFromFunction,
	meanCurvatureTrace,
	meanGaussNewtonEigenGram,
	meanGaussNewtonOperator,
	perSampleGaussNewtonEigen,
	perSampleGaussNewtonOperator,
	perSampleTopEigen,
	topEigenpairs,
	CurvatureCancelledError,
	logitModelFromLayers,
	type LogitModel,
} from '../../../../src/analyser/curvature';
import { relErr, seeded, useBackend } from '../../tfjs/backendHarness';

const B = 6;
const D = 12;
const C = 4;

function weights(seed: number, shape: number[], scale: number): tf.Tensor {
	const r = seeded(seed);
	const n = shape.reduce((a, b) => a * b, 1);
	return tf.keep(tf.tensor(Float32Array.from({ length: n }, () => scale * (2 * r() - 1)), shape));
}

function twoLayer(act: 'relu' | 'tanh'): LogitModel {
	const w1 = weights(1, [D, 16], 0.8);
	const b1 = weights(2, [16], 0.3);
	const w2 = weights(3, [16, C], 0.8);
	return logitModelFromFunction(
		(x) => tf.matMul(act === 'relu' ? tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, w1 as tf.Tensor2D), b1)) : tf.tanh(tf.add(tf.matMul(x as tf.Tensor2D, w1 as tf.Tensor2D), b1)), w2),
		{ inputShape: [D], numClasses: C, piecewiseLinear: act === 'relu', label: `${act} 12-16-4` },
	);
}

function inputs(): tf.Tensor2D {
	const r = seeded(7);
	return tf.tensor2d(Float32Array.from({ length: B * D }, () => 2 * r() - 1), [B, D]);
}
const LABELS = [0, 3, 1, 2, 2, 0];

async function leakFree(what: string, body: () => Promise<unknown>): Promise<void> {
	await body(); // warm-up: tfjs caches a few constants on first use
	const before = tf.memory().numTensors;
	await body();
	assert.equal(tf.memory().numTensors, before, `${what} leaked ${tf.memory().numTensors - before} tensors`);
}

describe('curvature operators and entry points (cpu)', () => {
	let relu: LogitModel;
	let tanh: LogitModel;
	let x: tf.Tensor2D;
	before(async () => {
		await useBackend('cpu');
		relu = twoLayer('relu');
		tanh = twoLayer('tanh');
		x = tf.keep(inputs());
	});

	test('Gauss–Newton identity on a ReLU net: factored G_i v_i equals the double-backprop H_i v_i', async () => {
		const v = Float64Array.from({ length: B * D }, (_, i) => Math.sin(0.37 * i));
		const h = new InputHessianOperator(relu, x, LABELS, 'perSample');
		const hv = await h.matvec(v);
		h.dispose();
		const gv = await perSampleGaussNewtonOperator(await gaussNewtonFactors(relu, x)).matvec(v);
		assert.ok(relErr(gv, hv) < 1e-5, `relErr ${relErr(gv, hv)}`);
	});

	test('on a tanh net the GN differs from the Hessian (so auto must pick hvp)', async () => {
		const v = Float64Array.from({ length: B * D }, (_, i) => Math.sin(0.37 * i));
		const h = new InputHessianOperator(tanh, x, LABELS, 'perSample');
		const hv = await h.matvec(v);
		h.dispose();
		const gv = await perSampleGaussNewtonOperator(await gaussNewtonFactors(tanh, x)).matvec(v);
		assert.ok(relErr(gv, hv) > 1e-2, `relErr ${relErr(gv, hv)}`);
		const r = await topEigenpairs(tanh, x, LABELS, { k: 2 });
		assert.equal(r.method, 'hvp');
		assert.equal((await topEigenpairs(relu, x, LABELS, { k: 2 })).method, 'gn');
	});

	test('factor chunking (rows per pass) does not change the factors', async () => {
		const a = await gaussNewtonFactors(relu, x);
		const b = await gaussNewtonFactors(relu, x, { maxRowsPerPass: B });
		assert.equal(b.passes, C);
		assert.equal(a.passes, 1);
		assert.ok(relErr(b.F, a.F) === 0);
	});

	test('batch-mean GN: Lanczos on factored operator = exact Gram eigenpairs = hvp Lanczos (ReLU)', async () => {
		const f = await gaussNewtonFactors(relu, x);
		const gram = meanGaussNewtonEigenGram(f, 3);
		const lz = await lanczos(meanGaussNewtonOperator(f), { k: 3, tol: 1e-10, explicitResiduals: true });
		const hvp = await topEigenpairs(relu, x, LABELS, { k: 3, method: 'hvp', maxIter: D, tol: 1e-6 });
		assert.ok(relErr(lz.eigenvalues, gram.eigenvalues) < 1e-10);
		assert.ok(relErr(hvp.eigenvalues, gram.eigenvalues) < 1e-5, `${hvp.eigenvalues.join(', ')} vs ${gram.eigenvalues.join(', ')}`);
		assert.ok(gram.converged && lz.converged);
		// Exact trace of the mean GN equals the sum of all its eigenvalues.
		const all = meanGaussNewtonEigenGram(f, Math.min(B * C, D));
		assert.ok(Math.abs(all.eigenvalues.reduce((a, b) => a + b, 0) - gaussNewtonMeanTrace(f)) < 1e-9 * gaussNewtonMeanTrace(f));
	});

	test('per-sample: exact C×C Gram top eigenpairs = power iteration on the factored operator', async () => {
		const f = await gaussNewtonFactors(relu, x);
		const exact = perSampleGaussNewtonEigen(f);
		const power = await blockPowerIteration(perSampleGaussNewtonOperator(f), { maxIter: 500, tol: 1e-9 });
		assert.ok(relErr(power.eigenvalues, exact.eigenvalues) < 1e-8);
		assert.ok(exact.converged.every(Boolean));
		const viaApi = await perSampleTopEigen(relu, x, LABELS, { method: 'hvp', maxIter: 300, tol: 1e-6 });
		assert.ok(relErr(viaApi.eigenvalues, exact.eigenvalues) < 1e-4, `${viaApi.eigenvalues.join(', ')} vs ${exact.eigenvalues.join(', ')}`);
	});

	test('curvatureAlong equals tᵀH_i t/‖t‖² from the per-sample operator', async () => {
		const t = Float64Array.from({ length: D }, (_, i) => Math.cos(i));
		const r = await curvatureAlong(relu, x, LABELS, t);
		const V = new Float64Array(B * D);
		for (let i = 0; i < B; i++) {
			V.set(t, i * D);
		}
		const h = new InputHessianOperator(relu, x, LABELS, 'perSample');
		const hv = await h.matvec(V);
		h.dispose();
		const tt = t.reduce((a, b) => a + b * b, 0);
		const want = Array.from({ length: B }, (_, i) => t.reduce((a, ti, j) => a + ti * hv[i * D + j], 0) / tt);
		assert.ok(relErr(r.perSample, want) < 1e-12);
		assert.ok(Math.abs(r.mean - want.reduce((a, b) => a + b, 0) / B) < 1e-12);
	});

	test('validation names the offending value', async () => {
		await assert.rejects(topEigenpairs(relu, tf.zeros([2, 5]), [0, 1]), /inputs have shape \[2,5\].*expects \[batch, 12\]/);
		await assert.rejects(topEigenpairs(relu, x, [0, 1, 2, 3, 3, 9]), /label 5 is 9/);
		await assert.rejects(topEigenpairs(relu, x, [0, 1]), /2 labels for a batch of 6/);
		await assert.rejects(curvatureAlong(relu, x, LABELS, [1, 2]), /direction has 2 values, model input has 12/);
		await assert.rejects(topEigenpairs(relu, x, LABELS, { method: 'exact' as 'gn' }), /unknown curvature method 'exact'/);
		const f = await gaussNewtonFactors(relu, x);
		const three = tf.slice(x, 0, 3);
		await assert.rejects(perSampleTopEigen(relu, three, [0, 1, 2], { factors: f }), /factors are for 6 samples × 12 inputs × 4 classes, but the call has 3 × 12 × 4/);
		three.dispose();
		// Shared factors give the same answer as a fresh formation.
		const shared = await topEigenpairs(relu, x, LABELS, { k: 2, factors: f });
		const fresh = await topEigenpairs(relu, x, LABELS, { k: 2 });
		assert.deepEqual(shared.eigenvalues, fresh.eigenvalues);
	});

	test('no tensor leaks: every operator, algorithm and entry point', async () => {
		await leakFree('InputHessianOperator', async () => {
			const h = new InputHessianOperator(tanh, x, LABELS, 'mean');
			await h.matvec(new Float64Array(D).fill(1));
			h.dispose();
		});
		await leakFree('gaussNewtonFactors', () => gaussNewtonFactors(relu, x, { maxRowsPerPass: 2 * B }));
		await leakFree('topEigenpairs hvp', () => topEigenpairs(tanh, x, LABELS, { k: 2, maxIter: 6 }));
		await leakFree('topEigenpairs gn', () => topEigenpairs(relu, x, LABELS, { k: 2 }));
		await leakFree('topEigenpairs gn-gram', () => topEigenpairs(relu, x, LABELS, { k: 2, method: 'gn-gram' }));
		await leakFree('perSampleTopEigen hvp', () => perSampleTopEigen(tanh, x, LABELS, { maxIter: 5 }));
		await leakFree('perSampleTopEigen gn', () => perSampleTopEigen(relu, x, LABELS));
		await leakFree('curvatureAlong', () => curvatureAlong(tanh, x, LABELS, new Float64Array(D).fill(1)));
		await leakFree('meanCurvatureTrace', () => meanCurvatureTrace(tanh, x, LABELS, { maxSamples: 4 }));
		await leakFree('cancelled topEigenpairs', async () => {
			const ctl = new AbortController();
			ctl.abort();
			await assert.rejects(topEigenpairs(tanh, x, LABELS, { k: 2, signal: ctl.signal }), CurvatureCancelledError);
			await assert.rejects(curvatureAlong(tanh, x, LABELS, new Float64Array(D).fill(1), { signal: ctl.signal }), CurvatureCancelledError);
			await assert.rejects(perSampleTopEigen(tanh, x, LABELS, { signal: ctl.signal }), CurvatureCancelledError);
		});
	});

	test('layerwise Jacobians (masks once per sample) equal replicated autodiff on a small CNN with dilated convolutions', async () => {
		const init = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed });
		const m = tf.sequential();
		m.add(tf.layers.conv2d({ inputShape: [9, 8, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), biasInitializer: 'ones' }));
		m.add(tf.layers.conv2d({ filters: 3, kernelSize: [3, 2], dilationRate: [2, 3], padding: 'same', activation: 'relu', kernelInitializer: init(5) }));
		m.add(tf.layers.maxPooling2d({ poolSize: 2 })); // 9 rows: the last row is cropped
		m.add(tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, activation: 'linear', kernelInitializer: init(2) }));
		m.add(tf.layers.reLU());
		m.add(tf.layers.flatten());
		m.add(tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: init(3) }));
		m.add(tf.layers.dense({ units: C, activation: 'softmax', kernelInitializer: init(4) }));
		const lm = logitModelFromLayers(m);
		const r = seeded(11);
		const xs = tf.tensor4d(Float32Array.from({ length: 3 * 9 * 8 * 2 }, () => 2 * r() - 1), [3, 9, 8, 2]);
		const a = await gaussNewtonFactors(lm, xs, { jacobian: 'autodiff' });
		const l = await gaussNewtonFactors(lm, xs);
		assert.equal(l.jacobianMethod, 'layerwise');
		assert.equal(a.jacobianMethod, 'autodiff');
		assert.ok(relErr(l.F, a.F) < 1e-6, `relErr ${relErr(l.F, a.F)}`);
		await leakFree('layerwise factors', () => gaussNewtonFactors(lm, xs));
		lm.dispose();
		xs.dispose();
		m.dispose();
		// A smooth layer is not layerwise-capable: auto falls back, explicit request names the layer.
		const s = tf.sequential();
		s.add(tf.layers.dense({ inputShape: [D], units: 4, activation: 'tanh', name: 'smooth_hidden' }));
		s.add(tf.layers.dense({ units: C, activation: 'softmax' }));
		const sm = logitModelFromLayers(s);
		assert.equal((await gaussNewtonFactors(sm, x)).jacobianMethod, 'autodiff');
		await assert.rejects(gaussNewtonFactors(sm, x, { jacobian: 'layerwise' }), /layerwise Jacobian unavailable .*layer 'smooth_hidden' \(Dense\): activation 'tanh'/);
		sm.dispose();
		s.dispose();
	});

	test('layers model adapter: softmax head removed, piecewise-linear detected, no leaks', async () => {
		const m = tf.sequential();
		m.add(tf.layers.dense({ inputShape: [D], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
		m.add(tf.layers.dense({ units: C, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
		const lm = logitModelFromLayers(m);
		assert.equal(lm.piecewiseLinear, true);
		const z = tf.tidy(() => tf.softmax(lm.logits(x)).arraySync());
		const p = tf.tidy(() => (m.predict(x) as tf.Tensor).arraySync());
		assert.ok(relErr((z).flat(), (p as number[][]).flat()) < 1e-6);
		lm.dispose();
		await leakFree('topEigenpairs on a LayersModel', () => topEigenpairs(m, x, LABELS, { k: 2 }));
		const smooth = tf.sequential();
		smooth.add(tf.layers.dense({ inputShape: [D], units: 4, activation: 'sigmoid' }));
		smooth.add(tf.layers.dense({ units: C, activation: 'softmax' }));
		const sm = logitModelFromLayers(smooth);
		assert.equal(sm.piecewiseLinear, false);
		sm.dispose();
		const bad = tf.sequential();
		bad.add(tf.layers.depthwiseConv2d({ inputShape: [6, 6, 1], kernelSize: 2, dilationRate: 2, activation: 'relu' }));
		bad.add(tf.layers.flatten());
		bad.add(tf.layers.dense({ units: C, activation: 'softmax' }));
		assert.throws(() => logitModelFromLayers(bad, 'ckpt-000123.bin'), /ckpt-000123\.bin: layer '.*' \(DepthwiseConv2D\): dilation \[2,2\]: tfjs-layers ignores the dilation rate/);
		[m, smooth, bad].forEach((mm) => mm.dispose());
	});
});
