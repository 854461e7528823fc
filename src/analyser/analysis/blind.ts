/**
 * Blind mode: no declared attack is needed. The poisons sit in the training
 * data, so EVERY training row the run recorded (inputs with the labels they were trained on) is
 * scored (a live scan while the run trains: a rotating subsample sized to its time box, rowSubset.ts), as a cascade (cascade.ts): cheap per-row scores over all rows in chunks (STRIP on
 * training rows, spectral signature of representations), then per sample the top input-Hessian
 * eigenpair for the top candidates and an equally large random control. Among those, samples whose
 * λ1 is a robust high outlier within their label are the curvature outliers; dense cos² clusters of
 * eigenvectors (among the outliers and among all scanned samples) give candidate directions; the
 * candidate that flips the most clean probes to one class is the candidate trigger. Each row's
 * score combines the stages; the suspects are the rows at or above the cut (docs/metrics.md §4).
 *
 * Near-clone poisons (docs/science.md §2.6) induce almost no curvature, so they are expected to escape
 * this scan; the dataset near-duplicate check (`poison-lens scan`) is the tool for them.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BlindSummary, ImageRecord } from '../../protocol/analysisRecord';
import { logitModelFromLayers, type CancelSignal, type LogitModel } from '../curvature/index';
import { checkpoint as cancelPoint } from '../curvature/cancel';
import { imageOf, loadCheckpointModel, predictClasses, round6 } from './checkpoint';
import { type RunContext } from './context';
import type { TensorSetReader } from '../../protocol/tensorFile';
import { cheapStageOnThreads, directionStageOnThreads, sampleEigenOnThreads, shortcutOnThreads } from './parallelRows';
import { blendsFor, candidateCount, combineStages, gateSuspects, expensiveSelection, openTrainingRows, writeRowScores } from './cascade';
import { subsetReader } from './rowSubset';
import { cos2, denseClusters, principalDirection, robustOutliers, type ConsensusOptions, type OutlierOptions } from './robust';
import { FLIP_NORM, blindTestFor, type BlindTestOptions, type BlindTestResult } from './blindTest';

/** Options of {@link runBlindScan}. */
export interface BlindOptions {
	readonly signal?: CancelSignal;
	/** Samples per curvature batch (bounds memory: batch·C·d float64). Default 256. */
	readonly chunk?: number;
	/** 50/50 blends per row in the cheap stage (default {@link blendsFor} of the scored rows: 8, fewer on large sets). */
	readonly blends?: number;
	/** Candidates for the per-sample input-Hessian stage (default 2 % of the rows, 512…1024; a control of the same size is added). */
	readonly candidates?: number;
	/**
	 * At most this many rows through the per-sample input-Hessian stage, candidates and control together (the live
	 * monitor's time box; `candidates` wins when both are given).
	 */
	readonly maxSamples?: number;
	/**
	 * Positions (in the training-rows file, ascending, distinct) of the rows the whole cascade scores: the live
	 * monitor's subsample sized to its time box (rowSubset.ts). Default: every recorded row. The outputs then say
	 * "scored N of M rows" (`scoredRows` is this subset's size).
	 */
	readonly rows?: Int32Array;
	/** Worker threads for the per-row stage 1 (default: the machine's cores, at most 16; 1 = this thread). */
	readonly threads?: number;
	/** Write every row's score to blind/row-scores.csv in the run folder (default true). */
	readonly writeScores?: boolean;
	readonly outliers?: OutlierOptions;
	readonly consensus?: ConsensusOptions;
	readonly onProgress?: (done: number, total: number) => void;
	readonly onStage?: (stage: string) => void;
	/** Options of the blind test (docs/metrics.md §4.1); the clustering constants come from the scan. */
	readonly test?: Partial<Omit<BlindTestOptions, 'minCos2' | 'minCluster' | 'maxClusters' | 'signal'>>;
}

/** RMS per-value size of the candidate trigger when its flip rate is measured. */
export { FLIP_NORM };

