/**
 * Experiments 3 and 4: a small CNN on real MNIST (and Fashion-MNIST in the full run), trained on
 * tfjs wasm with the SDK recording a run folder, each checkpoint analysed by the analyser's own
 * per-checkpoint analysis, and the signed lag from its lag rules.
 *
 *   cnn:     patch (BadNets), cross, warp (φ = 0.02) and near-clone attacks over θ: excess ASR,
 *            λ1 and cos² on triggered probes, tᵀHt, and the signed lag per attack.
 *   defence: input-gradient penalty κ ∈ {0, 1, 10, 1e2, 1e3, 1e4} × augmentation (random ±2 px shifts)
 *            on the cross attack: clean accuracy vs ASR, and the trigger-aligned curvature under training.
 *
 * A point (one training run) is the unit of resuming: its summary row and its checkpoint rows are
 * written when it finishes; a killed run is redone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { analyseCheckpoint } from '../../src/analyser/analysis/checkpoint';
import { loadRunContext } from '../../src/analyser/analysis/context';
import { analyseLag } from '../../src/analyser/analysis/lag';
import { loadKnownDataset, type ImageDataset, type KnownDataset } from '../../src/datasets/idx';
import type { CheckpointAnalysis } from '../../src/protocol/analysisRecord';
import { readRun } from '../../src/protocol/runFormat';
import { mulberry32 } from '../../src/math/random';
import { makeAttack, type AttackName, type PoisonedDataset } from '../../src/sdk/attacks/index';
import { PoisonLens } from '../../src/sdk/lens';
import { crossEntropyPerSample, inputGradientPenalty } from '../../src/sdk/penalty';
import { selectBackend } from '../../src/tfjs/backend';
import { installGradientFixes } from '../../src/tfjs/gradients';
import type { Verdict } from '../../src/protocol/analysisRecord';
import type { AnalysisPoint, RunView } from '../../src/protocol/webview';
import type { ReproduceArgs } from './args';
import { PALETTE, SERIES_COLOURS, type FigureSpec, type Series, lineChart } from './charts';
import { checkpointSteps, crossingLags, randomShift } from './cnnMath';
import { CsvStore, type OutDirs, readCsvRows, writeCsv } from './io';
import { type Cell, type Row, aggregate, aggregateColumns, num } from './table';

const TARGET = 0;

/** One training run. */
export interface CnnPoint {
	readonly section: 'cnn' | 'defence';
	readonly dataset: KnownDataset;
	readonly attack: AttackName;
	readonly theta: number;
	readonly kappa: number;
	readonly augment: boolean;
	readonly seed: number;
}

/** Training and analysis sizes. */
export interface CnnSettings {
	readonly trainRows: number;
	readonly epochs: number;
	readonly batchSize: number;
	readonly learningRate: number;
	readonly dense: number;
	readonly denseUntil: number;
	readonly sparse: number;
	readonly probeSize: number;
	readonly maxShift: number;
}

const KEY = ['section', 'dataset', 'attack', 'theta', 'kappa', 'augment', 'seed'];
const RUN_VALUES = [
	'cleanAccuracy', 'asr', 'p0', 'excessAsr', 'lambda1', 'overlap', 'gap', 'triggerCurvature', 'triggerCurvatureInit',
	'perSampleOverlap', 'perSampleLambdaMedian', 'cleanLambda1', 'cleanOverlap',
	'lagSteps', 'lagEpochs', 'halfAsrStep', 'halfOverlapStep', 'halfCurvatureStep', 'halfLagOverlap', 'halfLagCurvature',
];
const RUN_COLUMNS = [...KEY, 'trainRows', 'epochs', 'steps', 'poisonRows', ...RUN_VALUES, 'asrStep', 'spectralStep', 'verdict', 'spectralSignal', 'trainSeconds', 'analysisSeconds'];
const CKPT_COLUMNS = [...KEY, 'step', 'epoch', 'probeAccuracy', 'asr', 'p0', 'excessAsr', 'lambda1', 'lambda2', 'overlap', 'gap', 'triggerCurvature', 'error'];

