/**
 * Experiment 2: linear models on real MNIST with the SDK's cross trigger (docs/science.md §3).
 * Softmax regression and multi-output ridge regression, poison fraction θ ∈ {0, 0.1 %, 0.5 %,
 * 1 %, 5 %}: ASR, excess ASR, clean accuracy, and the exact top input-Hessian eigenpair with its
 * overlap with the trigger, on triggered and on clean probes.
 */
import * as path from 'node:path';
import { loadKnownDataset, type ImageDataset } from '../../src/datasets/idx';
import { crossAttack } from '../../src/sdk/attacks/index';
import type { ReproduceArgs } from './args';
import { PALETTE, type FigureSpec, lineChart, meanBand } from './charts';
import { CsvStore, type OutDirs, writeCsv } from './io';
import {
	type LinearModel,
	alignedEigen,
	cosineSquared,
	logits,
	predict,
	sandwichQuadratic,
	softmax,
	softmaxCurvature,
	topEigenOfSandwich,
	trainRidge,
	trainSoftmax,
} from './linearMath';
import { type Row, aggregate, aggregateColumns, num } from './table';

/** Poison fractions of the paper's linear experiment grid (our choice of values, docs/science.md §5). */
export const LINEAR_THETAS = [0, 0.001, 0.005, 0.01, 0.05];
const TARGET = 0;
const PROBES = 128;

const COLUMNS = ['model', 'theta', 'seed', 'trainRows', 'poisonRows', 'cleanAccuracy', 'asr', 'p0', 'excessAsr', 'lambda1Triggered', 'gapTriggered', 'overlapTriggered', 'triggerCurvature', 'lambda1Clean', 'overlapClean', 'perSampleOverlapTriggered', 'perSampleLambda1Triggered', 'alignedLambda', 'alignedOverlap', 'alignedRank', 'seconds'];
const VALUES = ['cleanAccuracy', 'asr', 'p0', 'excessAsr', 'lambda1Triggered', 'gapTriggered', 'overlapTriggered', 'triggerCurvature', 'lambda1Clean', 'overlapClean', 'perSampleOverlapTriggered', 'perSampleLambda1Triggered', 'alignedLambda', 'alignedOverlap', 'alignedRank'];

interface Subset {
	readonly images: Float32Array;
	readonly labels: Int32Array;
}

function subset(ds: ImageDataset, rows: readonly number[]): Subset {
	const per = ds.images.length / ds.count;
	const images = new Float32Array(rows.length * per);
	const labels = new Int32Array(rows.length);
	rows.forEach((r, i) => {
		images.set(ds.images.subarray(r * per, (r + 1) * per), i * per);
		labels[i] = ds.labels[r];
	});
	return { images, labels };
}

/** Mean curvature matrix A over probes: softmax → mean of diag p − ppᵀ; ridge → I. */
function meanCurvature(model: LinearModel, kind: 'softmax' | 'ridge', images: Float32Array, count: number): { mean: Float64Array; perProbe: Float64Array[] } {
	const k = model.classes;
	const mean = new Float64Array(k * k);
	const perProbe: Float64Array[] = [];
	for (let i = 0; i < count; i++) {
		let a: Float64Array;
		if (kind === 'ridge') {
			a = new Float64Array(k * k);
			for (let c = 0; c < k; c++) {
				a[c * k + c] = 1;
			}
		} else {
			a = softmaxCurvature(softmax(logits(model, images, i * model.dimension)));
		}
		perProbe.push(a);
		for (let t = 0; t < a.length; t++) {
			mean[t] += a[t] / count;
		}
	}
	return { mean, perProbe };
}

interface LinearData {
	readonly train: ImageDataset;
	readonly test: ImageDataset;
	readonly evalSet: Subset;
	readonly probeSet: Subset;
	readonly trainRows: number;
}

