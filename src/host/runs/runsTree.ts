/**
 * The Runs view (activity bar → Poison Lens → Runs): every run folder of the workspace, live through the
 * dashboard's run model and file watchers, with its checkpoints, suspects and candidate trigger, and context
 * actions. The content comes from the pure runsTreeModel.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readManifest } from '../../protocol/runFormat';
import type { RunView } from '../../protocol/webview';
import { datasetFile, datasetRowLines } from '../../report/collect';
import type { Dashboard } from '../dashboard';
import { checkpointNodes, runChildren, runNode, suspectNodes, type RunNode } from './runsTreeModel';

export const RUNS_VIEW = 'poisonLens.runs';
/** Context key: how many runs the view lists (the welcome view shows at 0). */
const RUN_COUNT_KEY = 'poisonLens.runCount';
/** Re-read now and then, so a run that stopped writing turns from training to interrupted. */
const STALE_CHECK_MS = 30_000;
/** Safety-net poll while the view is visible: file watchers can miss or delay appends (as the dashboard's poll). */
const VISIBLE_POLL_MS = 1000;
const DEBOUNCE_MS = 150;

/** Row lines of a run's dataset, cached by file and mtime. */
interface LineCache {
	readonly file: string;
	readonly mtimeMs: number;
	readonly lines: Map<number, number>;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
	private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
	readonly onDidChangeTreeData = this.changed.event;
	private readonly disposables: vscode.Disposable[] = [this.changed];
	private timer: NodeJS.Timeout | undefined;
	private readonly lineCache = new Map<string, LineCache | null>();

	private polling = false;
	/** Set by the view: whether it is visible (the poll runs only then). */
	visible = false;

	constructor(private readonly dashboard: Dashboard) {
		this.disposables.push(dashboard.onDidChangeRuns(() => this.schedule()));
		const poll = setInterval(() => {
			if (!this.visible || this.polling) {
				return;
			}
			this.polling = true;
			void (async () => {
				try {
					const changes = [...(await dashboard.model.discover()), ...(await dashboard.model.refreshAll())];
					if (changes.length > 0) {
						this.schedule();
					}
				} catch {
					// A run folder vanishing mid-read: the next poll sees the new state.
				} finally {
					this.polling = false;
				}
			})();
		}, VISIBLE_POLL_MS);
		this.disposables.push({ dispose: () => clearInterval(poll) });
		const interval = setInterval(() => {
			void dashboard.model.refreshAll().then(() => this.schedule());
		}, STALE_CHECK_MS);
		this.disposables.push({ dispose: () => clearInterval(interval) }, { dispose: () => clearTimeout(this.timer) });
	}

	/** Coalesces bursts of file events into one redraw. */
	schedule(): void {
		clearTimeout(this.timer);
		this.timer = setTimeout(() => this.changed.fire(undefined), DEBOUNCE_MS);
	}

	/** Re-discovers runs and redraws (the view's refresh button). */
	async refresh(): Promise<void> {
		await this.dashboard.model.discover();
		await this.dashboard.model.refreshAll();
		this.lineCache.clear();
		this.changed.fire(undefined);
	}

	private views(): readonly RunView[] {
		return this.dashboard.model.snapshot().runs;
	}

	private view(dir: string): RunView | undefined {
		return this.views().find((v) => v.info.dir === dir);
	}

	getTreeItem(node: RunNode): vscode.TreeItem {
		const item = new vscode.TreeItem(
			node.label,
			node.collapsible === 'none' ? vscode.TreeItemCollapsibleState.None : node.collapsible === 'expanded' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
		);
		item.id = node.id;
		item.description = node.description;
		item.tooltip = node.tooltip;
		item.contextValue = node.contextValue;
		item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color === undefined ? undefined : new vscode.ThemeColor(node.icon.color));
		if (node.kind === 'run') {
			item.resourceUri = vscode.Uri.file(node.runDir);
		} else if (node.kind === 'suspect' && node.line !== null && node.line !== undefined) {
			const file = this.lineCache.get(node.runDir)?.file;
			if (file !== undefined) {
				item.command = { title: 'Open row', command: 'vscode.open', arguments: [vscode.Uri.file(file), { selection: new vscode.Range(node.line - 1, 0, node.line - 1, 0), preview: true }] };
			}
		} else if (node.kind === 'trigger' || node.kind === 'checkpoint') {
			item.command = { title: 'Open dashboard', command: 'poisonLens.runs.openDashboard', arguments: [node] };
		}
		return item;
	}

	async getChildren(node?: RunNode): Promise<RunNode[]> {
		if (node === undefined) {
			await this.dashboard.model.discover();
			const runs = this.views();
			void vscode.commands.executeCommand('setContext', RUN_COUNT_KEY, runs.length);
			return runs.map(runNode);
		}
		const view = this.view(node.runDir);
		if (view === undefined) {
			return [];
		}
		switch (node.kind) {
			case 'run':
				return runChildren(view);
			case 'checkpoints':
				return checkpointNodes(view);
			case 'suspects': {
				const cache = await this.lines(view);
				return suspectNodes(view, cache?.lines ?? null, cache === null ? null : path.basename(cache.file));
			}
			default:
				return [];
		}
	}

	/** The run's dataset row → line map, when its manifest names a dataset file that exists. */
	private async lines(view: RunView): Promise<LineCache | null> {
		const dir = view.info.dir;
		const cached = this.lineCache.get(dir);
		try {
			const manifest = await readManifest(dir);
			const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir))?.uri.fsPath ?? null;
			const file = datasetFile(manifest, dir, ws);
			if (file === null) {
				this.lineCache.set(dir, null);
				return null;
			}
			const mtimeMs = (await fs.promises.stat(file)).mtimeMs;
			if (cached !== undefined && cached !== null && cached.file === file && cached.mtimeMs === mtimeMs) {
				return cached;
			}
			const starts = await datasetRowLines(file);
			const wanted = view.summary?.blind?.suspectRows ?? [];
			const lines = new Map<number, number>();
			for (const r of wanted) {
				if (r >= 0 && r < starts.length) {
					lines.set(r, starts[r]);
				}
			}
			const entry = { file, mtimeMs, lines };
			this.lineCache.set(dir, entry);
			return entry;
		} catch {
			this.lineCache.set(dir, null);
			return null;
		}
	}

	dispose(): void {
		this.disposables.forEach((d) => {
			d.dispose();
		});
	}
}
