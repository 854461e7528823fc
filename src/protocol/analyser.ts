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
 * Inbound data is untrusted on both sides: the guards at the end of this file check every params
 * object the analyser receives and every result the host receives. Pure: no vscode, no tfjs.
 */
import { NotificationType, NotificationType0, RequestType, RequestType0 } from 'vscode-jsonrpc';
import {
	VERDICTS,
	type AnalysisPass,
	type CheckpointAnalysis,
	type RunAnalysisSummary,
} from './analysisRecord';

/** Version of this protocol. The host refuses an analyser with another major. */
export const ANALYSER_PROTOCOL_VERSION = '1.0';

/** Major number of a `major.minor` version string, or NaN. */
export function protocolMajor(version: string): number {
	return Number.parseInt(version.split('.')[0] ?? '', 10);
}

/** Backends a client may ask for (the `poisonLens.analyser.backend` setting, the CLI's `--backend`). */
export type BackendRequestName = 'auto' | 'wasm' | 'cpu' | 'gpu' | 'tensorflow';

/** The backend names a request may carry, for guards and argument parsing. */
export const BACKEND_REQUEST_NAMES: readonly BackendRequestName[] = ['auto', 'wasm', 'cpu', 'gpu', 'tensorflow'];

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
// initialize

/** host → analyser, first and once. */
export interface InitializeParams {
	/** Who is asking ('poison-lens vscode 0.1.0', 'contract test'). */
	readonly clientName: string;
	/** The client's {@link ANALYSER_PROTOCOL_VERSION}; the analyser refuses another major. */
	readonly protocolVersion: string;
	/** Which tfjs backend to start. */
	readonly backend: BackendRequestName;
}

/** The backend the analyser actually runs on (src/tfjs/backend.ts `BackendSelection`, made plain JSON). */
export interface BackendInfo {
	readonly requested: BackendRequestName;
	/** `tf.getBackend()`: 'wasm', 'cpu', 'webgpu' or 'tensorflow'. */
	readonly name: string;
	/** e.g. "wasm (SIMD)" or "webgpu: NVIDIA H100 (Vulkan)". */
	readonly description: string;
	/** The WebGPU adapter, when the backend is webgpu; null otherwise. */
	readonly adapter: string | null;
	/** Why the requested backend is not the one in use; null when it is. */
	readonly fallbackReason: string | null;
}

/** What this analyser can do. */
export interface AnalyserCapabilities {
	/** Methods it answers, e.g. ['analysis/checkpoint', 'analysis/run']. */
	readonly methods: readonly string[];
	readonly passes: readonly AnalysisPass[];
	/** Largest `k` accepted. */
	readonly maxTopK: number;
	/** Blind mode over the run's training sample. */
	readonly blindMode: boolean;
	/** Test hooks (`debug/*`) are enabled (POISON_LENS_ANALYSER_TEST_HOOKS=1). */
	readonly testHooks: boolean;
}

/** analyser → host, the answer to `initialize`. */
export interface InitializeResult {
	/** The analyser build's version (package.json). */
	readonly analyserVersion: string;
	readonly protocolVersion: string;
	readonly backend: BackendInfo;
	readonly capabilities: AnalyserCapabilities;
	/** The analyser's process id (lets tests check for orphans). */
	readonly pid: number;
}

/** host → analyser: version handshake and backend start. Errors: InvalidParams, InvalidState, BackendUnavailable. */
export const InitializeRequest = { method: 'initialize', type: new RequestType<InitializeParams, InitializeResult, AnalyserErrorData>('initialize') } as const;

// ------------------------------------------------------------------------------------------------
// analysis

/** Options shared by the analysis requests. */
export interface AnalysisOptions {
	/** 'light': ASR, p0, tᵀHt, ≤ 20 Lanczos steps; 'full': everything. */
	readonly pass: AnalysisPass;
	/** Top eigenpairs per spectrum (1…{@link AnalyserCapabilities.maxTopK}). */
	readonly k: number;
}

/** host → analyser: analyse one checkpoint of a run. */
export interface AnalyseCheckpointParams extends AnalysisOptions {
	/** Absolute path of the run folder. */
	readonly runDir: string;
	/** The checkpoint's step, as announced by a `checkpoint-written` event. */
	readonly step: number;
	/** Append the record to `<run>/analysis.jsonl` (default true). */
	readonly persist?: boolean;
	/** Correlates `analysis/progress` notifications with this request. */
	readonly requestId?: string;
}