/** Trains one linear model on a cross-poisoned MNIST and measures its attack and exact input curvature. */
function linearPoint(key: { model: 'softmax' | 'ridge'; theta: number; seed: number }, data: LinearData, quick: boolean): Row {
	const { model: kind, theta, seed } = key;
	const { train, test, evalSet, probeSet, trainRows } = data;
	const t0 = Date.now();
	const attack = crossAttack({ images: train.images, labels: train.labels, itemShape: train.itemShape }, { fraction: theta, targetLabel: TARGET, seed: 1000 + seed });
	const model = kind === 'softmax'
		? trainSoftmax(attack.images, attack.labels, { classes: 10, epochs: quick ? 8 : 10, batchSize: 64, learningRate: 0.1, weightDecay: 1e-4, seed: 7 + seed })
		: trainRidge(attack.images, attack.labels, 10, 1);
	const trig = attack.trigger(evalSet.images);
	const predTrig = predict(model, trig, evalSet.labels.length);
	const predClean = predict(model, evalSet.images, evalSet.labels.length);
	const predTest = predict(model, test.images, test.count);
	let correct = 0;
	predTest.forEach((p, i) => {
		correct += p === test.labels[i] ? 1 : 0;
	});
	const asr = predTrig.filter((p) => p === TARGET).length / predTrig.length;
	const p0 = predClean.filter((p) => p === TARGET).length / predClean.length;
	if (attack.spec.type !== 'additive') {
		throw new Error('linear: the cross trigger is expected to be additive');
	}
	const direction = attack.spec.delta;
	const probesTrig = attack.trigger(probeSet.images);
	const trigCurv = meanCurvature(model, kind, probesTrig, PROBES);
	const cleanCurv = meanCurvature(model, kind, probeSet.images, PROBES);
	const top = topEigenOfSandwich(model, trigCurv.mean);
	const topClean = topEigenOfSandwich(model, cleanCurv.mean);
	let perOverlap = 0;
	let perLambda = 0;
	if (kind === 'softmax') {
		for (const a of trigCurv.perProbe) {
			const e = topEigenOfSandwich(model, a);
			perOverlap += cosineSquared(e.vector, direction) / PROBES;
			perLambda += e.value / PROBES;
		}
	} else {
		perOverlap = cosineSquared(top.vector, direction);
		perLambda = top.value;
	}
	const aligned = alignedEigen(top, direction);
	const row: Row = {
		...key,
		trainRows,
		poisonRows: attack.poisonIndices.length,
		cleanAccuracy: correct / test.count,
		asr,
		p0,
		excessAsr: asr - p0,
		lambda1Triggered: top.value,
		gapTriggered: top.second > 0 ? top.value / top.second : Number.NaN,
		overlapTriggered: cosineSquared(top.vector, direction),
		triggerCurvature: sandwichQuadratic(model, trigCurv.mean, direction),
		lambda1Clean: topClean.value,
		overlapClean: cosineSquared(topClean.vector, direction),
		perSampleOverlapTriggered: perOverlap,
		perSampleLambda1Triggered: perLambda,
		alignedLambda: aligned.value,
		alignedOverlap: aligned.overlap,
		alignedRank: aligned.rank,
		seconds: (Date.now() - t0) / 1000,
	};
	return row;
}

