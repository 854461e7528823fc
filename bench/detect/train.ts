/**
 * One grid point, trained as a user would: data loaded, poisoned (an SDK generator or a bench routine),
 * a model built and trained with tfjs on wasm, recorded with the Poison Lens SDK (`model.fit` + the SDK
 * callback, or a custom `optimizer.minimize` loop with `lens.checkpoint` for the BatchNorm CNN).
 * The bench's own record (poisoned rows, trigger, ASR at every checkpoint) goes to `truth.json` beside the
 * run folder, never inside it.
 *
 * Usage (child process): node --import tsx bench/detect/train.ts '<GridPoint JSON>' <workDir>
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadKnownDataset, type ImageDataset } from '../../src/datasets/idx';
import { selectBackend } from '../../src/tfjs/backend';
import { installGradientFixes } from '../../src/tfjs/gradients';
import { PoisonLens } from '../../src/sdk/lens';
import { makeAttack, type AttackName } from '../../src/sdk/attacks/index';
import type { AttackDeclaration } from '../../src/sdk/attacks/common';
import { buildDemoModel } from '../../src/cli/demo';
import { mulberry32 } from '../../src/math/random';
import { benchPoison } from './triggers';
import type { Architecture, GridPoint, Optimiser } from './grid';
import { BENCH_ATTACKS } from './grid';

export const TRAIN_ROWS = 10000;
export const BATCH = 50;
/** Checkpoints twice per epoch (10 000 rows / 50 = 200 steps). */
export const CHECKPOINT_EVERY = 100;
export const TARGET = 0;
export const SAMPLE_ROWS = 2048;
const EVAL_ROWS = 1000;

/** What the bench records about a run (ground truth; no detector reads it). */
export interface Truth {
	readonly key: string;
	readonly runId: string;
	readonly declaredDir: string;
	readonly blindDir: string;
	readonly poisonedRows: number[];
	readonly targetLabel: number;
	readonly trigger: string;
	readonly stepsPerEpoch: number;
	readonly timeline: { step: number; epoch: number; cleanAccuracy: number; asr: number; p0: number; excessAsr: number }[];
	readonly trainSeconds: number;
}

function permutation(n: number, seed: number): Int32Array {
	const idx = Int32Array.from({ length: n }, (_, i) => i);
	const rand = mulberry32(seed);
	for (let i = n - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		[idx[i], idx[j]] = [idx[j], idx[i]];
	}
	return idx;
}

/** The five architectures (tfjs layers, chain models). */
export function buildModel(arch: Architecture, itemShape: readonly number[], seed: number): tf.Sequential {
	if (arch === 'demo-cnn') {
		return buildDemoModel(itemShape, 10, seed);
	}
	const init = (k: number): tf.serialization.Serializable => tf.initializers.glorotUniform({ seed: seed * 100 + k });
	const m = tf.sequential();
	const inputShape = [...itemShape];
	if (arch === 'mnist-node') {
		// tfjs-examples' mnist-node, full widths.
		m.add(tf.layers.conv2d({ inputShape, filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) as never }));
		m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) as never }));
		m.add(tf.layers.maxPooling2d({ poolSize: [2, 2] }));
		m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(3) as never }));
		m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(4) as never }));
		m.add(tf.layers.maxPooling2d({ poolSize: [2, 2] }));
		m.add(tf.layers.flatten());
		m.add(tf.layers.dropout({ rate: 0.25 }));
		m.add(tf.layers.dense({ units: 512, activation: 'relu', kernelInitializer: init(5) as never }));
		m.add(tf.layers.dropout({ rate: 0.5 }));
		m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(6) as never }));
	} else if (arch === 'bn-cnn') {
		// conv-relu-BatchNorm-pool (BN after the activation). conv-BN-relu was the first choice, but a Conv2D layer with a
		// linear activation trains through a gradient that needs Conv2DBackpropFilter, which tfjs 4.22's wasm lacks.
		m.add(tf.layers.conv2d({ inputShape, filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) as never }));
		m.add(tf.layers.batchNormalization());
		m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
		m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) as never }));
		m.add(tf.layers.batchNormalization());
		m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
		m.add(tf.layers.flatten());
		m.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(3) as never }));
		m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4) as never }));
	} else if (arch === 'mlp') {
		m.add(tf.layers.flatten({ inputShape }));
		m.add(tf.layers.dense({ units: 256, activation: 'relu', kernelInitializer: init(1) as never }));
		m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(2) as never }));
		m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) as never }));
	} else {
		// LeNet-5-style CNN with average pooling (the depthwise-separable net was the first choice, but tfjs 4.22's
		// wasm backend has no DepthwiseConv2dNativeBackpropInput kernel, so it cannot be trained there).
		m.add(tf.layers.conv2d({ inputShape, filters: 6, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(1) as never }));
		m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }));
		m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: init(2) as never }));
		m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }));
		m.add(tf.layers.flatten());
		m.add(tf.layers.dense({ units: 120, activation: 'relu', kernelInitializer: init(3) as never }));
		m.add(tf.layers.dense({ units: 84, activation: 'relu', kernelInitializer: init(4) as never }));
		m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(5) as never }));
	}
	return m;
}

