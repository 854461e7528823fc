import path from 'node:path';
import * as vscode from 'vscode';
import { ANALYSIS_FILE, parseAnalysisFile } from '../../protocol/analysisRecord';
import { RUNS_DIR } from '../../protocol/runFormat';
import { readRegularFile } from '../../protocol/safeFile';
import { isBroken, type RunSummary } from '../../protocol/runSummary';
import { Disposable } from '../disposable';
import { OPEN_DASHBOARD } from '../commandIds';
import { findRuns } from './runPicker';
import { statusContent, type LiveRun } from './statusText';

const DEBOUNCE_MS = 300;
/** Re-read now and then so a run that stops writing turns from "training" to "interrupted". */
const STALE_CHECK_MS = 30_000;
/** Only the newest runs are read for their verdicts; older ones never decide what the item shows. */
const MAX_RUNS_READ = 20;

/** The verdict of the run's last summary and its newest live blind scan. */
async function readAnalysis(run: RunSummary): Promise<Pick<LiveRun, 'verdict' | 'blind'>> {
	try {
		const file = path.join(run.dir, ANALYSIS_FILE);
		const a = parseAnalysisFile((await readRegularFile(file)).toString('utf8'), file);
		return { verdict: a.summary?.verdict ?? null, blind: a.blind[a.blind.length - 1] ?? null };
	} catch {
		return { verdict: null, blind: null };
	}
}

/** The status-bar item that shows live runs: training, analysing, or the newest verdict. */
export class RunStatusBar extends Disposable {
	private readonly item = this._register(vscode.window.createStatusBarItem('poisonLens.runs', vscode.StatusBarAlignment.Left, 50));
	private readonly analysing = new Set<string>();
	/** The run analysed last in this window: its verdict stays in view once the analysis ends. */
	private lastAnalysed: string | null = null;
	private timer: NodeJS.Timeout | undefined;
	private refreshing = Promise.resolve();

	constructor() {
		super();
		this.item.name = 'Poison Lens runs';
		for (const folder of vscode.workspace.workspaceFolders ?? []) {
			const watcher = this._register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, `${RUNS_DIR}/*/{manifest.json,events.jsonl,${ANALYSIS_FILE}}`)));
			this._register(watcher.onDidCreate(() => this.schedule()));
			this._register(watcher.onDidChange(() => this.schedule()));
			this._register(watcher.onDidDelete(() => this.schedule()));
		}
		const interval = setInterval(() => this.schedule(), STALE_CHECK_MS);
		this._register({ dispose: () => clearInterval(interval) });
		this._register({ dispose: () => clearTimeout(this.timer) });
		this.schedule(0);
	}

	/** Marks a run as being analysed (the analyser flow calls this around its work). */
	setAnalysing(dir: string, on: boolean): void {
		this.lastAnalysed = path.resolve(dir);
		if (on) {
			this.analysing.add(path.resolve(dir));
		} else {
			this.analysing.delete(path.resolve(dir));
		}
		this.schedule(0);
	}

	private schedule(delay = DEBOUNCE_MS): void {
		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.refreshing = this.refreshing.then(() => this.refresh()).catch(() => undefined);
		}, delay);
	}

	private async refresh(): Promise<void> {
		const runs = (await findRuns()).filter((r): r is RunSummary => !isBroken(r)).slice(0, MAX_RUNS_READ);
		const live: LiveRun[] = await Promise.all(
			runs.map(async (r) => ({ dir: path.resolve(r.dir), name: r.manifest.name, status: r.status, ...(await readAnalysis(r)), analysing: this.analysing.has(path.resolve(r.dir)) })),
		);
		if (this.isDisposed) {
			return;
		}
		const content = statusContent(live, this.lastAnalysed);
		if (content === undefined) {
			this.item.hide();
			return;
		}
		this.item.text = content.text;
		this.item.tooltip = content.tooltip;
		this.item.command = { title: 'Open training dashboard', command: OPEN_DASHBOARD, arguments: [content.dir] };
		this.item.backgroundColor = content.warning ? new vscode.ThemeColor(content.text.includes('blind: ALARM') ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground') : undefined;
		this.item.show();
	}
}

export function registerRunStatusBar(context: vscode.ExtensionContext): RunStatusBar {
	const bar = new RunStatusBar();
	context.subscriptions.push(bar);
	return bar;
}
