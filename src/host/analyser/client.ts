/**
 * The host side of the analyser boundary, free of `vscode` so the contract tests run it in plain
 * Node (src/host/analyser wraps it for the extension).
 *
 * - {@link AnalyserProcess}: one forked `dist/analyser.js`. Launched once; a typed exit event,
 *   fired exactly once, carrying the stderr tail and the analyser's own `analyser/fatal` report;
 *   `dispose()` idempotent and time-boxed (shutdown, exit, then SIGKILL after ~1 s)
 *   (vscode-jupyter `kernelProcess.node.ts`).
 * - {@link AnalyserClient}: the restart policy (vscode-eslint `errorHandler.closed`): after an
 *   unexpected exit it starts a fresh process, at most `maxRestarts` times per `restartWindowMs`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import {
	CancellationTokenSource,
	Emitter,
	ErrorCodes,
	ResponseError,
	type CancellationToken,
	type Disposable,
	type Event,
	type MessageConnection,
} from 'vscode-jsonrpc';
import { IPCMessageReader, IPCMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import type { CheckpointAnalysis } from '../../protocol/analysisRecord';
import {
	ANALYSER_PROTOCOL_VERSION,
	AnalyseCheckpointRequest,
	AnalyseRunRequest,
	ExitNotification,
	FatalNotification,
	InitializeRequest,
	ProgressNotification,
	RecordNotification,
	RowScoresRequest,
	ShutdownRequest,
	checkAnalyseRunResult,
	checkCheckpointRecord,
	checkFatalParams,
	checkInitializeResult,
	checkProgressParams,
	checkRowScoresResult,
	protocolMajor,
	type AnalyseCheckpointParams,
	type AnalyseRunParams,
	type AnalyseRunResult,
	type BackendRequestName,
	type FatalParams,
	type InitializeResult,
	type ProgressParams,
	type RecordParams,
	type RowScoresParams,
	type RowScoresResult,
} from '../../protocol/analyser';

/** How much of the analyser's stderr is kept for crash reports. */
export const STDERR_TAIL_BYTES = 8 * 1024;
/** dispose(): how long the process gets to exit by itself before SIGKILL. */
export const DISPOSE_TIMEOUT_MS = 1000;

/** Why and how an analyser process ended. Fired once per process. */
export interface AnalyserExit {
	readonly pid: number | undefined;
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	/** 'disposed': we asked it to stop; 'crashed': anything else. */
	readonly reason: 'disposed' | 'crashed';
	/** The last {@link STDERR_TAIL_BYTES} of its stderr. */
	readonly stderrTail: string;
	/** What the analyser reported before dying, if it could. */
	readonly fatal: FatalParams | null;
}

/** The analyser died, or was disposed, while a request was pending. */
export class AnalyserExitedError extends Error {
	constructor(readonly exit: AnalyserExit) {
		super(
			`the analyser ${exit.reason === 'disposed' ? 'was stopped' : 'crashed'} (exit code ${String(exit.code)}, signal ${String(exit.signal)})` +
				(exit.fatal === null ? '' : `: ${exit.fatal.kind}: ${exit.fatal.message}`),
		);
		this.name = 'AnalyserExitedError';
	}
}

/** Options of {@link AnalyserProcess.launch}. */
export interface LaunchOptions {
	/** Path of the bundled analyser (dist/analyser.js). */
	readonly modulePath: string;
	readonly env?: NodeJS.ProcessEnv;
	readonly cwd?: string;
	/** Node executable (default: this process's). */
	readonly execPath?: string;
}

/** One forked analyser process and its JSON-RPC connection. */
export class AnalyserProcess {
	readonly connection: MessageConnection;
	private readonly exitEmitter = new Emitter<AnalyserExit>();
	private stderr = '';
	private fatal: FatalParams | null = null;
	private exitInfo: AnalyserExit | null = null;
	private disposing: Promise<void> | undefined;
	private readonly exited: Promise<AnalyserExit>;

	/** Fires once, when the process has exited (or failed to start). */
	readonly onExit: Event<AnalyserExit> = this.exitEmitter.event;