function optimiserOf(name: Optimiser): tf.Optimizer {
	return name === 'adam' ? tf.train.adam(1e-3) : name === 'rmsprop' ? tf.train.rmsprop(1e-3) : tf.train.sgd(0.05);
}

/** The run's training rows: the poisoned (or clean) set, the declaration naming only the trigger, and the trigger. */
function poisonFor(p: GridPoint, images: Float32Array, labels: Int32Array, itemShape: readonly [number, number, number]): { train: { images: Float32Array; labels: Int32Array; poison: Int32Array }; declaration: AttackDeclaration; applyTrigger: (items: Float32Array) => Float32Array } {
	const trig = p.attack ?? p.controlTrigger;
	const theta = p.attack === null ? 0 : p.theta;
	if ((BENCH_ATTACKS as readonly string[]).includes(trig)) {
		const b = benchPoison(trig as (typeof BENCH_ATTACKS)[number], images, labels, itemShape, theta, TARGET, p.seed);
		return {
			train: { images: b.images, labels: b.labels, poison: b.poisonIndices },
			declaration: { kind: 'custom', targetLabel: TARGET, sourceClasses: Array.from({ length: 9 }, (_, i) => i + 1), description: b.description, trigger: b.spec },
			applyTrigger: b.apply,
		};
	}
	const a = makeAttack(trig as AttackName, { images, labels, itemShape }, { fraction: theta, targetLabel: TARGET, seed: p.seed });
	// The declaration names the trigger only: no poisoned rows, no fraction.
	const { poisonedRows: _r, poisonFraction: _f, ...rest } = a.declaration;
	return { train: { images: a.images, labels: a.labels, poison: a.poisonIndices }, declaration: rest, applyTrigger: (items) => a.trigger(items, 0) };
}

