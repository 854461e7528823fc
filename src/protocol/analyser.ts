/**
 * The host ↔ analyser boundary: JSON-RPC (vscode-jsonrpc) over the Node IPC channel of a forked
 * `dist/analyser.js`. Every method is declared once here, as a literal `method`
 * plus a typed `type`, with who sends it to whom and when (vscode-eslint `customMessages.ts`).
 *
 * Order of a session:
 *   host → analyser   `initialize`          first, exactly once; everything else before it fails with ServerNotInitialized
 *   host → analyser   `analysis/checkpoint` / `analysis/run`   any number, cancellable ($/cancelRequest)
 *   analyser → host   `analysis/progress`, `analysis/record`   while a request runs
 *   analyser → host   `analyser/fatal`      just before the analyser dies of an uncaught error or process.exit
 *   host → analyser   `shutdown`, then the `exit` notification    on dispose
 *
 * Results are the records of `<run>/analysis.jsonl` (src/protocol/analysisRecord.ts), so the host
 * and the dashboard read one shape whether a result came over IPC or from the file.
 *
 * Every params and result object is declared once, as a schema (src/protocol/schema.ts): its TypeScript type
 * is derived from it, and the guards at the end of this file check inbound data against the same schema
 * (inbound data is untrusted on both sides: every params object the analyser receives and every result the
 * host receives). Pure: no vscode, no tfjs.
 */
import { NotificationType, NotificationType0, RequestType, RequestType0 } from 'vscode-jsonrpc';
import * as T from '@sinclair/typebox';
import {
	AnalysisPassSchema,
	checkAnalysisRecord,
	CheckpointAnalysisSchema,
	RunAnalysisSummarySchema,
	type CheckpointAnalysis,
} from './analysisRecord';
import { applyDefaults, firstIssue, formatIssue, Nullable, OneOf, type Static, type TSchema } from './schema';

/** Version of this protocol. The host refuses an analyser with another major. */
export const ANALYSER_PROTOCOL_VERSION = '1.0';

/** Major number of a `major.minor` version string, or NaN. */
export function protocolMajor(version: string): number {
	return Number.parseInt(version.split('.')[0] ?? '', 10);
}

/** The backend names a request may carry (the `poisonLens.analyser.backend` setting, the CLI's `--backend`). */
export const BACKEND_REQUEST_NAMES = ['auto', 'wasm', 'cpu', 'gpu', 'tensorflow'] as const;
export type BackendRequestName = (typeof BACKEND_REQUEST_NAMES)[number];
const BackendRequestNameSchema = OneOf(BACKEND_REQUEST_NAMES);

/**
 * Typed error codes of `ResponseError(code, message, data)` answers.
 * JSON-RPC reserves −32768…−32000; the analyser's own codes are positive.
 */
export enum AnalyserErrorCode {
	/** Params failed the guard; the message names the field and the value. */
	InvalidParams = -32602,
	/** A request arrived before `initialize`. */
	ServerNotInitialized = -32002,
	/** The request was cancelled ($/cancelRequest); the number LSP uses for RequestCancelled. */
	Cancelled = -32800,
	/** An unexpected failure inside the analyser (a bug): the message carries the stack's first line. */
	Internal = -32603,
	/** The run folder or its manifest is missing or unreadable. */
	RunNotFound = 1001,
	/** The manifest, events or a tensor file does not match the run format. */
	RunFormat = 1002,
	/** No checkpoint at the requested step (never announced, or its folder is gone). */
	CheckpointNotFound = 1003,
	/** The checkpoint exists but cannot be read (bad JSON, truncated weights). */
	CheckpointCorrupt = 1004,
	/** The checkpoint's model does not match the run (input shape, classes, unsupported layers). */
	SchemaMismatch = 1005,
	/** The checkpoint's weights contain NaN or ±Infinity. */
	NonFiniteWeights = 1006,
	/** The requested backend could not start and no fallback was allowed. */
	BackendUnavailable = 1007,
	/** A second `initialize`, or another request in the wrong state. */
	InvalidState = 1008,
	/** Not one checkpoint of the run could be analysed, so there is no verdict (each failure is in analysis.jsonl). */
	NoAnalysableCheckpoint = 1009,
}

/** Short names of the codes, for messages and the `error` field of analysis records. */
export function errorCodeName(code: number): string {
	const name = (AnalyserErrorCode as unknown as Record<number, string | undefined>)[code];
	return name ?? `error ${code}`;
}

/** `data` of an error answer: for Cancelled, how many operator products ran before the stop. */
export type AnalyserErrorData = { readonly matvecs?: number } | undefined;

