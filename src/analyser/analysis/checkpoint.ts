/**
 * One checkpoint's analysis: clean accuracy, ASR, p0, excess ASR, the
 * triggered-probe spectrum (top-k, cos² with the trigger, λ1/λ2, per-sample statistics,
 * tᵀHt/‖t‖²) and the clean-probe spectrum baseline. A light pass computes ASR, p0, tᵀHt, both spectra (64 probes,
 * at most {@link LIGHT_LANCZOS_STEPS} Lanczos steps) and the top eigenvector's image, so a live dashboard has the
 * baseline band and the image at every checkpoint; a full pass adds per-sample curvature, 128 probes and
 * converged Lanczos.
 *
 * A bad checkpoint (missing, corrupt, schema mismatch, NaN weights) is not thrown: it becomes a
 * record with `error` set, so the rest of the run is still analysed.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AnalyserErrorCode } from '../../protocol/analyser';
import type { AnalysisPass, CheckpointAnalysis, ImageRecord, SpectrumConvergence } from '../../protocol/analysisRecord';
import { fileFault, resolveInsideSync } from '../../protocol/safeFile';
import { readCheckpoint, RunFormatError, type CheckpointArtifacts } from '../../protocol/runFormat';
import { CurvatureCancelledError, logitModelFromLayers, type CancelSignal, type EigenResult, type LogitModel } from '../curvature/index';
import { planModel } from '../curvature/layers';
import { checkpoint as cancelPoint } from '../curvature/cancel';
import type { RunContext } from './context';
import { AnalysisError } from './errors';
import { cos2, median, quantile } from './robust';
import { batchCurvature } from './spectrum';

/** Lanczos steps of the light pass. */
export const LIGHT_LANCZOS_STEPS = 20;
/** Triggered (and clean) probes in the light pass's spectrum. */
export const LIGHT_PROBES = 64;
/** … and in the full pass's (the reference experiment used 128). */
export const FULL_PROBES = 128;

/** A checkpoint to analyse. */
export interface CheckpointTarget {
	readonly step: number;
	/** Fractional epoch when known. */
	readonly epoch: number;
	/** Absolute folder path. */
	readonly dir: string;
}

/** Options of {@link analyseCheckpoint}. */
export interface CheckpointOptions {
	readonly pass: AnalysisPass;
	readonly k: number;
	readonly signal?: CancelSignal;
	/** Called between stages, for progress messages. */
	readonly onStage?: (stage: string) => void;
}

