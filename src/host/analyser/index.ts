/**
 * The extension-host side of the analyser: wraps the vscode-free {@link AnalyserClient}
 * (src/host/analyser/client.ts) with what only VS Code has: the output channel for the analyser's
 * stderr, crash notifications with the stderr tail, `withProgress` + cancellation for long
 * requests, the backend setting, and Workspace Trust (the analyser loads checkpoints from the
 * workspace, so it runs only in trusted workspaces).
 */
import * as vscode from 'vscode';
import { ResponseError } from 'vscode-jsonrpc';
import { AnalyserClient, AnalyserExitedError, isAnalyserError, type AnalyserExit } from './client';
import type { CheckpointAnalysis } from '../../protocol/analysisRecord';
import { AnalyserErrorCode, BACKEND_REQUEST_NAMES, errorCodeName, type AnalyseRunResult, type BackendRequestName, type InitializeResult } from '../../protocol/analyser';

/** Lines of stderr shown in a crash notification (the full tail goes to the output channel). */
const CRASH_TAIL_LINES = 6;

function backendSetting(): BackendRequestName {
	const v = vscode.workspace.getConfiguration('poisonLens').get<string>('analyser.backend', 'auto');
	return (BACKEND_REQUEST_NAMES as readonly string[]).includes(v) ? (v as BackendRequestName) : 'auto';
}

function topKSetting(): number {
	const k = vscode.workspace.getConfiguration('poisonLens').get<number>('analyser.topK', 5);
	return Number.isInteger(k) && k >= 1 && k <= 20 ? k : 5;
}

/** Live blind monitoring settings (`poisonLens.analyser.liveBlind.*`), or false when turned off. */
export function liveBlindSetting(): { every: 'epoch' | number; share: number } | false {
	const c = vscode.workspace.getConfiguration('poisonLens.analyser.liveBlind');
	if (!c.get<boolean>('enabled', true)) {
		return false;
	}
	const everyRaw = String(c.get<string | number>('every', 'epoch')).trim();
	const every = everyRaw === 'epoch' ? 'epoch' : /^[1-9]\d{0,5}$/.test(everyRaw) ? Number(everyRaw) : 'epoch';
	const shareRaw = c.get<number>('share', 0.25);
	const share = typeof shareRaw === 'number' && shareRaw > 0 && shareRaw <= 1 ? shareRaw : 0.25;
	return { every, share };
}

