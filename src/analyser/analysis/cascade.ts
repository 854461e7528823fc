/**
 * Row suspicion over EVERY training row the run recorded, as a cascade (docs/metrics.md §4, docs/analyser.md):
 *
 * 1. **Cheap stage, all rows, in chunks** (bounded memory: one chunk of rows, plus one small vector per row):
 *    - STRIP on training rows: the mean prediction entropy of the row blended 50/50 with `blends` rows of a seeded
 *      pool drawn from the whole training set ({@link blendsFor}: 8, or 3 above {@link LARGE_SCAN_ROWS} scored rows); a trigger keeps its prediction under blending, so a low entropy is
 *      suspicious. Score: −log(entropy + 1e-6), so the confident tail is spread out;
 *    - spectral signature of the penultimate representation: per label, |projection| of the centred representation
 *      on the label's top singular vector (Tran et al. 2018).
 *    Each becomes a robust z within the row's label (median, 1.4826·MAD); the cheap score is their maximum.
 * 2. **Expensive stage, candidates plus a control**: the per-sample input-Hessian top eigenvector for the top
 *    `candidates` rows by cheap score and for the same number of seeded random other rows (the control). Blind mode
 *    finds its candidate trigger among these; each scanned row's cos² to it becomes a robust z against the control
 *    rows' own cos² (the null: rows picked without looking).
 * 3. **One score per row**: the maximum of the row's z-scores (cheap, and curvature where scanned). Suspects are
 *    the rows at or above the cut {@link SUSPECT_CUT}, chosen on the detection benchmark's dev split
 *    (bench/detect/cut.ts); the scores' scale floors are set against the a-priori reference z
 *    {@link ROW_SCORE_REFERENCE} (Iglewicz & Hoaglin's 3.5), so the cut moves only the suspects, never a score.
 *
 * Pure analysis over tfjs; no vscode. Deterministic for a run, a checkpoint, a seed and a backend, so every
 * reader (the run's blind scan, `poison-lens scan --run`) gives a row the same score.
 */
import { groupByLabel } from '../detectors/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AnalyserErrorCode } from '../../protocol/analyser';
import { BLIND_STATES, type BlindState } from '../../protocol/analysisRecord';
import { openTensorSet, type TensorSetReader } from '../../protocol/tensorFile';
import type { RunContext } from './context';
import { AnalysisError } from './errors';
import { mulberry32 } from '../../math/random';
import type { CancelSignal, LogitModel } from '../curvature/index';
import { checkpoint as cancelPoint } from '../curvature/cancel';
import { topDirections } from './signature';

/**
 * The reference z the stages' scale floors are set against: Iglewicz & Hoaglin's modified-z outlier cut, 3.5, set a
 * priori. A row whose curvature points the candidate's way within cos² {@link CURVATURE_COS2_AT_CUT}, or whose
 * probability of its own label drops by {@link DIRECTION_DROP_AT_CUT} nats, scores this much. Fixed, so a row's score
 * does not depend on the suspect cut.
 */
export const ROW_SCORE_REFERENCE = 3.5;
/** Suspect cut on the combined row score (a robust z), chosen on the detection benchmark's dev split (bench/detect/cut.ts, docs/metrics.md §4). */
export const SUSPECT_CUT = 2;
/** A cos² to the candidate trigger this far above the control rows' median scores {@link ROW_SCORE_REFERENCE} (blind mode's own cos² radius). */
export const CURVATURE_COS2_AT_CUT = 0.3;
/**
 * Stage 3: the drop of log p(flip class), in nats, that scores {@link ROW_SCORE_REFERENCE} (ln 2: adding or removing the
 * candidate trigger at least halves the row's probability of its own label).
 */
export const DIRECTION_DROP_AT_CUT = Math.LN2;
/** Default number of 50/50 blends per row in the cheap stage (at most {@link LARGE_SCAN_ROWS} scored rows). */
export const DEFAULT_BLENDS = 8;
/** Above this many scored rows, stage 1 takes {@link LARGE_SCAN_BLENDS} blends per row (docs/blind-scale-blends.md). */
export const LARGE_SCAN_ROWS = 16_384;
/** Blends per row in stage 1 above {@link LARGE_SCAN_ROWS} scored rows, chosen on the blends study's dev runs (bench/blendsRule.ts). */
export const LARGE_SCAN_BLENDS = 3;