/** Candidate clusters whose directions are tried as triggers (by flip rate). */
export const MAX_CANDIDATES = 5;

/**
 * n×n adjacency of cos²(vᵢ, vⱼ) ≥ minCos2 over unit-normalised rows, by blocked tfjs matmuls
 * (n = 4096, d = 784: 13 GFLOP, about a second on wasm SIMD).
 */
async function cos2Adjacency(vectors: Float32Array, n: number, dim: number, minCos2: number): Promise<Uint8Array> {
	const unit = new Float32Array(n * dim);
	for (let i = 0; i < n; i++) {
		let s = 0;
		for (let j = 0; j < dim; j++) {
			s += vectors[i * dim + j] * vectors[i * dim + j];
		}
		const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
		for (let j = 0; j < dim; j++) {
			unit[i * dim + j] = vectors[i * dim + j] * inv;
		}
	}
	const adjacency = new Uint8Array(n * n);
	const all = tf.tensor2d(unit, [n, dim]);
	// Transposed once: tfjs-wasm's matMul with a transposed operand was 10× slower (3.1–3.8 s against 0.33 s for
	// 2 048 vectors of 784 values, the 60 000-row scan's stage 2).
	const allT = tf.transpose(all);
	try {
		const block = 512;
		for (let start = 0; start < n; start += block) {
			const rows = Math.min(block, n - start);
			const g = tf.tidy(() => tf.matMul(all.slice([start, 0], [rows, dim]), allT));
			const vals = await g.data();
			g.dispose();
			for (let k = 0; k < vals.length; k++) {
				adjacency[start * n + k] = vals[k] * vals[k] >= minCos2 ? 1 : 0;
			}
		}
	} finally {
		all.dispose();
		allT.dispose();
	}
	for (let i = 0; i < n; i++) {
		adjacency[i * n + i] = 1;
	}
	return adjacency;
}

/** Two unit eigenvectors count as the same direction when cos² ≥ this (docs/metrics.md §4). */
export const BLIND_COS2 = 0.3;

/** Ground-truth scoring of the suspects, when the run declares its poisoned rows. */
export interface BlindEvaluation {
	/** Poisoned rows that are in the scored training rows. */
	readonly poisonedInSample: number;
	/** All poisoned rows the run declares (in the scored rows or not). */
	readonly poisonedTotal: number;
	/** |suspects ∩ poisoned| / |all poisoned|: recall over the whole training set (equals `recall` when every row is scored). */
	readonly recallAll: number | null;
	/** Recall (over poisoned rows in the scored rows) of the cheap stage alone at the cut, and of the candidate selection. */
	readonly cheapRecall: number | null;
	readonly candidateRecall: number | null;
	readonly truePositives: number;
	/** |suspects ∩ poisoned| / |suspects|. */
	readonly precision: number | null;
	/** |suspects ∩ poisoned| / |poisoned in sample|. */
	readonly recall: number | null;
	/** The same for the curvature outliers alone (before the direction test). */
	readonly outlierPrecision: number | null;
	readonly outlierRecall: number | null;
}

