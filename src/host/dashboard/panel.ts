/**
 * The dashboard webview panel: one class owns it (create-or-show, revive after reload), a strict
 * CSP with a crypto nonce, resource roots narrowed to dist/ and media/, and the `ready` handshake:
 * the host answers every `ready` with a full snapshot.
 */

import * as path from 'node:path';
import * as vscode from 'vscode';
import { assertNever, parseWebviewMessage, type ChartId, type HostMessage, type HostToWebview, type WebviewMessage } from '../../protocol/webview';
import { makeNonce, renderDashboardHtml } from './html';
import type { RunChange, RunsModel } from './runsModel';

/** The webview type; `onWebviewPanel:poisonLens.dashboard` activates the extension to revive it. */
export const DASHBOARD_VIEW_TYPE = 'poisonLens.dashboard';

/** What the webview persists with `setState` (checked: it comes back from an older version too). */
export interface DashboardWebviewState {
	readonly primaryRunDir: string | null;
}

/** Reads the run folder out of an untrusted persisted webview state. */
export function primaryDirFromState(state: unknown): string | null {
	if (typeof state === 'object' && state !== null && typeof (state as { primaryRunDir?: unknown }).primaryRunDir === 'string') {
		return (state as { primaryRunDir: string }).primaryRunDir;
	}
	return null;
}

/** Webview options: scripts on, and only the extension's dist/ and media/ folders readable. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
	return {
		enableScripts: true,
		localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
	};
}

/** Services the panel needs from the extension. */
export interface DashboardHost {
	readonly extensionUri: vscode.Uri;
	readonly model: RunsModel;
	readonly log: vscode.LogOutputChannel;
	/** Lets the user pick a run folder; resolves to its path, or undefined when cancelled. */
	pickRun(): Promise<string | undefined>;
}

/** The one dashboard panel. */
export class DashboardPanel implements vscode.Disposable {
	/** The open panel, if any (one at a time). */
	static current: DashboardPanel | undefined;

	private readonly disposables: vscode.Disposable[] = [];
	private ready = false;
	/** Messages that are not covered by the next snapshot (export results), held until `ready`. */
	private readonly pending: HostMessage[] = [];
	private disposed = false;

