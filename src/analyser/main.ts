/**
 * The analyser process (bundled to dist/analyser.js; the wasm files sit next to it). The host
 * forks it and speaks JSON-RPC over the Node IPC channel (src/protocol/analyser.ts).
 *
 * Lifetime rules:
 * - an uncaught exception, an unhandled rejection or a `process.exit` is reported to the host
 *   (`analyser/fatal`) before the process dies, so the host can show why;
 * - when the IPC channel closes (the host died or disposed us) the process exits: no orphans;
 * - one analysis at a time (tfjs state is process-global); queued requests honour cancellation.
 */
import * as tf from '@tensorflow/tfjs';
import { type CancellationToken, ResponseError } from 'vscode-jsonrpc';
import { IPCMessageReader, IPCMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { version as ANALYSER_VERSION } from '../../package.json';
import {
	ANALYSER_PROTOCOL_VERSION,
	AnalyseCheckpointRequest,
	AnalyseRunRequest,
	AnalyserErrorCode,
	DebugCrashRequest,
	DebugSlowLanczosRequest,
	ExitNotification,
	FatalNotification,
	GuardError,
	InitializeRequest,
	MAX_TOP_K,
	ProgressNotification,
	RecordNotification,
	RowScoresRequest,
	ShutdownRequest,
	checkAnalyseCheckpointParams,
	checkAnalyseRunParams,
	checkDebugCrashParams,
	checkDebugSlowLanczosParams,
	checkInitializeParams,
	checkRowScoresParams,
	protocolMajor,
	type AnalyseRunResult,
	type AnalyserErrorData,
	type FatalParams,
	type InitializeResult,
} from '../protocol/analyser';
import { selectBackend } from '../tfjs/backend';
import { installGradientFixes } from '../tfjs/gradients';
import { CurvatureCancelledError, lambdaOperator, lanczos } from './curvature/index';
import { loadRunContext, type RunContext } from './analysis/context';
import { AnalysisError } from './analysis/errors';
import { analyseOneCheckpoint, analyseRunDir } from './analysis/runner';
import { scoreTrainingRows } from './analysis/rowScores';

const TEST_HOOKS = process.env.POISON_LENS_ANALYSER_TEST_HOOKS === '1';

// stdout is not the protocol channel (IPC is), but keep it clean anyway: tfjs and libraries log
// through console.log, and the host shows stderr's tail when something goes wrong.
console.log = (...args: unknown[]): void => {
	process.stderr.write(`${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`);
};
console.info = console.log;

if (typeof process.send !== 'function') {
	process.stderr.write('poison-lens analyser: no IPC channel; start me with child_process.fork (the extension and the contract tests do)\n');
	process.exit(2);
}

const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));
const realExit: (code?: number) => never = process.exit.bind(process);
let exiting = false;
let shuttingDown = false;

/** Reports a fatal condition to the host, then exits (the notification gets 500 ms to leave). */
function dieWith(params: FatalParams): void {
	if (exiting) {
		return;
	}
	exiting = true;
	process.stderr.write(`poison-lens analyser: ${params.kind}: ${params.message}\n${params.stack ?? ''}\n`);
	const timer = setTimeout(() => realExit(params.exitCode), 500);
	connection
		.sendNotification(FatalNotification.type, params)
		.catch(() => undefined)
		.finally(() => {
			clearTimeout(timer);
			// Give the IPC pipe one turn to flush.
			setTimeout(() => realExit(params.exitCode), 20);
		});
}

const onUncaught = (err: Error): void => {
	dieWith({ kind: 'uncaughtException', message: err.message, stack: err.stack ?? null, exitCode: 1 });
};
const onUnhandled = (reason: unknown): void => {
	const err = reason instanceof Error ? reason : new Error(String(reason));
	dieWith({ kind: 'unhandledRejection', message: err.message, stack: err.stack ?? null, exitCode: 1 });
};
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUnhandled);

/**
 * The wasm backend's Emscripten runtime adds its own handlers that rethrow, which kills the
 * process (exit code 7) before the host hears why. Keep only ours.
 */