/** Everything blind mode found. */
export interface BlindResult {
	readonly summary: BlindSummary;
	readonly candidateTrigger: ImageRecord | undefined;
	/** The consensus direction (unit norm), or null. */
	readonly direction: Float64Array | null;
	/** Number of curvature outliers (robust λ1 outliers per label). */
	readonly outliers: number;
	/** Source rows of the members of the cluster that gave the candidate trigger. */
	readonly clusterRows: readonly number[];
	readonly scanned: number;
	/** The cascade: rows scored, the training set's size, stage costs and the cut. */
	readonly cascade: {
		readonly scoredRows: number;
		readonly totalRows: number;
		readonly candidates: number;
		readonly control: number;
		/** 50/50 blends per row in stage 1. */
		readonly blends: number;
		/** Control rows that the curvature puts above the cut while the cheap stage does not (stage 1's misses, estimated). */
		readonly controlMissed: number;
		readonly cheapMs: number;
		/** Threads stage 1 ran on. */
		readonly threads: number;
		readonly hessianMs: number;
		/** Stage 3: rows of the flip class tested along the candidate trigger, and its cost. */
		readonly directionRows: number;
		readonly directionMs: number;
		/** The blind test (null directions, class shortcut, fragility) on the probes: its cost. */
		readonly testMs: number;
		readonly cut: number;
		readonly rowScoresFile: string | null;
		/** Combined score of each suspect (same order as `summary.suspectRows`). */
		readonly suspectScores: readonly number[];
	};
	/** Flip rate of a seeded random direction scaled the same way: the control. */
	readonly controlFlipRate: number | null;
	readonly evaluation: BlindEvaluation | null;
	/** The blind test with the evidence behind it (null pools, fragility). */
	readonly testResult: BlindTestResult;
	readonly elapsedMs: number;
}

/**
 * Fraction of clean probes pushed to one class by adding `direction` (scaled so its largest
 * entry is ±1, i.e. a full-range pixel change; both signs tried; clipped to [0, 1]). Probes whose
 * label or clean prediction already is the class do not count. Returns the best class and rate.
 */
export async function flipRate(
	model: tf.LayersModel,
	probe: { readonly data: Float32Array; readonly labels: Int32Array },
	itemShape: readonly number[],
	numClasses: number,
	direction: ArrayLike<number>,
): Promise<{ rate: number; cls: number }> {
	const dim = itemShape.reduce((a, b) => a * b, 1);
	let norm2 = 0;
	for (let j = 0; j < dim; j++) {
		norm2 += direction[j] * direction[j];
	}
	if (!(norm2 > 0)) {
		return { rate: 0, cls: 0 };
	}
	// Scaled to ‖δ‖₂ = FLIP_NORM·√d (an RMS change of FLIP_NORM per input value).
	const scale = (FLIP_NORM * Math.sqrt(dim)) / Math.sqrt(norm2);
	const clean = await predictClasses(model, probe.data, itemShape);
	const n = probe.labels.length;
	let best = { rate: 0, cls: 0 };
	for (const sign of [1, -1]) {
		const shifted = new Float32Array(probe.data.length);
		for (let i = 0; i < shifted.length; i++) {
			const v = probe.data[i] + sign * scale * direction[i % dim];
			shifted[i] = v < 0 ? 0 : v > 1 ? 1 : v;
		}
		const pred = await predictClasses(model, shifted, itemShape);
		for (let c = 0; c < numClasses; c++) {
			let eligible = 0;
			let flipped = 0;
			for (let i = 0; i < n; i++) {
				if (probe.labels[i] !== c && clean[i] !== c) {
					eligible++;
					if (pred[i] === c) {
						flipped++;
					}
				}
			}
			const rate = eligible > 0 ? flipped / eligible : 0;
			if (rate > best.rate) {
				best = { rate, cls: c };
			}
		}
	}
	return best;
}

/**
 * Candidate clusters of eigenvector directions: among ALL scanned samples (a memorised poison's λ1 falls below its
 * label's median late in training while its eigenvector still points along the trigger, docs/metrics.md §4), and
 * among the curvature outliers alone (early in the backdoor's life the poisons are outliers but a minority of all
 * samples, so bigger clean clusters hide them above).
 */
async function candidateClusters(vectors: Float32Array, total: number, dim: number, outliers: readonly number[], minCos2: number, minCluster: number): Promise<number[][]> {
	const adjacency = await cos2Adjacency(vectors, total, dim, minCos2);
	const clusters = denseClusters(adjacency, total, { minCluster, maxClusters: MAX_CANDIDATES });
	const k = outliers.length;
	const sub = new Uint8Array(k * k);
	for (let a = 0; a < k; a++) {
		for (let b = 0; b < k; b++) {
			sub[a * k + b] = adjacency[outliers[a] * total + outliers[b]];
		}
	}
	for (const c of denseClusters(sub, k, { minCluster, maxClusters: MAX_CANDIDATES })) {
		clusters.push(c.map((m) => outliers[m]));
	}
	return clusters;
}