/**
 * host → analyser: analyse one checkpoint. The result is the record (also appended to analysis.jsonl
 * unless `persist: false`). A bad checkpoint is not a request error: the record carries `error`.
 * Errors: InvalidParams, RunNotFound, RunFormat, CheckpointNotFound, Cancelled.
 */
export const AnalyseCheckpointRequest = { method: 'analysis/checkpoint', type: new RequestType<AnalyseCheckpointParams, CheckpointAnalysis, AnalyserErrorData>('analysis/checkpoint') } as const;

/** host → analyser: analyse every checkpoint of a run not yet in analysis.jsonl, then the run summary. */
export interface AnalyseRunParams extends AnalysisOptions {
	readonly runDir: string;
	/** Keep analysing new checkpoints until the run's `end` event (default false). */
	readonly follow?: boolean;
	/** Scan the run's training sample (blind mode) when it has one (default true). */
	readonly blind?: boolean;
	/**
	 * Live blind monitoring while following a run without a declared attack (default: once per epoch, a quarter of
	 * the time between scans): `every` is "epoch" or a number of checkpoints ≥ 1, `share` in (0, 1]; false: off.
	 */
	readonly liveBlind?: { readonly every: 'epoch' | number; readonly share: number } | false;
	readonly requestId?: string;
}

/** analyser → host, the answer to `analysis/run`. */
export interface AnalyseRunResult {
	readonly runDir: string;
	/** Every checkpoint record of the run after this request (old and new), by step. */
	readonly checkpoints: readonly CheckpointAnalysis[];
	readonly summary: RunAnalysisSummary;
	/** How many checkpoints this request analysed (the rest were already in analysis.jsonl). */
	readonly analysed: number;
	/** The backend that computed them. */
	readonly backend: string;
}

/**
 * host → analyser: analyse a run (newest checkpoint first, then backfill; nothing already in
 * analysis.jsonl is recomputed). Sends `analysis/record` per checkpoint and `analysis/progress`.
 * Errors: InvalidParams, RunNotFound, RunFormat, Cancelled.
 */
export const AnalyseRunRequest = { method: 'analysis/run', type: new RequestType<AnalyseRunParams, AnalyseRunResult, AnalyserErrorData>('analysis/run') } as const;

/** analyser → host: progress of a long request. */
export interface ProgressParams {
	readonly requestId: string;
	readonly done: number;
	readonly total: number;
	/** What is being done, e.g. "checkpoint 450 (full)" or "blind mode: 1024/4096 samples". */
	readonly message: string;
}

export const ProgressNotification = { method: 'analysis/progress', type: new NotificationType<ProgressParams>('analysis/progress') } as const;

/** analyser → host: one checkpoint record, as soon as it is written (a run request sends many). */
export interface RecordParams {
	readonly requestId: string;
	readonly runDir: string;
	readonly record: CheckpointAnalysis;
}

export const RecordNotification = { method: 'analysis/record', type: new NotificationType<RecordParams>('analysis/record') } as const;

// ------------------------------------------------------------------------------------------------
// lifetime

/** analyser → host: the analyser is about to die (uncaught exception, unhandled rejection or process.exit). */
export interface FatalParams {
	readonly kind: 'uncaughtException' | 'unhandledRejection' | 'exit';
	readonly message: string;
	readonly stack: string | null;
	/** The exit code it will die with. */
	readonly exitCode: number;
}

export const FatalNotification = { method: 'analyser/fatal', type: new NotificationType<FatalParams>('analyser/fatal') } as const;

/** host → analyser: per-row poisoning scores of a run's training sample. */
export interface RowScoresParams {
	/** Absolute path of the run folder. */
	readonly runDir: string;
	/** Checkpoints to try; default: up to `maxCheckpoints` spread over the run, the newest included. */
	readonly steps?: readonly number[];
	/** Checkpoints tried when `steps` is absent (1…64, default 8). */
	readonly maxCheckpoints?: number;
	readonly requestId?: string;
}

