/**
 * The baseline detectors over a run folder, on the run's training sample (the rows the SDK recorded,
 * with the labels they were trained on) and its checkpoints: Spectral Signatures and Activation
 * Clustering on the penultimate-layer representations of the newest checkpoint, loss isolation on the
 * checkpoints of the first epoch, STRIP on the newest checkpoint with the run's probe set as the
 * defender's clean inputs, and the analyser's own row scores (spectral signature of input gradients,
 * `scoreTrainingRows`' method, every row's score kept). Nothing here reads an attack declaration or
 * poisoned rows: the detectors see what a user's run folder holds.
 */
import * as tf from '@tensorflow/tfjs';
import { readRun, type CheckpointRef } from '../../protocol/runFormat';
import { loadCheckpointModel } from '../analysis/checkpoint';
import { loadRunContext, readTrainingSample, type RunContext } from '../analysis/context';
import { ROW_SCORE_MIN_SEPARATION, signatureAt, spreadCheckpoints } from '../analysis/rowScores';
import { activationClustering } from './activationClustering';
import { type DetectorResult } from './common';
import { mulberry32 } from '../../math/random';
import { crossEntropyRows, lossIsolation } from './lossIsolation';
import { spectralSignatures } from './spectralSignatures';
import { entropyRows, strip } from './strip';

/** Options of {@link runBaselines}. */
export interface BaselineOptions {
	/** Superimpositions per input for STRIP (paper: N = 100; default 20). */
	readonly stripN?: number;
	/** Also give Spectral Signatures' and Activation Clustering's run score at every epoch-end checkpoint. */
	readonly timeline?: boolean;
	/** Checkpoints the input-gradient row scores try (as `scoreTrainingRows`, default 8). */
	readonly rowScoreCheckpoints?: number;
	readonly seed?: number;
}

/** One detector's result over a run, with its cost. */
export interface TimedDetector extends DetectorResult {
	readonly seconds: number;
	/** Checkpoint step the scores come from. */
	readonly step: number;
}

/** Everything {@link runBaselines} computed. */
export interface BaselineReport {
	readonly runDir: string;
	/** Source row id of each training-sample row (the order of every rowScores array). */
	readonly rows: number[];
	readonly labels: number[];
	readonly detectors: TimedDetector[];
	/** Per epoch-end checkpoint: step and the run scores / alarms of the cheap detectors (timeline option). */
	readonly timeline: { step: number; epoch: number; detector: string; runScore: number; alarm: boolean }[];
}

/** Model that outputs the input of the last Dense layer (the penultimate representation). */
function penultimateModel(model: tf.LayersModel): tf.LayersModel {
	let idx = -1;
	model.layers.forEach((l, i) => {
		if (l.getClassName() === 'Dense') {
			idx = i;
		}
	});
	if (idx < 0) {
		throw new Error(`${model.name}: no Dense layer, so no penultimate representation`);
	}
	const input = model.layers[idx].input;
	return tf.model({ inputs: model.inputs, outputs: Array.isArray(input) ? input[0] : input });
}

async function forward(model: tf.LayersModel, items: Float32Array, itemShape: readonly number[], batch = 256): Promise<{ values: Float32Array; width: number }> {
	const d = itemShape.reduce((a, b) => a * b, 1);
	const n = items.length / d;
	const parts: Float32Array[] = [];
	let width = 0;
	for (let s = 0; s < n; s += batch) {
		const m = Math.min(batch, n - s);
		const y = tf.tidy(() => {
			const out = model.predict(tf.tensor(items.subarray(s * d, (s + m) * d), [m, ...itemShape])) as tf.Tensor;
			return out.reshape([m, -1]);
		});
		width = y.shape[1] ?? 0;
		parts.push((await y.data()) as Float32Array);
		y.dispose();
	}
	const values = new Float32Array(n * width);
	let off = 0;
	for (const p of parts) {
		values.set(p, off);
		off += p.length;
	}
	return { values, width };
}