	/**
	 * Shows the panel (creating it if needed) and, when given, opens a run in it.
	 * @param runDir a run folder to make primary
	 */
	static async createOrShow(host: DashboardHost, runDir?: string): Promise<DashboardPanel> {
		const column = vscode.window.activeTextEditor?.viewColumn;
		let p = DashboardPanel.current;
		if (p === undefined) {
			const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'Poison Lens', column ?? vscode.ViewColumn.One, {
				...webviewOptions(host.extensionUri),
				// No retainContextWhenHidden ("high memory overhead"): the webview keeps its view state with
				// setState and gets a full snapshot on every `ready`.
				enableFindWidget: true,
			});
			p = new DashboardPanel(panel, host);
		} else {
			p.panel.reveal(column);
		}
		if (runDir !== undefined) {
			await p.openRun(runDir);
		}
		return p;
	}

	/** Restores a panel VS Code kept across a reload (the serializer calls this). */
	static async revive(panel: vscode.WebviewPanel, host: DashboardHost, state: unknown): Promise<DashboardPanel> {
		DashboardPanel.current?.dispose();
		const p = new DashboardPanel(panel, host);
		const dir = primaryDirFromState(state);
		if (dir !== null) {
			try {
				await host.model.open(dir);
			} catch (err) {
				// The run folder may be gone since; the dashboard then shows the remaining runs.
				host.log.warn(`dashboard: could not reopen ${dir}: ${(err as Error).message}`);
			}
		}
		p.sendSnapshot();
		return p;
	}

	private constructor(
		private readonly panel: vscode.WebviewPanel,
		private readonly host: DashboardHost,
	) {
		DashboardPanel.current = this;
		panel.webview.options = webviewOptions(host.extensionUri);
		panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'dashboard.svg');
		panel.webview.html = this.html();
		panel.onDidDispose(() => this.dispose(), null, this.disposables);
		panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m), null, this.disposables);
		panel.onDidChangeViewState(
			() => {
				// A hidden webview's document is thrown away; it will say `ready` again when shown.
				if (!panel.visible) {
					this.ready = false;
				}
			},
			null,
			this.disposables,
		);
	}

	/** Whether the panel is visible (the host polls run files only then). */
	get visible(): boolean {
		return this.panel.visible;
	}

	private html(): string {
		const webview = this.panel.webview;
		const ext = this.host.extensionUri;
		return renderDashboardHtml({
			cspSource: webview.cspSource,
			nonce: makeNonce(),
			scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview.js')).toString(),
			styleUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'media', 'dashboard.css')).toString(),
		});
	}

	/** Posts a typed message; before `ready` it is held (or dropped when the next snapshot covers it). */
	post<K extends keyof HostToWebview>(type: K, payload: HostToWebview[K]): void {
		const msg = { type, payload } as HostMessage;
		if (!this.ready) {
			if (type === 'exportResult' || type === 'compare' || type === 'reveal') {
				this.pending.push(msg);
			}
			return;
		}
		void this.panel.webview.postMessage(msg);
	}

	/** Forwards a run change from the model. */
	notify(change: RunChange): void {
		if (change.kind === 'updated') {
			this.post('runUpdated', change.run);
		} else {
			this.post('runRemoved', { runId: change.runId });
		}
	}

	/** Opens a run folder and re-sends the snapshot with it as primary. */
	async openRun(runDir: string): Promise<void> {
		try {
			await this.host.model.open(runDir);
		} catch (err) {
			void vscode.window.showErrorMessage(`Poison Lens: ${(err as Error).message}`);
			return;
		}
		this.sendSnapshot();
	}

	private sendSnapshot(): void {
		if (this.ready) {
			void this.panel.webview.postMessage({ type: 'snapshot', payload: this.host.model.snapshot() } satisfies HostMessage);
		}
	}

	private async onMessage(raw: unknown): Promise<void> {
		const m: WebviewMessage | string = parseWebviewMessage(raw);
		if (typeof m === 'string') {
			this.host.log.warn(`dashboard: ignored a webview message: ${m}`);
			return;
		}
		switch (m.type) {
			case 'ready': {
				this.ready = true;
				this.sendSnapshot();
				for (const msg of this.pending.splice(0)) {
					void this.panel.webview.postMessage(msg);
				}
				return;
			}
			case 'selectRun':
				this.host.model.select(m.payload.runId);
				return;
			case 'pickRun': {
				const dir = await this.host.pickRun();
				if (dir !== undefined) {
					await this.openRun(dir);
				}
				return;
			}
			case 'exportPng':
				await this.save(m.payload.chart, 'png', () => Buffer.from(m.payload.dataUrl.slice(m.payload.dataUrl.indexOf(',') + 1), 'base64'));
				return;
			case 'exportCsv':
				await this.save(m.payload.chart, 'csv', () => Buffer.from(this.host.model.csv(m.payload.chart, m.payload.runIds), 'utf8'));
				return;
			case 'log':
				this.host.log[m.payload.level](`dashboard webview: ${m.payload.message}`);
				return;
			default:
				assertNever(m);
		}
	}

	private async save(chart: ChartId, format: 'png' | 'csv', bytes: () => Buffer): Promise<void> {
		const primary = this.host.model.primary;
		const base = `${primary === null ? 'poison-lens' : path.basename(primary)}-${chart}.${format}`;
		const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
		const uri = await vscode.window.showSaveDialog({
			defaultUri: folder === undefined ? undefined : vscode.Uri.joinPath(folder, base),
			filters: format === 'png' ? { 'PNG image': ['png'] } : { CSV: ['csv'] },
			saveLabel: `Save ${format.toUpperCase()}`,
		});
		if (uri === undefined) {
			this.post('exportResult', { chart, format, path: null, error: null });
			return;
		}
		try {
			await vscode.workspace.fs.writeFile(uri, bytes());
			this.post('exportResult', { chart, format, path: uri.fsPath, error: null });
		} catch (err) {
			this.post('exportResult', { chart, format, path: null, error: `${uri.fsPath}: ${(err as Error).message}` });
		}
	}

	/** Idempotent. */
	dispose(): void {
		if (this.disposed) {
			return;
		}
		this.disposed = true;
		if (DashboardPanel.current === this) {
			DashboardPanel.current = undefined;
		}
		this.panel.dispose();
		while (this.disposables.length > 0) {
			this.disposables.pop()?.dispose();
		}
	}
}