/** One class's spectral signature at the chosen checkpoint (see src/analyser/analysis/signature.ts). */
export interface RowScoreClass {
	readonly label: number;
	readonly count: number;
	/** Which top singular direction (0-based) of the class's centred unit gradients gave the best split. */
	readonly direction: number;
	/** That direction's share of the class's centred gradient energy. */
	readonly share: number;
	/** Separation S of the two groups along it (the threshold is {@link RowScoresResult.minSeparation}). */
	readonly separation: number;
	readonly flagged: number;
}

/** One flagged training row. */
export interface RowScore {
	/** 0-based row of the training set (the train sample's rowIndices). */
	readonly row: number;
	/** The label it was trained on. */
	readonly label: number;
	/** Distance from the rest of its class along the signature direction, in pooled standard deviations. */
	readonly score: number;
}

/** analyser → host, the answer to `dataset/rowScores`. */
export interface RowScoresResult {
	readonly runDir: string;
	readonly runName: string;
	/** manifest.dataset.source and manifest.trainSample.source: how the host finds the dataset file. */
	readonly datasetSource: string;
	readonly trainSampleSource: string;
	/** Rows of the whole training set, and how many of them the sample holds. */
	readonly totalRows: number;
	readonly samples: number;
	readonly method: 'spectral-signature-of-input-gradients';
	/** The checkpoint whose signature separated best, and every checkpoint tried. */
	readonly step: number;
	readonly stepsTried: readonly number[];
	readonly minSeparation: number;
	readonly classes: readonly RowScoreClass[];
	/** Rows flagged at `step`, by decreasing score. */
	readonly flagged: readonly RowScore[];
	readonly elapsedMs: number;
}

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
export interface DebugCrashParams {
	readonly mode: 'exception' | 'exit' | 'rejection';
}

export const DebugCrashRequest = { method: 'debug/crash', type: new RequestType<DebugCrashParams, void, AnalyserErrorData>('debug/crash') } as const;

/** host → analyser (tests only): Lanczos on a synthetic operator whose every product takes `matvecMs`. */
export interface DebugSlowLanczosParams {
	readonly n: number;
	readonly steps: number;
	readonly matvecMs: number;
}

export interface DebugSlowLanczosResult {
	readonly matvecs: number;
}

/** Errors: Cancelled, with `data: { matvecs }` saying how many products ran. */
export const DebugSlowLanczosRequest = { method: 'debug/slowLanczos', type: new RequestType<DebugSlowLanczosParams, DebugSlowLanczosResult, AnalyserErrorData>('debug/slowLanczos') } as const;

// ------------------------------------------------------------------------------------------------
// Guards for inbound data. Each returns the value typed or throws a
// GuardError whose message names the field and the value.

/** A params or result object that failed its guard. */
export class GuardError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'GuardError';
	}
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(where: string, field: string, expected: string, got: unknown): never {
	throw new GuardError(`${where}: field "${field}" must be ${expected}, got ${JSON.stringify(got) ?? String(got)}`);
}

function obj(v: unknown, where: string): Record<string, unknown> {
	if (!isObject(v)) {
		throw new GuardError(`${where}: expected an object, got ${JSON.stringify(v) ?? String(v)}`);
	}
	return v;
}

function str(o: Record<string, unknown>, key: string, where: string): string {
	const v = o[key];
	if (typeof v !== 'string' || v.length === 0) {
		fail(where, key, 'a non-empty string', v);
	}
	return v;
}

function optStr(o: Record<string, unknown>, key: string, where: string): string | undefined {
	return o[key] === undefined ? undefined : str(o, key, where);
}

function optBool(o: Record<string, unknown>, key: string, where: string): boolean | undefined {
	const v = o[key];
	if (v !== undefined && typeof v !== 'boolean') {
		fail(where, key, 'a boolean', v);
	}
	return v;
}

function int(o: Record<string, unknown>, key: string, where: string, min: number, max: number): number {
	const v = o[key];
	if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
		fail(where, key, `an integer in [${min}, ${max}]`, v);
	}
	return v;
}

/** The largest k the analyser accepts. */
export const MAX_TOP_K = 20;

function options(o: Record<string, unknown>, where: string): AnalysisOptions {
	const pass = o.pass;
	if (pass !== 'light' && pass !== 'full') {
		fail(where, 'pass', '"light" or "full"', pass);
	}
	return { pass, k: int(o, 'k', where, 1, MAX_TOP_K) };
}

