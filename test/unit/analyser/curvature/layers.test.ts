/**
 * The layer table (src/analyser/curvature/layers.ts) and the model adapter built on it: routes,
 * output conventions, refusals naming the layer (no tensor leaked on any refusal path), functional
 * graphs, and Gauss–Newton = Hessian on piecewise-linear nets that take the autodiff route.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../../../src/tfjs/gradients';
import { logitModelFromLayers, topEigenpairs } from '../../../../src/analyser/curvature/index';
import { UnsupportedModelError } from '../../../../src/analyser/curvature/model';
import { classifyLayer, planModel } from '../../../../src/analyser/curvature/layers';
import { degenerateReason } from '../../../../src/analyser/analysis/checkpoint';
import { relErr, seeded, useBackend } from '../../tfjs/backendHarness';

installGradientFixes();

const init = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed });

function randomTensor(shape: number[], seed: number): tf.Tensor {
	const r = seeded(seed);
	return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r()), shape);
}

/** Refusal check: UnsupportedModelError naming `layerName` and matching `what`, and no tensor leaked. */
function assertRefused(model: tf.LayersModel, layerName: string | null, what: RegExp): void {
	const before = tf.memory().numTensors;
	let caught: unknown;
	try {
		logitModelFromLayers(model, 'ckpt/model.json');
	} catch (err) {
		caught = err;
	}
	assert.ok(caught instanceof UnsupportedModelError, `expected UnsupportedModelError, got ${String(caught)}`);
	assert.match(caught.message, /^ckpt\/model\.json: /);
	if (layerName !== null) {
		assert.ok(caught.message.includes(`'${layerName}'`), caught.message);
	}
	assert.match(caught.message, what);
	assert.equal(tf.memory().numTensors, before, 'refusal leaked tensors');
	const plan = planModel(model);
	assert.notEqual(plan.refusal, null);
}

function demoCnn(): tf.Sequential {
	const m = tf.sequential();
	m.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
	m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
	m.add(tf.layers.flatten());
	m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(2) }));
	return m;
}