// ------------------------------------------------------------------------------------------------
// Building blocks of the schemas.

const NonEmpty = T.String({ minLength: 1 });
const Count = T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** The largest k the analyser accepts. */
export const MAX_TOP_K = 20;

// ------------------------------------------------------------------------------------------------
// initialize

/** host → analyser, first and once. */
export const InitializeParamsSchema = T.Object({
	/** Who is asking ('poison-lens vscode 0.1.0', 'contract test'). */
	clientName: NonEmpty,
	/** The client's {@link ANALYSER_PROTOCOL_VERSION}; the analyser refuses another major. */
	protocolVersion: NonEmpty,
	/** Which tfjs backend to start. */
	backend: BackendRequestNameSchema,
});
export type InitializeParams = Readonly<Static<typeof InitializeParamsSchema>>;

/** The backend the analyser actually runs on (src/tfjs/backend.ts `BackendSelection`, made plain JSON). */
export const BackendInfoSchema = T.Object({
	requested: BackendRequestNameSchema,
	/** `tf.getBackend()`: 'wasm', 'cpu', 'webgpu' or 'tensorflow'. */
	name: NonEmpty,
	/** e.g. "wasm (SIMD)" or "webgpu: NVIDIA H100 (Vulkan)". */
	description: NonEmpty,
	/** The WebGPU adapter, when the backend is webgpu; null otherwise. */
	adapter: Nullable(T.String()),
	/** Why the requested backend is not the one in use; null when it is. */
	fallbackReason: Nullable(T.String()),
});
export type BackendInfo = Readonly<Static<typeof BackendInfoSchema>>;

/** What this analyser can do. */
export const AnalyserCapabilitiesSchema = T.Object({
	/** Methods it answers, e.g. ['analysis/checkpoint', 'analysis/run']. */
	methods: T.Array(T.String()),
	passes: T.Array(AnalysisPassSchema),
	/** Largest `k` accepted. */
	maxTopK: T.Integer({ minimum: 1, maximum: 1000 }),
	/** Blind mode over the run's training sample. */
	blindMode: T.Boolean({ default: false }),
	/** Test hooks (`debug/*`) are enabled (POISON_LENS_ANALYSER_TEST_HOOKS=1). */
	testHooks: T.Boolean({ default: false }),
});
export type AnalyserCapabilities = Readonly<Static<typeof AnalyserCapabilitiesSchema>>;

