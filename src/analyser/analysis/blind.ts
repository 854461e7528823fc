/**
 * Blind mode: no declared attack is needed. The poisons sit in the training
 * data, so the run's training sample (inputs with the labels they were trained on) is scanned:
 * per sample the top input-Hessian eigenpair; samples whose λ1 is a robust high outlier within
 * their label are the curvature outliers; dense cos² clusters of eigenvectors (among the outliers
 * and among all samples) give candidate directions; the candidate that flips the most clean probes
 * to one class is the candidate trigger; the suspects are every scanned sample whose top
 * eigenvector lies within the cos² radius of it (docs/metrics.md §4).
 *
 * Near-clone poisons (docs/science.md §2.6) induce almost no curvature, so they are expected to escape
 * this scan; the dataset near-duplicate check (`poison-lens scan`) is the tool for them.
 */
import * as tf from '@tensorflow/tfjs';
import type { BlindSummary, ImageRecord } from '../../protocol/analysisRecord';
import { logitModelFromLayers, type CancelSignal, type LogitModel } from '../curvature/index';
import { checkpoint as cancelPoint } from '../curvature/cancel';
import { imageOf, loadCheckpointModel, predictClasses, round6 } from './checkpoint';
import { readTrainingSample, type RunContext } from './context';
import { cos2, denseClusters, principalDirection, robustOutliers, type ConsensusOptions, type OutlierOptions } from './robust';
import { batchCurvature } from './spectrum';
import { FLIP_NORM, blindTestFor, type BlindTestOptions, type BlindTestResult } from './blindTest';

