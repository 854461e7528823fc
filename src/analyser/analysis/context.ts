/**
 * What every checkpoint of a run shares: the manifest, the probe set split into clean and
 * triggered non-target probes, the trigger directions, and (lazily) the training sample.
 * Loaded once per run, so per-checkpoint work is only the model and its curvature.
 */
import * as path from 'node:path';
import { AnalyserErrorCode } from '../../protocol/analyser';
import { RunFormatError, readManifest, type RunManifest, type StoredTrigger } from '../../protocol/runFormat';
import { readTensorSet, type TensorSet } from '../../protocol/tensorFile';
import { applyTrigger, loadStoredTrigger, type TriggerSpec } from '../../protocol/trigger';
import { AnalysisError } from './errors';

/** The declared attack as the analysis needs it. */
export interface DeclaredAttack {
	readonly target: number;
	readonly spec: TriggerSpec;
	/** Indices (into the probe set) of the non-target probes: true label ≠ target and in the source classes. */
	readonly nonTarget: readonly number[];
	/** Triggered versions of the non-target probes, back to back. */
	readonly triggered: Float32Array;
	/** Per non-target probe: x_triggered − x (warp triggers: the displacement), back to back. */
	readonly directions: Float32Array;
	/** Mean of the directions: the "trigger direction" of the batch-mean spectrum. */
	readonly meanDirection: Float64Array;
	/** Training rows the run says it poisoned (evaluation of blind mode only). */
	readonly poisonedRows: readonly number[] | null;
}

/** A run folder loaded for analysis. */
export interface RunContext {
	readonly runDir: string;
	readonly manifest: RunManifest;
	readonly itemShape: readonly number[];
	/** d = prod(itemShape). */
	readonly dim: number;
	readonly numClasses: number;
	readonly probe: TensorSet & { readonly labels: Int32Array };
	readonly attack: DeclaredAttack | null;
	/** Path of the training sample, when the run recorded one. */
	readonly trainSamplePath: string | null;
}

function wrap(err: unknown, fallback: AnalyserErrorCode): AnalysisError {
	if (err instanceof AnalysisError) {
		return err;
	}
	return new AnalysisError(fallback, err instanceof Error ? err.message : String(err));
}

/**
 * The declared attack's probes: the stored trigger, the non-target probes (true label ≠ target, in the source
 * classes), their triggered versions, and the trigger directions.
 * @throws AnalysisError RunFormat (an unreadable trigger, or one that does not fit the probes)
 */
async function declaredAttack(
	runDir: string,
	declared: NonNullable<RunManifest['attack']>,
	stored: StoredTrigger,
	probe: RunContext['probe'],
	itemShape: readonly number[],
	dim: number,
): Promise<DeclaredAttack> {
	let spec: TriggerSpec;
	try {
		spec = await loadStoredTrigger(runDir, stored);
	} catch (err) {
		throw wrap(err, AnalyserErrorCode.RunFormat);
	}
	const sources = new Set(declared.sourceClasses);
	const nonTarget: number[] = [];
	probe.labels.forEach((l, i) => {
		if (l !== declared.targetLabel && (sources.size === 0 || sources.has(l))) {
			nonTarget.push(i);
		}
	});
	const clean = new Float32Array(nonTarget.length * dim);
	nonTarget.forEach((p, i) => clean.set(probe.data.subarray(p * dim, (p + 1) * dim), i * dim));
	let triggered: Float32Array;
	try {
		triggered = applyTrigger(spec, itemShape, clean, 0);
	} catch (err) {
		throw wrap(err, AnalyserErrorCode.RunFormat);
	}
	const directions = new Float32Array(triggered.length);
	const meanDirection = new Float64Array(dim);
	for (let i = 0; i < triggered.length; i++) {
		directions[i] = triggered[i] - clean[i];
		meanDirection[i % dim] += directions[i] / Math.max(1, nonTarget.length);
	}
	return {
		target: declared.targetLabel,
		spec,
		nonTarget,
		triggered,
		directions,
		meanDirection,
		poisonedRows: declared.poisonedRows ?? null,
	};
}