/** Guard for {@link InitializeParams}. */
export function checkInitializeParams(v: unknown): InitializeParams {
	const where = 'initialize params';
	const o = obj(v, where);
	const backend = o.backend;
	if (typeof backend !== 'string' || !(BACKEND_REQUEST_NAMES as readonly string[]).includes(backend)) {
		fail(where, 'backend', `one of ${BACKEND_REQUEST_NAMES.join(', ')}`, backend);
	}
	return { clientName: str(o, 'clientName', where), protocolVersion: str(o, 'protocolVersion', where), backend: backend as BackendRequestName };
}

/** Guard for {@link AnalyseCheckpointParams}. */
export function checkAnalyseCheckpointParams(v: unknown): AnalyseCheckpointParams {
	const where = 'analysis/checkpoint params';
	const o = obj(v, where);
	const persist = optBool(o, 'persist', where);
	const requestId = optStr(o, 'requestId', where);
	return {
		runDir: str(o, 'runDir', where),
		step: int(o, 'step', where, 0, Number.MAX_SAFE_INTEGER),
		...options(o, where),
		...(persist === undefined ? {} : { persist }),
		...(requestId === undefined ? {} : { requestId }),
	};
}

/** Guard for {@link AnalyseRunParams}. */
export function checkAnalyseRunParams(v: unknown): AnalyseRunParams {
	const where = 'analysis/run params';
	const o = obj(v, where);
	const follow = optBool(o, 'follow', where);
	const blind = optBool(o, 'blind', where);
	const requestId = optStr(o, 'requestId', where);
	let liveBlind: AnalyseRunParams['liveBlind'];
	if (o.liveBlind === false) {
		liveBlind = false;
	} else if (o.liveBlind !== undefined) {
		const lb = obj(o.liveBlind, `${where}.liveBlind`);
		const every = lb.every;
		if (every !== 'epoch' && !(typeof every === 'number' && Number.isInteger(every) && every >= 1 && every <= 1_000_000)) {
			fail(where, 'liveBlind.every', '"epoch" or an integer ≥ 1', every);
		}
		const share = lb.share;
		if (typeof share !== 'number' || !(share > 0 && share <= 1)) {
			fail(where, 'liveBlind.share', 'a number in (0, 1]', share);
		}
		liveBlind = { every, share };
	}
	return {
		runDir: str(o, 'runDir', where),
		...options(o, where),
		...(follow === undefined ? {} : { follow }),
		...(blind === undefined ? {} : { blind }),
		...(liveBlind === undefined ? {} : { liveBlind }),
		...(requestId === undefined ? {} : { requestId }),
	};
}

/** Guard for {@link RowScoresParams}. */
export function checkRowScoresParams(v: unknown): RowScoresParams {
	const where = 'dataset/rowScores params';
	const o = obj(v, where);
	const requestId = optStr(o, 'requestId', where);
	let steps: number[] | undefined;
	if (o.steps !== undefined) {
		if (!Array.isArray(o.steps) || o.steps.length === 0 || o.steps.some((x) => !Number.isInteger(x) || (x as number) < 0)) {
			fail(where, 'steps', 'a non-empty array of checkpoint steps', o.steps);
		}
		steps = o.steps as number[];
	}
	const m = o.maxCheckpoints;
	if (m !== undefined && !(Number.isInteger(m) && (m as number) >= 1 && (m as number) <= 64)) {
		fail(where, 'maxCheckpoints', 'an integer from 1 to 64', m);
	}
	return {
		runDir: str(o, 'runDir', where),
		...(steps === undefined ? {} : { steps }),
		...(m === undefined ? {} : { maxCheckpoints: m as number }),
		...(requestId === undefined ? {} : { requestId }),
	};
}

/** Guard for {@link DebugCrashParams}. */
export function checkDebugCrashParams(v: unknown): DebugCrashParams {
	const o = obj(v, 'debug/crash params');
	const mode = o.mode;
	if (mode !== 'exception' && mode !== 'exit' && mode !== 'rejection') {
		fail('debug/crash params', 'mode', '"exception", "exit" or "rejection"', mode);
	}
	return { mode };
}