interface Candidate {
	readonly members: number[];
	readonly direction: Float64Array;
	readonly rate: number;
	readonly cls: number;
}

/** The candidate trigger: the cluster whose principal direction flips the most clean probes to one class; and every candidate tried (the test's K). */
async function bestCandidate(model: tf.LayersModel, ctx: RunContext, clusters: readonly number[][], vectors: Float32Array, dim: number): Promise<{ best: Candidate | null; tried: Candidate[] }> {
	let best: Candidate | null = null;
	const tried: Candidate[] = [];
	for (const members of clusters) {
		const { direction } = principalDirection(members.map((i) => vectors.subarray(i * dim, (i + 1) * dim)));
		const f = await flipRate(model, ctx.probe, ctx.itemShape, ctx.numClasses, direction);
		tried.push({ members, direction, rate: f.rate, cls: f.cls });
		if (best === null || f.rate > best.rate) {
			best = tried[tried.length - 1];
		}
	}
	return { best, tried };
}

/** Precision and recall against the poisoned rows a run recorded (a planted attack), for suspects, outliers and each stage. */
function evaluateAgainst(
	poisoned: readonly number[],
	rows: ArrayLike<number>,
	suspects: readonly number[],
	outliers: readonly number[],
	cheapAbove: readonly number[],
	candidates: ArrayLike<number>,
): BlindEvaluation {
	const truth = new Set(poisoned);
	const inSample = Array.from(rows).filter((r) => truth.has(r)).length;
	const score = (idx: ArrayLike<number>): { p: number | null; r: number | null; tp: number } => {
		let tp = 0;
		for (let k = 0; k < idx.length; k++) {
			tp += truth.has(rows[idx[k]]) ? 1 : 0;
		}
		return { tp, p: idx.length > 0 ? tp / idx.length : null, r: inSample > 0 ? tp / inSample : null };
	};
	const all = score(suspects);
	const ol = score(outliers);
	return {
		poisonedInSample: inSample,
		poisonedTotal: truth.size,
		truePositives: all.tp,
		precision: all.p,
		recall: all.r,
		recallAll: truth.size > 0 ? all.tp / truth.size : null,
		cheapRecall: score(cheapAbove).r,
		candidateRecall: score(candidates).r,
		outlierPrecision: ol.p,
		outlierRecall: ol.r,
	};
}

/** Positions whose value is at or above the cut. */
function aboveCut(values: ArrayLike<number>, cut: number): number[] {
	const out: number[] = [];
	for (let i = 0; i < values.length; i++) {
		if (values[i] >= cut) {
			out.push(i);
		}
	}
	return out;
}

/** What each stage cost (stage 1's threads, stage 2's and stage 3's time, stage 3's rows). */
function stageCosts(cheap: { readonly ms: number; readonly threads: number }, hessianMs: number, dir: { readonly rows: number; readonly ms: number } | null): { cheapMs: number; threads: number; hessianMs: number; directionRows: number; directionMs: number } {
	return { cheapMs: cheap.ms, threads: cheap.threads, hessianMs, directionRows: dir?.rows ?? 0, directionMs: dir?.ms ?? 0 };
}

/**
 * Stage 2: the per-sample input-Hessian of the top candidates by the cheap score and of an equally large random
 * control; robust λ1 outliers, dense clusters of their eigenvectors, and the cluster direction that flips the most
 * clean probes (the candidate trigger), with every candidate tried.
 */