/** analyser → host, the answer to `initialize`. */
export const InitializeResultSchema = T.Object({
	/** The analyser build's version (package.json). */
	analyserVersion: NonEmpty,
	protocolVersion: NonEmpty,
	backend: BackendInfoSchema,
	capabilities: AnalyserCapabilitiesSchema,
	/** The analyser's process id (lets tests check for orphans). */
	pid: T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
export type InitializeResult = Readonly<Static<typeof InitializeResultSchema>>;

/** host → analyser: version handshake and backend start. Errors: InvalidParams, InvalidState, BackendUnavailable. */
export const InitializeRequest = { method: 'initialize', type: new RequestType<InitializeParams, InitializeResult, AnalyserErrorData>('initialize') } as const;

// ------------------------------------------------------------------------------------------------
// analysis

/** Options shared by the analysis requests. */
const analysisOptions = {
	/** 'light': ASR, p0, tᵀHt, ≤ 20 Lanczos steps; 'full': everything. */
	pass: AnalysisPassSchema,
	/** Top eigenpairs per spectrum (1…{@link MAX_TOP_K}). */
	k: T.Integer({ minimum: 1, maximum: MAX_TOP_K }),
};
export const AnalysisOptionsSchema = T.Object(analysisOptions);
export type AnalysisOptions = Readonly<Static<typeof AnalysisOptionsSchema>>;

/** host → analyser: analyse one checkpoint of a run. */
export const AnalyseCheckpointParamsSchema = T.Object({
	/** Absolute path of the run folder. */
	runDir: NonEmpty,
	/** The checkpoint's step, as announced by a `checkpoint-written` event. */
	step: Count,
	...analysisOptions,
	/** Append the record to `<run>/analysis.jsonl` (default true). */
	persist: T.Optional(T.Boolean()),
	/** Correlates `analysis/progress` notifications with this request. */
	requestId: T.Optional(NonEmpty),
});
export type AnalyseCheckpointParams = Readonly<Static<typeof AnalyseCheckpointParamsSchema>>;

/**
 * host → analyser: analyse one checkpoint. The result is the record (also appended to analysis.jsonl
 * unless `persist: false`). A bad checkpoint is not a request error: the record carries `error`.
 * Errors: InvalidParams, RunNotFound, RunFormat, CheckpointNotFound, Cancelled.
 */
export const AnalyseCheckpointRequest = { method: 'analysis/checkpoint', type: new RequestType<AnalyseCheckpointParams, CheckpointAnalysis, AnalyserErrorData>('analysis/checkpoint') } as const;

/** host → analyser: analyse every checkpoint of a run not yet in analysis.jsonl, then the run summary. */
export const AnalyseRunParamsSchema = T.Object({
	runDir: NonEmpty,
	...analysisOptions,
	/** Keep analysing new checkpoints until the run's `end` event (default false). */
	follow: T.Optional(T.Boolean()),
	/** Scan the run's training sample (blind mode) when it has one (default true). */
	blind: T.Optional(T.Boolean()),
	/**
	 * Live blind monitoring while following a run without a declared attack (default: once per epoch, a quarter of
	 * the time between scans): `every` is "epoch" or a number of checkpoints ≥ 1, `share` in (0, 1]; false: off.
	 */
	liveBlind: T.Optional(
		T.Union([
			T.Literal(false),
			T.Object({
				every: T.Union([T.Literal('epoch'), T.Integer({ minimum: 1 })]),
				share: T.Number({ exclusiveMinimum: 0, maximum: 1 }),
			}),
		]),
	),
	requestId: T.Optional(NonEmpty),
});
export type AnalyseRunParams = Readonly<Static<typeof AnalyseRunParamsSchema>>;

/** analyser → host, the answer to `analysis/run`. */
export const AnalyseRunResultSchema = T.Object({
	runDir: NonEmpty,
	/** Every checkpoint record of the run after this request (old and new), by step. */
	checkpoints: T.Array(CheckpointAnalysisSchema),
	summary: RunAnalysisSummarySchema,
	/** How many checkpoints this request analysed (the rest were already in analysis.jsonl). */
	analysed: Count,
	/** The backend that computed them. */
	backend: NonEmpty,
});
export type AnalyseRunResult = Readonly<Static<typeof AnalyseRunResultSchema>>;

/**
 * host → analyser: analyse a run (newest checkpoint first, then backfill; nothing already in
 * analysis.jsonl is recomputed). Sends `analysis/record` per checkpoint and `analysis/progress`.
 * Errors: InvalidParams, RunNotFound, RunFormat, Cancelled.
 */
export const AnalyseRunRequest = { method: 'analysis/run', type: new RequestType<AnalyseRunParams, AnalyseRunResult, AnalyserErrorData>('analysis/run') } as const;

/** analyser → host: progress of a long request. */
export const ProgressParamsSchema = T.Object({
	requestId: NonEmpty,
	done: Count,
	total: Count,
	/** What is being done, e.g. "checkpoint 450 (full)" or "blind mode: 1024/4096 samples". */
	message: T.String({ default: '' }),
});
export type ProgressParams = Readonly<Static<typeof ProgressParamsSchema>>;

export const ProgressNotification = { method: 'analysis/progress', type: new NotificationType<ProgressParams>('analysis/progress') } as const;

/** analyser → host: one checkpoint record, as soon as it is written (a run request sends many). */
export const RecordParamsSchema = T.Object({
	requestId: T.String(),
	runDir: T.String(),
	record: CheckpointAnalysisSchema,
});
export type RecordParams = Readonly<Static<typeof RecordParamsSchema>>;

export const RecordNotification = { method: 'analysis/record', type: new NotificationType<RecordParams>('analysis/record') } as const;

// ------------------------------------------------------------------------------------------------
// lifetime

const FATAL_KINDS = ['uncaughtException', 'unhandledRejection', 'exit'] as const;

/** analyser → host: the analyser is about to die (uncaught exception, unhandled rejection or process.exit). */
export const FatalParamsSchema = T.Object({
	kind: OneOf(FATAL_KINDS),
	message: T.String(),
	stack: Nullable(T.String()),
	/** The exit code it will die with. */
	exitCode: T.Integer(),
});
export type FatalParams = Readonly<Static<typeof FatalParamsSchema>>;

export const FatalNotification = { method: 'analyser/fatal', type: new NotificationType<FatalParams>('analyser/fatal') } as const;

/** host → analyser: per-row poisoning scores of a run's training sample. */
export const RowScoresParamsSchema = T.Object({
	/** Absolute path of the run folder. */
	runDir: NonEmpty,
	/** Checkpoints to try; default: up to `maxCheckpoints` spread over the run, the newest included. */
	steps: T.Optional(T.Array(Count, { minItems: 1 })),
	/** Checkpoints tried when `steps` is absent (1…64, default 8). */
	maxCheckpoints: T.Optional(T.Integer({ minimum: 1, maximum: 64 })),
	requestId: T.Optional(NonEmpty),
});
export type RowScoresParams = Readonly<Static<typeof RowScoresParamsSchema>>;

/** One class's spectral signature at the chosen checkpoint (see src/analyser/analysis/signature.ts). */
export const RowScoreClassSchema = T.Object({
	label: Count,
	count: Count,
	/** Which top singular direction (0-based) of the class's centred unit gradients gave the best split. */
	direction: T.Number(),
	/** That direction's share of the class's centred gradient energy. */
	share: T.Number(),
	/** Separation S of the two groups along it (the threshold is `RowScoresResult.minSeparation`). */
	separation: T.Number(),
	flagged: Count,
});
export type RowScoreClass = Readonly<Static<typeof RowScoreClassSchema>>;

/** One flagged training row. */
export const RowScoreSchema = T.Object({
	/** 0-based row of the training set (the train sample's rowIndices). */
	row: Count,
	/** The label it was trained on. */
	label: Count,
	/** Distance from the rest of its class along the signature direction, in pooled standard deviations. */
	score: T.Number(),
});
export type RowScore = Readonly<Static<typeof RowScoreSchema>>;

/** analyser → host, the answer to `dataset/rowScores`. */
export const RowScoresResultSchema = T.Object({
	runDir: NonEmpty,
	runName: NonEmpty,
	/** manifest.dataset.source and manifest.trainSample.source: how the host finds the dataset file. */
	datasetSource: NonEmpty,
	trainSampleSource: NonEmpty,
	/** Rows of the whole training set, and how many of them the sample holds. */
	totalRows: Count,
	samples: Count,
	method: T.Literal('spectral-signature-of-input-gradients'),
	/** The checkpoint whose signature separated best, and every checkpoint tried. */
	step: Count,
	stepsTried: T.Array(T.Integer()),
	minSeparation: T.Number(),
	classes: T.Array(RowScoreClassSchema),
	/** Rows flagged at `step`, by decreasing score. */
	flagged: T.Array(RowScoreSchema),
	elapsedMs: Count,
});
export type RowScoresResult = Readonly<Static<typeof RowScoresResultSchema>>;

/**
 * host → analyser: score the rows of a run's training sample by a spectral signature of their input
 * gradients, per class, and flag the separated minority group. Sends `analysis/progress`.
 * Errors: InvalidParams, RunNotFound, RunFormat (no training sample, no checkpoint), Cancelled.
 */
export const RowScoresRequest = { method: 'dataset/rowScores', type: new RequestType<RowScoresParams, RowScoresResult, AnalyserErrorData>('dataset/rowScores') } as const;

/** host → analyser: stop accepting work and release tensors; answered before `exit`. */
export const ShutdownRequest = { method: 'shutdown', type: new RequestType0<void, AnalyserErrorData>('shutdown') } as const;

/** host → analyser: exit now (after `shutdown`). */
export const ExitNotification = { method: 'exit', type: new NotificationType0('exit') } as const;

// ------------------------------------------------------------------------------------------------
// test hooks (answered only when the analyser runs with POISON_LENS_ANALYSER_TEST_HOOKS=1)

/** host → analyser (tests only): die the named way, to exercise crash reporting and restart. */
export const DebugCrashParamsSchema = T.Object({ mode: OneOf(['exception', 'exit', 'rejection'] as const) });
export type DebugCrashParams = Readonly<Static<typeof DebugCrashParamsSchema>>;

export const DebugCrashRequest = { method: 'debug/crash', type: new RequestType<DebugCrashParams, void, AnalyserErrorData>('debug/crash') } as const;

/** host → analyser (tests only): Lanczos on a synthetic operator whose every product takes `matvecMs`. */
export const DebugSlowLanczosParamsSchema = T.Object({
	n: T.Integer({ minimum: 2, maximum: 4096 }),
	steps: T.Integer({ minimum: 1, maximum: 4096 }),
	matvecMs: T.Integer({ minimum: 0, maximum: 60_000 }),
});
export type DebugSlowLanczosParams = Readonly<Static<typeof DebugSlowLanczosParamsSchema>>;

export interface DebugSlowLanczosResult {
	readonly matvecs: number;
}

/** Errors: Cancelled, with `data: { matvecs }` saying how many products ran. */
export const DebugSlowLanczosRequest = { method: 'debug/slowLanczos', type: new RequestType<DebugSlowLanczosParams, DebugSlowLanczosResult, AnalyserErrorData>('debug/slowLanczos') } as const;

// ------------------------------------------------------------------------------------------------
// Guards for inbound data: each checks a value against its schema and returns it typed (fields the
// schema does not name dropped, defaults filled), or throws a GuardError whose message names the
// field and the value.

/** A params or result object that failed its guard. */
export class GuardError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'GuardError';
	}
}

