import { spawn, type ChildProcess } from 'node:child_process';
import { EXIT_WITH_PARENT_ENV } from './analyse';
import * as fs from 'node:fs';
/**
 * `poison-lens demo`: trains a small CNN on real MNIST (or Fashion-MNIST) with a poisoned training set through the
 * SDK on tfjs wasm, prints per-epoch loss, clean accuracy and attack success, and leaves a run folder for
 * `poison-lens analyse` and the dashboard.
 *
 * ASR is measured honestly on held-out data: triggered test inputs whose true class is not the target, classified as
 * the target. p0 is the same rate on the clean versions of those inputs (the chance flip rate).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SingleBar } from 'cli-progress';
import { loadKnownDataset } from '../datasets/idx';
import type { ImageDataset, KnownDataset } from '../datasets/idx';
import { backendSummary, selectBackend } from '../tfjs/backend';
import { pastablePath } from './paths';
import { installGradientFixes } from '../tfjs/gradients';
import { PoisonLens } from '../sdk/lens';
import { ATTACK_NAMES, makeAttack, type PoisonedDataset } from '../sdk/attacks/index';
import type { AttackName } from '../sdk/attacks/index';
import { crossEntropyPerSample, inputGradientPenalty } from '../sdk/penalty';
import { mulberry32 } from '../math/random';
import { RUNS_DIR } from '../protocol/runFormat';
import { parseCommandLine, parseOrExitCode, stringOpt, UsageError, wantsHelp, type OptionSpec } from './args';

/** Parsed demo options. */
export interface DemoOptions {
	readonly poisonFraction: number;
	readonly trigger: AttackName;
	readonly target: number;
	readonly epochs: number;
	readonly kappa: number;
	readonly dataset: KnownDataset;
	readonly out: string;
	readonly trainSize: number;
	readonly batchSize: number;
	readonly checkpointEvery: number;
	readonly seed: number;
	readonly backend: 'wasm' | 'cpu';
	readonly learningRate: number;
}

const HELP = `Usage: poison-lens demo [options]

Trains a small CNN on real MNIST with a poisoned training set, recording the run with the Poison Lens SDK.

Options:
  --poison-fraction θ   fraction of training rows poisoned (default 0.01)
  --trigger NAME        ${ATTACK_NAMES.join(' | ')} (default cross)
  --target L            target label (default 0)
  --epochs N            epochs (default 3)
  --kappa κ             input-gradient penalty κ/2·mean‖∇ₓL‖² (default 0; > 0 trains with a custom loop, ~3× slower)
  --dataset NAME        mnist | fashion-mnist (default mnist)
  --out DIR             folder that receives the run folder (default <cwd>/${RUNS_DIR})
  --train-size N        training rows used (default 20000, at most 60000)
  --batch-size N        batch size (default 64)
  --checkpoint-every N  steps between checkpoints (default 50)
  --seed N              seed for data order, poisons and weights (default 1)
  --backend NAME        wasm | cpu (default wasm)
  --learning-rate η     Adam learning rate (default 0.001)
  --no-analyse          do not analyse the run live (by default \`poison-lens analyse --follow\` runs beside training)
  -h, --help            show this help

Options take their value as "--opt value" or "--opt=value".
`;