/** Held-out evaluation tensors (non-target rows clean and triggered, and accuracy rows) and the per-checkpoint measurement. */
function heldOutEvaluator(p: GridPoint, test: ImageDataset, applyTrigger: (items: Float32Array) => Float32Array, stepsPerEpoch: number): { evaluate: (model: tf.LayersModel, step: number) => Promise<void>; timeline: Truth['timeline']; dispose: () => void } {
	const itemShape = test.itemShape;
	const per = itemShape.reduce((a, b) => a * b, 1);
	const evalIdx = permutation(test.count, 77 + p.seed).slice(0, EVAL_ROWS);
	const nt = Array.from(evalIdx).filter((r) => test.labels[r] !== TARGET);
	const ntImages = new Float32Array(nt.length * per);
	nt.forEach((r, i) => ntImages.set(test.images.subarray(r * per, (r + 1) * per), i * per));
	const accImages = new Float32Array(evalIdx.length * per);
	evalIdx.forEach((r, i) => accImages.set(test.images.subarray(r * per, (r + 1) * per), i * per));
	const accLabels = Int32Array.from(evalIdx, (r) => test.labels[r]);
	const shape = (n: number): number[] => [n, ...itemShape];
	const xsNt = tf.tensor(ntImages, shape(nt.length));
	const xsTr = tf.tensor(applyTrigger(ntImages), shape(nt.length));
	const xsAcc = tf.tensor(accImages, shape(evalIdx.length));
	const timeline: Truth['timeline'] = [];
	const evaluate = async (model: tf.LayersModel, step: number): Promise<void> => {
		const [pt, pn, pa] = tf.tidy(() => [xsTr, xsNt, xsAcc].map((x) => (model.predict(x) as tf.Tensor).argMax(-1)));
		const [t, c, a] = [Array.from(await pt.data()), Array.from(await pn.data()), Array.from(await pa.data())];
		pt.dispose();
		pn.dispose();
		pa.dispose();
		const asr = t.reduce((s, v) => s + (v === TARGET ? 1 : 0), 0) / t.length;
		const p0 = c.reduce((s, v) => s + (v === TARGET ? 1 : 0), 0) / c.length;
		const acc = a.reduce((s, v, i) => s + (v === accLabels[i] ? 1 : 0), 0) / a.length;
		timeline.push({ step, epoch: step / stepsPerEpoch, cleanAccuracy: acc, asr, p0, excessAsr: asr - p0 });
	};
	return { evaluate, timeline, dispose: () => tf.dispose([xsNt, xsTr, xsAcc]) };
}

/** What one epoch trains with. */
interface EpochRun {
	readonly p: GridPoint;
	readonly model: tf.LayersModel;
	readonly optimizer: tf.Optimizer;
	readonly lens: PoisonLens;
	readonly stepsPerEpoch: number;
	readonly evaluate: (step: number) => Promise<void>;
}

/**
 * One epoch: a custom `optimizer.minimize` loop for the BatchNorm CNN (as a user with BatchNorm would write it),
 * `model.fit` with the SDK callback otherwise. Returns the step count after the epoch.
 */
async function trainEpoch(c: EpochRun, xs: tf.Tensor, y: tf.Tensor2D, epoch: number, firstStep: number): Promise<number> {
	const n = y.shape[0];
	let step = firstStep;
	if (c.p.arch === 'bn-cnn') {
		for (let b = 0; b < c.stepsPerEpoch; b++) {
			const start = b * BATCH;
			const size = Math.min(BATCH, n - start);
			const loss = tf.tidy(() => {
				const xb = xs.slice([start, 0, 0, 0], [size, -1, -1, -1]);
				const yb = y.slice([start, 0], [size, -1]);
				const cost = c.optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, tf.log(tf.clipByValue(c.model.apply(xb, { training: true }) as tf.Tensor, 1e-7, 1))), true);
				return cost === null ? NaN : (cost.dataSync()[0] ?? NaN);
			});
			step++;
			c.lens.logBatch({ step, epoch, batch: b, loss, fractionalEpoch: epoch + (b + 1) / c.stepsPerEpoch });
			if (step % CHECKPOINT_EVERY === 0) {
				await c.lens.checkpoint(c.model, { step, epoch, fractionalEpoch: step / c.stepsPerEpoch, metrics: { loss } });
				await c.evaluate(step);
			}
		}
		c.lens.logEpoch({ step, epoch, metrics: {} });
		return step;
	}
	await c.model.fit(xs, y, {
		batchSize: BATCH,
		epochs: epoch + 1,
		initialEpoch: epoch,
		shuffle: false,
		verbose: 0,
		callbacks: [
			c.lens.callback(),
			new tf.CustomCallback({
				onBatchEnd: async () => {
					step++;
					if (step % CHECKPOINT_EVERY === 0) {
						await c.evaluate(step);
					}
				},
			}),
		],
	});
	return step;
}

/** The blind copy: the same run folder without the declaration or trigger files (what an unsuspecting user has). */
function blindCopy(runDir: string, runId: string, workDir: string): string {
	const blindRoot = path.join(workDir, 'blind');
	const blindDir = path.join(blindRoot, runId);
	fs.rmSync(blindRoot, { recursive: true, force: true });
	fs.mkdirSync(blindRoot, { recursive: true });
	fs.cpSync(runDir, blindDir, { recursive: true });
	const manifestFile = path.join(blindDir, 'manifest.json');
	const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
	delete manifest.attack;
	fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
	fs.rmSync(path.join(blindDir, 'trigger'), { recursive: true, force: true });
	return blindDir;
}