function tailLines(text: string, n: number): string {
	return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** The analyser as the extension uses it. Owned by `context.subscriptions`. */
export class HostAnalyser implements vscode.Disposable {
	private client: AnalyserClient | null = null;
	private readonly disposables: vscode.Disposable[] = [];
	private readonly recordEmitter = new vscode.EventEmitter<{ runDir: string; record: CheckpointAnalysis }>();
	/** A checkpoint record arrived (the dashboard can refresh without waiting for the file watcher). */
	readonly onDidRecord = this.recordEmitter.event;

	constructor(
		private readonly modulePath: string,
		private readonly output: vscode.OutputChannel,
	) {
		this.disposables.push(
			this.recordEmitter,
			vscode.workspace.onDidChangeConfiguration((e) => {
				if (e.affectsConfiguration('poisonLens.analyser.backend') && this.client !== null) {
					// A new backend needs a new process; the next request starts it.
					void this.stop();
				}
			}),
		);
	}

	/** The client, started if needed. Refuses in untrusted workspaces. */
	async start(): Promise<{ client: AnalyserClient; info: InitializeResult }> {
		if (!vscode.workspace.isTrusted) {
			throw new Error('Poison Lens analyses checkpoints only in a trusted workspace (the analyser loads model files from it).');
		}
		if (this.client === null) {
			const client = new AnalyserClient({ modulePath: this.modulePath, backend: backendSetting(), clientName: 'poison-lens vscode' });
			client.onDidStart((info) => {
				this.output.appendLine(`[analyser] pid ${info.pid}, version ${info.analyserVersion}, backend ${info.backend.description}${info.backend.fallbackReason === null ? '' : ` (${info.backend.fallbackReason})`}`);
			});
			client.onDidCrash((crash) => this.reportCrash(crash, crash.restarting));
			client.onDidExit((exit) => this.output.appendLine(`[analyser] exited (${exit.reason}, code ${String(exit.code)}, signal ${String(exit.signal)})`));
			client.onRecord((r) => this.recordEmitter.fire({ runDir: r.runDir, record: r.record }));
			client.onProgress((p) => this.output.appendLine(`[analyser] ${p.requestId}: ${p.done}/${p.total} ${p.message}`));
			this.client = client;
		}
		const info = await this.client.start();
		return { client: this.client, info };
	}

	private reportCrash(exit: AnalyserExit, restarting: boolean): void {
		this.output.appendLine(`[analyser] crashed: code ${String(exit.code)}, signal ${String(exit.signal)}${exit.fatal === null ? '' : `, ${exit.fatal.kind}: ${exit.fatal.message}`}`);
		this.output.appendLine(exit.stderrTail);
		const why = exit.fatal?.message ?? tailLines(exit.stderrTail, CRASH_TAIL_LINES);
		void vscode.window
			.showErrorMessage(`Poison Lens analyser crashed${restarting ? ' and was restarted' : ''}: ${why || 'no output'}`, 'Show log')
			.then((choice) => {
				if (choice === 'Show log') {
					this.output.show(true);
				}
			});
	}

	/**
	 * Analyses a run with a cancellable progress notification. Resolves with the result, or
	 * undefined when the user cancelled; other failures are shown and rethrown. With `follow`, it keeps analysing new
	 * checkpoints (and, for a run without a declared attack, runs the live blind scans) until the run ends.
	 */
	async analyseRun(runDir: string, pass: 'light' | 'full' = 'light', opts: { follow?: boolean } = {}): Promise<AnalyseRunResult | undefined> {
		const follow = opts.follow === true;
		return vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: follow ? 'Poison Lens: analysing live (following training)' : 'Poison Lens: analysing', cancellable: true },
			async (progress, token) => {
				const { client } = await this.start();
				const requestId = client.nextRequestId();
				let last = 0;
				const sub = client.onProgress((p) => {
					if (p.requestId !== requestId) {
						return;
					}
					const pct = p.total > 0 ? (100 * p.done) / p.total : 0;
					progress.report({ message: p.message, increment: Math.max(0, pct - last) });
					last = Math.max(last, pct);
				});
				try {
					return await client.analyseRun({ runDir, pass, k: topKSetting(), requestId, ...(follow ? { follow: true, liveBlind: liveBlindSetting() } : {}) }, token);
				} catch (err) {
					if (isAnalyserError(err, AnalyserErrorCode.Cancelled)) {
						return undefined;
					}
					const text =
						err instanceof ResponseError
							? `${errorCodeName(err.code)}: ${err.message}`
							: err instanceof AnalyserExitedError
								? err.message
								: String(err);
					void vscode.window.showErrorMessage(`Poison Lens: analysis failed: ${text}`);
					throw err;
				} finally {
					sub.dispose();
				}
			},
		);
	}

	/** A line in the "Poison Lens Analyser" output channel. */
	log(line: string): void {
		this.output.appendLine(line);
	}

	/** Stops the process (a later request starts a fresh one). */
	async stop(): Promise<void> {
		const c = this.client;
		this.client = null;
		await c?.dispose();
	}

	dispose(): void {
		void this.stop();
		for (const d of this.disposables) {
			d.dispose();
		}
	}
}

/**
 * Creates the extension's analyser (not started until first used) and registers it for disposal.
 * The lead wires it into `activate` and the "Analyse poisoning" command.
 */
export function registerAnalyser(context: vscode.ExtensionContext): HostAnalyser {
	const output = vscode.window.createOutputChannel('Poison Lens Analyser');
	const analyser = new HostAnalyser(context.asAbsolutePath('dist/analyser.js'), output);
	context.subscriptions.push(output, analyser);
	context.subscriptions.push(
		vscode.workspace.onDidGrantWorkspaceTrust(() => output.appendLine('[analyser] workspace trusted: analysis is available')),
	);
	return analyser;
}
