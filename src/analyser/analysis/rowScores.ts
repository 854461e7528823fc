/**
 * `dataset/rowScores`: per-row poisoning scores for the rows of a run's training
 * sample, by a spectral signature of their input gradients (signature.ts), at the checkpoint where
 * the signature separates best.
 *
 * Why several checkpoints: the poisons' gradients point along their trigger while the backdoor is
 * being learnt; at some checkpoints another direction of a class (a style of writing a digit)
 * dominates instead. On the MNIST demo (1 % cross) the poisons were separated perfectly at 9 of 22
 * checkpoints and not at all at the others (docs/datasets.md §Row scores), so the request tries a
 * spread of checkpoints and keeps the one with the largest separation.
 */
import { AnalyserErrorCode, type RowScoreClass, type RowScoresResult } from '../../protocol/analyser';
import { readRun, type CheckpointRef } from '../../protocol/runFormat';
import { logitModelFromLayers, type CancelSignal } from '../curvature/index';
import { checkpoint as cancelPoint } from '../curvature/cancel';
import { loadCheckpointModel } from './checkpoint';
import { readTrainingSample, type RunContext } from './context';
import { AnalysisError } from './errors';
import { seededPositions } from './cascade';
import { inputGradients, spectralSignature, type SignatureOptions, type SignatureResult } from './signature';

/** Options of {@link scoreTrainingRows}. */
export interface RowScoreOptions {
	readonly steps?: readonly number[];
	readonly maxCheckpoints?: number;
	/** Rows scored at most (default {@link ROW_SCORE_MAX_ROWS}; a seeded subset of larger training sets). */
	readonly maxRows?: number;
	readonly signature?: SignatureOptions;
	readonly signal?: CancelSignal;
	readonly onProgress?: (done: number, total: number, message: string) => void;
}

/** Rows the gradient signature scores at most (a seeded subset of larger training sets). */
export const ROW_SCORE_MAX_ROWS = 16384;

/** A seeded subset of `max` rows (ascending), or the sample itself when it is not larger. */
function subsample<T extends { count: number; data: Float32Array; labels: Int32Array; rowIndices?: Uint32Array }>(s: T, max: number, dim: number): T {
	if (s.count <= max) {
		return s;
	}
	const keep = seededPositions(s.count, max, 0);
	const data = new Float32Array(keep.length * dim);
	keep.forEach((i, k) => data.set(s.data.subarray(i * dim, (i + 1) * dim), k * dim));
	const rows = s.rowIndices ?? Uint32Array.from({ length: s.count }, (_, i) => i);
	return { ...s, count: keep.length, data, labels: Int32Array.from(keep, (i) => s.labels[i]), rowIndices: Uint32Array.from(keep, (i) => rows[i]) };
}

/** Default separation threshold (signature.ts); above the largest S of any clean class seen (docs/datasets.md). */
export const ROW_SCORE_MIN_SEPARATION = 40;

/**
 * Up to `max` checkpoints spread evenly over the run (by index), always the newest; step 0 (the
 * untrained model) only when it is the only one.
 */
export function spreadCheckpoints(steps: readonly number[], max: number): number[] {
	const sorted = [...new Set(steps)].sort((a, b) => a - b);
	const trained = sorted.length > 1 ? sorted.filter((s) => s > 0) : sorted;
	if (trained.length <= max) {
		return trained;
	}
	const out = new Set<number>();
	for (let i = 0; i < max; i++) {
		out.add(trained[Math.round(((i + 1) * (trained.length - 1)) / max)]);
	}
	return [...out].sort((a, b) => a - b);
}

/**
 * Scores the run's training sample.
 * @throws AnalysisError RunFormat (no training sample or no checkpoint), CheckpointNotFound (a requested step)
 */