/** Blends per row in stage 1 for `rows` scored rows: `asked` when given, else the default for the scan's size. */
export function blendsFor(rows: number, asked?: number): number {
	return Math.max(1, Math.floor(asked ?? (rows > LARGE_SCAN_ROWS ? LARGE_SCAN_BLENDS : DEFAULT_BLENDS)));
}
/** Rows of the blend pool, drawn once (seeded) from the whole training set. */
export const BLEND_POOL = 256;
/** Run-folder-relative path of the per-row scores file. */
export const ROW_SCORES_FILE = 'blind/row-scores.csv';

/** Options of the cascade. */
export interface CascadeOptions {
	readonly signal?: CancelSignal;
	/** Rows per chunk of the cheap stage (default 512). */
	readonly chunk?: number;
	/** 50/50 blends per row (default {@link DEFAULT_BLENDS}; the blind scan passes {@link blendsFor} of its size). */
	readonly blends?: number;
	/** Candidates for the expensive stage (default 2 % of the rows, at least 512, at most 1024). */
	readonly candidates?: number;
	readonly seed?: number;
	readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Opens the run's training rows for chunked reading (labels in memory, values read on demand).
 * @throws AnalysisError RunFormat when the run has none or the file does not fit the manifest
 */
export async function openTrainingRows(ctx: RunContext, purpose: string): Promise<TensorSetReader & { readonly labels: Int32Array }> {
	if (ctx.trainSamplePath === null) {
		throw new AnalysisError(AnalyserErrorCode.RunFormat, `${ctx.runDir}: the run recorded no training rows (manifest "trainSample"); ${purpose} needs them`);
	}
	let reader: TensorSetReader;
	try {
		reader = await openTensorSet(ctx.trainSamplePath, ctx.runDir, 'the training sample');
	} catch (err) {
		throw new AnalysisError(AnalyserErrorCode.RunFormat, err instanceof Error ? err.message : String(err));
	}
	const labels = reader.labels;
	if (labels === undefined || reader.itemShape.length !== ctx.itemShape.length || reader.itemShape.some((d, i) => d !== ctx.itemShape[i])) {
		await reader.close();
		throw new AnalysisError(
			AnalyserErrorCode.RunFormat,
			`${ctx.trainSamplePath}: expected labelled items of shape ${JSON.stringify(ctx.itemShape)}, got ${JSON.stringify(reader.itemShape)}${labels === undefined ? ' without labels' : ''}`,
		);
	}
	return Object.assign(reader, { labels });
}

/**
 * How many rows the expensive stage takes as candidates for `n` scored rows (the control has as many again): 2 % of
 * the rows, at least 512, at most 1024. Stage 2 only has to find the candidate trigger (a few poisons among the
 * scanned rows form its cluster); stage 3 then tests every row of its flip class. Its cost grows with the scanned
 * rows (per-sample eigenpairs) and their square (the cos² clustering), which is why it is capped.
 */
export function candidateCount(n: number, asked?: number): number {
	const k = asked ?? Math.min(1024, Math.max(512, Math.ceil(0.02 * n)));
	return Math.max(0, Math.min(k, n));
}

/** Per-row results of the cheap stage, in the file's row order. */
export interface CheapStage {
	/** −log(mean blended entropy + 1e-6). */
	readonly strip: Float64Array;
	/** |projection| on the label's top representation direction. */
	readonly spectral: Float64Array;
	/** max(robust z of strip, robust z of spectral) within the label. */
	readonly cheap: Float64Array;
	readonly ms: number;
}

const LOG_EPS = 1e-6;

function median(sorted: Float64Array): number {
	const n = sorted.length;
	return n === 0 ? 0 : n % 2 === 1 ? sorted[(n - 1) >> 1] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/** Median and robust scale (1.4826·MAD, floored so a constant group does not divide by zero). */
export function robustCentre(values: ArrayLike<number>): { median: number; scale: number } {
	const finite = Float64Array.from(Array.from(values).filter((v) => Number.isFinite(v))).sort();
	const m = median(finite);
	const dev = finite.map((v) => Math.abs(v - m)).sort();
	const mad = 1.4826 * median(dev);
	return { median: m, scale: Math.max(mad, 1e-9 * (1 + Math.abs(m))) };
}

/** Robust z of each value within its label (NaN stays NaN). */
export function robustZWithinLabel(values: ArrayLike<number>, labels: ArrayLike<number>): Float64Array {
	const groups = groupByLabel(labels);
	const z = new Float64Array(values.length).fill(NaN);
	for (const idx of groups.values()) {
		const { median: m, scale } = robustCentre(idx.map((i) => values[i]));
		for (const i of idx) {
			z[i] = (values[i] - m) / scale;
		}
	}
	return z;
}

/** Model whose output is the input of the last Dense layer (the penultimate representation); null when there is none. */
export function penultimate(model: tf.LayersModel): tf.LayersModel | null {
	let idx = -1;
	model.layers.forEach((l, i) => {
		if (l.getClassName() === 'Dense') {
			idx = i;
		}
	});
	if (idx < 0) {
		return null;
	}
	const input = model.layers[idx].input;
	return tf.model({ inputs: model.inputs, outputs: Array.isArray(input) ? input[0] : input });
}

/** Seeded distinct positions in [0, n), `k` of them, ascending. */
export function seededPositions(n: number, k: number, seed: number, exclude?: ReadonlySet<number>): Int32Array {
	const pool = Int32Array.from({ length: n }, (_, i) => i).filter((i) => exclude === undefined || !exclude.has(i));
	const m = Math.min(k, pool.length);
	const rand = mulberry32(seed);
	for (let i = 0; i < m; i++) {
		const j = i + Math.floor(rand() * (pool.length - i));
		const t = pool[i];
		pool[i] = pool[j];
		pool[j] = t;
	}
	return pool.slice(0, m).sort();
}

/** The blend pool: {@link BLEND_POOL} seeded rows of the whole training set, read once. */
export async function blendPool(reader: TensorSetReader, seed = 0): Promise<{ rows: Int32Array; values: Float32Array }> {
	const rows = seededPositions(reader.count, BLEND_POOL, seed + 1);
	return { rows, values: await reader.readRows(rows) };
}

/** Stage 1's raw per-row values over rows [start, end): the blended-entropy score and the penultimate representation. */
export interface CheapPart {
	readonly start: number;
	readonly strip: Float64Array;
	/** (end − start) × width values, or null when the model has no Dense layer. */
	readonly reps: Float32Array | null;
	readonly width: number;
}

/**
 * Stage 1 over rows [start, end) of `reader`, in chunks that start at multiples of `chunk` counted from row 0; the blend
 * partners of each chunk are drawn from a generator seeded by (seed, chunk index), so the result does not depend on
 * how the rows are split between threads.
 */
export async function cheapRange(
	logit: LogitModel,
	model: tf.LayersModel,
	reader: TensorSetReader,
	pool: { readonly rows: Int32Array; readonly values: Float32Array },
	start: number,
	end: number,
	options: CascadeOptions = {},
): Promise<CheapPart> {
	const shape = reader.itemShape;
	const d = shape.reduce((a, b) => a * b, 1);
	const blends = Math.max(1, options.blends ?? DEFAULT_BLENDS);
	const chunk = Math.max(1, options.chunk ?? 512);
	const seed = options.seed ?? 0;
	const poolCount = pool.rows.length;
	const strip = new Float64Array(end - start);
	// `pen` shares the checkpoint model's layers: it is not disposed here (that would dispose their weights).
	const pen = penultimate(model);
	let reps: Float32Array | null = null;
	let width = 0;
	for (let s = start; s < end; s += chunk) {
		await cancelPoint(options.signal, 'row scores', s);
		const m = Math.min(chunk, end - s);
		const items = await reader.read(s, m);
		if (pen !== null) {
			const r = tf.tidy(() => (pen.predict(tf.tensor(items, [m, ...shape])) as tf.Tensor).reshape([m, -1]));
			const vals = (await r.data()) as Float32Array;
			r.dispose();
			if (reps === null) {
				width = vals.length / m;
				reps = new Float32Array((end - start) * width);
			}
			reps.set(vals, (s - start) * width);
		}
		const rand = mulberry32((seed * 1_000_003 + 2 + Math.floor(s / chunk) * 7919) >>> 0);
		const sumH = new Float64Array(m);
		// Blends in groups so one forward pass holds at most ~2048 items.
		const group = Math.max(1, Math.floor(2048 / m));
		for (let b0 = 0; b0 < blends; b0 += group) {
			const g = Math.min(group, blends - b0);
			const mixed = new Float32Array(g * m * d);
			for (let k = 0; k < g; k++) {
				for (let i = 0; i < m; i++) {
					let j = Math.floor(rand() * poolCount);
					if (pool.rows[j] === s + i) {
						j = (j + 1) % poolCount;
					}
					const o = (k * m + i) * d;
					const oi = i * d;
					const oj = j * d;
					for (let t = 0; t < d; t++) {
						mixed[o + t] = 0.5 * items[oi + t] + 0.5 * pool.values[oj + t];
					}
				}
			}
			const h = tf.tidy(() => {
				const p = tf.softmax(logit.logits(tf.tensor(mixed, [g * m, ...shape])));
				return tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30))), 1));
			});
			const hv = await h.data();
			h.dispose();
			for (let k = 0; k < g; k++) {
				for (let i = 0; i < m; i++) {
					sumH[i] += hv[k * m + i];
				}
			}
		}
		for (let i = 0; i < m; i++) {
			strip[s - start + i] = -Math.log(Math.max(0, sumH[i] / blends) + LOG_EPS);
		}
		options.onProgress?.(s + m - start, end - start);
	}
	return { start, strip, reps, width };
}