function keepOnlyOurFatalHandlers(): void {
	for (const l of process.listeners('uncaughtException')) {
		if (l !== onUncaught) {
			process.removeListener('uncaughtException', l);
		}
	}
	for (const l of process.listeners('unhandledRejection')) {
		if (l !== onUnhandled) {
			process.removeListener('unhandledRejection', l);
		}
	}
}
process.exit = ((code?: number | string | null): never => {
	const n = typeof code === 'number' ? code : Number(code ?? process.exitCode ?? 0) || 0;
	if (shuttingDown && n === 0) {
		return realExit(0);
	}
	dieWith({ kind: 'exit', message: `process.exit(${n}) called inside the analyser`, stack: new Error('process.exit').stack ?? null, exitCode: n });
	return undefined as never;
});
// The host went away (or closed the channel): exit rather than linger as an orphan.
process.on('disconnect', () => realExit(0));

let initialized: InitializeResult | null = null;
let queue: Promise<unknown> = Promise.resolve();
const contexts = new Map<string, RunContext>();

/** Runs one job at a time; a job cancelled while queued never starts. */
function serial<T>(token: CancellationToken, job: () => Promise<T>): Promise<T> {
	const run = queue.then(() => {
		if (token.isCancellationRequested) {
			throw new CurvatureCancelledError('queued analysis', 0);
		}
		return job();
	});
	queue = run.catch(() => undefined);
	return run;
}

function toResponseError(err: unknown): ResponseError<AnalyserErrorData> {
	if (err instanceof ResponseError) {
		return err as ResponseError<AnalyserErrorData>;
	}
	if (err instanceof GuardError) {
		return new ResponseError(AnalyserErrorCode.InvalidParams, err.message, undefined);
	}
	if (err instanceof AnalysisError) {
		return new ResponseError(err.code, err.message, undefined);
	}
	if (err instanceof CurvatureCancelledError) {
		const m = /after (\d+) matrix-vector/.exec(err.message);
		return new ResponseError(AnalyserErrorCode.Cancelled, err.message, { matvecs: m === null ? 0 : Number(m[1]) });
	}
	const e = err instanceof Error ? err : new Error(String(err));
	process.stderr.write(`poison-lens analyser: internal error: ${e.stack ?? e.message}\n`);
	return new ResponseError(AnalyserErrorCode.Internal, e.message, undefined);
}

function requireInit(): InitializeResult {
	if (initialized === null) {
		throw new ResponseError(AnalyserErrorCode.ServerNotInitialized, 'send "initialize" first');
	}
	if (shuttingDown) {
		throw new ResponseError(AnalyserErrorCode.InvalidState, 'the analyser is shutting down');
	}
	return initialized;
}

/** Run contexts are cached per run folder (probe set and trigger are written once per run). */
async function contextFor(runDir: string): Promise<RunContext> {
	const hit = contexts.get(runDir);
	if (hit !== undefined) {
		return hit;
	}
	const ctx = await loadRunContext(runDir);
	contexts.set(runDir, ctx);
	return ctx;
}

async function handle<T>(body: () => Promise<T>): Promise<T | ResponseError<AnalyserErrorData>> {
	try {
		return await body();
	} catch (err) {
		return toResponseError(err);
	}
}

connection.onRequest(InitializeRequest.type, (raw) =>
	handle(async () => {
		const params = checkInitializeParams(raw);
		if (initialized !== null) {
			throw new ResponseError(AnalyserErrorCode.InvalidState, '"initialize" was already sent');
		}
		if (protocolMajor(params.protocolVersion) !== protocolMajor(ANALYSER_PROTOCOL_VERSION)) {
			throw new ResponseError(
				AnalyserErrorCode.InvalidParams,
				`protocol ${params.protocolVersion} is not supported by this analyser (speaks ${ANALYSER_PROTOCOL_VERSION})`,
			);
		}
		const sel = await selectBackend(params.backend === 'tensorflow' ? 'tensorflow' : params.backend, { wasmDir: __dirname });
		installGradientFixes();
		keepOnlyOurFatalHandlers();
		const a = sel.adapter;
		initialized = {
			analyserVersion: ANALYSER_VERSION,
			protocolVersion: ANALYSER_PROTOCOL_VERSION,
			pid: process.pid,
			backend: {
				requested: params.backend,
				name: tf.getBackend(),
				description: sel.description,
				adapter: a === null ? null : [a.vendor, a.architecture, a.device, a.description].filter((s) => s.length > 0).join(' ') || 'unknown adapter',
				fallbackReason: sel.fallbackReason,
			},
			capabilities: {
				methods: [
					AnalyseCheckpointRequest.method,
					AnalyseRunRequest.method,
					RowScoresRequest.method,
					...(TEST_HOOKS ? [DebugCrashRequest.method, DebugSlowLanczosRequest.method] : []),
				],
				passes: ['light', 'full'],
				maxTopK: MAX_TOP_K,
				blindMode: true,
				testHooks: TEST_HOOKS,
			},
		};
		return initialized;
	}),
);