async function hessianStage(
	ctx: RunContext,
	checkpointDir: string,
	model: tf.LayersModel,
	logit: LogitModel,
	reader: TensorSetReader & { readonly labels: Int32Array },
	subsetRows: Int32Array | undefined,
	cheap: Float64Array,
	options: BlindOptions,
) {
	const th = performance.now();
	const dim = ctx.dim;
	const k = candidateCount(reader.count, options.candidates ?? (options.maxSamples === undefined ? undefined : Math.max(1, Math.floor(options.maxSamples / 2))));
	const { candidates, control } = expensiveSelection(cheap, k);
	const scannedPos = Int32Array.from([...candidates, ...control]).sort();
	const total = scannedPos.length;
	const data = await reader.readRows(scannedPos);
	const labels = Int32Array.from(scannedPos, (i) => reader.labels[i]);
	options.onStage?.(`input-Hessian of ${candidates.length} candidates and ${control.length} control rows`);
	const { lambda, vectors } = await sampleEigenOnThreads(ctx.runDir, checkpointDir, logit, data, labels, scannedPos, { threads: options.threads, chunk: options.chunk, signal: options.signal, onProgress: options.onProgress, ...(subsetRows === undefined ? {} : { rows: subsetRows }) });
	const out = robustOutliers(lambda, labels, options.outliers);
	const minCos2 = options.consensus?.minCos2 ?? BLIND_COS2;
	await cancelPoint(options.signal, 'blind scan: clustering', total);
	options.onStage?.('clustering eigenvector directions');
	const clusters = await candidateClusters(vectors, total, dim, out.outliers, minCos2, options.consensus?.minCluster ?? 3);
	const { best: consensus, tried } = await bestCandidate(model, ctx, clusters, vectors, dim);
	return { candidates, control, scannedPos, total, out, vectors, minCos2, consensus, tried, hessianMs: performance.now() - th };
}

/**
 * Scans the run's training sample at one checkpoint.
 * @throws AnalysisError when the run has no training sample or it is unreadable, or the checkpoint is bad
 */