	private constructor(private readonly child: ChildProcess) {
		let resolveExit: (e: AnalyserExit) => void = () => undefined;
		this.exited = new Promise((resolve) => (resolveExit = resolve));
		child.stderr?.setEncoding('utf8');
		child.stderr?.on('data', (chunk: string) => {
			this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_BYTES);
		});
		// stdout carries nothing of the protocol; keep it drained so the child never blocks on it.
		child.stdout?.on('data', (chunk: Buffer) => {
			this.stderr = (this.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
		});
		this.connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
		this.connection.onNotification(FatalNotification.type, (raw) => {
			try {
				this.fatal = checkFatalParams(raw);
			} catch (err) {
				this.stderr += `\n[host] malformed analyser/fatal: ${(err as Error).message}`;
			}
		});
		const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
			if (this.exitInfo !== null) {
				return;
			}
			this.exitInfo = {
				pid: child.pid,
				code,
				signal,
				reason: this.disposing === undefined ? 'crashed' : 'disposed',
				stderrTail: this.stderr,
				fatal: this.fatal,
			};
			this.connection.dispose();
			resolveExit(this.exitInfo);
			this.exitEmitter.fire(this.exitInfo);
		};
		child.on('exit', (code, signal) => finish(code, signal));
		child.on('error', (err) => {
			this.stderr += `\n[host] ${err.message}`;
			if (child.exitCode === null && child.pid === undefined) {
				finish(null, null);
			}
		});
		this.connection.listen();
	}

	/** Forks the analyser. Call once per process object; a restart makes a new one. */
	static launch(options: LaunchOptions): AnalyserProcess {
		const child = fork(options.modulePath, [], {
			stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
			env: options.env ?? process.env,
			cwd: options.cwd,
			execPath: options.execPath,
			// Do not inherit the parent's --inspect/--import flags (tests run under tsx).
			execArgv: [],
			serialization: 'json',
		});
		return new AnalyserProcess(child);
	}

	get pid(): number | undefined {
		return this.child.pid;
	}

	/** True once the process has exited. */
	get hasExited(): boolean {
		return this.exitInfo !== null;
	}

	/** How the process ended, once it has. */
	get exit(): AnalyserExit | null {
		return this.exitInfo;
	}

	/** The last {@link STDERR_TAIL_BYTES} of stderr so far. */
	get stderrTail(): string {
		return this.stderr;
	}

	/** Resolves when the process has exited. */
	whenExited(): Promise<AnalyserExit> {
		return this.exited;
	}

	/**
	 * Stops the process: `shutdown` then `exit`, and SIGKILL if it is still alive after
	 * {@link DISPOSE_TIMEOUT_MS}. Idempotent; always ends with the exit event fired.
	 */
	dispose(): Promise<void> {
		this.disposing ??= (async () => {
			if (this.exitInfo === null) {
				const polite = (async () => {
					await this.connection.sendRequest(ShutdownRequest.type);
					await this.connection.sendNotification(ExitNotification.type);
				})().catch(() => undefined);
				const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), DISPOSE_TIMEOUT_MS).unref());
				const first = await Promise.race([this.exited.then(() => 'exited' as const), polite.then(() => Promise.race([this.exited.then(() => 'exited' as const), timeout])), timeout]);
				if (first === 'timeout' && this.exitInfo === null) {
					this.child.kill('SIGKILL');
				}
				await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, DISPOSE_TIMEOUT_MS).unref())]);
			}
			this.exitEmitter.dispose();
		})();
		return this.disposing;
	}
}

/** Options of {@link AnalyserClient}. */
export interface AnalyserClientOptions extends LaunchOptions {
	readonly backend: BackendRequestName;
	/** Sent in `initialize`. */
	readonly clientName: string;
	/** Restarts allowed within {@link AnalyserClientOptions.restartWindowMs} (default 3). */
	readonly maxRestarts?: number;
	/** Default 3 minutes. */
	readonly restartWindowMs?: number;
	/** Initialize timeout (default 60 s: the wasm backend compiles on first start). */
	readonly initializeTimeoutMs?: number;
}