/** Rounds to 6 significant digits: analysis.jsonl stays small, float32 noise is below that anyway. */
export function round6(v: number): number {
	return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

function finiteOrNull(v: number | null | undefined): number | null {
	return v === null || v === undefined || !Number.isFinite(v) ? null : round6(v);
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
	return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Largest |value| among float32 weights. */
function maxAbs(data: ArrayBuffer): number {
	const v = new Float32Array(data, 0, Math.floor(data.byteLength / 4));
	let m = 0;
	for (let i = 0; i < v.length; i++) {
		const a = Math.abs(v[i]);
		if (a > m) {
			m = a;
		}
	}
	return m;
}

/**
 * NaN weights: checks the raw float32 values before tfjs sees them.
 * @throws AnalysisError NonFiniteWeights naming the weight, the value and its flat index
 */
function checkFiniteWeights(artifacts: CheckpointArtifacts, dir: string): void {
let offset = 0;
for (const spec of artifacts.weightSpecs) {
	const count = spec.shape.reduce((a, b) => a * b, 1);
	if (spec.dtype === 'float32' || spec.dtype === undefined) {
		const values = new Float32Array(artifacts.weightData, offset, count);
		const bad = values.findIndex((v) => !Number.isFinite(v));
		if (bad >= 0) {
			throw new AnalysisError(
				AnalyserErrorCode.NonFiniteWeights,
				`${path.join(dir, 'weights.bin')}: weight "${spec.name}" holds ${String(values[bad])} at flat index ${bad}`,
			);
		}
	}
	offset += count * 4;
}
}

/**
 * Loads a checkpoint folder (model.json + weights.bin) with our own file-system IOHandler
 * (`tf.io.fromMemory` over the bytes read by `readCheckpoint`) and checks it against the run.
 * @throws AnalysisError CheckpointNotFound, CheckpointCorrupt, NonFiniteWeights or SchemaMismatch, naming the file
 */
export async function loadCheckpointModel(ctx: RunContext, dir: string): Promise<tf.LayersModel> {
	const modelFile = path.join(dir, 'model.json');
	// The checkpoint folder must stay inside the run folder (a symlinked or `../` checkpoint is not followed out).
	try {
		resolveInsideSync(ctx.runDir, path.relative(ctx.runDir, modelFile), 'a checkpoint');
	} catch (err) {
		const f = fileFault(err, 'read', modelFile);
		throw new AnalysisError(
			f.kind === 'outside' || f.kind === 'missing' ? AnalyserErrorCode.CheckpointNotFound : AnalyserErrorCode.CheckpointCorrupt,
			f.kind === 'outside' ? `${modelFile}: checkpoint file is missing (or outside the run folder)` : f.message,
		);
	}
	let artifacts: CheckpointArtifacts;
	try {
		artifacts = await readCheckpoint(dir);
	} catch (err) {
		throw new AnalysisError(AnalyserErrorCode.CheckpointCorrupt, err instanceof RunFormatError ? err.message : `${modelFile}: ${String(err)}`);
	}
	checkFiniteWeights(artifacts, dir);
	let model: tf.LayersModel;
	try {
		model = await tf.loadLayersModel(
			tf.io.fromMemory({ modelTopology: artifacts.modelTopology as object, weightSpecs: artifacts.weightSpecs, weightData: artifacts.weightData }),
		);
	} catch (err) {
		throw new AnalysisError(AnalyserErrorCode.CheckpointCorrupt, `${modelFile}: tfjs cannot build the model (${err instanceof Error ? err.message : String(err)})`);
	}
	// The layer table decides up front (before any tensor work) whether this model can be analysed.
	const plan = planModel(model, modelFile);
	if (plan.refusal !== null) {
		model.dispose();
		throw new AnalysisError(AnalyserErrorCode.SchemaMismatch, plan.refusal);
	}
	const inShape = model.inputs[0]?.shape.slice(1) ?? [];
	if (!sameShape(inShape, ctx.itemShape)) {
		model.dispose();
		throw new AnalysisError(
			AnalyserErrorCode.SchemaMismatch,
			`${modelFile}: model input shape ${JSON.stringify(inShape)} does not match the run's dataset.inputShape ${JSON.stringify(ctx.itemShape)}`,
		);
	}
	if (plan.numClasses !== ctx.numClasses) {
		model.dispose();
		const outShape = model.outputs[0]?.shape ?? [];
		throw new AnalysisError(
			AnalyserErrorCode.SchemaMismatch,
			`${modelFile}: model output shape ${JSON.stringify(outShape)} (${plan.outputNote}) gives ${String(plan.numClasses)} classes, the run has ${ctx.numClasses}`,
		);
	}
	// Finite weights can still overflow (values near the float32 limit): check the outputs on a few probes, so the
	// failure is named here instead of surfacing as a NaN deep inside the eigen-solver.
	const n = Math.min(8, ctx.probe.count);
	if (n > 0) {
		const out = tf.tidy(() => model.predict(tf.tensor(ctx.probe.data.subarray(0, n * ctx.dim), [n, ...ctx.itemShape])) as tf.Tensor);
		const values = await out.data();
		out.dispose();
		const bad = values.findIndex((v) => !Number.isFinite(v));
		if (bad >= 0) {
			model.dispose();
			throw new AnalysisError(
				AnalyserErrorCode.NonFiniteWeights,
				`${path.join(dir, 'weights.bin')}: the model's output on probe ${Math.floor(bad / ctx.numClasses)} is ${String(values[bad])}: its weights are finite but overflow (values up to ${maxAbs(artifacts.weightData).toExponential(2)})`,
			);
		}
	}
	return model;
}

/**
 * The predicted class of `count` items stored back to back: argmax of the outputs, or for a single
 * sigmoid unit, 1 where it exceeds 0.5. An item whose outputs are not finite gets class -1. Reads back
 * asynchronously: the WebGPU backend cannot read synchronously in Node (its dataSync path needs
 * OffscreenCanvas).
 */
export async function predictClasses(model: tf.LayersModel, items: Float32Array, itemShape: readonly number[], batchSize = 256): Promise<Int32Array> {
	const dim = itemShape.reduce((a, b) => a * b, 1);
	const n = items.length / dim;
	const out = new Int32Array(n);
	for (let start = 0; start < n; start += batchSize) {
		const size = Math.min(batchSize, n - start);
		const pred = tf.tidy(() => {
			const x = tf.tensor(items.subarray(start * dim, (start + size) * dim), [size, ...itemShape]);
			const y = model.predict(x) as tf.Tensor2D;
			const cls = y.shape[1] === 1 ? tf.cast(tf.step(tf.sub(tf.reshape(y, [size]), 0.5)), 'int32') : tf.argMax(y, 1);
			// -1 for rows with a non-finite output: sum(y − y) is NaN exactly then.
			const finite = tf.logicalNot(tf.isNaN(tf.sum(tf.sub(y, y), 1)));
			return tf.where(finite, cls, tf.fill([size], -1, 'int32'));
		});
		out.set(await pred.data(), start);
		pred.dispose();
	}
	return out;
}

/**
 * Why a checkpoint's predictions are degenerate, or null: outputs that are not finite, or one
 * class for every probe (a collapsed model; its curvature says nothing about a trigger).
 */
export function degenerateReason(preds: Int32Array, numClasses: number): string | null {
	const n = preds.length;
	const bad = preds.reduce((a, p) => a + (p < 0 ? 1 : 0), 0);
	if (bad > 0) {
		return `the model's outputs are NaN or infinite on ${bad} of ${n} probes`;
	}
	if (n >= 2 && numClasses >= 2 && preds.every((p) => p === preds[0])) {
		return `the model predicts class ${preds[0]} for all ${n} probes (collapsed)`;
	}
	return null;
}

/** A vector as a signed grey (or RGB) image record, 4 significant digits. */
export function imageOf(values: ArrayLike<number>, itemShape: readonly number[]): ImageRecord | undefined {
	if (itemShape.length !== 3 || (itemShape[2] !== 1 && itemShape[2] !== 3)) {
		return undefined;
	}
	return {
		height: itemShape[0],
		width: itemShape[1],
		channels: itemShape[2],
		data: Array.from(values, (v) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : 0)),
	};
}

/** What a spectrum record keeps of its Lanczos run: steps, residuals relative to |λ|, and whether all converged. */
export function convergenceOf(eig: EigenResult): SpectrumConvergence {
	return {
		steps: eig.iterations,
		residuals: eig.residuals.map((r, i) => round6(r / Math.max(Math.abs(eig.eigenvalues[i] ?? 0), 1e-30))),
		converged: eig.converged,
		tol: eig.tol,
	};
}

/** A record for a checkpoint that could not be analysed. */
export function errorRecord(target: CheckpointTarget, pass: AnalysisPass, error: string, ms: number | null = null): CheckpointAnalysis {
	return {
		kind: 'checkpoint',
		checkpoint: path.basename(target.dir),
		pass,
		epoch: target.epoch,
		step: target.step,
		cleanAccuracy: null,
		asr: null,
		p0: null,
		excessAsr: null,
		topEigenvalues: null,
		triggerOverlap: null,
		spectralGap: null,
		triggerCurvature: null,
		perSample: null,
		clean: null,
		error,
		analysisMs: ms,
	};
}

function pick(items: Float32Array, dim: number, count: number): Float32Array {
	return items.subarray(0, Math.min(count, items.length / dim) * dim);
}

/** Clean accuracy and degeneracy on all probes; ASR and p0 on the non-target probes when an attack is declared. */
async function probeOutcomes(model: tf.LayersModel, ctx: RunContext): Promise<{ cleanAccuracy: number; degenerate: string | null; asr: number | null; p0: number | null }> {
	const { itemShape, probe, attack } = ctx;
	const preds = await predictClasses(model, probe.data, itemShape);
	let correct = 0;
	preds.forEach((p, i) => {
		if (p === probe.labels[i]) {
			correct++;
		}
	});
	let asr: number | null = null;
	let p0: number | null = null;
	if (attack !== null && attack.nonTarget.length > 0) {
		const trig = await predictClasses(model, attack.triggered, itemShape);
		const n = attack.nonTarget.length;
		asr = trig.reduce((a, p) => a + (p === attack.target ? 1 : 0), 0) / n;
		p0 = attack.nonTarget.reduce((a, row) => a + (preds[row] === attack.target ? 1 : 0), 0) / n;
	}
	return { cleanAccuracy: correct / Math.max(1, preds.length), degenerate: degenerateReason(preds, ctx.numClasses), asr, p0 };
}

/** How the spectra of one pass are taken. */
interface SpectrumPlan {
	readonly nProbes: number;
	readonly k: number;
	readonly maxIter: number | undefined;
	readonly full: boolean;
	readonly signal: CancelSignal | undefined;
	readonly stage: (s: string) => void;
}

/** The triggered-probe spectrum: tᵀHt, the top-k eigenpairs, the trigger overlap and gap, per-sample spectra on a full pass. */
interface TriggeredSpectrum {
	readonly triggerCurvature: number;
	readonly topEigenvalues: number[];
	readonly triggerOverlap: number | null;
	readonly spectralGap: number | null;
	readonly perSample: CheckpointAnalysis['perSample'];
	readonly topImage: ImageRecord | undefined;
	readonly convergence: SpectrumConvergence;
}

async function triggeredSpectrum(logit: LogitModel, ctx: RunContext, attack: NonNullable<RunContext['attack']>, plan: SpectrumPlan): Promise<TriggeredSpectrum> {
	const { dim, probe, itemShape } = ctx;
	const xs = pick(attack.triggered, dim, plan.nProbes);
	const b = xs.length / dim;
	const labels = Int32Array.from(attack.nonTarget.slice(0, b), (row) => probe.labels[row]);
	const dirs = attack.directions.subarray(0, b * dim);
	const meanDir = new Float64Array(dim);
	for (let i = 0; i < dirs.length; i++) {
		meanDir[i % dim] += dirs[i] / b;
	}
	plan.stage('triggered-probe curvature');
	const curv = await batchCurvature(logit, xs, labels, plan.signal);
	try {
		const along = await curv.along(dirs, plan.signal);
		plan.stage('triggered-probe spectrum');
		const eig = await curv.topK(plan.k, plan.maxIter, plan.signal);
		const top = eig.eigenvectors[0];
		const [l1, l2] = eig.eigenvalues;
		let perSample: CheckpointAnalysis['perSample'] = null;
		if (plan.full) {
			plan.stage('per-sample curvature');
			const ps = await curv.perSample(plan.signal);
			const overlaps = ps.eigenvectors.map((v, i) => cos2(v, dirs.subarray(i * dim, (i + 1) * dim)));
			perSample = {
				median: finiteOrNull(median(ps.eigenvalues)),
				p90: finiteOrNull(quantile(ps.eigenvalues, 0.9)),
				overlap: finiteOrNull(overlaps.reduce((a, v) => a + v, 0) / Math.max(1, overlaps.length)),
			};
		}
		return {
			triggerCurvature: along.reduce((a, v) => a + v, 0) / along.length,
			topEigenvalues: eig.eigenvalues.map(round6),
			triggerOverlap: top === undefined ? null : cos2(top, meanDir),
			spectralGap: l1 !== undefined && l2 !== undefined && l2 > 0 ? l1 / l2 : null,
			perSample,
			topImage: top === undefined ? undefined : imageOf(top, itemShape),
			convergence: convergenceOf(eig),
		};
	} finally {
		curv.dispose();
	}
}

/** The clean-probe baseline: the same probes without the trigger (all probes without an attack). */
async function cleanSpectrum(logit: LogitModel, ctx: RunContext, plan: SpectrumPlan): Promise<{ clean: NonNullable<CheckpointAnalysis['clean']>; convergence: SpectrumConvergence }> {
	const { dim, probe, attack } = ctx;
	let xs: Float32Array;
	let labels: Int32Array;
	if (attack !== null && attack.nonTarget.length > 0) {
		const rows = attack.nonTarget.slice(0, plan.nProbes);
		xs = new Float32Array(rows.length * dim);
		rows.forEach((row, i) => xs.set(probe.data.subarray(row * dim, (row + 1) * dim), i * dim));
		labels = Int32Array.from(rows, (row) => probe.labels[row]);
	} else {
		xs = pick(probe.data, dim, plan.nProbes);
		labels = probe.labels.slice(0, xs.length / dim);
	}
	plan.stage('clean-probe spectrum');
	const curv = await batchCurvature(logit, xs, labels, plan.signal);
	try {
		const eig = await curv.topK(plan.k, plan.maxIter, plan.signal);
		const top = eig.eigenvectors[0];
		return {
			clean: {
				topEigenvalues: eig.eigenvalues.map(round6),
				triggerOverlap: attack !== null && top !== undefined ? finiteOrNull(cos2(top, attack.meanDirection)) : null,
			},
			convergence: convergenceOf(eig),
		};
	} finally {
		curv.dispose();
	}
}

/**
 * Analyses one checkpoint. Checkpoint-level failures come back as a record with `error`;
 * cancellation throws {@link CurvatureCancelledError}.
 */
export async function analyseCheckpoint(ctx: RunContext, target: CheckpointTarget, options: CheckpointOptions): Promise<CheckpointAnalysis> {
	const t0 = performance.now();
	const stage = options.onStage ?? (() => undefined);
	let model: tf.LayersModel;
	try {
		stage('loading');
		model = await loadCheckpointModel(ctx, target.dir);
	} catch (err) {
		if (err instanceof AnalysisError) {
			return errorRecord(target, options.pass, err.toRecordText(), round6(performance.now() - t0));
		}
		throw err;
	}
	let logit: LogitModel | undefined;
	try {
		await cancelPoint(options.signal, 'checkpoint analysis', 0);
		stage('predicting');
		const outcome = await probeOutcomes(model, ctx);
		try {
			logit = logitModelFromLayers(model, path.join(target.dir, 'model.json'));
		} catch (err) {
			throw new AnalysisError(AnalyserErrorCode.SchemaMismatch, err instanceof Error ? err.message : String(err));
		}
		const full = options.pass === 'full';
		const plan: SpectrumPlan = { nProbes: full ? FULL_PROBES : LIGHT_PROBES, k: Math.min(options.k, ctx.dim), maxIter: full ? undefined : LIGHT_LANCZOS_STEPS, full, signal: options.signal, stage };
		const attack = ctx.attack;
		const trig = attack !== null && attack.nonTarget.length > 0 ? await triggeredSpectrum(logit, ctx, attack, plan) : null;
		const base = await cleanSpectrum(logit, ctx, plan);
		const { asr, p0 } = outcome;
		const convergence: Array<['triggered' | 'clean', SpectrumConvergence]> = [...(trig === null ? [] : [['triggered', trig.convergence] as ['triggered', SpectrumConvergence]]), ['clean', base.convergence]];
		return {
			kind: 'checkpoint',
			checkpoint: path.basename(target.dir),
			pass: options.pass,
			epoch: target.epoch,
			step: target.step,
			cleanAccuracy: finiteOrNull(outcome.cleanAccuracy),
			asr: finiteOrNull(asr),
			p0: finiteOrNull(p0),
			excessAsr: asr !== null && p0 !== null ? finiteOrNull(asr - p0) : null,
			topEigenvalues: trig?.topEigenvalues ?? null,
			triggerOverlap: finiteOrNull(trig?.triggerOverlap ?? null),
			spectralGap: finiteOrNull(trig?.spectralGap ?? null),
			triggerCurvature: finiteOrNull(trig?.triggerCurvature ?? null),
			perSample: trig?.perSample ?? null,
			clean: base.clean,
			error: null,
			...(outcome.degenerate === null ? {} : { degenerate: outcome.degenerate }),
			convergence: Object.fromEntries(convergence),
			analysisMs: round6(performance.now() - t0),
			...(trig?.topImage === undefined ? {} : { images: { topEigenvector: trig.topImage } }),
		};
	} catch (err) {
		if (err instanceof AnalysisError) {
			return errorRecord(target, options.pass, err.toRecordText(), round6(performance.now() - t0));
		}
		if (err instanceof CurvatureCancelledError) {
			throw err;
		}
		// A tfjs failure on this checkpoint's weights is this checkpoint's problem, not the run's.
		return errorRecord(target, options.pass, `Internal: ${err instanceof Error ? err.message : String(err)}`, round6(performance.now() - t0));
	} finally {
		logit?.dispose();
		model.dispose();
	}
}