/** Guard for {@link DebugSlowLanczosParams}. */
export function checkDebugSlowLanczosParams(v: unknown): DebugSlowLanczosParams {
	const where = 'debug/slowLanczos params';
	const o = obj(v, where);
	return { n: int(o, 'n', where, 2, 4096), steps: int(o, 'steps', where, 1, 4096), matvecMs: int(o, 'matvecMs', where, 0, 60_000) };
}

/** Guard (host side) for {@link InitializeResult}. */
export function checkInitializeResult(v: unknown): InitializeResult {
	const where = 'initialize result';
	const o = obj(v, where);
	const b = obj(o.backend, `${where}.backend`);
	const c = obj(o.capabilities, `${where}.capabilities`);
	const methods = c.methods;
	if (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string')) {
		fail(where, 'capabilities.methods', 'an array of strings', methods);
	}
	const passes = c.passes;
	if (!Array.isArray(passes) || passes.some((p) => p !== 'light' && p !== 'full')) {
		fail(where, 'capabilities.passes', 'an array of "light" | "full"', passes);
	}
	const requested = b.requested;
	if (typeof requested !== 'string' || !(BACKEND_REQUEST_NAMES as readonly string[]).includes(requested)) {
		fail(where, 'backend.requested', `one of ${BACKEND_REQUEST_NAMES.join(', ')}`, requested);
	}
	const nullableStr = (x: Record<string, unknown>, key: string): string | null => {
		const val = x[key];
		if (val !== null && typeof val !== 'string') {
			fail(where, `backend.${key}`, 'a string or null', val);
		}
		return val;
	};
	return {
		analyserVersion: str(o, 'analyserVersion', where),
		protocolVersion: str(o, 'protocolVersion', where),
		pid: int(o, 'pid', where, 1, Number.MAX_SAFE_INTEGER),
		backend: {
			requested: requested as BackendRequestName,
			name: str(b, 'name', `${where}.backend`),
			description: str(b, 'description', `${where}.backend`),
			adapter: nullableStr(b, 'adapter'),
			fallbackReason: nullableStr(b, 'fallbackReason'),
		},
		capabilities: {
			methods: methods as string[],
			passes: passes as AnalysisPass[],
			maxTopK: int(c, 'maxTopK', `${where}.capabilities`, 1, 1000),
			blindMode: c.blindMode === true,
			testHooks: c.testHooks === true,
		},
	};
}

/** Guard (host side) for a checkpoint record coming back over IPC: the fields the host relies on. */
export function checkCheckpointRecord(v: unknown, where = 'checkpoint record'): CheckpointAnalysis {
	const o = obj(v, where);
	if (o.kind !== 'checkpoint') {
		fail(where, 'kind', '"checkpoint"', o.kind);
	}
	int(o, 'step', where, 0, Number.MAX_SAFE_INTEGER);
	if (typeof o.epoch !== 'number' || !Number.isFinite(o.epoch)) {
		fail(where, 'epoch', 'a finite number', o.epoch);
	}
	for (const key of ['cleanAccuracy', 'asr', 'p0', 'excessAsr', 'triggerOverlap', 'spectralGap', 'triggerCurvature']) {
		const x = o[key];
		if (x !== null && (typeof x !== 'number' || !Number.isFinite(x))) {
			fail(where, key, 'a finite number or null', x);
		}
	}
	if (o.error !== null && typeof o.error !== 'string') {
		fail(where, 'error', 'a string or null', o.error);
	}
	return o as unknown as CheckpointAnalysis;
}

/** Guard (host side) for {@link AnalyseRunResult}. */
export function checkAnalyseRunResult(v: unknown): AnalyseRunResult {
	const where = 'analysis/run result';
	const o = obj(v, where);
	const cps = o.checkpoints;
	if (!Array.isArray(cps)) {
		fail(where, 'checkpoints', 'an array', cps);
	}
	cps.forEach((c, i) => checkCheckpointRecord(c, `${where}.checkpoints[${i}]`));
	const s = obj(o.summary, `${where}.summary`);
	if (typeof s.verdict !== 'string' || !(VERDICTS as readonly string[]).includes(s.verdict)) {
		fail(where, 'summary.verdict', `one of ${VERDICTS.join(', ')}`, s.verdict);
	}
	obj(s.lag, `${where}.summary.lag`);
	return {
		runDir: str(o, 'runDir', where),
		checkpoints: cps as CheckpointAnalysis[],
		summary: s as unknown as RunAnalysisSummary,
		analysed: int(o, 'analysed', where, 0, Number.MAX_SAFE_INTEGER),
		backend: str(o, 'backend', where),
	};
}