/** A crash as the client reports it. */
export interface CrashEvent extends AnalyserExit {
	/** True when the client is starting a fresh process. */
	readonly restarting: boolean;
}

/**
 * The analyser as a service: starts it lazily, validates every answer, restarts it after a crash
 * and rejects the requests that were in flight with {@link AnalyserExitedError}.
 */
export class AnalyserClient {
	private proc: AnalyserProcess | null = null;
	private starting: Promise<InitializeResult> | null = null;
	private info: InitializeResult | null = null;
	private readonly restarts: number[] = [];
	private disposed = false;
	private disposing: Promise<void> | undefined;
	private readonly crashEmitter = new Emitter<CrashEvent>();
	private readonly startEmitter = new Emitter<InitializeResult>();
	private readonly progressEmitter = new Emitter<ProgressParams>();
	private readonly recordEmitter = new Emitter<RecordParams>();
	private readonly exitEmitter = new Emitter<AnalyserExit>();
	private requestCounter = 0;

	/** An unexpected exit (with the stderr tail), and whether a restart follows. */
	readonly onDidCrash: Event<CrashEvent> = this.crashEmitter.event;
	/** A process finished `initialize` (first start or restart). */
	readonly onDidStart: Event<InitializeResult> = this.startEmitter.event;
	/** Every exit, expected or not (typed, once per process). */
	readonly onDidExit: Event<AnalyserExit> = this.exitEmitter.event;
	readonly onProgress: Event<ProgressParams> = this.progressEmitter.event;
	readonly onRecord: Event<RecordParams> = this.recordEmitter.event;

	constructor(private readonly options: AnalyserClientOptions) {}

	/** The running process's pid, if any. */
	get pid(): number | undefined {
		return this.proc?.pid;
	}

	/** The last `initialize` answer. */
	get initializeResult(): InitializeResult | null {
		return this.info;
	}

	/** Starts the analyser (once; concurrent callers share the start) and returns its `initialize` answer. */
	start(): Promise<InitializeResult> {
		if (this.disposed) {
			return Promise.reject(new Error('the analyser client is disposed'));
		}
		if (this.info !== null && this.proc !== null && !this.proc.hasExited) {
			return Promise.resolve(this.info);
		}
		this.starting ??= this.launch().finally(() => {
			this.starting = null;
		});
		return this.starting;
	}

	private async launch(): Promise<InitializeResult> {
		const proc = AnalyserProcess.launch(this.options);
		this.proc = proc;
		proc.connection.onNotification(ProgressNotification.type, (raw) => {
			try {
				this.progressEmitter.fire(checkProgressParams(raw));
			} catch {
				// A malformed progress message is not worth failing a request for.
			}
		});
		proc.connection.onNotification(RecordNotification.type, (raw) => {
			try {
				this.recordEmitter.fire({ requestId: String(raw.requestId), runDir: String(raw.runDir), record: checkCheckpointRecord(raw.record) });
			} catch {
				// Ignored: the request's final answer carries every record again.
			}
		});
		proc.onExit((exit) => this.handleExit(proc, exit));
		const timeoutMs = this.options.initializeTimeoutMs ?? 60_000;
		let timer: NodeJS.Timeout | undefined;
		try {
			const raw = await Promise.race([
				proc.connection.sendRequest(InitializeRequest.type, {
					clientName: this.options.clientName,
					protocolVersion: ANALYSER_PROTOCOL_VERSION,
					backend: this.options.backend,
				}),
				proc.whenExited().then((exit) => Promise.reject(new AnalyserExitedError(exit))),
				new Promise<never>((_, reject) => {
					timer = setTimeout(() => reject(new Error(`the analyser did not answer "initialize" within ${timeoutMs} ms`)), timeoutMs);
				}),
			]);
			const info = checkInitializeResult(raw);
			if (protocolMajor(info.protocolVersion) !== protocolMajor(ANALYSER_PROTOCOL_VERSION)) {
				throw new Error(`the analyser speaks protocol ${info.protocolVersion}; this host needs ${ANALYSER_PROTOCOL_VERSION}`);
			}
			this.info = info;
			this.startEmitter.fire(info);
			return info;
		} catch (err) {
			await proc.dispose();
			throw err;
		} finally {
			clearTimeout(timer);
		}
	}