/** Stage 1's scores from its parts (in any order): spectral projections per label, robust z, the cheap score. */
export function finishCheap(parts: readonly CheapPart[], n: number, labels: Int32Array, t0: number): CheapStage {
	const strip = new Float64Array(n);
	const width = parts.find((p) => p.reps !== null)?.width ?? 0;
	const reps = width > 0 ? new Float32Array(n * width) : null;
	for (const p of parts) {
		strip.set(p.strip, p.start);
		if (reps !== null && p.reps !== null) {
			reps.set(p.reps, p.start * width);
		}
	}
	const spectral = reps === null ? new Float64Array(n) : spectralProjections(reps, n, width, labels);
	const zs = robustZWithinLabel(strip, labels);
	const zp = robustZWithinLabel(spectral, labels);
	const cheap = zs.map((v, i) => Math.max(Number.isFinite(v) ? v : -Infinity, Number.isFinite(zp[i]) ? zp[i] : -Infinity));
	return { strip, spectral, cheap, ms: performance.now() - t0 };
}

/**
 * The cheap stage over every row of `reader`, chunk by chunk, in this thread.
 * @param logit the checkpoint's logit model (probabilities = softmax of its logits)
 * @param model the checkpoint's layers model (for the penultimate representation)
 */
export async function cheapStage(logit: LogitModel, model: tf.LayersModel, reader: TensorSetReader, labels: Int32Array, options: CascadeOptions = {}): Promise<CheapStage> {
	const t0 = performance.now();
	const pool = await blendPool(reader, options.seed ?? 0);
	const part = await cheapRange(logit, model, reader, pool, 0, reader.count, options);
	return finishCheap([part], reader.count, labels, t0);
}