function guard<S extends TSchema>(schema: S, where: string): (v: unknown) => Readonly<Static<S>> {
	return (v) => {
		const value: unknown = structuredClone(v);
		applyDefaults(schema, value);
		const issue = firstIssue(schema, value);
		if (issue !== undefined) {
			throw new GuardError(`${where}: ${formatIssue(issue)}`);
		}
		return value as Static<S>;
	};
}

/** Guard for {@link InitializeParams}. */
export const checkInitializeParams = guard(InitializeParamsSchema, 'initialize params');

/** Guard for {@link AnalyseCheckpointParams}. */
export const checkAnalyseCheckpointParams = guard(AnalyseCheckpointParamsSchema, 'analysis/checkpoint params');

/** Guard for {@link AnalyseRunParams}. */
export const checkAnalyseRunParams = guard(AnalyseRunParamsSchema, 'analysis/run params');

/** Guard for {@link RowScoresParams}. */
export const checkRowScoresParams = guard(RowScoresParamsSchema, 'dataset/rowScores params');

/** Guard for {@link DebugCrashParams}. */
export const checkDebugCrashParams = guard(DebugCrashParamsSchema, 'debug/crash params');

/** Guard for {@link DebugSlowLanczosParams}. */
export const checkDebugSlowLanczosParams = guard(DebugSlowLanczosParamsSchema, 'debug/slowLanczos params');