export async function scoreTrainingRows(ctx: RunContext, options: RowScoreOptions = {}): Promise<RowScoresResult> {
	const t0 = performance.now();
	const whole = await readTrainingSample(ctx, 'row scores');
	// Runs now record every training row; this per-checkpoint gradient signature keeps to a seeded subset of
	// ROW_SCORE_MAX_ROWS rows (its result says how many of how many were scored). Blind mode scores every row.
	const sample = subsample(whole, options.maxRows ?? ROW_SCORE_MAX_ROWS, ctx.dim);
	// Present whenever a sample was read (the context takes its path from it).
	const ref = ctx.manifest.trainSample;
	const labels = sample.labels;
	const snap = await readRun(ctx.runDir);
	const byStep = new Map<number, CheckpointRef>(snap.checkpoints.map((c) => [c.step, c]));
	if (byStep.size === 0) {
		throw new AnalysisError(AnalyserErrorCode.RunFormat, `${ctx.runDir}: no checkpoint written yet`);
	}
	let steps: number[];
	if (options.steps !== undefined) {
		steps = [...options.steps];
		for (const s of steps) {
			if (!byStep.has(s)) {
				throw new AnalysisError(AnalyserErrorCode.CheckpointNotFound, `${ctx.runDir}: no checkpoint at step ${s} (have ${[...byStep.keys()].join(', ')})`);
			}
		}
	} else {
		steps = spreadCheckpoints([...byStep.keys()], options.maxCheckpoints ?? 8);
	}
	const sigOptions: SignatureOptions = { minSeparation: ROW_SCORE_MIN_SEPARATION, ...options.signature };
	const rows = sample.rowIndices ?? Uint32Array.from({ length: sample.count }, (_, i) => i);
	let best: { step: number; sig: SignatureResult; top: number } | null = null;
	for (let k = 0; k < steps.length; k++) {
		const step = steps[k];
		await cancelPoint(options.signal, 'row scores', k);
		options.onProgress?.(k, steps.length, `row scores: checkpoint ${step}`);
		const ckpt = byStep.get(step);
		if (ckpt === undefined) {
			continue;
		}
		const { sig, top } = await signatureAt(ctx, ckpt.dir, sample.data, labels, sigOptions);
		if (best === null || top > best.top) {
			best = { step, sig, top };
		}
	}
	options.onProgress?.(steps.length, steps.length, 'row scores: done');
	if (best === null) {
		throw new AnalysisError(AnalyserErrorCode.RunFormat, `${ctx.runDir}: no checkpoint could be scored`);
	}
	const sig = best.sig;
	const classes: RowScoreClass[] = sig.classes.map((c) => ({ label: c.label, count: c.count, direction: c.direction, share: round(c.share), separation: round(c.separation), flagged: c.flagged }));
	return {
		runDir: ctx.runDir,
		runName: ctx.manifest.name,
		datasetSource: ctx.manifest.dataset.source,
		trainSampleSource: ref?.source ?? 'unknown',
		totalRows: ref?.totalRows ?? sample.count,
		samples: sample.count,
		method: 'spectral-signature-of-input-gradients',
		step: best.step,
		stepsTried: steps,
		minSeparation: sigOptions.minSeparation ?? ROW_SCORE_MIN_SEPARATION,
		classes,
		flagged: sig.flagged.map((i) => ({ row: rows[i], label: labels[i], score: round(sig.score[i]) })),
		elapsedMs: Math.round(performance.now() - t0),
	};
}

/**
 * The spectral signature of the rows' input gradients at one checkpoint, and its best label separation (the
 * checkpoint search keeps the checkpoint where some label separates most).
 */
export async function signatureAt(ctx: RunContext, checkpointDir: string, data: Float32Array, labels: Int32Array, sigOptions: SignatureOptions): Promise<{ sig: SignatureResult; top: number }> {
	const model = await loadCheckpointModel(ctx, checkpointDir);
	const logit = logitModelFromLayers(model, checkpointDir);
	let grads: Float32Array;
	try {
		grads = await inputGradients((x) => logit.logits(x), data, labels, ctx.itemShape, ctx.numClasses);
	} finally {
		logit.dispose();
		model.dispose();
	}
	const sig = spectralSignature(grads, labels.length, ctx.dim, labels, sigOptions);
	return { sig, top: Math.max(0, ...sig.classes.map((c) => (Number.isFinite(c.separation) ? c.separation : 0))) };
}

function round(v: number): number {
	return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}