/** Options of {@link runBlindScan}. */
export interface BlindOptions {
	readonly signal?: CancelSignal;
	/** Samples per curvature batch (bounds memory: batch·C·d float64). Default 256. */
	readonly chunk?: number;
	/** Scan at most this many samples (default 8192; the SDK records 4096). */
	readonly maxSamples?: number;
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
	try {
		const block = 512;
		for (let start = 0; start < n; start += block) {
			const rows = Math.min(block, n - start);
			const g = tf.tidy(() => tf.matMul(all.slice([start, 0], [rows, dim]), all, false, true));
			const vals = await g.data();
			g.dispose();
			for (let k = 0; k < vals.length; k++) {
				adjacency[start * n + k] = vals[k] * vals[k] >= minCos2 ? 1 : 0;
			}
		}
	} finally {
		all.dispose();
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
	/** Poisoned rows that are in the scanned training sample. */
	readonly poisonedInSample: number;
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

/** The top eigenpair of every scanned sample's input Hessian, in chunks: λ1 per sample and its unit eigenvector. */
async function perSampleTopEigen(logit: LogitModel, data: Float32Array, labels: Int32Array, total: number, dim: number, options: BlindOptions): Promise<{ lambda: Float64Array; vectors: Float32Array }> {
	const chunk = options.chunk ?? 256;
	const lambda = new Float64Array(total);
	const vectors = new Float32Array(total * dim);
	for (let start = 0; start < total; start += chunk) {
		await cancelPoint(options.signal, 'blind scan', start);
		const size = Math.min(chunk, total - start);
		const curv = await batchCurvature(logit, data.subarray(start * dim, (start + size) * dim), labels.subarray(start, start + size), options.signal);
		try {
			const ps = await curv.perSample(options.signal);
			ps.eigenvalues.forEach((l, i) => {
				lambda[start + i] = l;
				vectors.set(ps.eigenvectors[i], (start + i) * dim);
			});
		} finally {
			curv.dispose();
		}
		options.onProgress?.(start + size, total);
	}
	return { lambda, vectors };
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

/** Suspects: every scanned sample whose curvature points the candidate's way, most aligned first. */
function suspectsAlong(vectors: Float32Array, total: number, dim: number, direction: Float64Array, minCos2: number): number[] {
	const scored: { i: number; c: number }[] = [];
	for (let i = 0; i < total; i++) {
		const c = cos2(vectors.subarray(i * dim, (i + 1) * dim), direction);
		if (c >= minCos2) {
			scored.push({ i, c });
		}
	}
	scored.sort((a, b) => b.c - a.c);
	return scored.map((x) => x.i);
}

/** Precision and recall against the poisoned rows a run recorded (a planted attack), for suspects and for outliers. */
function evaluateAgainst(poisoned: readonly number[], rows: ArrayLike<number>, suspects: readonly number[], outliers: readonly number[]): BlindEvaluation {
	const truth = new Set(poisoned);
	const inSample = Array.from(rows).filter((r) => truth.has(r)).length;
	const score = (idx: readonly number[]): { p: number | null; r: number | null; tp: number } => {
		const tp = idx.filter((i) => truth.has(rows[i])).length;
		return { tp, p: idx.length > 0 ? tp / idx.length : null, r: inSample > 0 ? tp / inSample : null };
	};
	const all = score(suspects);
	const ol = score(outliers);
	return { poisonedInSample: inSample, truePositives: all.tp, precision: all.p, recall: all.r, outlierPrecision: ol.p, outlierRecall: ol.r };
}

/**
 * Scans the run's training sample at one checkpoint.
 * @throws AnalysisError when the run has no training sample or it is unreadable, or the checkpoint is bad
 */
export async function runBlindScan(ctx: RunContext, checkpointDir: string, options: BlindOptions = {}): Promise<BlindResult> {
	const t0 = performance.now();
	const sample = await readTrainingSample(ctx, 'blind mode');
	const dim = ctx.dim;
	// The n×n direction adjacency bounds the scan: 8192 samples take 64 MiB.
	const total = Math.min(sample.count, options.maxSamples ?? 8192);
	const labels = sample.labels.subarray(0, total);
	const rows = sample.rowIndices === undefined ? Uint32Array.from({ length: total }, (_, i) => i) : sample.rowIndices.subarray(0, total);
	const model = await loadCheckpointModel(ctx, checkpointDir);
	let logit: LogitModel | undefined;
	try {
		logit = logitModelFromLayers(model, checkpointDir);
		const { lambda, vectors } = await perSampleTopEigen(logit, sample.data, labels, total, dim, options);
		const out = robustOutliers(lambda, labels, options.outliers);
		const minCos2 = options.consensus?.minCos2 ?? BLIND_COS2;
		await cancelPoint(options.signal, 'blind scan: clustering', total);
		options.onStage?.('clustering eigenvector directions');
		const clusters = await candidateClusters(vectors, total, dim, out.outliers, minCos2, options.consensus?.minCluster ?? 3);
		const { best: consensus, tried } = await bestCandidate(model, ctx, clusters, vectors, dim);
		const suspects = consensus === null ? [] : suspectsAlong(vectors, total, dim, consensus.direction, minCos2);
		options.onStage?.('blind test: null directions and fragility');
		const testResult = await blindTestFor(model, logit, ctx.probe, ctx.numClasses, tried, {
			...options.test,
			minCos2,
			minCluster: options.consensus?.minCluster ?? 3,
			maxClusters: MAX_CANDIDATES,
			signal: options.signal,
		});
		const control = consensus === null ? null : testResult.evidence.controlRate;
		const overlap = consensus !== null && ctx.attack !== null ? cos2(consensus.direction, ctx.attack.meanDirection) : null;
		const poisoned = ctx.attack?.poisonedRows ?? ctx.manifest.attack?.poisonedRows ?? null;
		return {
			summary: {
				suspects: suspects.length,
				candidateTriggerOverlap: overlap === null ? null : round6(overlap),
				flipRate: consensus === null ? null : round6(consensus.rate),
				suspectRows: suspects.map((i) => rows[i]),
				flipClass: consensus?.cls ?? null,
				test: testResult.test,
			},
			candidateTrigger: consensus === null ? undefined : imageOf(consensus.direction, ctx.itemShape),
			direction: consensus?.direction ?? null,
			outliers: out.outliers.length,
			clusterRows: (consensus?.members ?? []).map((i) => rows[i]),
			scanned: total,
			controlFlipRate: control,
			evaluation: poisoned === null ? null : evaluateAgainst(poisoned, rows, suspects, out.outliers),
			testResult,
			elapsedMs: performance.now() - t0,
		};
	} finally {
		logit?.dispose();
		model.dispose();
	}
}
