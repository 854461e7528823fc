/**
 * Wires the dashboard into the extension: the run model, file watchers on `.poison-lens/runs`, a
 * light poll while the panel is visible, the panel serializer, and the run picker.
 *
 * The lead registers the command: `poisonLens.openDashboard` → `dashboard.show(runDir?)`.
 */

import * as path from 'node:path';
import * as vscode from 'vscode';
import { RUNS_DIR } from '../../protocol/runFormat';
import type { RevealSection } from '../../protocol/webview';
import { DEFAULT_MAX_POINTS } from './decimate';
import { DASHBOARD_VIEW_TYPE, DashboardPanel, type DashboardHost } from './panel';
import { RunsModel, type RunChange } from './runsModel';
import { findRuns, toPickItems } from '../runs/runPicker';

/** How long file events for one run are coalesced before it is re-read (well under the 1 s budget). */
const COALESCE_MS = 60;
/** Safety-net poll while the panel is visible: watchers can miss appends on some file systems and outside the workspace. */
const POLL_MS = 1000;

/** What the extension gets back. */
export interface Dashboard {
	/** Opens (or reveals) the dashboard, on `runDir` when given, else on the newest run. */
	show(runDir?: string): Promise<void>;
	/** Opens the dashboard on `runDir` with the compare chart limited to it and `otherDir`. */
	compare(runDir: string, otherDir: string): Promise<void>;
	/** Opens the dashboard on `runDir` scrolled to a section (the candidate trigger, the suspicion chart). */
	reveal(runDir: string, section: RevealSection): Promise<void>;
	/** The run model the watchers keep current (the Runs view reads it too). */
	readonly model: RunsModel;
	/** Fires after the watchers re-read runs (file events, folder changes, the poll). */
	readonly onDidChangeRuns: vscode.Event<readonly RunChange[]>;
}

function runRoots(): string[] {
	return (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, RUNS_DIR));
}

function maxPoints(): number {
	const v = vscode.workspace.getConfiguration('poisonLens.dashboard').get<number>('maxPointsPerSeries', DEFAULT_MAX_POINTS);
	return Number.isInteger(v) && v >= 50 && v <= 20_000 ? v : DEFAULT_MAX_POINTS;
}

/**
 * Keeps the run model current: file watchers on every workspace folder's runs (events coalesced per run), a watcher
 * per run opened from outside the workspace, and a light poll while the panel is visible. Changes go to the panel
 * and to `onDidChange` listeners.
 */
class RunWatchers implements vscode.Disposable {
	private readonly timers = new Map<string, NodeJS.Timeout>();
	private readonly outside = new Map<string, vscode.Disposable>();
	private folderWatchers: vscode.Disposable[] = [];
	private readonly changed = new vscode.EventEmitter<readonly RunChange[]>();
	private readonly poll: NodeJS.Timeout;
	private polling = false;
	readonly onDidChange = this.changed.event;

	constructor(
		private readonly model: RunsModel,
		private readonly log: vscode.LogOutputChannel,
	) {
		this.watchFolders();
		this.poll = setInterval(() => this.pollOnce(), POLL_MS);
	}

	deliver(changes: readonly RunChange[]): void {
		for (const c of changes) {
			DashboardPanel.current?.notify(c);
		}
		if (changes.length > 0) {
			this.changed.fire(changes);
		}
	}

	/** Re-creates the watchers after the workspace folders changed, and rediscovers runs. */
	foldersChanged(): void {
		this.watchFolders();
		void this.model.discover().then((c) => this.deliver(c));
	}

	/** A run opened from outside the workspace gets its own watcher. */
	watchOutside(dir: string): void {
		const abs = path.resolve(dir);
		const inside = runRoots().some((r) => abs.startsWith(path.resolve(r) + path.sep));
		if (!inside && !this.outside.has(abs)) {
			this.outside.set(abs, this.watch(new vscode.RelativePattern(vscode.Uri.file(abs), '*')));
		}
	}

	dispose(): void {
		clearInterval(this.poll);
		this.timers.forEach((t) => clearTimeout(t));
		vscode.Disposable.from(...this.folderWatchers, ...this.outside.values()).dispose();
		this.changed.dispose();
	}

	private async refresh(dir: string): Promise<void> {
		try {
			const c = await this.model.refreshDir(dir);
			if (c !== null) {
				this.deliver([c]);
			}
		} catch (err) {
			this.log.error(`dashboard: reading ${dir} failed: ${(err as Error).message}`);
		}
	}