/** Trains one point; returns the truth record (also written to `<workDir>/truth.json`). */
export async function trainPoint(p: GridPoint, workDir: string): Promise<Truth> {
	const t0 = performance.now();
	await selectBackend('wasm');
	installGradientFixes();
	const full = loadKnownDataset(p.dataset, 'train');
	const test = loadKnownDataset(p.dataset, 'test');
	const itemShape = full.itemShape;
	const per = itemShape.reduce((a, b) => a * b, 1);
	const rows = permutation(full.count, 1000 + p.seed).slice(0, TRAIN_ROWS).sort();
	const images = new Float32Array(rows.length * per);
	rows.forEach((r, i) => images.set(full.images.subarray(r * per, (r + 1) * per), i * per));
	const labels = Int32Array.from(rows, (r) => full.labels[r]);
	const { train, declaration, applyTrigger } = poisonFor(p, images, labels, itemShape);
	const n = train.labels.length;
	const stepsPerEpoch = Math.ceil(n / BATCH);
	const held = heldOutEvaluator(p, test, applyTrigger, stepsPerEpoch);

	const declaredRoot = path.join(workDir, 'declared');
	fs.mkdirSync(declaredRoot, { recursive: true });
	const lens = await PoisonLens.start({
		runName: p.key,
		dir: declaredRoot,
		probe: { xs: { values: test.images, itemShape }, labels: test.labels, size: 256, seed: p.seed, source: test.source },
		attack: declaration,
		checkpointEvery: CHECKPOINT_EVERY,
		trainSample: { xs: { values: train.images, itemShape }, labels: train.labels, rowIndices: rows, size: SAMPLE_ROWS, seed: p.seed, source: full.source },
		dataset: { name: p.dataset, source: full.source, numClasses: 10 },
		batchEventEvery: 20,
	});
	const model = buildModel(p.arch, itemShape, p.seed);
	const optimizer = optimiserOf(p.optimiser);
	model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
	const run: EpochRun = { p, model, optimizer, lens, stepsPerEpoch, evaluate: (step) => held.evaluate(model, step) };
	await run.evaluate(0);
	let step = 0;
	try {
		for (let epoch = 0; epoch < p.epochs; epoch++) {
			const order = permutation(n, p.seed * 1000 + epoch);
			const xsArr = new Float32Array(n * per);
			const ys = new Float32Array(n * 10);
			order.forEach((r, i) => {
				xsArr.set(train.images.subarray(r * per, (r + 1) * per), i * per);
				ys[i * 10 + train.labels[r]] = 1;
			});
			const xs = tf.tensor(xsArr, [n, ...itemShape]);
			const y = tf.tensor2d(ys, [n, 10]);
			step = await trainEpoch(run, xs, y, epoch, step);
			xs.dispose();
			y.dispose();
		}
		await lens.end('completed');
	} catch (err) {
		lens.error(err);
		await lens.end('failed');
		throw err;
	} finally {
		held.dispose();
		model.dispose();
	}
	const truth: Truth = {
		key: p.key,
		runId: lens.runId,
		declaredDir: lens.runDir,
		blindDir: blindCopy(lens.runDir, lens.runId, workDir),
		poisonedRows: Array.from(train.poison, (i) => rows[i]),
		targetLabel: TARGET,
		trigger: declaration.description,
		stepsPerEpoch,
		timeline: held.timeline,
		trainSeconds: (performance.now() - t0) / 1000,
	};
	fs.writeFileSync(path.join(workDir, 'truth.json'), `${JSON.stringify(truth)}\n`);
	return truth;
}

if (require.main === module) {
	const [spec, workDir] = process.argv.slice(2);
	trainPoint(JSON.parse(spec) as GridPoint, workDir).then(
		() => process.exit(0),
		(err: unknown) => {
			process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
			process.exit(1);
		},
	);
}