const DEMO_OPTIONS = {
	'poison-fraction': { type: 'string' },
	trigger: { type: 'string' },
	target: { type: 'string' },
	epochs: { type: 'string' },
	kappa: { type: 'string' },
	dataset: { type: 'string' },
	out: { type: 'string' },
	'train-size': { type: 'string' },
	'batch-size': { type: 'string' },
	'checkpoint-every': { type: 'string' },
	seed: { type: 'string' },
	backend: { type: 'string' },
	'learning-rate': { type: 'string' },
	'no-analyse': { type: 'boolean' },
	help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/**
 * Parses demo arguments (`--no-analyse` is accepted and read by {@link runDemo}).
 * @throws UsageError naming the bad flag or value
 */
export function parseDemoArgs(argv: readonly string[], cwd = process.cwd()): DemoOptions | 'help' {
	if (wantsHelp(argv)) {
		return 'help';
	}
	const parsed = parseCommandLine(argv, DEMO_OPTIONS);
	if (parsed.positionals.length > 0) {
		throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
	}
	const values = new Map<string, string>();
	for (const name of Object.keys(DEMO_OPTIONS)) {
		const v = stringOpt(parsed, name);
		if (v !== undefined) {
			values.set(name, v);
		}
	}
	const num = (name: string, def: number, check: (v: number) => boolean, what: string): number => {
		const raw = values.get(name);
		if (raw === undefined) {
			return def;
		}
		const v = Number(raw);
		if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) {
			throw new UsageError(`--${name} must be ${what}, got "${raw}"`);
		}
		return v;
	};
	const isInt = (v: number): boolean => Number.isInteger(v);
	const trigger = (values.get('trigger') ?? 'cross') as AttackName;
	if (!ATTACK_NAMES.includes(trigger)) {
		throw new UsageError(`--trigger must be one of ${ATTACK_NAMES.join(', ')}, got "${trigger}"`);
	}
	const dataset = (values.get('dataset') ?? 'mnist') as KnownDataset;
	if (dataset !== 'mnist' && dataset !== 'fashion-mnist') {
		throw new UsageError(`--dataset must be mnist or fashion-mnist, got "${String(dataset)}"`);
	}
	const backend = values.get('backend') ?? 'wasm';
	if (backend !== 'wasm' && backend !== 'cpu') {
		throw new UsageError(`--backend must be wasm or cpu, got "${backend}"`);
	}
	const out = values.get('out');
	return {
		poisonFraction: num('poison-fraction', 0.01, (v) => v >= 0 && v <= 0.5, 'a number in [0, 0.5]'),
		trigger,
		target: num('target', 0, (v) => isInt(v) && v >= 0 && v <= 9, 'an integer label 0–9'),
		epochs: num('epochs', 3, (v) => isInt(v) && v >= 1, 'a positive integer'),
		kappa: num('kappa', 0, (v) => v >= 0, 'a number ≥ 0'),
		dataset,
		out: out === undefined ? path.join(cwd, RUNS_DIR) : path.resolve(cwd, out),
		trainSize: num('train-size', 20000, (v) => isInt(v) && v >= 100 && v <= 60000, 'an integer in [100, 60000]'),
		batchSize: num('batch-size', 64, (v) => isInt(v) && v >= 1, 'a positive integer'),
		checkpointEvery: num('checkpoint-every', 50, (v) => isInt(v) && v >= 1, 'a positive integer'),
		seed: num('seed', 1, isInt, 'an integer'),
		backend,
		learningRate: num('learning-rate', 1e-3, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
	};
}

/**
 * The demo's CNN: conv 8 → pool → conv 16 → pool → dense 64 → softmax (about 56 k parameters). Conv layers use ReLU (a linear conv takes tfjs's fused path, which wasm cannot train) and 'same'
 * padding: with 'valid' convolutions and 2×2 pools the last feature map drops the bottom and right image rows, so a
 * corner trigger would be invisible to the classifier.
 */
export function buildDemoModel(itemShape: readonly number[], numClasses: number, seed: number): tf.Sequential {
	const init = (k: number): tf.serialization.Serializable => tf.initializers.glorotUniform({ seed: seed * 100 + k });
	const model = tf.sequential();
	model.add(
		tf.layers.conv2d({ inputShape: [...itemShape], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) as never }),
	);
	model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
	model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) as never }));
	model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
	model.add(tf.layers.flatten());
	// A hidden layer lets the net learn "trigger present → target" against the digit evidence; with a linear readout
	// the backdoor stalled near 90 % ASR at θ = 1 %.
	model.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(4) as never }));
	model.add(tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: init(3) as never }));
	return model;
}

/** Held-out evaluation sets, built once. */
interface EvalSets {
	readonly clean: tf.Tensor4D;
	readonly cleanLabels: Int32Array;
	/** Clean test inputs whose true class is not the target. */
	readonly nonTarget: tf.Tensor4D;
	/** The same inputs with the trigger. */
	readonly triggered: tf.Tensor4D;
}

function predictLabels(model: tf.LayersModel, xs: tf.Tensor4D, batch = 500): Int32Array {
	const n = xs.shape[0];
	const out = new Int32Array(n);
	for (let start = 0; start < n; start += batch) {
		const size = Math.min(batch, n - start);
		const pred = tf.tidy(() => tf.argMax(model.predict(xs.slice([start, 0, 0, 0], [size, -1, -1, -1])) as tf.Tensor, 1));
		out.set(pred.dataSync(), start);
		pred.dispose();
	}
	return out;
}