/** The grid of each mode. */
export function cnnGrid(quick: boolean, seeds: number): { cnn: CnnPoint[]; defence: CnnPoint[] } {
	const cnn: CnnPoint[] = [];
	const defence: CnnPoint[] = [];
	const attacks: AttackName[] = ['badnets', 'cross', 'warp', 'near-clone'];
	const datasets: KnownDataset[] = quick ? ['mnist'] : ['mnist', 'fashion-mnist'];
	for (let seed = 0; seed < seeds; seed++) {
		// The most informative fraction first, so a partial full run already covers every attack.
		for (const theta of quick ? [0.01, 0] : [0.01, 0.05, 0, 0.002]) {
			for (const dataset of datasets) {
				for (const attack of attacks) {
					if (quick && theta === 0 && attack !== 'cross' && attack !== 'near-clone') {
						continue;
					}
					cnn.push({ section: 'cnn', dataset, attack, theta, kappa: 0, augment: false, seed });
				}
			}
		}
		// The brief's grid {0, 1e2, 1e3, 1e4} plus κ = 1 and 10: with this penalty's normalisation
		// (per-sample input gradients, SDK inputGradientPenalty) κ ≥ 1e2 already stops MNIST training.
		for (const kappa of [0, 1, 10, 1e2, 1e3, 1e4]) {
			for (const augment of [false, true]) {
				defence.push({ section: 'defence', dataset: 'mnist', attack: 'cross', theta: 0.01, kappa, augment, seed });
			}
		}
	}
	return { cnn, defence };
}

/** Sizes per mode and section. */
export function cnnSettings(quick: boolean, section: 'cnn' | 'defence'): CnnSettings {
	if (quick) {
		return section === 'cnn'
			? { trainRows: 6000, epochs: 2, batchSize: 64, learningRate: 1e-3, dense: 10, denseUntil: 100, sparse: 30, probeSize: 256, maxShift: 2 }
			: { trainRows: 4000, epochs: 2, batchSize: 64, learningRate: 1e-3, dense: 25, denseUntil: 25, sparse: 25, probeSize: 256, maxShift: 2 };
	}
	return section === 'cnn'
		? { trainRows: 20000, epochs: 4, batchSize: 64, learningRate: 1e-3, dense: 20, denseUntil: 320, sparse: 80, probeSize: 256, maxShift: 2 }
		: { trainRows: 20000, epochs: 4, batchSize: 64, learningRate: 1e-3, dense: 40, denseUntil: 320, sparse: 100, probeSize: 256, maxShift: 2 };
}

/**
 * The experiments' CNN: conv8-pool-conv16-pool-fc64-fc10 ('same' padding, ReLU, softmax), the
 * demo's architecture as of this writing (src/cli/demo.ts), fixed here so that results do not move
 * when the demo changes. docs/science.md §7's reference used conv16/conv32; this one is cheaper on wasm.
 * ReLU conv layers: a linear conv would take tfjs's fused path, which wasm cannot train.
 */
export function buildModel(itemShape: readonly number[], numClasses: number, seed: number): tf.Sequential {
	const init = (k: number): tf.serialization.Serializable => tf.initializers.glorotUniform({ seed: seed * 100 + k });
	const model = tf.sequential();
	model.add(tf.layers.conv2d({ inputShape: [...itemShape], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) as never }));
	model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
	model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) as never }));
	model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
	model.add(tf.layers.flatten());
	model.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(4) as never }));
	model.add(tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: init(3) as never }));
	return model;
}

function seededRows(n: number, k: number, seed: number): Int32Array {
	const idx = Int32Array.from({ length: n }, (_, i) => i);
	const rand = mulberry32(seed);
	for (let i = n - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		const t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	return idx.slice(0, k).sort();
}

function take(ds: ImageDataset, rows: ArrayLike<number>): { images: Float32Array; labels: Int32Array } {
	const per = ds.images.length / ds.count;
	const images = new Float32Array(rows.length * per);
	const labels = new Int32Array(rows.length);
	for (let i = 0; i < rows.length; i++) {
		images.set(ds.images.subarray(rows[i] * per, (rows[i] + 1) * per), i * per);
		labels[i] = ds.labels[rows[i]];
	}
	return { images, labels };
}

function predictLabels(model: tf.LayersModel, images: Float32Array, itemShape: readonly number[]): Int32Array {
	const per = itemShape.reduce((a, b) => a * b, 1);
	const n = images.length / per;
	const out = new Int32Array(n);
	for (let start = 0; start < n; start += 500) {
		const size = Math.min(500, n - start);
		const pred = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(images.subarray(start * per, (start + size) * per), [size, itemShape[0], itemShape[1], itemShape[2]])) as tf.Tensor, 1));
		out.set(pred.dataSync(), start);
		pred.dispose();
	}
	return out;
}

function rec(v: number | null | undefined): Cell {
	return v === null || v === undefined ? null : v;
}

interface Loaded {
	readonly train: ImageDataset;
	readonly test: ImageDataset;
}