	private onFile(uri: vscode.Uri): void {
		const dir = this.model.runDirFor(uri.fsPath);
		if (dir === null || this.timers.has(dir)) {
			return;
		}
		this.timers.set(
			dir,
			setTimeout(() => {
				this.timers.delete(dir);
				void this.refresh(dir);
			}, COALESCE_MS),
		);
	}

	private watch(pattern: vscode.GlobPattern): vscode.Disposable {
		const w = vscode.workspace.createFileSystemWatcher(pattern);
		const on = (uri: vscode.Uri): void => this.onFile(uri);
		return vscode.Disposable.from(w, w.onDidCreate(on), w.onDidChange(on), w.onDidDelete(on));
	}

	private watchFolders(): void {
		vscode.Disposable.from(...this.folderWatchers).dispose();
		this.folderWatchers = (vscode.workspace.workspaceFolders ?? []).map((f) => this.watch(new vscode.RelativePattern(f, `${RUNS_DIR}/**`)));
	}

	private pollOnce(): void {
		const panel = DashboardPanel.current;
		if (panel === undefined || !panel.visible || this.polling) {
			return;
		}
		this.polling = true;
		void (async () => {
			try {
				this.deliver([...(await this.model.discover()), ...(await this.model.refreshAll())]);
			} catch (err) {
				this.log.error(`dashboard: poll failed: ${(err as Error).message}`);
			} finally {
				this.polling = false;
			}
		})();
	}
}

/** The run picker: the same rows as the "Analyse poisoning" picker, plus a way to open a run folder from elsewhere. */
async function pickRun(model: RunsModel, watchers: RunWatchers): Promise<string | undefined> {
	await model.discover();
	type Item = vscode.QuickPickItem & { dir?: string };
	const items: Item[] = toPickItems(await findRuns()).map(({ run, ...item }) => ({ ...item, dir: run.dir }));
	items.push({ label: '$(folder-opened) Browse for a run folder…' });
	const choice = await vscode.window.showQuickPick(items, { title: 'Poison Lens: open a run', placeHolder: 'Pick a run (folders under .poison-lens/runs)', matchOnDetail: true });
	if (choice === undefined) {
		return undefined;
	}
	if (choice.dir !== undefined) {
		return choice.dir;
	}
	const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Open run' });
	const dir = picked?.[0]?.fsPath;
	if (dir !== undefined) {
		watchers.watchOutside(dir);
	}
	return dir;
}

/**
 * Registers the dashboard's serializer and watchers; everything is disposed with the extension.
 * @param context the extension context
 */
export function registerDashboard(context: vscode.ExtensionContext): Dashboard {
	const log = vscode.window.createOutputChannel('Poison Lens Dashboard', { log: true });
	const model = new RunsModel(runRoots, maxPoints);
	const watchers = new RunWatchers(model, log);
	context.subscriptions.push(log, watchers, vscode.workspace.onDidChangeWorkspaceFolders(() => watchers.foldersChanged()));
	const host: DashboardHost = { extensionUri: context.extensionUri, model, log, pickRun: () => pickRun(model, watchers) };
	context.subscriptions.push(
		vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
			async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
				await model.discover();
				const p = await DashboardPanel.revive(panel, host, state);
				const dir = model.primary;
				if (dir !== null) {
					watchers.watchOutside(dir);
				}
				context.subscriptions.push(p);
			},
		}),
		{ dispose: () => DashboardPanel.current?.dispose() },
	);
	return {
		model,
		onDidChangeRuns: watchers.onDidChange,
		async show(runDir?: string): Promise<void> {
			await model.discover();
			if (runDir !== undefined) {
				watchers.watchOutside(runDir);
			}
			await DashboardPanel.createOrShow(host, runDir);
		},
		async reveal(runDir: string, section: RevealSection): Promise<void> {
			await model.discover();
			watchers.watchOutside(runDir);
			const panel = await DashboardPanel.createOrShow(host, runDir);
			panel.post('reveal', { section });
		},
		async compare(runDir: string, otherDir: string): Promise<void> {
			await model.discover();
			watchers.watchOutside(otherDir);
			const other = await model.open(otherDir);
			watchers.watchOutside(runDir);
			const panel = await DashboardPanel.createOrShow(host, runDir);
			const primary = model.snapshot().runs.find((r) => path.resolve(r.info.dir) === path.resolve(runDir));
			panel.post('compare', { runIds: [primary?.info.id ?? '', other.info.id].filter((id) => id !== '') });
		},
	};
}