/**
 * Stage 3, the candidate trigger tested on every row of its flip class: how much the row's log-probability of its
 * own label drops when the candidate direction is added or removed (scaled like the flip-rate test: an RMS change
 * of `rms` per value, clipped to [0, 1]; the larger drop of the two signs). A poison carries the trigger, so taking
 * it away sends it back to its true class; a genuine row of the class barely moves. NaN for rows of other labels.
 */
export async function directionStage(
	logit: LogitModel,
	reader: TensorSetReader,
	labels: Int32Array,
	direction: ArrayLike<number>,
	flipClass: number,
	rms: number,
	options: CascadeOptions = {},
): Promise<{ drop: Float64Array; rows: number; ms: number }> {
	const t0 = performance.now();
	const part = await directionRange(logit, reader, labels, direction, flipClass, rms, 0, reader.count, options);
	return { drop: part.drop, rows: part.rows, ms: performance.now() - t0 };
}

/** Stage 3's drops over rows [start, end) (`start` a multiple of the chunk, so a chunk is the same whichever thread runs it); `drop[i]` is row start + i. */
export async function directionRange(
	logit: LogitModel,
	reader: TensorSetReader,
	labels: Int32Array,
	direction: ArrayLike<number>,
	flipClass: number,
	rms: number,
	start: number,
	end: number,
	options: CascadeOptions = {},
): Promise<{ start: number; drop: Float64Array; rows: number }> {
	const shape = reader.itemShape;
	const d = shape.reduce((a, b) => a * b, 1);
	let norm2 = 0;
	for (let j = 0; j < d; j++) {
		norm2 += direction[j] * direction[j];
	}
	const drop = new Float64Array(end - start).fill(NaN);
	if (!(norm2 > 0)) {
		return { start, drop, rows: 0 };
	}
	const scale = (rms * Math.sqrt(d)) / Math.sqrt(norm2);
	const chunk = Math.max(1, options.chunk ?? 512);
	let tested = 0;
	for (let s = start; s < end; s += chunk) {
		await cancelPoint(options.signal, 'row scores: candidate direction', s);
		const m = Math.min(chunk, end - s);
		const pos: number[] = [];
		for (let i = 0; i < m; i++) {
			if (labels[s + i] === flipClass) {
				pos.push(i);
			}
		}
		if (pos.length === 0) {
			continue;
		}
		const items = await reader.read(s, m);
		const k = pos.length;
		const x = new Float32Array(3 * k * d);
		pos.forEach((i, r) => {
			for (let t = 0; t < d; t++) {
				const v = items[i * d + t];
				const step = scale * direction[t];
				x[r * d + t] = v;
				const up = v + step;
				const down = v - step;
				x[(k + r) * d + t] = up < 0 ? 0 : up > 1 ? 1 : up;
				x[(2 * k + r) * d + t] = down < 0 ? 0 : down > 1 ? 1 : down;
			}
		});
		const lp = tf.tidy(() => {
			const z = logit.logits(tf.tensor(x, [3 * k, ...shape]));
			return tf.logSoftmax(z).slice([0, flipClass], [3 * k, 1]).reshape([3 * k]);
		});
		const v = await lp.data();
		lp.dispose();
		pos.forEach((i, r) => {
			drop[s - start + i] = Math.max(v[r] - v[k + r], v[r] - v[2 * k + r]);
		});
		tested += k;
	}
	return { start, drop, rows: tested };
}