/** Guard (host side) for {@link InitializeResult}. */
export const checkInitializeResult = guard(InitializeResultSchema, 'initialize result');

/** Guard (host side) for {@link ProgressParams}. */
export const checkProgressParams = guard(ProgressParamsSchema, 'analysis/progress params');

/** Guard (host side) for {@link RowScoresResult} (the host trusts no shape it did not check). */
export const checkRowScoresResult = guard(RowScoresResultSchema, 'dataset/rowScores result');

/**
 * Guard (host side) for a checkpoint record coming back over IPC: the same check as a line of
 * analysis.jsonl (src/protocol/analysisRecord.ts), so the host reads one normalised shape either way.
 */
export function checkCheckpointRecord(v: unknown, where = 'checkpoint record'): CheckpointAnalysis {
	const r = checkAnalysisRecord(v, 'checkpoint');
	if ('problem' in r) {
		throw new GuardError(`${where}: ${r.problem}`);
	}
	return r;
}

const checkRunResultShape = guard(AnalyseRunResultSchema, 'analysis/run result');

/** Guard (host side) for {@link AnalyseRunResult}: the records are checked (and normalised) like analysis.jsonl lines. */
export function checkAnalyseRunResult(v: unknown): AnalyseRunResult {
	const where = 'analysis/run result';
	if (typeof v !== 'object' || v === null || Array.isArray(v)) {
		return checkRunResultShape(v);
	}
	const o = v as Record<string, unknown>;
	const checkpoints = Array.isArray(o.checkpoints) ? o.checkpoints.map((c, i) => checkCheckpointRecord(c, `${where}.checkpoints[${i}]`)) : o.checkpoints;
	let summary = o.summary;
	if (summary !== undefined) {
		const s = checkAnalysisRecord(summary, 'summary', 'summary.');
		if ('problem' in s) {
			throw new GuardError(`${where}: ${s.problem}`);
		}
		summary = s;
	}
	return checkRunResultShape({ ...o, checkpoints, summary });
}

/**
 * Guard (host side) for {@link FatalParams}. A dying analyser's last words are taken as far as they go: only
 * `kind` must be right; a message that is not a string is shown as text, a missing stack is null, a missing
 * exit code is 1.
 */
export function checkFatalParams(v: unknown): FatalParams {
	const o = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
	return guard(FatalParamsSchema, 'analyser/fatal params')(
		typeof v !== 'object' || v === null
			? v
			: {
					kind: o.kind,
					message: typeof o.message === 'string' ? o.message : String(o.message),
					stack: typeof o.stack === 'string' ? o.stack : null,
					exitCode: typeof o.exitCode === 'number' && Number.isInteger(o.exitCode) ? o.exitCode : 1,
				},
	);
}