/** Clean accuracy, ASR and p0 on the held-out sets. */
export function evaluate(model: tf.LayersModel, sets: EvalSets, target: number): { cleanAccuracy: number; asr: number; p0: number } {
	const clean = predictLabels(model, sets.clean);
	let correct = 0;
	clean.forEach((p, i) => {
		if (p === sets.cleanLabels[i]) {
			correct++;
		}
	});
	const rate = (labels: Int32Array): number => labels.reduce((a, p) => a + (p === target ? 1 : 0), 0) / Math.max(1, labels.length);
	return {
		cleanAccuracy: correct / clean.length,
		asr: rate(predictLabels(model, sets.triggered)),
		p0: rate(predictLabels(model, sets.nonTarget)),
	};
}

function pct(v: number): string {
	return `${(100 * v).toFixed(1)} %`;
}

function seededPermutation(n: number, seed: number): Int32Array {
	const idx = Int32Array.from({ length: n }, (_, i) => i);
	const rand = mulberry32(seed);
	for (let i = n - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		const t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	return idx;
}

function subset(data: ImageDataset, n: number, seed: number): { images: Float32Array; labels: Int32Array; rows: Int32Array } {
	const per = data.itemShape[0] * data.itemShape[1] * data.itemShape[2];
	const rows = seededPermutation(data.count, seed).slice(0, n).sort();
	const images = new Float32Array(rows.length * per);
	rows.forEach((r, i) => images.set(data.images.subarray(r * per, (r + 1) * per), i * per));
	return { images, labels: Int32Array.from(rows, (r) => data.labels[r]), rows };
}

/**
 * Takes one penalised weight gradient on two zero inputs, so a backend that lacks a second-order kernel fails now
 * with advice instead of mid-run.
 * @throws Error naming the backend and the missing kernel
 */
function checkPenaltySupported(model: tf.LayersModel, itemShape: readonly number[], numClasses: number): void {
	try {
		tf.tidy(() => {
			const x = tf.zeros([2, ...itemShape]);
			const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), numClasses);
			const penalised = inputGradientPenalty(1);
			tf.variableGrads(() => penalised((xx) => crossEntropyPerSample(model.apply(xx) as tf.Tensor, y), x).total);
		});
	} catch (err) {
		throw new Error(
			`--kappa > 0 needs second-order gradients through the model, which backend '${tf.getBackend()}' cannot compute here ` +
				`(${(err as Error).message}). Try --backend cpu (slow).`,
			{ cause: err },
		);
	}
}

/** Everything the demo measured (returned for tests and benches). */
export interface DemoResult {
	readonly runDir: string;
	readonly epochs: { epoch: number; loss: number; cleanAccuracy: number; asr: number; p0: number; seconds: number }[];
	readonly wallSeconds: number;
	readonly backend: string;
}

type Shape4 = [number, number, number, number];

/** Held-out sets: the full test split for accuracy; its non-target rows, clean and triggered, for p0 and ASR. */
function heldOutSets(test: ImageDataset, attack: PoisonedDataset, target: number): EvalSets {
	const itemShape = test.itemShape;
	const per = itemShape[0] * itemShape[1] * itemShape[2];
	const nonTargetRows: number[] = [];
	test.labels.forEach((l, i) => {
		if (l !== target) {
			nonTargetRows.push(i);
		}
	});
	const nonTargetImages = new Float32Array(nonTargetRows.length * per);
	nonTargetRows.forEach((r, i) => nonTargetImages.set(test.images.subarray(r * per, (r + 1) * per), i * per));
	const shape4 = (n: number): Shape4 => [n, itemShape[0], itemShape[1], itemShape[2]];
	return {
		clean: tf.tensor4d(test.images, shape4(test.count)),
		cleanLabels: test.labels,
		nonTarget: tf.tensor4d(nonTargetImages, shape4(nonTargetRows.length)),
		triggered: tf.tensor4d(attack.trigger(nonTargetImages), shape4(nonTargetRows.length)),
	};
}

