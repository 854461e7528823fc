/**
 * Wires the dashboard into the extension: the run model, file watchers on `.poison-lens/runs`, a
 * light poll while the panel is visible, the panel serializer, and the run picker.
 *
 * The lead registers the command: `poisonLens.openDashboard` → `dashboard.show(runDir?)`.
 */

import * as path from 'node:path';
import * as vscode from 'vscode';
import { RUNS_DIR } from '../../protocol/runFormat';
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
 * Registers the dashboard's serializer and watchers; everything is disposed with the extension.
 * @param context the extension context
 */
export function registerDashboard(context: vscode.ExtensionContext): Dashboard {
	const log = vscode.window.createOutputChannel('Poison Lens Dashboard', { log: true });
	context.subscriptions.push(log);
	const model = new RunsModel(runRoots, maxPoints);
	const timers = new Map<string, NodeJS.Timeout>();
	const outsideWatchers = new Map<string, vscode.Disposable>();

	const changed = new vscode.EventEmitter<readonly RunChange[]>();
	context.subscriptions.push(changed);
	const deliver = (changes: readonly RunChange[]): void => {
		for (const c of changes) {
			DashboardPanel.current?.notify(c);
		}
		if (changes.length > 0) {
			changed.fire(changes);
		}
	};

	const refresh = async (dir: string): Promise<void> => {
		try {
			const c = await model.refreshDir(dir);
			if (c !== null) {
				deliver([c]);
			}
		} catch (err) {
			log.error(`dashboard: reading ${dir} failed: ${(err as Error).message}`);
		}
	};

	const onFile = (uri: vscode.Uri): void => {
		const dir = model.runDirFor(uri.fsPath);
		if (dir === null || timers.has(dir)) {
			return;
		}
		timers.set(
			dir,
			setTimeout(() => {
				timers.delete(dir);
				void refresh(dir);
			}, COALESCE_MS),
		);
	};

	const watch = (pattern: vscode.GlobPattern): vscode.Disposable => {
		const w = vscode.workspace.createFileSystemWatcher(pattern);
		return vscode.Disposable.from(w, w.onDidCreate(onFile), w.onDidChange(onFile), w.onDidDelete(onFile));
	};

	let folderWatchers: vscode.Disposable[] = [];
	const watchFolders = (): void => {
		folderWatchers.forEach((d) => {
			d.dispose();
		});
		folderWatchers = (vscode.workspace.workspaceFolders ?? []).map((f) => watch(new vscode.RelativePattern(f, `${RUNS_DIR}/**`)));
	};
	watchFolders();
	context.subscriptions.push(
		vscode.workspace.onDidChangeWorkspaceFolders(() => {
			watchFolders();
			void model.discover().then(deliver);
		}),
		{
			dispose: () => {
				folderWatchers.forEach((d) => {
					d.dispose();
				});
			},
		},
		{
			dispose: () => {
				outsideWatchers.forEach((d) => {
					d.dispose();
				});
			},
		},
		{ dispose: () => timers.forEach((t) => clearTimeout(t)) },
	);

	/** A run opened from outside the workspace gets its own watcher. */
	const watchOutside = (dir: string): void => {
		const abs = path.resolve(dir);
		const inside = runRoots().some((r) => abs.startsWith(path.resolve(r) + path.sep));
		if (!inside && !outsideWatchers.has(abs)) {
			outsideWatchers.set(abs, watch(new vscode.RelativePattern(vscode.Uri.file(abs), '*')));
		}
	};

	let polling = false;
	const poll = setInterval(() => {
		const panel = DashboardPanel.current;
		if (panel === undefined || !panel.visible || polling) {
			return;
		}
		polling = true;
		void (async () => {
			try {
				deliver([...(await model.discover()), ...(await model.refreshAll())]);
			} catch (err) {
				log.error(`dashboard: poll failed: ${(err as Error).message}`);
			} finally {
				polling = false;
			}
		})();
	}, POLL_MS);
	context.subscriptions.push({ dispose: () => clearInterval(poll) });

	const pickRun = async (): Promise<string | undefined> => {
		await model.discover();
		// The same rows as the "Analyse poisoning" picker, plus a way to open a run folder from elsewhere.
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
			watchOutside(dir);
		}
		return dir;
	};

	const host: DashboardHost = { extensionUri: context.extensionUri, model, log, pickRun };

	context.subscriptions.push(
		vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
			async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
				await model.discover();
				const p = await DashboardPanel.revive(panel, host, state);
				const dir = model.primary;
				if (dir !== null) {
					watchOutside(dir);
				}
				context.subscriptions.push(p);
			},
		}),
		{ dispose: () => DashboardPanel.current?.dispose() },
	);

	return {
		model,
		onDidChangeRuns: changed.event,
		async show(runDir?: string): Promise<void> {
			await model.discover();
			if (runDir !== undefined) {
				watchOutside(runDir);
			}
			await DashboardPanel.createOrShow(host, runDir);
		},
		async compare(runDir: string, otherDir: string): Promise<void> {
			await model.discover();
			watchOutside(otherDir);
			const other = await model.open(otherDir);
			watchOutside(runDir);
			const panel = await DashboardPanel.createOrShow(host, runDir);
			const primary = model.snapshot().runs.find((r) => path.resolve(r.info.dir) === path.resolve(runDir));
			panel.post('compare', { runIds: [primary?.info.id ?? '', other.info.id].filter((id) => id !== '') });
		},
	};
}