connection.onRequest(AnalyseCheckpointRequest.type, (raw, token) =>
	handle(async () => {
		requireInit();
		const params = checkAnalyseCheckpointParams(raw);
		return serial(token, async () => {
			const ctx = await contextFor(params.runDir);
			const requestId = params.requestId ?? `checkpoint-${params.step}`;
			const rec = await analyseOneCheckpoint(params.runDir, params.step, {
				pass: params.pass,
				k: params.k,
				persist: params.persist ?? true,
				signal: token,
				context: ctx,
				onStage: (s) => void connection.sendNotification(ProgressNotification.type, { requestId, done: 0, total: 1, message: s }),
			});
			return rec;
		});
	}),
);

connection.onRequest(AnalyseRunRequest.type, (raw, token) =>
	handle(async () => {
		const init = requireInit();
		const params = checkAnalyseRunParams(raw);
		return serial(token, async (): Promise<AnalyseRunResult> => {
			const requestId = params.requestId ?? `run-${Date.now()}`;
			contexts.delete(params.runDir);
			const ctx = await contextFor(params.runDir);
			const out = await analyseRunDir(params.runDir, {
				pass: params.pass,
				k: params.k,
				follow: params.follow ?? false,
				blind: params.blind ?? true,
				...(params.liveBlind === undefined ? {} : { liveBlind: params.liveBlind }),
				signal: token,
				context: ctx,
				onProgress: (done, total, message) => void connection.sendNotification(ProgressNotification.type, { requestId, done, total, message }),
				onRecord: (record) => void connection.sendNotification(RecordNotification.type, { requestId, runDir: params.runDir, record }),
			});
			for (const w of out.warnings) {
				process.stderr.write(`poison-lens analyser: ${w}\n`);
			}
			return { runDir: params.runDir, checkpoints: out.records, summary: out.summary, analysed: out.analysed, backend: init.backend.description };
		});
	}),
);

connection.onRequest(RowScoresRequest.type, (raw, token) =>
	handle(async () => {
		requireInit();
		const params = checkRowScoresParams(raw);
		return serial(token, async () => {
			const requestId = params.requestId ?? `row-scores-${Date.now()}`;
			// The run may have grown since it was cached (new checkpoints); the context itself is per run.
			const ctx = await contextFor(params.runDir);
			return scoreTrainingRows(ctx, {
				...(params.steps === undefined ? {} : { steps: params.steps }),
				...(params.maxCheckpoints === undefined ? {} : { maxCheckpoints: params.maxCheckpoints }),
				signal: token,
				onProgress: (done, total, message) => void connection.sendNotification(ProgressNotification.type, { requestId, done, total, message }),
			});
		});
	}),
);

connection.onRequest(ShutdownRequest.type, () => {
	shuttingDown = true;
	contexts.clear();
	tf.disposeVariables();
});

connection.onNotification(ExitNotification.type, () => {
	shuttingDown = true;
	realExit(0);
});

if (TEST_HOOKS) {
	connection.onRequest(DebugCrashRequest.type, (raw) =>
		handle(() => {
			const { mode } = checkDebugCrashParams(raw);
			// Leave the handler first, so the crash happens outside any promise chain of the connection.
			setTimeout(() => {
				if (mode === 'exception') {
					throw new Error('debug/crash: deliberate uncaught exception');
				} else if (mode === 'rejection') {
					void Promise.reject(new Error('debug/crash: deliberate unhandled rejection'));
				} else {
					process.exit(3);
				}
			}, 10);
			return Promise.resolve();
		}),
	);
	connection.onRequest(DebugSlowLanczosRequest.type, (raw, token) =>
		handle(async () => {
			requireInit();
			const p = checkDebugSlowLanczosParams(raw);
			let matvecs = 0;
			// A diagonal operator whose every product takes matvecMs of busy work, like one real HVP.
			const op = lambdaOperator(p.n, (v) => {
				const until = Date.now() + p.matvecMs;
				while (Date.now() < until) {
					// busy: a real HVP does not yield either
				}
				matvecs++;
				return Float64Array.from(v, (x, i) => x * (i + 1));
			});
			return serial(token, async () => {
				await lanczos(op, { k: 1, maxIter: Math.min(p.steps, p.n), tol: 1e-300, signal: token, checkEvery: 1_000_000 });
				return { matvecs };
			});
		}),
	);
}

connection.listen();