function epochProgressBar(): SingleBar {
	return new SingleBar({
		stream: process.stderr,
		format: ' epoch {epoch} [{bar}] {value}/{total} steps | loss {loss} | {eta_formatted} left',
		hideCursor: false,
		clearOnComplete: true,
		noTTYOutput: false,
		etaBuffer: 50,
		barsize: 30,
		barCompleteChar: '█',
		barIncompleteChar: '░',
	});
}

/** What one demo epoch trains with. */
interface EpochContext {
	readonly opts: DemoOptions;
	readonly model: tf.LayersModel;
	readonly optimizer: tf.Optimizer;
	readonly lens: PoisonLens;
	readonly bar: SingleBar;
	readonly stepsPerEpoch: number;
}

/** One epoch through `model.fit` with the SDK callback (κ = 0); returns the summed batch loss and batch count. */
async function fitEpoch(c: EpochContext, xs: tf.Tensor4D, ys: tf.Tensor, epoch: number): Promise<{ lossSum: number; lossCount: number }> {
	let lossSum = 0;
	let lossCount = 0;
	await c.model.fit(xs, ys, {
		batchSize: c.opts.batchSize,
		epochs: epoch + 1,
		initialEpoch: epoch,
		shuffle: false,
		verbose: 0,
		callbacks: [
			c.lens.callback(),
			// tfjs treats an array whose first element is a tf.Callback as all tf.Callbacks: wrap plain ones.
			new tf.CustomCallback({
				onBatchEnd: (batch: number, logs?: tf.Logs) => {
					const loss = logs?.loss ?? NaN;
					lossSum += loss;
					lossCount++;
					c.bar.update(batch + 1, { loss: loss.toFixed(4) });
				},
			}),
		],
	});
	return { lossSum, lossCount };
}

/** One epoch of a custom loop with the input-gradient penalty (κ > 0), recording batches and checkpoints itself. */
async function penalisedEpoch(c: EpochContext, xs: tf.Tensor4D, ys: tf.Tensor, epoch: number, firstStep: number): Promise<{ lossSum: number; lossCount: number }> {
	const n = xs.shape[0];
	const penalised = inputGradientPenalty(c.opts.kappa);
	let lossSum = 0;
	let lossCount = 0;
	let step = firstStep;
	for (let b = 0; b < c.stepsPerEpoch; b++) {
		const start = b * c.opts.batchSize;
		const size = Math.min(c.opts.batchSize, n - start);
		const loss = tf.tidy(() => {
			const xb = xs.slice([start, 0, 0, 0], [size, -1, -1, -1]);
			const yb = ys.slice([start, 0], [size, -1]);
			const cost = c.optimizer.minimize(() => penalised((x) => crossEntropyPerSample(c.model.apply(x, { training: true }) as tf.Tensor, yb), xb).total, true);
			return cost === null ? NaN : cost.dataSync()[0] ?? NaN;
		});
		step++;
		lossSum += loss;
		lossCount++;
		c.lens.logBatch({ step, epoch, batch: b, loss, fractionalEpoch: epoch + (b + 1) / c.stepsPerEpoch });
		if (step % c.opts.checkpointEvery === 0 || b === c.stepsPerEpoch - 1) {
			await c.lens.checkpoint(c.model, { step, epoch, fractionalEpoch: epoch + (b + 1) / c.stepsPerEpoch, metrics: { loss } });
		}
		c.bar.update(b + 1, { loss: loss.toFixed(4) });
		if (b % 10 === 0) {
			await new Promise<void>((resolve) => setImmediate(resolve));
		}
	}
	c.lens.logEpoch({ step, epoch, metrics: { loss: lossSum / Math.max(1, lossCount) } });
	return { lossSum, lossCount };
}

/** The epoch's rows in its seeded order, as tensors (the caller disposes them). */
function epochTensors(attack: PoisonedDataset, seed: number, numClasses: number): { xs: tf.Tensor4D; ys: tf.Tensor } {
	const n = attack.labels.length;
	const itemShape = attack.itemShape;
	const per = itemShape[0] * itemShape[1] * itemShape[2];
	const order = seededPermutation(n, seed);
	const xsArr = new Float32Array(n * per);
	const ysArr = new Int32Array(n);
	order.forEach((r, i) => {
		xsArr.set(attack.images.subarray(r * per, (r + 1) * per), i * per);
		ysArr[i] = attack.labels[r];
	});
	const xs = tf.tensor4d(xsArr, [n, itemShape[0], itemShape[1], itemShape[2]]);
	const ysIdx = tf.tensor1d(ysArr, 'int32');
	const ys = tf.oneHot(ysIdx, numClasses);
	ysIdx.dispose();
	return { xs, ys };
}