/** Mean prediction entropy of each item under `n` superimpositions with seeded picks from `pool` (sum, saturated to [0, 1]). */
async function stripEntropies(
	model: tf.LayersModel,
	items: Float32Array,
	pool: Float32Array,
	itemShape: readonly number[],
	n: number,
	rand: () => number,
	excludeSelf: boolean,
): Promise<Float64Array> {
	const d = itemShape.reduce((a, b) => a * b, 1);
	const count = items.length / d;
	const poolCount = pool.length / d;
	const out = new Float64Array(count);
	const chunk = Math.max(1, Math.floor(2048 / n));
	for (let s = 0; s < count; s += chunk) {
		const m = Math.min(chunk, count - s);
		const mixed = new Float32Array(m * n * d);
		for (let i = 0; i < m; i++) {
			for (let k = 0; k < n; k++) {
				let j = Math.floor(rand() * poolCount);
				if (excludeSelf && j === s + i) {
					j = (j + 1) % poolCount;
				}
				const o = (i * n + k) * d;
				for (let t = 0; t < d; t++) {
					mixed[o + t] = Math.min(1, items[(s + i) * d + t] + pool[j * d + t]);
				}
			}
		}
		const { values, width } = await forward(model, mixed, itemShape);
		const h = entropyRows(values, m * n, width);
		for (let i = 0; i < m; i++) {
			let sum = 0;
			for (let k = 0; k < n; k++) {
				sum += h[i * n + k];
			}
			out[s + i] = sum / n;
		}
	}
	return out;
}

function timedSync<T>(f: () => T): { value: T; seconds: number } {
	const t0 = performance.now();
	const value = f();
	return { value, seconds: (performance.now() - t0) / 1000 };
}

function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
	const t0 = performance.now();
	return f().then((value) => ({ value, seconds: (performance.now() - t0) / 1000 }));
}

function trainedCheckpoints(all: readonly CheckpointRef[]): CheckpointRef[] {
	const sorted = [...all].sort((a, b) => a.step - b.step);
	const trained = sorted.filter((c) => c.step > 0);
	return trained.length > 0 ? trained : sorted;
}

async function repsAt(ctx: RunContext, ck: CheckpointRef, data: Float32Array): Promise<{ values: Float32Array; width: number }> {
	const model = await loadCheckpointModel(ctx, ck.dir);
	try {
		const pm = penultimateModel(model);
		return await forward(pm, data, ctx.itemShape);
	} finally {
		model.dispose();
	}
}

type Sample = Awaited<ReturnType<typeof readTrainingSample>>;

/** Loss isolation over the first epoch's checkpoints (or the earliest trained one). */
async function lossIsolationAt(ctx: RunContext, cks: readonly CheckpointRef[], sample: Sample): Promise<{ result: DetectorResult; step: number }> {
	const early = cks.filter((c) => (c.fractionalEpoch ?? c.epoch + 1) <= 1 + 1e-9);
	const lossCks = early.length > 0 ? early : [cks[0]];
	const losses: Float64Array[] = [];
	for (const ck of lossCks) {
		const model = await loadCheckpointModel(ctx, ck.dir);
		try {
			const { values, width } = await forward(model, sample.data, ctx.itemShape);
			losses.push(crossEntropyRows(values, sample.count, width, sample.labels));
		} finally {
			model.dispose();
		}
	}
	return { result: lossIsolation(losses, sample.labels), step: lossCks[lossCks.length - 1].step };
}

/** STRIP on one checkpoint, the probe set as the clean pool. */
async function stripAt(ctx: RunContext, ck: CheckpointRef, sample: Sample, options: BaselineOptions): Promise<DetectorResult> {
	const model = await loadCheckpointModel(ctx, ck.dir);
	try {
		const N = options.stripN ?? 20;
		const rand = mulberry32(options.seed ?? 7);
		const clean = await stripEntropies(model, ctx.probe.data, ctx.probe.data, ctx.itemShape, N, rand, true);
		const rows = await stripEntropies(model, sample.data, ctx.probe.data, ctx.itemShape, N, rand, false);
		return strip(rows, clean, sample.labels);
	} finally {
		model.dispose();
	}
}