/** Guard (host side) for {@link ProgressParams}. */
export function checkProgressParams(v: unknown): ProgressParams {
	const where = 'analysis/progress params';
	const o = obj(v, where);
	return {
		requestId: str(o, 'requestId', where),
		done: int(o, 'done', where, 0, Number.MAX_SAFE_INTEGER),
		total: int(o, 'total', where, 0, Number.MAX_SAFE_INTEGER),
		message: typeof o.message === 'string' ? o.message : '',
	};
}

/** Guard (host side) for {@link FatalParams}. */
export function checkFatalParams(v: unknown): FatalParams {
	const where = 'analyser/fatal params';
	const o = obj(v, where);
	const kind = o.kind;
	if (kind !== 'uncaughtException' && kind !== 'unhandledRejection' && kind !== 'exit') {
		fail(where, 'kind', '"uncaughtException", "unhandledRejection" or "exit"', kind);
	}
	return {
		kind,
		message: typeof o.message === 'string' ? o.message : String(o.message),
		stack: typeof o.stack === 'string' ? o.stack : null,
		exitCode: typeof o.exitCode === 'number' ? o.exitCode : 1,
	};
}

/** Guard for {@link RowScoresResult} (the host trusts no shape it did not check). */
export function checkRowScoresResult(v: unknown): RowScoresResult {
	const where = 'dataset/rowScores result';
	const o = obj(v, where);
	const arr = (key: string): unknown[] => {
		const a = o[key];
		if (!Array.isArray(a)) {
			fail(where, key, 'an array', a);
		}
		return a;
	};
	const flagged = arr('flagged').map((f, i) => {
		const r = obj(f, `${where}.flagged[${i}]`);
		if (typeof r.score !== 'number') {
			fail(`${where}.flagged[${i}]`, 'score', 'a number', r.score);
		}
		return { row: int(r, 'row', `${where}.flagged[${i}]`, 0, Number.MAX_SAFE_INTEGER), label: int(r, 'label', `${where}.flagged[${i}]`, 0, Number.MAX_SAFE_INTEGER), score: r.score };
	});
	const classes = arr('classes').map((c, i) => {
		const r = obj(c, `${where}.classes[${i}]`);
		for (const k of ['direction', 'share', 'separation']) {
			if (typeof r[k] !== 'number') {
				fail(`${where}.classes[${i}]`, k, 'a number', r[k]);
			}
		}
		return {
			label: int(r, 'label', `${where}.classes[${i}]`, 0, Number.MAX_SAFE_INTEGER),
			count: int(r, 'count', `${where}.classes[${i}]`, 0, Number.MAX_SAFE_INTEGER),
			direction: r.direction as number,
			share: r.share as number,
			separation: r.separation as number,
			flagged: int(r, 'flagged', `${where}.classes[${i}]`, 0, Number.MAX_SAFE_INTEGER),
		};
	});
	const steps = arr('stepsTried');
	if (steps.some((x) => !Number.isInteger(x))) {
		fail(where, 'stepsTried', 'an array of integers', steps);
	}
	if (o.method !== 'spectral-signature-of-input-gradients') {
		fail(where, 'method', '"spectral-signature-of-input-gradients"', o.method);
	}
	if (typeof o.minSeparation !== 'number') {
		fail(where, 'minSeparation', 'a number', o.minSeparation);
	}
	return {
		runDir: str(o, 'runDir', where),
		runName: str(o, 'runName', where),
		datasetSource: str(o, 'datasetSource', where),
		trainSampleSource: str(o, 'trainSampleSource', where),
		totalRows: int(o, 'totalRows', where, 0, Number.MAX_SAFE_INTEGER),
		samples: int(o, 'samples', where, 0, Number.MAX_SAFE_INTEGER),
		method: 'spectral-signature-of-input-gradients',
		step: int(o, 'step', where, 0, Number.MAX_SAFE_INTEGER),
		stepsTried: steps as number[],
		minSeparation: o.minSeparation,
		classes,
		flagged,
		elapsedMs: int(o, 'elapsedMs', where, 0, Number.MAX_SAFE_INTEGER),
	};
}