export async function runBlindScan(ctx: RunContext, checkpointDir: string, options: BlindOptions = {}): Promise<BlindResult> {
	const t0 = performance.now();
	const file = await openTrainingRows(ctx, 'blind mode');
	let reader: TensorSetReader & { readonly labels: Int32Array };
	try {
		reader = options.rows === undefined || options.rows.length >= file.count ? file : subsetReader(file, options.rows);
	} catch (err) {
		await file.close();
		throw err;
	}
	const subset = reader !== file;
	const dim = ctx.dim;
	const n = reader.count;
	const allRows = reader.rowIndices ?? Uint32Array.from({ length: n }, (_, i) => i);
	const model = await loadCheckpointModel(ctx, checkpointDir).catch(async (err: unknown) => {
		await file.close();
		throw err;
	});
	let logit: LogitModel | undefined;
	try {
		logit = logitModelFromLayers(model, checkpointDir);
		// Stage 1: the cheap per-row scores over every recorded row (or the live subsample), in chunks.
		options.onStage?.(subset ? `cheap row scores over ${n} of ${file.count} training rows (a live subsample)` : 'cheap row scores over every training row');
		const blends = blendsFor(n, options.blends);
		const cheap = await cheapStageOnThreads(ctx.runDir, checkpointDir, logit, model, reader, reader.labels, {
			signal: options.signal,
			blends,
			threads: options.threads,
			onProgress: options.onProgress,
			...(subset && options.rows !== undefined ? { rows: options.rows } : {}),
		});
		// Stage 2: the per-sample input-Hessian for the top candidates and an equally large random control.
		const { candidates, control, scannedPos, total, out, vectors, minCos2, consensus, tried, hessianMs } = await hessianStage(ctx, checkpointDir, model, logit, reader, subset ? options.rows : undefined, cheap.cheap, options);
		// The run-level question: is the candidate far outside a null built from the run itself, or is one class a shortcut?
		options.onStage?.('blind test: null directions, class shortcut and fragility');
		const tTest = performance.now();
		const testResult = await blindTestFor(model, logit, ctx.probe, ctx.numClasses, tried, {
			...options.test,
			minCos2,
			minCluster: options.consensus?.minCluster ?? 3,
			maxClusters: MAX_CANDIDATES,
			signal: options.signal,
			// The class-shortcut test's perturbations on worker threads while this thread measures the null.
			perClass: shortcutOnThreads(ctx.runDir, checkpointDir, ctx.probe, ctx.numClasses, options.threads) ?? undefined,
		});
		const testMs = performance.now() - tTest;
		// The candidate trigger: the curvature candidate, unless only the class-shortcut test alarmed (then its perturbation).
		const chosen = testResult.test.alarmBy === 'shortcut' && testResult.shortcut !== null ? testResult.shortcut : consensus;
		const cos2s = chosen === null ? null : Float64Array.from({ length: total }, (_, i) => cos2(vectors.subarray(i * dim, (i + 1) * dim), chosen.direction));
		// Stage 3: the candidate trigger tested on every row of its flip class.
		const dir =
			chosen === null
				? null
				: await directionStageOnThreads(ctx.runDir, checkpointDir, logit, reader, reader.labels, chosen.direction, chosen.cls, FLIP_NORM, {
						threads: options.threads,
						signal: options.signal,
						...(subset && options.rows !== undefined ? { rows: options.rows } : {}),
					});
		// One score per row: the stages combined; suspects are the rows at or above the cut.
		// Rows are suspects only when the test alarms; without an alarm each row's score is its stage-1 score.
		const suspicion = gateSuspects(combineStages(cheap.cheap, scannedPos, cos2s, control, dir?.drop ?? null), testResult.test.state, cheap.cheap);
		const suspects = suspicion.suspects;
		const stepOfDir = /^\d+$/.test(path.basename(checkpointDir)) ? Number(path.basename(checkpointDir)) : null;
		const totalRows = ctx.manifest.trainSample?.totalRows ?? file.count;
		const rowScoresFile =
			options.writeScores === false ? null : await writeRowScores(ctx.runDir, stepOfDir, allRows, reader.labels, cheap, suspicion, totalRows, testResult.test.state);
		const control0 = consensus === null ? null : testResult.evidence.controlRate;
		const overlap = chosen !== null && ctx.attack !== null ? cos2(chosen.direction, ctx.attack.meanDirection) : null;
		const poisoned = ctx.attack?.poisonedRows ?? ctx.manifest.attack?.poisonedRows ?? null;
		const cheapAbove = aboveCut(cheap.cheap, suspicion.cut);
		return {
			summary: {
				suspects: suspects.length,
				candidateTriggerOverlap: overlap === null ? null : round6(overlap),
				flipRate: consensus === null ? null : round6(consensus.rate),
				suspectRows: suspects.map((i) => allRows[i]),
				flipClass: chosen?.cls ?? null,
				scoredRows: n,
				totalRows,
				rowScoreCut: suspicion.cut,
				rowScoresFile,
				test: testResult.test,
			},
			candidateTrigger: chosen === null ? undefined : imageOf(chosen.direction, ctx.itemShape),
			direction: chosen?.direction ?? null,
			outliers: out.outliers.length,
			clusterRows: (consensus?.members ?? []).map((i) => allRows[scannedPos[i]]),
			scanned: total,
			cascade: {
				scoredRows: n,
				totalRows,
				candidates: candidates.length,
				control: control.length,
				blends,
				controlMissed: suspicion.controlMissed,
				...stageCosts(cheap, hessianMs, dir),
				testMs,
				cut: suspicion.cut,
				rowScoresFile,
				suspectScores: suspects.map((i) => round6(suspicion.score[i])),
			},
			controlFlipRate: control0,
			evaluation:
				poisoned === null ? null : evaluateAgainst(poisoned, allRows, suspects, out.outliers.map((i) => scannedPos[i]), cheapAbove, candidates),
			testResult,
			elapsedMs: performance.now() - t0,
		};
	} finally {
		logit?.dispose();
		model.dispose();
		await file.close();
	}
}