/** The analyser's own row scores (spectral signature of input gradients) at the best-separating checkpoint, every row's score kept. */
async function rowScoresAt(ctx: RunContext, cks: readonly CheckpointRef[], sample: Sample, options: BaselineOptions): Promise<{ step: number; result: DetectorResult; top: number } | null> {
	const { labels } = sample;
	const steps = spreadCheckpoints(cks.map((c) => c.step), options.rowScoreCheckpoints ?? 8);
	let best: { step: number; result: DetectorResult; top: number } | null = null;
	for (const step of steps) {
		const ck = cks.find((c) => c.step === step);
		if (ck === undefined) {
			continue;
		}
		const { sig, top } = await signatureAt(ctx, ck.dir, sample.data, labels, { minSeparation: ROW_SCORE_MIN_SEPARATION });
		if (best === null || top > best.top) {
			best = {
				step,
				top,
				result: {
					detector: 'row-scores',
					rowScores: sig.score.map((v) => (Number.isFinite(v) ? v : NaN)),
					flagged: sig.flagged,
					runScore: top,
					alarm: sig.flagged.length > 0,
					classes: sig.classes.map((c) => ({ label: c.label, count: c.count, separation: c.separation, flagged: c.flagged })),
				},
			};
		}
	}
	return best;
}

/** Spectral Signatures and Activation Clustering at every epoch end (for lead times). */
async function representationTimeline(ctx: RunContext, cks: readonly CheckpointRef[], sample: Sample, options: BaselineOptions): Promise<BaselineReport['timeline']> {
	const timeline: BaselineReport['timeline'] = [];
	const ends = cks.filter((c) => c.fractionalEpoch === undefined || Math.abs(c.fractionalEpoch - Math.round(c.fractionalEpoch)) < 1e-6);
	for (const ck of ends) {
		const r = await repsAt(ctx, ck, sample.data);
		const a = spectralSignatures(r.values, sample.count, r.width, sample.labels);
		const b = activationClustering(r.values, sample.count, r.width, sample.labels, { seed: options.seed ?? 1 });
		const epoch = ck.fractionalEpoch ?? ck.epoch + 1;
		timeline.push({ step: ck.step, epoch, detector: a.detector, runScore: a.runScore, alarm: a.alarm });
		timeline.push({ step: ck.step, epoch, detector: b.detector, runScore: b.runScore, alarm: b.alarm });
	}
	return timeline;
}

/**
 * Runs every baseline over the run's training sample.
 * @throws AnalysisError RunFormat when the run has no training sample or no checkpoint
 */
export async function runBaselines(runDir: string, options: BaselineOptions = {}): Promise<BaselineReport> {
	const ctx = await loadRunContext(runDir);
	const sample = await readTrainingSample(ctx, 'the baseline detectors');
	const snap = await readRun(runDir);
	const cks = trainedCheckpoints(snap.checkpoints);
	if (cks.length === 0) {
		throw new Error(`${runDir}: no checkpoint written yet`);
	}
	const newest = cks[cks.length - 1];
	const n = sample.count;
	const labels = sample.labels;
	const detectors: TimedDetector[] = [];

	// Spectral Signatures and Activation Clustering on the newest checkpoint's representations.
	const reps = await timed(() => repsAt(ctx, newest, sample.data));
	const ss = timedSync(() => spectralSignatures(reps.value.values, n, reps.value.width, labels));
	detectors.push({ ...ss.value, seconds: reps.seconds + ss.seconds, step: newest.step });
	const ac = timedSync(() => activationClustering(reps.value.values, n, reps.value.width, labels, { seed: options.seed ?? 1 }));
	detectors.push({ ...ac.value, seconds: reps.seconds + ac.seconds, step: newest.step });
	const li = await timed(() => lossIsolationAt(ctx, cks, sample));
	detectors.push({ ...li.value.result, seconds: li.seconds, step: li.value.step });
	const st = await timed(() => stripAt(ctx, newest, sample, options));
	detectors.push({ ...st.value, seconds: st.seconds, step: newest.step });
	const rs = await timed(() => rowScoresAt(ctx, cks, sample, options));
	if (rs.value !== null) {
		detectors.push({ ...rs.value.result, seconds: rs.seconds, step: rs.value.step });
	}
	const timeline = options.timeline === true ? await representationTimeline(ctx, cks, sample, options) : [];
	const rows = Array.from(sample.rowIndices ?? Uint32Array.from({ length: n }, (_, i) => i));
	return { runDir, rows, labels: Array.from(labels), detectors, timeline };
}