	private handleExit(proc: AnalyserProcess, exit: AnalyserExit): void {
		this.exitEmitter.fire(exit);
		if (this.proc === proc) {
			this.proc = null;
			this.info = null;
		}
		if (exit.reason === 'disposed' || this.disposed) {
			return;
		}
		const now = Date.now();
		const window = this.options.restartWindowMs ?? 180_000;
		while (this.restarts.length > 0 && now - this.restarts[0] > window) {
			this.restarts.shift();
		}
		const restarting = this.restarts.length < (this.options.maxRestarts ?? 3);
		this.crashEmitter.fire({ ...exit, restarting });
		if (restarting) {
			this.restarts.push(now);
			// A failed restart is reported through onDidCrash/onDidExit of that attempt.
			this.start().catch(() => undefined);
		}
	}

	/** Sends a request on the current process, rejecting with {@link AnalyserExitedError} if it dies meanwhile. */
	private async request<T>(send: (c: MessageConnection) => Promise<unknown>, check: (raw: unknown) => T): Promise<T> {
		return check(await this.sendRaw(send));
	}

	/** A fresh request id for progress correlation. */
	nextRequestId(): string {
		this.requestCounter++;
		return `req-${this.requestCounter}`;
	}

	/** `analysis/checkpoint`. Rejects with a ResponseError (typed code) or AnalyserExitedError. */
	analyseCheckpoint(params: AnalyseCheckpointParams, token?: CancellationToken): Promise<CheckpointAnalysis> {
		return this.request((c) => c.sendRequest(AnalyseCheckpointRequest.type, params, token ?? new CancellationTokenSource().token), (raw) => checkCheckpointRecord(raw));
	}

	/** `analysis/run`. Progress and records arrive on {@link onProgress} / {@link onRecord}. */
	analyseRun(params: AnalyseRunParams, token?: CancellationToken): Promise<AnalyseRunResult> {
		return this.request((c) => c.sendRequest(AnalyseRunRequest.type, params, token ?? new CancellationTokenSource().token), checkAnalyseRunResult);
	}

	/** `dataset/rowScores`: per-row spectral-signature scores of a run's training sample. */
	rowScores(params: RowScoresParams, token?: CancellationToken): Promise<RowScoresResult> {
		return this.request((c) => c.sendRequest(RowScoresRequest.type, params, token ?? new CancellationTokenSource().token), checkRowScoresResult);
	}

	/** Sends any request on the live connection (tests: the debug hooks). */
	async sendRaw<R>(send: (c: MessageConnection) => Promise<R>): Promise<R> {
		await this.start();
		if (this.proc === null) {
			throw new Error('the analyser is not running');
		}
		const proc = this.proc;
		try {
			return await Promise.race([send(proc.connection), proc.whenExited().then((exit) => Promise.reject(new AnalyserExitedError(exit)))]);
		} catch (err) {
			// The connection rejects pending requests when the process dies: say that it died, and how.
			const exit = proc.exit;
			const lost = !(err instanceof ResponseError) || err.code === ErrorCodes.PendingResponseRejected || err.code === ErrorCodes.ConnectionInactive;
			throw exit !== null && !(err instanceof AnalyserExitedError) && lost ? new AnalyserExitedError(exit) : err;
		}
	}

	/** Stops the analyser (no restart) and releases the events. Idempotent. */
	dispose(): Promise<void> {
		this.disposing ??= (async () => {
			this.disposed = true;
			await this.starting?.catch(() => undefined);
			await this.proc?.dispose();
			this.proc = null;
			for (const e of [this.crashEmitter, this.startEmitter, this.progressEmitter, this.recordEmitter, this.exitEmitter]) {
				(e as Emitter<unknown> & Disposable).dispose();
			}
		})();
		return this.disposing;
	}
}

/** True when `err` is a typed analyser error answer with this code. */
export function isAnalyserError(err: unknown, code: number): err is ResponseError<unknown> {
	return err instanceof ResponseError && err.code === code;
}
