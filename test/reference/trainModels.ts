/**
 * Trains the three small reference models on real MNIST (tfjs wasm, seeded) and saves them in
 * tfjs layers format under test/fixtures/reference/<name>/ for make_fixtures.py to load.
 * Run once (results are committed): node --import tsx test/reference/trainModels.ts
 *
 * - cnn:     conv2d 3x3x8 valid relu → maxPool 2x2/2 → flatten → dense 10 softmax
 * - mlp:     dense 256 relu → dense 10 softmax
 * - tanhMlp: dense 32 tanh → dense 10 softmax (smooth: Gauss–Newton ≠ Hessian, exercises the HVP path)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../src/tfjs/gradients';
import { selectBackend } from '../../src/tfjs/backend';
import { readMnist, toUnit } from './mnist';

const OUT = path.join(__dirname, '..', 'fixtures', 'reference');

function build(name: string): tf.Sequential {
	const m = tf.sequential();
	const init = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed });
	if (name === 'cnn') {
		m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
		m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
		m.add(tf.layers.flatten());
		m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(2) }));
	} else if (name === 'mlp') {
		m.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
		m.add(tf.layers.dense({ units: 256, activation: 'relu', kernelInitializer: init(3) }));
		m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4) }));
	} else {
		m.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
		m.add(tf.layers.dense({ units: 32, activation: 'tanh', kernelInitializer: init(5) }));
		m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(6) }));
	}
	m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
	return m;
}

async function main(): Promise<void> {
	installGradientFixes();
	const b = await selectBackend('wasm', { strict: true });
	console.log(`backend ${b.description}`);
	const n = 4096;
	const { pixels, labels } = readMnist('train', 0, n);
	const xs = tf.tensor4d(toUnit(pixels), [n, 28, 28, 1]);
	const ys = tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), 10).toFloat();
	const test = readMnist('t10k', 1000, 1000);
	const xt = tf.tensor4d(toUnit(test.pixels), [1000, 28, 28, 1]);
	const yt = tf.oneHot(tf.tensor1d(Array.from(test.labels), 'int32'), 10).toFloat();
	for (const name of ['cnn', 'mlp', 'tanhMlp']) {
		const m = build(name);
		await m.fit(xs, ys, { epochs: 2, batchSize: 64, shuffle: false, verbose: 0 });
		const ev = m.evaluate(xt, yt) as tf.Scalar[];
		const acc = (await ev[1].data())[0];
		const dir = path.join(OUT, name);
		fs.mkdirSync(dir, { recursive: true });
		await m.save(
			tf.io.withSaveHandler(async (artifacts) => {
				const weightData = artifacts.weightData;
				if (weightData === undefined || Array.isArray(weightData)) {
					throw new Error('expected one weight buffer');
				}
				fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(weightData));
				fs.writeFileSync(
					path.join(dir, 'model.json'),
					JSON.stringify({
						modelTopology: artifacts.modelTopology,
						weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
						format: 'layers-model',
						generatedBy: 'test/reference/trainModels.ts',
						userDefinedMetadata: { testAccuracy: acc, trainImages: n, epochs: 2 },
					}),
				);
				return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
			}),
		);
		console.log(`${name}: test accuracy ${acc.toFixed(3)} → ${dir}`);
	}
}

void main();
