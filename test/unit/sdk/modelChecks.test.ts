/**
 * PoisonLens.start consults the analyser's layer table: out-of-scope runs are rejected at start
 * naming the option and the value (regression targets, token-id inputs, Embedding models); a model the
 * analyser will refuse is warned about once, naming the layer; start installs the gradient fixes and the
 * wasm training kernels itself.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PoisonLens } from '../../../src/sdk/lens';
import { gradientFixesInstalled } from '../../../src/tfjs/gradients';

const ITEM = [4, 3];

function probe(n = 12): { values: Float32Array; itemShape: number[] } {
	return { values: Float32Array.from({ length: n * 12 }, (_, i) => Math.sin(i)), itemShape: ITEM };
}

function tmp(): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'pl-modelchecks-'));
}

function lstmModel(): tf.Sequential {
	const m = tf.sequential();
	m.add(tf.layers.lstm({ inputShape: ITEM, units: 3, name: 'seq_lstm' }));
	m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
	return m;
}

before(async () => {
	await tf.setBackend('cpu');
});

describe('PoisonLens.start and the layer table', () => {
	test('installs the gradient fixes and wasm training kernels', async () => {
		await PoisonLens.start({ runName: 'fixes', dir: tmp(), probe: { xs: probe(), labels: Array.from({ length: 12 }, (_, i) => i % 3) }, checkpointEvery: 1 });
		assert.ok(gradientFixesInstalled());
		assert.notEqual(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
	});

	test('regression targets are rejected, naming the option and the value', async () => {
		const labels = Array.from({ length: 12 }, (_, i) => (i === 5 ? 0.37 : i % 3));
		await assert.rejects(
			PoisonLens.start({ runName: 'reg', dir: tmp(), probe: { xs: probe(), labels }, checkpointEvery: 1 }),
			/probe\.labels\[5\] is 0\.37: labels must be class indices .*regression targets are not supported/,
		);
		const col = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i * 0.1), [12, 1]);
		await assert.rejects(
			PoisonLens.start({
				runName: 'reg2',
				dir: tmp(),
				probe: { xs: probe(), labels: Array.from({ length: 12 }, (_, i) => i % 2) },
				trainSample: { xs: probe(), labels: col },
				checkpointEvery: 1,
			}),
			/trainSample\.labels\[1\] is 0\.1/,
		);
		col.dispose();
	});

	test('token-id inputs and Embedding models are rejected at start', async () => {
		const ids = tf.tensor2d(Array.from({ length: 24 }, (_, i) => i % 7), [4, 6], 'int32');
		await assert.rejects(
			PoisonLens.start({ runName: 'tok', dir: tmp(), probe: { xs: ids, labels: [0, 1, 0, 1] }, checkpointEvery: 1 }),
			/probe\.xs has dtype int32 \(token ids\?\)/,
		);
		ids.dispose();
		const text = tf.sequential();
		text.add(tf.layers.embedding({ inputDim: 20, outputDim: 3, inputLength: 12, name: 'word_vectors' }));
		text.add(tf.layers.globalAveragePooling1d({}));
		text.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
		await assert.rejects(
			PoisonLens.start({
				runName: 'emb',
				dir: tmp(),
				probe: { xs: { values: new Float32Array(24), itemShape: [12] }, labels: [0, 1] },
				model: text,
				checkpointEvery: 1,
			}),
			/option model.*'word_vectors' \(Embedding\): integer token inputs/,
		);
	});

	test('a model the analyser refuses is warned about once at start, naming the layer', async () => {
		const warnings: string[] = [];
		const m = lstmModel();
		const lens = await PoisonLens.start({
			runName: 'lstm',
			dir: tmp(),
			probe: { xs: probe(), labels: Array.from({ length: 12 }, (_, i) => i % 3) },
			model: m,
			checkpointEvery: 1,
			onWarning: (w) => warnings.push(w),
		});
		await lens.checkpoint(m, { step: 1, epoch: 0 });
		await lens.checkpoint(m, { step: 2, epoch: 0 });
		await lens.end();
		assert.equal(warnings.length, 1, warnings.join('\n'));
		assert.match(warnings[0], /cannot be analysed: .*'seq_lstm' \(LSTM\): recurrent layers are not supported/);
	});

	test('without a model at start, the first checkpoint warns once', async () => {
		const warnings: string[] = [];
		const m = lstmModel();
		const lens = await PoisonLens.start({
			runName: 'lstm2',
			dir: tmp(),
			probe: { xs: probe(), labels: Array.from({ length: 12 }, (_, i) => i % 3) },
			checkpointEvery: 1,
			onWarning: (w) => warnings.push(w),
		});
		await lens.checkpoint(m, { step: 1, epoch: 0 });
		await lens.checkpoint(m, { step: 2, epoch: 0 });
		await lens.end();
		assert.equal(warnings.length, 1, warnings.join('\n'));
		assert.match(warnings[0], /the trained model \(first checkpoint\).*'seq_lstm'/);
	});

	test('a supported model gives no warning', async () => {
		const warnings: string[] = [];
		const m = tf.sequential();
		m.add(tf.layers.flatten({ inputShape: ITEM }));
		m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
		const lens = await PoisonLens.start({
			runName: 'ok',
			dir: tmp(),
			probe: { xs: probe(), labels: Array.from({ length: 12 }, (_, i) => i % 3) },
			model: m,
			checkpointEvery: 1,
			onWarning: (w) => warnings.push(w),
		});
		await lens.checkpoint(m, { step: 1, epoch: 0 });
		await lens.end();
		assert.deepEqual(warnings, []);
	});
});