/** Trains every epoch, printing a table row per epoch; returns the rows. */
async function trainDemo(c: EpochContext, attack: PoisonedDataset, sets: EvalSets, numClasses: number, log: (line: string) => void): Promise<DemoResult['epochs']> {
	const { opts } = c;
	const epochs: DemoResult['epochs'] = [];
	log('epoch   loss     clean acc   ASR       p0        excess ASR   time');
	let step = 0;
	for (let epoch = 0; epoch < opts.epochs; epoch++) {
		const te = Date.now();
		const { xs, ys } = epochTensors(attack, opts.seed * 1000 + epoch, numClasses);
		c.bar.start(c.stepsPerEpoch, 0, { epoch: `${epoch + 1}/${opts.epochs}`, loss: '-' });
		const { lossSum, lossCount } = opts.kappa === 0 ? await fitEpoch(c, xs, ys, epoch) : await penalisedEpoch(c, xs, ys, epoch, step);
		step += c.stepsPerEpoch;
		c.bar.stop();
		xs.dispose();
		ys.dispose();
		const m = evaluate(c.model, sets, opts.target);
		const seconds = (Date.now() - te) / 1000;
		const loss = lossSum / Math.max(1, lossCount);
		epochs.push({ epoch: epoch + 1, loss, ...m, seconds });
		log(
			`${String(epoch + 1).padEnd(8)}${loss.toFixed(4).padEnd(9)}${pct(m.cleanAccuracy).padEnd(12)}${pct(m.asr).padEnd(10)}${pct(m.p0).padEnd(10)}` +
				`${pct(m.asr - m.p0).padEnd(13)}${seconds.toFixed(1)} s`,
		);
	}
	return epochs;
}

/**
 * Runs the demo with parsed options.
 * @param log where the per-epoch table goes (stdout by default); the progress bar goes to stderr
 */
export async function runDemoWith(
	opts: DemoOptions,
	log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
	onRunStarted?: (runDir: string) => void,
): Promise<DemoResult> {
	const t0 = Date.now();
	const backend = await selectBackend(opts.backend);
	installGradientFixes();
	tf.util.assert(tf.getBackend() === backend.name, () => `backend switched to ${tf.getBackend()}`);

	const fullTrain = loadKnownDataset(opts.dataset, 'train');
	const test = loadKnownDataset(opts.dataset, 'test');
	const train = subset(fullTrain, opts.trainSize, opts.seed);
	const itemShape = fullTrain.itemShape;
	const attack = makeAttack(opts.trigger, { images: train.images, labels: train.labels, itemShape }, {
		fraction: opts.poisonFraction,
		targetLabel: opts.target,
		seed: opts.seed,
	});
	log(
		`poison-lens demo: ${opts.dataset}, ${train.labels.length} training rows, ${attack.poisonIndices.length} poisoned (θ = ${opts.poisonFraction}), ` +
			`trigger ${opts.trigger} → label ${opts.target}, κ = ${opts.kappa}, backend ${backendSummary(backend)}`,
	);
	const sets = heldOutSets(test, attack, opts.target);
	const numClasses = 10;
	const lens = await PoisonLens.start({
		runName: `demo ${opts.dataset} ${opts.trigger} theta ${opts.poisonFraction}`,
		dir: opts.out,
		probe: { xs: { values: test.images, itemShape }, labels: test.labels, size: 256, seed: opts.seed, source: test.source },
		// A θ = 0 control run still declares the trigger it is tested against, so ASR and p0 apply to it too.
		attack,
		checkpointEvery: opts.checkpointEvery,
		trainSample: { xs: { values: attack.images, itemShape }, labels: attack.labels, rowIndices: train.rows, seed: opts.seed, source: fullTrain.source },
		dataset: { name: opts.dataset, source: fullTrain.source, numClasses },
	});
	log(`run folder: ${lens.runDir}`);
	onRunStarted?.(lens.runDir);

	const model = buildDemoModel(itemShape, numClasses, opts.seed);
	const optimizer = tf.train.adam(opts.learningRate);
	model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
	if (opts.kappa > 0) {
		checkPenaltySupported(model, itemShape, numClasses);
	}
	const bar = epochProgressBar();
	const ctx: EpochContext = { opts, model, optimizer, lens, bar, stepsPerEpoch: Math.ceil(attack.labels.length / opts.batchSize) };
	let epochs: DemoResult['epochs'];
	try {
		epochs = await trainDemo(ctx, attack, sets, numClasses, log);
		await lens.end('completed');
	} catch (err) {
		bar.stop();
		lens.error(err);
		await lens.end('failed');
		throw err;
	} finally {
		sets.clean.dispose();
		sets.nonTarget.dispose();
		sets.triggered.dispose();
	}
	const wallSeconds = (Date.now() - t0) / 1000;
	const last = epochs[epochs.length - 1];
	if (last !== undefined) {
		log(
			`final: clean accuracy ${pct(last.cleanAccuracy)}, ASR ${pct(last.asr)}, p0 ${pct(last.p0)}, excess ASR ${pct(last.asr - last.p0)}; ` +
				`wall time ${wallSeconds.toFixed(1)} s`,
		);
	}
	log(`run folder: ${lens.runDir}`);
	log(`next: poison-lens analyse ${pastablePath(lens.runDir)}`);
	return { runDir: lens.runDir, epochs, wallSeconds, backend: backend.description };
}