/** Per label: |(r − mean)·v| with v the top right singular vector of the label's centred representations. */
export function spectralProjections(reps: Float32Array, n: number, d: number, labels: ArrayLike<number>): Float64Array {
	const out = new Float64Array(n);
	const groups = groupByLabel(labels);
	for (const idx of groups.values()) {
		const m = idx.length;
		if (m < 3) {
			continue;
		}
		const mean = new Float64Array(d);
		for (const i of idx) {
			for (let j = 0; j < d; j++) {
				mean[j] += reps[i * d + j] / m;
			}
		}
		const c = new Float64Array(m * d);
		idx.forEach((i, r) => {
			for (let j = 0; j < d; j++) {
				c[r * d + j] = reps[i * d + j] - mean[j];
			}
		});
		const dirs = topDirections(c, m, d, 1, 200);
		if (dirs.length === 0) {
			continue;
		}
		const v = dirs[0].v;
		idx.forEach((i, r) => {
			let s = 0;
			for (let j = 0; j < d; j++) {
				s += c[r * d + j] * v[j];
			}
			out[i] = Math.abs(s);
		});
	}
	return out;
}

/** The rows the expensive stage scans: the top candidates by cheap score, and as many seeded random other rows. */
export function expensiveSelection(cheap: Float64Array, k: number, seed = 0): { candidates: Int32Array; control: Int32Array } {
	const order = Int32Array.from({ length: cheap.length }, (_, i) => i).sort((a, b) => {
		const x = cheap[b] - cheap[a];
		return Number.isNaN(x) ? 0 : x !== 0 ? x : a - b;
	});
	const candidates = order.slice(0, k).sort();
	const control = seededPositions(cheap.length, k, seed + 3, new Set(candidates));
	return { candidates, control };
}

/** The final per-row scores and what each stage contributed. */
export interface RowSuspicion {
	/** Combined score per row (file order). */
	readonly score: Float64Array;
	/** Robust z of cos² to the candidate trigger against the control rows; NaN where not scanned or no candidate. */
	readonly curvature: Float64Array;
	/** Robust z, within the flip class, of the drop under the candidate direction (stage 3); NaN elsewhere. */
	readonly direction: Float64Array;
	/** Stage 3's raw value: the drop of log p(flip class) in nats when the candidate is added or removed; NaN elsewhere. */
	readonly drop: Float64Array;
	/** Stage 2's raw value: cos² of the row's top curvature direction with the candidate; NaN where not scanned. */
	readonly cos2: Float64Array;
	readonly cut: number;
	/** Positions (file order) at or above the cut, highest first. */
	readonly suspects: number[];
	/** Control rows at or above the cut by curvature while below it by the cheap score: what stage 1 would miss. */
	readonly controlMissed: number;
	readonly controlSize: number;
}