describe('layer table', () => {
	before(() => useBackend('cpu'));

	test('the demo CNN takes the structured path', () => {
		const plan = planModel(demoCnn());
		assert.equal(plan.refusal, null);
		assert.equal(plan.structured, true);
		assert.equal(plan.piecewiseLinear, true);
		assert.equal(plan.output, 'softmax');
		assert.equal(plan.topology, 'chain');
		assert.deepEqual(
			plan.layers.map((l) => l.route),
			['structured', 'structured', 'structured', 'structured'],
		);
	});

	test('routes of individual layers', () => {
		const cases: Array<[tf.layers.Layer, string, boolean]> = [
			[tf.layers.batchNormalization(), 'autodiff', true],
			[tf.layers.layerNormalization(), 'autodiff', false],
			[tf.layers.dense({ units: 2, activation: 'tanh' }), 'autodiff', false],
			[tf.layers.dense({ units: 2, activation: 'relu6' }), 'autodiff', true],
			[tf.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2 }), 'autodiff', true],
			[tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }), 'autodiff', true],
			[tf.layers.globalMaxPooling2d({}), 'autodiff', true],
			[tf.layers.dropout({ rate: 0.5 }), 'structured', true],
			[tf.layers.gaussianNoise({ stddev: 0.1 }), 'structured', true],
			[tf.layers.add(), 'autodiff', true],
			[tf.layers.multiply(), 'autodiff', false],
			[tf.layers.lstm({ units: 3 }), 'refused', false],
			[tf.layers.embedding({ inputDim: 10, outputDim: 3 }), 'refused', false],
			[tf.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2 }), 'structured', true],
			[tf.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: [2, 1], activation: 'tanh' }), 'autodiff', false],
			[tf.layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 3 }), 'autodiff', true],
			[tf.layers.separableConv2d({ filters: 2, kernelSize: 3, dilationRate: 2 }), 'autodiff', true],
			[tf.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2 }), 'refused', false],
		];
		for (const [layer, route, pwl] of cases) {
			const e = classifyLayer(layer);
			assert.equal(e.route, route, `${e.className}: ${e.reason ?? ''}`);
			assert.equal(e.piecewiseLinear, pwl, e.className);
			if (route === 'refused') {
				assert.ok((e.reason ?? '').includes(`'${layer.name}'`), e.reason ?? '');
			}
		}
	});

	test('a final Dense without activation is taken as logits, and the plan says so', () => {
		const m = tf.sequential();
		m.add(tf.layers.dense({ inputShape: [5], units: 3, kernelInitializer: init(3) }));
		const plan = planModel(m);
		assert.equal(plan.output, 'logits');
		assert.match(plan.outputNote, /taken as logits/);
		const lm = logitModelFromLayers(m);
		const x = randomTensor([4, 5], 1);
		assert.ok(relErr(tf.tidy(() => lm.logits(x).dataSync()), (m.predict(x) as tf.Tensor).dataSync()) < 1e-7);
		tf.dispose(x);
	});

	test('a single sigmoid unit is a binary classifier: logits [0, s], softmax = [1 − p, p]', () => {
		const m = tf.sequential();
		m.add(tf.layers.dense({ inputShape: [5], units: 4, activation: 'relu', kernelInitializer: init(4) }));
		m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(5) }));
		const plan = planModel(m);
		assert.equal(plan.output, 'sigmoid');
		assert.equal(plan.numClasses, 2);
		const lm = logitModelFromLayers(m);
		assert.equal(lm.numClasses, 2);
		const x = randomTensor([6, 5], 2);
		const p1 = tf.tidy(() => tf.softmax(lm.logits(x)).slice([0, 1], [6, 1]).dataSync());
		assert.ok(relErr(p1, (m.predict(x) as tf.Tensor).dataSync()) < 1e-6);
		tf.dispose(x);
		lm.dispose();
	});

	test('why dilated DepthwiseConv2D is refused: tfjs-layers computes it without the dilation', () => {
		// If a tfjs update starts honouring the rate, this fails and the refusal in layers.ts can go.
		const layer = tf.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', depthwiseInitializer: init(9), useBias: false });
		const x = randomTensor([1, 7, 7, 2], 8) as tf.Tensor4D;
		const y = layer.apply(x) as tf.Tensor;
		const [k] = layer.getWeights();
		const undilated = tf.depthwiseConv2d(x, k as tf.Tensor4D, 1, 'same');
		const dilated = tf.depthwiseConv2d(x, k as tf.Tensor4D, 1, 'same', 'NHWC', 2);
		assert.ok(relErr(y.dataSync(), undilated.dataSync()) < 1e-6, 'tfjs-layers computed an undilated depthwise convolution');
		assert.ok(relErr(y.dataSync(), dilated.dataSync()) > 0.1, 'tfjs-layers now honours the dilation rate of DepthwiseConv2D');
		tf.dispose([x, y, undilated, dilated]);
		layer.dispose();
	});

	test('refusals name the layer and leak nothing', () => {
		const lstm = tf.sequential();
		lstm.add(tf.layers.lstm({ inputShape: [5, 3], units: 4, name: 'my_lstm' }));
		lstm.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
		assertRefused(lstm, 'my_lstm', /recurrent layers are not supported/);

		const text = tf.sequential();
		text.add(tf.layers.embedding({ inputDim: 50, outputDim: 4, inputLength: 6, name: 'tokens' }));
		text.add(tf.layers.globalAveragePooling1d({}));
		text.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
		assertRefused(text, 'tokens', /integer token inputs/);

		const a = tf.input({ shape: [4] });
		const b = tf.input({ shape: [4] });
		const merged = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
		const twoIn = tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(merged) as tf.SymbolicTensor });
		assertRefused(twoIn, null, /2 inputs and 1 outputs; multi-input/);

		const c = tf.input({ shape: [4] });
		const twoOut = tf.model({
			inputs: c,
			outputs: [tf.layers.dense({ units: 3, activation: 'softmax' }).apply(c) as tf.SymbolicTensor, tf.layers.dense({ units: 2 }).apply(c) as tf.SymbolicTensor],
		});
		assertRefused(twoOut, null, /1 inputs and 2 outputs/);

		// tfjs-layers computes DepthwiseConv2D without its dilation: the model is not what its config says.
		const dil = tf.sequential();
		dil.add(tf.layers.depthwiseConv2d({ inputShape: [6, 6, 1], kernelSize: 2, dilationRate: 2, padding: 'same', name: 'dilated' }));
		dil.add(tf.layers.flatten());
		dil.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
		assertRefused(dil, 'dilated', /dilation \[2,2\]: tfjs-layers ignores the dilation rate of DepthwiseConv2D/);

		const regression = tf.sequential();
		regression.add(tf.layers.dense({ inputShape: [3], units: 1, name: 'price' }));
		assertRefused(regression, 'price', /regression model/);

		const multiLabel = tf.sequential();
		multiLabel.add(tf.layers.dense({ inputShape: [3], units: 4, activation: 'sigmoid', name: 'tags' }));
		assertRefused(multiLabel, 'tags', /multi-label/);

		const reluOut = tf.sequential();
		reluOut.add(tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'out' }));
		assertRefused(reluOut, 'out', /activation 'relu'/);
	});

	test('a refused model through topEigenpairs leaks nothing', async () => {
		const lstm = tf.sequential();
		lstm.add(tf.layers.lstm({ inputShape: [5, 3], units: 4 }));
		lstm.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
		const x = randomTensor([2, 5, 3], 3);
		const before = tf.memory().numTensors;
		await assert.rejects(() => topEigenpairs(lstm, x, [0, 1], { k: 1 }), UnsupportedModelError);
		assert.equal(tf.memory().numTensors, before);
		tf.dispose(x);
	});

	test('functional residual net (Add) with a Softmax layer head: logits before the head, GN = Hessian', async () => {
		const inp = tf.input({ shape: [6, 6, 2] });
		const c1 = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(6) }).apply(inp) as tf.SymbolicTensor;
		const c2 = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: init(7) }).apply(c1) as tf.SymbolicTensor;
		const sum = tf.layers.add().apply([inp, c2]) as tf.SymbolicTensor;
		const act = tf.layers.reLU().apply(sum) as tf.SymbolicTensor;
		const pooled = tf.layers.globalAveragePooling2d({}).apply(act) as tf.SymbolicTensor;
		const z = tf.layers.dense({ units: 3, kernelInitializer: init(8), biasInitializer: 'ones' }).apply(pooled) as tf.SymbolicTensor;
		const out = tf.layers.softmax().apply(z) as tf.SymbolicTensor;
		const m = tf.model({ inputs: inp, outputs: out });
		const plan = planModel(m);
		assert.equal(plan.refusal, null);
		assert.equal(plan.topology, 'graph');
		assert.equal(plan.piecewiseLinear, true);
		assert.equal(plan.output, 'softmax');
		const lm = logitModelFromLayers(m);
		const x = randomTensor([3, 6, 6, 2], 4);
		const pre = tf.model({ inputs: inp, outputs: z });
		assert.ok(relErr(tf.tidy(() => lm.logits(x).dataSync()), (pre.predict(x) as tf.Tensor).dataSync()) < 1e-6);
		const gn = await topEigenpairs(lm, x, [0, 1, 2], { k: 3, method: 'gn' });
		const hvp = await topEigenpairs(lm, x, [0, 1, 2], { k: 3, method: 'hvp' });
		assert.ok(relErr(gn.eigenvalues, hvp.eigenvalues) < 1e-4, `gn ${gn.eigenvalues.join(', ')} vs hvp ${hvp.eigenvalues.join(', ')}`);
		tf.dispose(x);
		lm.dispose();
	});

	test('BatchNormalization (inference) in a chain: moving statistics used, GN = Hessian', async () => {
		const m = tf.sequential();
		m.add(tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, kernelInitializer: init(9) }));
		m.add(tf.layers.batchNormalization());
		m.add(tf.layers.reLU());
		m.add(tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }));
		m.add(tf.layers.flatten());
		m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(10) }));
		const bn = m.layers[1];
		bn.setWeights([tf.tensor1d([1.5, 0.5, 2]), tf.tensor1d([0.1, -0.2, 0.3]), tf.tensor1d([0.2, -0.1, 0.4]), tf.tensor1d([0.5, 2, 1.2])]);
		const plan = planModel(m);
		assert.equal(plan.refusal, null);
		assert.equal(plan.structured, false);
		assert.equal(plan.piecewiseLinear, true);
		const lm = logitModelFromLayers(m);
		const x = randomTensor([4, 6, 6, 1], 5);
		const probs = tf.tidy(() => tf.softmax(lm.logits(x)).dataSync());
		assert.ok(relErr(probs, (m.predict(x) as tf.Tensor).dataSync()) < 1e-6);
		const gn = await topEigenpairs(lm, x, [0, 1, 2, 0], { k: 3, method: 'gn' });
		const hvp = await topEigenpairs(lm, x, [0, 1, 2, 0], { k: 3, method: 'hvp' });
		assert.ok(relErr(gn.eigenvalues, hvp.eigenvalues) < 1e-4, `gn ${gn.eigenvalues.join(', ')} vs hvp ${hvp.eigenvalues.join(', ')}`);
		tf.dispose(x);
		lm.dispose();
	});

	test('degenerate predictions are named', () => {
		assert.equal(degenerateReason(Int32Array.from([0, 1, 2, 1]), 3), null);
		assert.match(degenerateReason(Int32Array.from([2, 2, 2, 2]), 3) ?? '', /predicts class 2 for all 4 probes/);
		assert.match(degenerateReason(Int32Array.from([0, -1, 2, -1]), 3) ?? '', /NaN or infinite on 2 of 4 probes/);
	});
});