/**
 * Entry point for `poison-lens demo …` (src/cli/main.ts dispatches here).
 * @returns the process exit code: 0 on success, 2 on a usage error, 1 on a failure
 */
export async function runDemo(argv: string[]): Promise<number> {
	const analyse = !argv.includes('--no-analyse');
	const opts = parseOrExitCode('demo', HELP, () => parseDemoArgs(argv));
	if (typeof opts === 'number') {
		return opts;
	}
	let follower: LiveAnalysis | undefined;
	try {
		await runDemoWith(opts, undefined, (runDir) => {
			follower = analyse ? startLiveAnalysis(runDir) : undefined;
		});
	} catch (err) {
		follower?.child.kill();
		process.stderr.write(`poison-lens demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
		return 1;
	}
	if (follower !== undefined) {
		process.stdout.write('\nlive analysis (poison-lens analyse --follow, a separate process) is finishing the last checkpoints…\n');
		const { code, stdout, stderr } = await follower.done;
		// The per-checkpoint table is long; the lag, the verdict and blind mode are what the demo is about.
		const from = stdout.indexOf('signed lag');
		process.stdout.write(code === 0 ? `${from >= 0 ? stdout.slice(from) : stdout}` : `live analysis failed (exit ${String(code)}):\n${stderr.slice(-2000)}\n`);
		return code === 0 ? 0 : 1;
	}
	return 0;
}

interface LiveAnalysis {
	readonly child: ChildProcess;
	readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts `poison-lens analyse <runDir> --follow` in its own process, as a user would beside a training script: it
 * analyses each checkpoint as the SDK writes it and ends with the run's `end` event.
 */
function startLiveAnalysis(runDir: string): LiveAnalysis | undefined {
	// Bundled, this file is dist/cli.js itself; from sources (tsx), use the built bundle next to them.
	const cli = [path.join(__dirname, 'cli.js'), path.resolve(__dirname, '../../dist/cli.js')].find((f) => fs.existsSync(f));
	if (cli === undefined) {
		process.stderr.write('poison-lens demo: dist/cli.js not found (run "node esbuild.mjs"); skipping the live analysis\n');
		return undefined;
	}
	// Its stdin is a pipe from this process that is never written: when this process dies, by any signal (SIGKILL
	// included), the pipe closes and the analyser stops instead of following a run nobody writes.
	const child = spawn(process.execPath, [cli, 'analyse', runDir, '--follow', '--backend', 'wasm'], {
		stdio: ['pipe', 'pipe', 'pipe'],
		env: { ...process.env, [EXIT_WITH_PARENT_ENV]: '1' },
	});
	const stopChild = (): void => {
		child.kill('SIGTERM');
	};
	process.once('exit', stopChild);
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
	child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
	const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
		child.on('close', (code) => {
			process.off('exit', stopChild);
			resolve({ code, stdout, stderr });
		});
	});
	return { child, done };
}