/**
 * Robust z-scores of the stages, and one score per row. With a candidate trigger (stages 2 and 3 ran), a row's score
 * is the larger of its curvature z (cos² to the candidate against the control rows; the scale is at least
 * cos² {@link CURVATURE_COS2_AT_CUT} per {@link ROW_SCORE_REFERENCE}, so only rows whose curvature points the candidate's way pass) and its
 * direction z (stage 3); without one, the cheap z. The cheap stage alone only chooses the candidates, because its
 * tails hold many clean rows.
 * `scanned` are file positions with their cos² to the candidate (null: no candidate); `control` the control rows.
 */
export function combineStages(
	cheap: Float64Array,
	scanned: ArrayLike<number>,
	cos2: Float64Array | null,
	control: ArrayLike<number>,
	drop: Float64Array | null,
	cut = SUSPECT_CUT,
): RowSuspicion {
	const n = cheap.length;
	const curvature = new Float64Array(n).fill(NaN);
	const rawCos2 = new Float64Array(n).fill(NaN);
	if (cos2 !== null) {
		const pos = new Map<number, number>();
		for (let k = 0; k < scanned.length; k++) {
			pos.set(scanned[k], k);
		}
		const nullValues = Array.from(control, (c) => cos2[pos.get(c) ?? -1]).filter((v) => v !== undefined);
		const { median: m, scale } = robustCentre(nullValues);
		const floor = CURVATURE_COS2_AT_CUT / ROW_SCORE_REFERENCE;
		for (let k = 0; k < scanned.length; k++) {
			curvature[scanned[k]] = (cos2[k] - m) / Math.max(scale, floor);
			rawCos2[scanned[k]] = cos2[k];
		}
	}
	const direction = new Float64Array(n).fill(NaN);
	if (drop !== null) {
		const idx: number[] = [];
		drop.forEach((v, i) => {
			if (Number.isFinite(v)) {
				idx.push(i);
			}
		});
		const { median: m, scale } = robustCentre(idx.map((i) => drop[i]));
		// Most genuine rows of the flip class do not move at all (drops of 1e-4 nats), so their spread alone would
		// make any measurable drop an outlier: the scale is at least DIRECTION_DROP_AT_CUT / ROW_SCORE_REFERENCE.
		const floor = DIRECTION_DROP_AT_CUT / ROW_SCORE_REFERENCE;
		for (const i of idx) {
			direction[i] = (drop[i] - m) / Math.max(scale, floor);
		}
	}
	const withCandidate = cos2 !== null;
	const score = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		const parts = withCandidate ? [curvature[i], direction[i]] : [cheap[i]];
		const s = Math.max(...parts.map((v) => (Number.isFinite(v) ? v : -Infinity)));
		score[i] = Number.isFinite(s) ? s : 0;
	}
	const suspects: number[] = [];
	for (let i = 0; i < n; i++) {
		if (score[i] >= cut) {
			suspects.push(i);
		}
	}
	suspects.sort((a, b) => score[b] - score[a] || a - b);
	let controlMissed = 0;
	for (let k = 0; k < control.length; k++) {
		const c = control[k];
		if (curvature[c] >= cut && !(cheap[c] >= cut)) {
			controlMissed++;
		}
	}
	return { score, curvature, direction, drop: drop === null ? new Float64Array(n).fill(NaN) : Float64Array.from(drop), cos2: rawCos2, cut, suspects, controlMissed, controlSize: control.length };
}

/**
 * The run-level blind test decides what the row scores mean. With an alarm, the combined score stands and the rows at
 * or above the cut are suspects. Without one, no row is a suspect (on the detection benchmark's clean dev runs 56–159
 * clean rows per run scored above the cut), and each row's score is its stage-1 score: a candidate the test did not
 * confirm is no evidence, and on the dev split's working backdoors that the test missed, scores measured against that
 * candidate ranked the poisons below chance (AUROC 0.31–0.48) where stage 1 ranked them at 0.66–0.80
 * (docs/metrics.md §4). The stage columns keep every stage's value either way.
 */