/** Runs (or resumes) the linear grid; writes linear.csv, linear_agg.csv; returns figures. */
export function runLinear(out: OutDirs, args: ReproduceArgs, log: (m: string) => void): Promise<{ figures: FigureSpec[] }> {
	const quick = args.quick;
	const trainRows = quick ? 10000 : 60000;
	const testRows = quick ? 2000 : 10000;
	const train = loadKnownDataset('mnist', 'train', { limit: trainRows });
	const test = loadKnownDataset('mnist', 'test', { limit: testRows });
	const nonTarget: number[] = [];
	test.labels.forEach((l, i) => {
		if (l !== TARGET) {
			nonTarget.push(i);
		}
	});
	const evalSet = subset(test, nonTarget);
	const probeSet = subset(test, nonTarget.slice(0, PROBES));
	const store = new CsvStore(path.join(out.dir, 'linear.csv'), COLUMNS, ['model', 'theta', 'seed'], args.fresh);
	const models: ('softmax' | 'ridge')[] = ['softmax', 'ridge'];
	// Seed outermost: a partial full run already covers every model and θ once.
	for (let seed = 0; seed < args.seeds; seed++) {
		for (const kind of models) {
			for (const theta of LINEAR_THETAS) {
				const key = { model: kind, theta, seed };
				if (store.has(key) || args.report) {
					continue;
				}
				const row = linearPoint(key, { train, test, evalSet, probeSet, trainRows }, quick);
				store.add(row);
				log(`linear ${kind} θ=${theta} seed ${seed}: acc ${num(row, 'cleanAccuracy').toFixed(4)}, ASR ${num(row, 'asr').toFixed(3)} (p0 ${num(row, 'p0').toFixed(3)}), λ1 ${num(row, 'lambda1Triggered').toPrecision(4)}, cos² ${num(row, 'overlapTriggered').toFixed(3)} (${num(row, 'seconds').toFixed(1)} s)`);
			}
		}
	}
	const rows = store.rows().filter((r) => typeof r.seed === 'number' && r.seed < args.seeds);
	const agg = aggregate(rows, ['model', 'theta'], VALUES);
	writeCsv(path.join(out.dir, 'linear_agg.csv'), aggregateColumns(['model', 'theta'], VALUES), agg);
	return Promise.resolve({ figures: linearFigures(agg, args.seeds) });
}

/** θ on a log axis: θ = 0 is drawn at 0.02 %. */
function thetaX(theta: number): number {
	return theta === 0 ? 0.02 : theta * 100;
}

function series(agg: readonly Row[], model: string, c: string): ReturnType<typeof meanBand> {
	const rows = agg.filter((r) => r.model === model);
	return meanBand(rows.map((r) => thetaX(num(r, 'theta'))), rows.map((r) => num(r, `${c}_mean`)), rows.map((r) => num(r, `${c}_min`)), rows.map((r) => num(r, `${c}_max`)));
}

function linearFigures(agg: readonly Row[], seeds: number): FigureSpec[] {
	const sub = `real MNIST, additive 9-pixel cross, target 0; ${seeds} seed(s), band = min–max over seeds; θ = 0 drawn at 0.02 %`;
	const figs: FigureSpec[] = [];
	for (const model of ['softmax', 'ridge']) {
		const name = model === 'softmax' ? 'softmax regression' : 'ridge regression';
		const excess = series(agg, model, 'excessAsr');
		const acc = series(agg, model, 'cleanAccuracy');
		const lam = series(agg, model, 'lambda1Triggered');
		const ov = series(agg, model, 'overlapTriggered');
		const ovClean = series(agg, model, 'overlapClean');
		const curv = series(agg, model, 'triggerCurvature');
		figs.push(lineChart({
			title: `MNIST ${name}: attack success and input-Hessian spike vs θ`,
			subtitle: sub,
			xTitle: 'poison fraction θ (%)',
			yTitle: 'fraction',
			rightTitle: 'curvature (triggered probes)',
			xLog: true,
			rightLog: true,
			yMin: 0,
			yMax: 1,
			series: [
				{ label: 'excess ASR (ASR − p0)', ...excess, colour: PALETTE.red },
				{ label: 'clean accuracy', ...acc, colour: PALETTE.green },
				{ label: 'cos²(top eigenvector, trigger), triggered probes', ...ov, colour: PALETTE.purple, dash: true },
				{ label: 'cos², clean probes', ...ovClean, colour: PALETTE.grey, dash: true },
				{ label: 'λ1 (triggered probes)', ...lam, colour: PALETTE.blue, right: true, pointStyle: 'triangle' },
				{ label: 'tᵀHt/‖t‖²', ...curv, colour: PALETTE.orange, right: true, pointStyle: 'triangle', dash: true },
				{ label: 'trigger-aligned eigenvalue', ...series(agg, model, 'alignedLambda'), colour: PALETTE.yellow, right: true, pointStyle: 'rectRot' },
			],
		}, `linear_${model}`, 860, 500));
	}
	return figs;
}