/**
 * Loads a run's manifest, probe set and declared trigger.
 * @throws AnalysisError RunNotFound (no readable manifest) or RunFormat (invalid manifest, probe or trigger file)
 */
export async function loadRunContext(runDir: string): Promise<RunContext> {
	let manifest: RunManifest;
	try {
		manifest = await readManifest(runDir);
	} catch (err) {
		const missing = err instanceof RunFormatError && /cannot read/.test(err.message);
		throw wrap(err, missing ? AnalyserErrorCode.RunNotFound : AnalyserErrorCode.RunFormat);
	}
	const itemShape = manifest.dataset.inputShape;
	const dim = itemShape.reduce((a, b) => a * b, 1);
	const probeFile = path.join(runDir, manifest.probe.path);
	let probeSet: TensorSet;
	try {
		probeSet = await readTensorSet(probeFile, runDir, 'the probe file');
	} catch (err) {
		throw wrap(err, AnalyserErrorCode.RunFormat);
	}
	if (probeSet.labels === undefined) {
		throw new AnalysisError(AnalyserErrorCode.RunFormat, `${probeFile}: the probe set has no labels`);
	}
	if (probeSet.itemShape.length !== itemShape.length || probeSet.itemShape.some((d, i) => d !== itemShape[i])) {
		throw new AnalysisError(
			AnalyserErrorCode.RunFormat,
			`${probeFile}: probe items have shape ${JSON.stringify(probeSet.itemShape)}, the manifest's dataset.inputShape is ${JSON.stringify(itemShape)}`,
		);
	}
	const labels = probeSet.labels;
	const numClasses = manifest.dataset.numClasses;
	labels.forEach((l, i) => {
		if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
			throw new AnalysisError(AnalyserErrorCode.RunFormat, `${probeFile}: probe ${i} has label ${l}, outside [0, ${numClasses})`);
		}
	});
	const probe = { ...probeSet, labels };
	const declared = manifest.attack;
	const attack = declared?.trigger.stored === undefined ? null : await declaredAttack(runDir, declared, declared.trigger.stored, probe, itemShape, dim);
	return {
		runDir,
		manifest,
		itemShape,
		dim,
		numClasses,
		probe,
		attack,
		trainSamplePath: manifest.trainSample === undefined ? null : path.join(runDir, manifest.trainSample.path),
	};
}

/**
 * Reads the run's training sample (inputs as trained, with their labels) for an analysis that needs it.
 * @param purpose what needs it, for the error message (e.g. "blind mode")
 * @throws AnalysisError RunFormat when the run recorded none, the file is unreadable, or its items are unlabelled
 *   or of another shape than the run's inputs
 */
export async function readTrainingSample(ctx: RunContext, purpose: string): Promise<TensorSet & { readonly labels: Int32Array }> {
	if (ctx.trainSamplePath === null) {
		throw new AnalysisError(AnalyserErrorCode.RunFormat, `${ctx.runDir}: the run recorded no training sample (manifest "trainSample"); ${purpose} needs one`);
	}
	let sample: TensorSet;
	try {
		sample = await readTensorSet(ctx.trainSamplePath, ctx.runDir, 'the training sample');
	} catch (err) {
		throw wrap(err, AnalyserErrorCode.RunFormat);
	}
	const labels = sample.labels;
	if (labels === undefined || sample.itemShape.length !== ctx.itemShape.length || sample.itemShape.some((d, i) => d !== ctx.itemShape[i])) {
		throw new AnalysisError(
			AnalyserErrorCode.RunFormat,
			`${ctx.trainSamplePath}: expected labelled items of shape ${JSON.stringify(ctx.itemShape)}, got ${JSON.stringify(sample.itemShape)}${labels === undefined ? ' without labels' : ''}`,
		);
	}
	return { ...sample, labels };
}