export function gateSuspects(s: RowSuspicion, state: BlindState, cheap: Float64Array): RowSuspicion {
	return state === 'alarm' ? s : { ...s, score: Float64Array.from(cheap), suspects: [] };
}

function num(v: number): string {
	return Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '';
}

/**
 * Writes every row's score to `<runDir>/blind/row-scores.csv` atomically: `row,label,score,suspect,strip,spectral,cheap,curvature,direction,drop,cos2`
 * (row = source row of the training set; stage columns empty where a stage did not score the row).
 * @returns the run-folder-relative path
 */
export async function writeRowScores(
	runDir: string,
	step: number | null,
	rows: ArrayLike<number>,
	labels: ArrayLike<number>,
	cheap: CheapStage,
	s: RowSuspicion,
	totalRows: number,
	testState: BlindState | null = null,
): Promise<string> {
	const file = path.join(runDir, ROW_SCORES_FILE);
	await fs.promises.mkdir(path.dirname(file), { recursive: true });
	const rule = testState === null ? 'suspect = score >= cut' : `blind test ${testState}; suspect = score >= cut when the blind test alarms`;
	const lines: string[] = [`# poison-lens row suspicion; step ${step ?? 'unknown'}; cut ${s.cut}; rows ${s.score.length} of ${totalRows}; ${rule}`, 'row,label,score,suspect,strip,spectral,cheap,curvature,direction,drop,cos2'];
	const flagged = new Set(s.suspects);
	for (let i = 0; i < s.score.length; i++) {
		lines.push(`${rows[i]},${labels[i]},${num(s.score[i])},${flagged.has(i) ? 1 : 0},${num(cheap.strip[i])},${num(cheap.spectral[i])},${num(cheap.cheap[i])},${num(s.curvature[i])},${num(s.direction[i])},${num(s.drop[i])},${num(s.cos2[i])}`);
	}
	const tmp = `${file}.tmp-${process.pid}`;
	await fs.promises.writeFile(tmp, `${lines.join('\n')}\n`);
	await fs.promises.rename(tmp, file);
	return ROW_SCORES_FILE;
}

/** A row-scores file read back. */
export interface StoredRowScores {
	/** Checkpoint step the scores come from (null when the file does not say). */
	readonly step: number | null;
	readonly cut: number;
	readonly scoredRows: number;
	readonly totalRows: number;
	/** The blind test's state the suspects were gated by (null: a file written before the gate). */
	readonly testState: BlindState | null;
	/** Source row → its label, combined score and suspect flag. */
	readonly scores: Map<number, { label: number; score: number; suspect: boolean }>;
}

/** Reads `<runDir>/blind/row-scores.csv` back (null when there is none). */
export async function readRowScores(runDir: string): Promise<StoredRowScores | null> {
	let text: string;
	try {
		text = await fs.promises.readFile(path.join(runDir, ROW_SCORES_FILE), 'utf8');
	} catch {
		return null;
	}
	const lines = text.split('\n');
	const head = lines[0] ?? '';
	const cutMatch = /cut ([0-9.eE+-]+)/.exec(head);
	const stepMatch = /step (\d+)/.exec(head);
	const rowsMatch = /rows (\d+) of (\d+)/.exec(head);
	const stateMatch = /blind test ([a-z-]+);/.exec(head);
	const testState = stateMatch !== null && (BLIND_STATES as readonly string[]).includes(stateMatch[1]) ? (stateMatch[1] as BlindState) : null;
	const scores = new Map<number, { label: number; score: number; suspect: boolean }>();
	for (const line of lines.slice(2)) {
		if (line === '') {
			continue;
		}
		const [row, label, score, suspect] = line.split(',');
		scores.set(Number(row), { label: Number(label), score: Number(score), suspect: suspect === '1' });
	}
	return {
		step: stepMatch === null ? null : Number(stepMatch[1]),
		cut: cutMatch === null ? SUSPECT_CUT : Number(cutMatch[1]),
		scoredRows: rowsMatch === null ? scores.size : Number(rowsMatch[1]),
		totalRows: rowsMatch === null ? scores.size : Number(rowsMatch[2]),
		testState,
		scores,
	};
}