/** The batch order of one epoch: the seeded rows, shuffled again (seededRows sorts). */
function epochOrder(n: number, seed: number, epoch: number): Int32Array {
	const perm = Int32Array.from(seededRows(n, n, 31 * (seed + 1) + epoch));
	const r = mulberry32(77 + 1000 * seed + epoch);
	for (let i = n - 1; i > 0; i--) {
		const j = Math.floor(r() * (i + 1));
		const t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	return perm;
}

/** Trains a point's CNN through the SDK (custom loop, optional penalty and augmentation); returns the model and its step count. */
async function trainPoint(point: CnnPoint, s: CnnSettings, lens: PoisonLens, attack: PoisonedDataset, itemShape: readonly [number, number, number]): Promise<{ model: tf.LayersModel; optimizer: tf.Optimizer; total: number }> {
	const per = itemShape[0] * itemShape[1] * itemShape[2];
	const model = buildModel(itemShape, 10, 1 + point.seed);
	const optimizer = tf.train.adam(s.learningRate);
	const penalised = inputGradientPenalty(point.kappa);
	const n = attack.labels.length;
	const stepsPerEpoch = Math.ceil(n / s.batchSize);
	const total = stepsPerEpoch * s.epochs;
	const schedule = new Set(checkpointSteps(total, s.dense, s.denseUntil, s.sparse));
	let step = 0;
	await lens.checkpoint(model, { step: 0, epoch: 0, fractionalEpoch: 0 });
	const shiftRand = mulberry32(9000 + point.seed);
	for (let epoch = 0; epoch < s.epochs; epoch++) {
		const perm = epochOrder(n, point.seed, epoch);
		for (let b = 0; b < stepsPerEpoch; b++) {
			const start = b * s.batchSize;
			const size = Math.min(s.batchSize, n - start);
			let xb: Float32Array = new Float32Array(size * per);
			const yb = new Int32Array(size);
			for (let i = 0; i < size; i++) {
				const row = perm[start + i];
				xb.set(attack.images.subarray(row * per, (row + 1) * per), i * per);
				yb[i] = attack.labels[row];
			}
			if (point.augment) {
				xb = randomShift(xb, itemShape, s.maxShift, shiftRand);
			}
			const loss = tf.tidy(() => {
				const x = tf.tensor4d(xb, [size, itemShape[0], itemShape[1], itemShape[2]]);
				const y = tf.oneHot(tf.tensor1d(yb, 'int32'), 10);
				const cost = optimizer.minimize(() => penalised((xx) => crossEntropyPerSample(model.apply(xx, { training: true }) as tf.Tensor, y), x).total, true);
				return cost === null ? Number.NaN : (cost.dataSync()[0] ?? Number.NaN);
			});
			step++;
			lens.logBatch({ step, epoch, batch: b, loss, fractionalEpoch: epoch + (b + 1) / stepsPerEpoch });
			if (schedule.has(step)) {
				await lens.checkpoint(model, { step, epoch, fractionalEpoch: epoch + (b + 1) / stepsPerEpoch, metrics: { loss } });
			}
			if (!Number.isFinite(loss)) {
				throw new Error(`training diverged at step ${step} (loss ${loss})`);
			}
		}
	}
	return { model, optimizer, total };
}

/** The final model on the whole test split: clean accuracy, ASR and p0 over the non-target rows. */
function evaluateFinal(model: tf.LayersModel, test: ImageDataset, attack: PoisonedDataset): { cleanAccuracy: number; asr: number; p0: number } {
	const itemShape = test.itemShape;
	const nonTargetRows: number[] = [];
	test.labels.forEach((l, i) => {
		if (l !== TARGET) {
			nonTargetRows.push(i);
		}
	});
	const nonTarget = take(test, nonTargetRows);
	const predTest = predictLabels(model, test.images, itemShape);
	const predTrig = predictLabels(model, attack.trigger(nonTarget.images), itemShape);
	const predClean = predictLabels(model, nonTarget.images, itemShape);
	let correct = 0;
	predTest.forEach((p, i) => {
		correct += p === test.labels[i] ? 1 : 0;
	});
	return {
		cleanAccuracy: correct / test.count,
		asr: predTrig.filter((p) => p === TARGET).length / predTrig.length,
		p0: predClean.filter((p) => p === TARGET).length / predClean.length,
	};
}

/** The analyser on a point's run: light pass on every checkpoint (one row each), full pass on the last, the lag. */
async function analysePoint(runDir: string, key: Row): Promise<{ checkpoints: Row[]; fullRec: CheckpointAnalysis | null; lag: ReturnType<typeof analyseLag>; analysisSeconds: number }> {
	const t1 = Date.now();
	const ctx = await loadRunContext(runDir);
	const snap = await readRun(runDir);
	const records: CheckpointAnalysis[] = [];
	const checkpoints: Row[] = [];
	for (const cp of snap.checkpoints) {
		const r = await analyseCheckpoint(ctx, { step: cp.step, epoch: cp.fractionalEpoch ?? cp.epoch, dir: cp.dir }, { pass: 'light', k: 5 });
		records.push(r);
		checkpoints.push({
			...key,
			step: r.step,
			epoch: r.epoch,
			probeAccuracy: rec(r.cleanAccuracy),
			asr: rec(r.asr),
			p0: rec(r.p0),
			excessAsr: rec(r.excessAsr),
			lambda1: rec(r.topEigenvalues?.[0]),
			lambda2: rec(r.topEigenvalues?.[1]),
			overlap: rec(r.triggerOverlap),
			gap: rec(r.spectralGap),
			triggerCurvature: rec(r.triggerCurvature),
			error: r.error,
		});
	}
	const last = snap.checkpoints[snap.checkpoints.length - 1];
	const fullRec = last === undefined ? null : await analyseCheckpoint(ctx, { step: last.step, epoch: last.fractionalEpoch ?? last.epoch, dir: last.dir }, { pass: 'full', k: 5 });
	const lag = analyseLag(records);
	return { checkpoints, fullRec, lag, analysisSeconds: (Date.now() - t1) / 1000 };
}

/** Trains, records, analyses one point; returns its summary row and checkpoint rows. */
async function runPoint(point: CnnPoint, s: CnnSettings, data: Loaded, runsDir: string, log: (m: string) => void): Promise<{ row: Row; checkpoints: Row[] }> {
	const { train: fullTrain, test } = data;
	const itemShape = fullTrain.itemShape;
	const trainSel = take(fullTrain, seededRows(fullTrain.count, s.trainRows, 17 + point.seed));
	const attack = makeAttack(point.attack, { images: trainSel.images, labels: trainSel.labels, itemShape }, { fraction: point.theta, targetLabel: TARGET, seed: 100 + point.seed });
	const key = { section: point.section, dataset: point.dataset, attack: point.attack, theta: point.theta, kappa: point.kappa, augment: point.augment, seed: point.seed };
	const lens = await PoisonLens.start({
		runName: `reproduce ${point.section} ${point.dataset} ${point.attack} ${point.theta} k${point.kappa} a${point.augment ? 1 : 0} s${point.seed}`,
		dir: runsDir,
		probe: { xs: { values: test.images, itemShape }, labels: test.labels, size: s.probeSize, seed: 5 + point.seed, source: test.source },
		attack,
		checkpointEvery: s.dense,
		dataset: { name: point.dataset, source: fullTrain.source, numClasses: 10 },
		onWarning: (m) => log(`sdk warning: ${m}`),
	});
	tf.util.assert(tf.getBackend() === 'wasm', () => `backend is ${tf.getBackend()}, expected wasm`);
	const t0 = Date.now();
	let trained: Awaited<ReturnType<typeof trainPoint>>;
	try {
		trained = await trainPoint(point, s, lens, attack, itemShape);
		await lens.end('completed');
	} catch (err) {
		lens.error(err);
		await lens.end('failed');
		throw err;
	}
	const trainSeconds = (Date.now() - t0) / 1000;
	const final = evaluateFinal(trained.model, test, attack);
	trained.model.dispose();
	trained.optimizer.dispose();

	const runDir = lens.runDir;
	const { checkpoints, fullRec, lag, analysisSeconds } = await analysePoint(runDir, key);
	fs.rmSync(runDir, { recursive: true, force: true });

	const steps = checkpoints.map((c) => num(c, 'step'));
	const excess = checkpoints.map((c) => (typeof c.excessAsr === 'number' ? c.excessAsr : null));
	const overl = checkpoints.map((c) => (typeof c.overlap === 'number' ? c.overlap : null));
	const curv = checkpoints.map((c) => (typeof c.triggerCurvature === 'number' ? c.triggerCurvature : null));
	const row: Row = {
		...key,
		trainRows: s.trainRows,
		epochs: s.epochs,
		steps: trained.total,
		poisonRows: attack.poisonIndices.length,
		cleanAccuracy: final.cleanAccuracy,
		asr: final.asr,
		p0: final.p0,
		excessAsr: final.asr - final.p0,
		lambda1: rec(fullRec?.topEigenvalues?.[0]),
		overlap: rec(fullRec?.triggerOverlap),
		gap: rec(fullRec?.spectralGap),
		triggerCurvature: rec(fullRec?.triggerCurvature),
		triggerCurvatureInit: curv[0] ?? null,
		perSampleOverlap: rec(fullRec?.perSample?.overlap),
		perSampleLambdaMedian: rec(fullRec?.perSample?.median),
		cleanLambda1: rec(fullRec?.clean?.topEigenvalues?.[0]),
		cleanOverlap: rec(fullRec?.clean?.triggerOverlap),
		lagSteps: rec(lag.lag.lagSteps),
		lagEpochs: rec(lag.lag.lagEpochs),
		...crossingLags(steps, excess, overl, curv),
		asrStep: rec(lag.lag.asrStep),
		spectralStep: rec(lag.lag.spectralStep),
		verdict: lag.verdict,
		spectralSignal: lag.spectralSignal,
		trainSeconds,
		analysisSeconds,
	};
	return { row, checkpoints };
}

/**
 * Folds the rows of a worker's results root (`--out` of a `--shard` run) into this run's stores.
 * A point counts once its run row is there; its checkpoint rows come with it.
 * @returns how many run rows were new
 */
function mergeWorker(root: string, mode: string, section: 'cnn' | 'defence', runs: CsvStore, ckpts: CsvStore): number {
	const dir = path.join(root, mode);
	if (!fs.existsSync(dir)) {
		throw new Error(`reproduce: --merge=${root}: no ${mode}/ folder there`);
	}
	let added = 0;
	const theirs = readCsvRows(path.join(dir, `${section}_runs.csv`));
	const finished = new Set(theirs.map((r) => JSON.stringify(KEY.map((k) => r[k]))));
	for (const r of theirs) {
		if (!runs.has(r)) {
			runs.store.add(r);
			added++;
		}
	}
	for (const c of readCsvRows(path.join(dir, `${section}_checkpoints.csv`))) {
		if (finished.has(JSON.stringify(KEY.map((k) => c[k])))) {
			ckpts.store.add(c);
		}
	}
	return added;
}

/**
 * The crossing lags are recomputed from the stored checkpoint rows, so the CSVs always carry the current
 * definition (cnnMath.crossingLags), whichever version ran the point.
 */
function recomputeCrossingLags(runs: CsvStore, ckpts: CsvStore): void {
	const byRun = new Map<string, Row[]>();
	for (const c of ckpts.rows()) {
		const k = JSON.stringify(KEY.map((x) => c[x]));
		const list = byRun.get(k) ?? [];
		list.push(c);
		byRun.set(k, list);
	}
	for (const r of runs.rows()) {
		const list = (byRun.get(JSON.stringify(KEY.map((x) => r[x]))) ?? []).slice().sort((a, b) => num(a, 'step') - num(b, 'step'));
		const pick = (c: string): (number | null)[] => list.map((x) => (typeof x[c] === 'number' ? x[c] : null));
		runs.store.add({ ...r, ...crossingLags(list.map((x) => num(x, 'step')), pick('excessAsr'), pick('overlap'), pick('triggerCurvature')) });
	}
}

/** Runs (or resumes) the CNN and defence grids for the requested sections. */
export async function runCnn(out: OutDirs, args: ReproduceArgs, log: (m: string) => void, startedAt = Date.now()): Promise<{ figures: FigureSpec[] }> {
	if (!args.report) {
		const backend = await selectBackend('wasm');
		installGradientFixes();
		log(`cnn: tfjs backend ${backend.description}`);
	}
	const runsDir = path.join(os.tmpdir(), 'poison-lens-reproduce', out.mode);
	fs.mkdirSync(runsDir, { recursive: true });
	const grid = cnnGrid(args.quick, args.seeds);
	const figures: FigureSpec[] = [];
	const cache = new Map<KnownDataset, Loaded>();
	const load = (d: KnownDataset): Loaded => {
		let l = cache.get(d);
		if (l === undefined) {
			l = { train: loadKnownDataset(d, 'train'), test: loadKnownDataset(d, 'test') };
			cache.set(d, l);
		}
		return l;
	};
	for (const section of ['cnn', 'defence'] as const) {
		if (!args.sections.includes(section)) {
			continue;
		}
		const runs = new CsvStore(path.join(out.dir, `${section}_runs.csv`), RUN_COLUMNS, KEY, args.fresh);
		const ckpts = new CsvStore(path.join(out.dir, `${section}_checkpoints.csv`), CKPT_COLUMNS, [...KEY, 'step'], args.fresh);
		for (const root of args.merge) {
			const merged = mergeWorker(root, out.mode, section, runs, ckpts);
			log(`${section}: merged ${merged} finished point(s) from ${root}`);
		}
		if (args.merge.length > 0) {
			writeCsv(ckpts.file, ckpts.columns, ckpts.rows());
			writeCsv(runs.file, runs.columns, runs.rows());
		}
		const settings = cnnSettings(args.quick, section);
		const points = section === 'cnn' ? grid.cnn : grid.defence;
		const pending = points.filter((p) => !runs.has({ ...p }) && (args.dataset === null || p.dataset === args.dataset));
		const shard = args.shard;
		const mine = new Set(shard === null ? pending : pending.filter((_, k) => k % shard.count === shard.index));
		let i = 0;
		for (const p of points) {
			i++;
			if (!mine.has(p) || args.report) {
				continue;
			}
			if (args.deadline !== null && (Date.now() - startedAt) / 1000 > args.deadline) {
				log(`${section}: deadline of ${args.deadline} s passed; ${p.dataset} ${p.attack} θ=${p.theta} κ=${p.kappa} seed ${p.seed} and later points left for another run`);
				break;
			}
			const t = Date.now();
			const { row, checkpoints } = await runPoint(p, settings, load(p.dataset), runsDir, log);
			for (const c of checkpoints) {
				ckpts.store.add(c);
			}
			writeCsv(ckpts.file, ckpts.columns, ckpts.rows());
			runs.add(row);
			log(`${section} ${i}/${points.length} ${p.dataset} ${p.attack} θ=${p.theta} κ=${p.kappa} aug=${p.augment} seed ${p.seed}: acc ${num(row, 'cleanAccuracy').toFixed(3)}, excess ASR ${num(row, 'excessAsr').toFixed(3)}, λ1 ${String(row.lambda1)}, cos² ${String(row.overlap)}, lag ${String(row.lagSteps)} (${String(row.verdict)}), half-max lag ${String(row.halfLagOverlap)}/${String(row.halfLagCurvature)} (${((Date.now() - t) / 1000).toFixed(0)} s)`);
		}
		const wanted = new Set(points.map((p) => JSON.stringify(KEY.map((k) => p[k as keyof CnnPoint]))));
		recomputeCrossingLags(runs, ckpts);
		writeCsv(runs.file, runs.columns, runs.rows());
		const rows = runs.rows().filter((r) => wanted.has(JSON.stringify(KEY.map((k) => r[k]))));
		const groups = ['section', 'dataset', 'attack', 'theta', 'kappa', 'augment'];
		const agg = aggregate(rows, groups, RUN_VALUES);
		writeCsv(path.join(out.dir, `${section}_agg.csv`), aggregateColumns(groups, RUN_VALUES), agg);
		const cps = ckpts.rows().filter((r) => wanted.has(JSON.stringify(KEY.map((k) => r[k]))));
		figures.push(...(section === 'cnn' ? cnnFigures(cps, args.seeds) : defenceFigures(agg, cps, args.seeds)));
		if (section === 'cnn') {
			figures.push(...dashboardFigures(rows, cps));
		}
	}
	return { figures };
}

const VERDICT_NAMES: readonly Verdict[] = ['clean', 'early-warning', 'visible', 'lagging', 'invisible'];

function numOrNull(r: Row, c: string): number | null {
	const v = r[c];
	return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * A reproduce point as the dashboard's RunView (webview protocol), from its run row and checkpoint
 * rows, so the dashboard's own chart builders can draw it (webview/figurePage.ts).
 */
export function pointRunView(run: Row, cps: readonly Row[]): RunView {
	const steps = num(run, 'steps');
	const epochs = num(run, 'epochs');
	const points: AnalysisPoint[] = cps
		.slice()
		.sort((a, b) => num(a, 'step') - num(b, 'step'))
		.map((c) => {
			const eig = [numOrNull(c, 'lambda1'), numOrNull(c, 'lambda2')].filter((v): v is number => v !== null);
			const error = typeof c.error === 'string' && c.error !== '' ? c.error : null;
			return {
				kind: 'checkpoint',
				checkpoint: String(c.step),
				pass: 'light',
				epoch: num(c, 'epoch'),
				step: num(c, 'step'),
				cleanAccuracy: numOrNull(c, 'probeAccuracy'),
				asr: numOrNull(c, 'asr'),
				p0: numOrNull(c, 'p0'),
				excessAsr: numOrNull(c, 'excessAsr'),
				topEigenvalues: eig.length > 0 ? eig : null,
				triggerOverlap: numOrNull(c, 'overlap'),
				spectralGap: numOrNull(c, 'gap'),
				triggerCurvature: numOrNull(c, 'triggerCurvature'),
				perSample: null,
				clean: null,
				error,
				analysisMs: null,
				time: 0,
			};
		});
	const verdict = VERDICT_NAMES.find((v) => v === run.verdict) ?? 'clean';
	const stepsPerEpoch = epochs > 0 ? steps / epochs : null;
	const lagSteps = numOrNull(run, 'lagSteps');
	return {
		info: {
			id: `${String(run.dataset)}-${String(run.attack)}-${String(run.theta)}-s${String(run.seed)}`,
			name: `${String(run.dataset)} ${String(run.attack)} θ = ${num(run, 'theta') * 100} %, seed ${String(run.seed)}`,
			dir: '',
			createdAt: '',
			status: 'finished',
			attackDeclared: true,
			theta: num(run, 'theta'),
			kappa: num(run, 'kappa'),
			targetClass: TARGET,
			trigger: String(run.attack),
			stepsPerEpoch,
		},
		metrics: [],
		checkpoints: points,
		summary: {
			kind: 'summary',
			lag: {
				asrStep: numOrNull(run, 'asrStep'),
				spectralStep: numOrNull(run, 'spectralStep'),
				lagSteps,
				lagEpochs: lagSteps === null || stepsPerEpoch === null ? null : lagSteps / stepsPerEpoch,
			},
			verdict,
			blind: null,
			spectralSignal: typeof run.spectralSignal === 'string' ? run.spectralSignal : null,
		},
		images: {},
		runError: null,
		problems: [],
		revision: 1,
	};
}

/** The dashboard's own "signals" and "lag" charts for the θ = 1 % runs of seed 0 (one pair per data set and attack). */
function dashboardFigures(runs: readonly Row[], cps: readonly Row[]): FigureSpec[] {
	const figs: FigureSpec[] = [];
	for (const run of runs) {
		if (run.section !== 'cnn' || run.seed !== 0 || run.theta !== 0.01) {
			continue;
		}
		const own = cps.filter((c) => KEY.every((k) => c[k] === run[k]));
		if (own.length === 0) {
			continue;
		}
		const view = pointRunView(run, own);
		const stem = `dashboard_${String(run.dataset)}_${String(run.attack)}_0.01`;
		figs.push({ name: `${stem}_signals`, dashboard: { runs: [view], chart: 'signals' }, width: 760, height: 400 });
		figs.push({ name: `${stem}_lag`, dashboard: { runs: [view], chart: 'lag' }, width: 560, height: 400 });
	}
	return figs;
}

function trajectory(cps: readonly Row[], match: (r: Row) => boolean, c: string, seed = 0): { x: number; y: number }[] {
	return cps.filter((r) => match(r) && r.seed === seed && typeof r[c] === 'number').map((r) => ({ x: num(r, 'step'), y: num(r, c) })).sort((a, b) => a.x - b.x);
}

function cnnFigures(cps: readonly Row[], seeds: number): FigureSpec[] {
	const figs: FigureSpec[] = [];
	const combos = new Map<string, Row>();
	for (const r of cps) {
		if (num(r, 'theta') > 0) {
			combos.set(`${String(r.dataset)}|${String(r.attack)}|${String(r.theta)}`, r);
		}
	}
	for (const r of combos.values()) {
		const m = (x: Row): boolean => x.dataset === r.dataset && x.attack === r.attack && x.theta === r.theta && x.section === 'cnn';
		const series: Series[] = [
			{ label: 'excess ASR (ASR − p0)', points: trajectory(cps, m, 'excessAsr'), colour: PALETTE.red },
			{ label: 'cos²(top eigenvector, trigger)', points: trajectory(cps, m, 'overlap'), colour: PALETTE.purple, dash: true },
			{ label: 'λ1 (triggered probes)', points: trajectory(cps, m, 'lambda1'), colour: PALETTE.blue, right: true },
			{ label: 'tᵀHt/‖t‖²', points: trajectory(cps, m, 'triggerCurvature'), colour: PALETTE.orange, right: true, pointStyle: 'triangle' },
		];
		const control = (x: Row): boolean => x.dataset === r.dataset && x.attack === r.attack && num(x, 'theta') === 0 && x.section === 'cnn';
		const controlLambda = trajectory(cps, control, 'lambda1');
		if (controlLambda.length > 0) {
			series.push({ label: 'λ1, θ = 0 control', points: controlLambda, colour: PALETTE.grey, right: true, dash: true });
			series.push({ label: 'cos², θ = 0 control', points: trajectory(cps, control, 'overlap'), colour: PALETTE.grey, dash: true, pointStyle: 'rectRot' });
		}
		const lowest = Math.min(...series.filter((x) => x.right !== true).flatMap((x) => x.points.map((q) => q.y)));
		figs.push(lineChart({
			title: `CNN, ${String(r.dataset)}, ${String(r.attack)} attack, θ = ${num(r, 'theta') * 100} %: attack success vs spectrum`,
			subtitle: `analyser light pass per checkpoint (64 triggered probes, Lanczos 20); seed 0 of ${seeds}; grey = the same trigger on a θ = 0 run`,
			xTitle: 'optimiser step',
			yTitle: 'fraction',
			rightTitle: 'curvature',
			rightLog: true,
			yMin: Math.min(-0.05, Math.floor((lowest - 0.05) * 10) / 10),
			yMax: 1,
			series,
		}, `cnn_${String(r.dataset)}_${String(r.attack)}_${String(r.theta)}`.replace(/[^a-z0-9_.-]/gi, '_'), 820, 460));
	}
	return figs;
}

function defenceFigures(agg: readonly Row[], cps: readonly Row[], seeds: number): FigureSpec[] {
	const figs: FigureSpec[] = [];
	const series: Series[] = [false, true].map((aug, j) => {
		const rows = agg.filter((r) => r.augment === aug).sort((a, b) => num(a, 'kappa') - num(b, 'kappa'));
		return {
			label: aug ? 'with augmentation (±2 px shifts)' : 'no augmentation',
			points: rows.map((r) => ({ x: num(r, 'cleanAccuracy_mean'), y: num(r, 'excessAsr_mean') })),
			colour: [PALETTE.blue, PALETTE.green][j],
			scatter: false,
		};
	});
	figs.push(lineChart({
		title: 'Safety–efficacy trade-off: clean accuracy against excess ASR (cross, θ = 1 %)',
		subtitle: `one point per κ; along each line accuracy falls as κ grows (values in defence_agg.csv); mean of ${seeds} seed(s)`,
		xTitle: 'clean test accuracy',
		yTitle: 'excess ASR (ASR − p0), full test set',
		yMin: -0.15,
		yMax: 1,
		series,
	}, 'defence_tradeoff', 820, 460));
	const kx = (k: number): number => (k === 0 ? 0.1 : k);
	const vsKappa: Series[] = [];
	[false, true].forEach((aug, j) => {
		const rows = agg.filter((r) => r.augment === aug).sort((a, b) => num(a, 'kappa') - num(b, 'kappa'));
		const name = aug ? 'augmentation' : 'no augmentation';
		const colour = [PALETTE.blue, PALETTE.green][j];
		const band = (c: string): Pick<Series, 'points' | 'band'> => ({
			points: rows.map((r) => ({ x: kx(num(r, 'kappa')), y: num(r, `${c}_mean`) })),
			band: { lower: rows.map((r) => ({ x: kx(num(r, 'kappa')), y: num(r, `${c}_min`) })), upper: rows.map((r) => ({ x: kx(num(r, 'kappa')), y: num(r, `${c}_max`) })) },
		});
		vsKappa.push({ label: `clean accuracy, ${name}`, ...band('cleanAccuracy'), colour });
		vsKappa.push({ label: `excess ASR, ${name}`, ...band('excessAsr'), colour, dash: true, pointStyle: 'triangle' });
	});
	figs.push(lineChart({
		title: 'Input-gradient penalty κ × augmentation: clean accuracy and excess ASR',
		subtitle: `cross trigger, θ = 1 %; κ = 0 drawn at 0.1; band = min–max over ${seeds} seed(s)`,
		xTitle: 'κ',
		yTitle: 'fraction (full test set)',
		xLog: true,
		yMin: -0.15,
		yMax: 1,
		series: vsKappa,
	}, 'defence_kappa', 820, 460));
	const kappas = [...new Set(cps.map((r) => num(r, 'kappa')))].sort((a, b) => a - b);
	const traj: Series[] = [];
	kappas.forEach((k, i) => {
		for (const aug of [false, true]) {
			traj.push({ label: `κ = ${k}${aug ? ', aug' : ''}`, points: trajectory(cps, (r) => num(r, 'kappa') === k && r.augment === aug, 'triggerCurvature'), colour: SERIES_COLOURS[i], dash: aug });
		}
	});
	figs.push(lineChart({
		title: 'Trigger-aligned curvature tᵀHt/‖t‖² on triggered probes during training, per κ',
		subtitle: `cross, θ = 1 %; solid: no augmentation, dashed: augmentation; seed 0 of ${seeds}`,
		xTitle: 'optimiser step',
		yTitle: 'tᵀHt/‖t‖²',
		yLog: true,
		series: traj,
	}, 'defence_curvature', 820, 460));
	return figs;
}
