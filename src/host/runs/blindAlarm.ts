/**
 * Live blind monitoring in the editor: one notification per run on its first blind alarm, with "Show suspects" (a
 * quick pick of the suspect rows that opens the dataset file at the row, or the dataset file with its diagnostics)
 * and "Show candidate trigger" (the dashboard at the candidate trigger's image); and, when a run's suspects change,
 * a rescan of the open dataset file it trained on so its diagnostics follow. Fed by the dashboard's run watchers.
 * The end-of-analysis notification (commands.ts) asks the returned {@link BlindAlarms} whether this alarm was already
 * announced, so one blind alarm makes one notification (alarmOnce.ts `endNotice`).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readManifest } from '../../protocol/runFormat';
import type { RunView } from '../../protocol/webview';
import { datasetFile, datasetRowLines } from '../../report/collect';
import type { Dashboard } from '../dashboard';
import { alarmMessage, AlarmOnce } from './alarmOnce';

const NOTIFIED_KEY = 'poisonLens.blindAlarms.notified';
export const SHOW_SUSPECTS = 'Show suspects';
export const SHOW_TRIGGER = 'Show candidate trigger';
/** Suspects listed in the quick pick (the report and the Runs view list the rest). */
const MAX_PICK = 500;

/** The key a run is remembered by: its id and folder. */
export function alarmKey(runId: string, dir: string): string {
	return `${runId}@${path.resolve(dir)}`;
}

function keyOf(run: RunView): string {
	return alarmKey(run.info.id, run.info.dir);
}

/** The suspects of a run as "Show suspects" lists them. */
export interface SuspectList {
	readonly dir: string;
	readonly name: string;
	readonly suspectRows: readonly number[];
}

/** What the end-of-analysis notification needs from the first-alarm notifications. */
export interface BlindAlarms {
	/** A mark to take when an analysis starts (see {@link shownSince}). */
	mark(): number;
	/** True when the run's first-alarm notification was shown after `mark`. */
	shownSince(key: string, mark: number): boolean;
	/** Counts the run as notified (its alarm was announced by another notification). */
	claim(key: string): void;
	/** "Show candidate trigger": the dashboard at the run's candidate trigger. */
	showTrigger(dir: string): Promise<void>;
}

async function runDatasetFile(dir: string): Promise<string | null> {
	try {
		const manifest = await readManifest(dir);
		const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir))?.uri.fsPath ?? null;
		return datasetFile(manifest, dir, ws);
	} catch {
		return null;
	}
}

/** "Show suspects": the suspect rows in a quick pick; a pick opens the dataset file at the row. */
export async function showSuspects(run: SuspectList): Promise<void> {
	const rows = run.suspectRows;
	const file = await runDatasetFile(run.dir);
	let lines: Int32Array | null = null;
	if (file !== null) {
		try {
			lines = await datasetRowLines(file);
		} catch {
			lines = null;
		}
	}
	type Item = vscode.QuickPickItem & { line: number | null; problems?: boolean };
	const name = file === null ? null : path.basename(file);
	const items: Item[] = [];
	if (file !== null) {
		items.push({ label: `$(file) Open ${name ?? ''} with its diagnostics`, description: 'the Problems panel lists what Poison Lens found in the file', line: null, problems: true });
	}
	for (const r of rows.slice(0, MAX_PICK)) {
		const line = lines !== null && r >= 0 && r < lines.length ? lines[r] : null;
		items.push({ label: `$(bug) row ${r}`, description: line !== null && name !== null ? `${name}:${line}` : name === null ? 'the dataset file was not found in the workspace' : 'past the end of the file', line });
	}
	if (rows.length === 0) {
		void vscode.window.showInformationMessage(`Poison Lens: ${run.name} has no suspect rows yet (its newest blind scan names none).`);
		return;
	}
	const picked = await vscode.window.showQuickPick(items, {
		title: `Poison Lens: ${rows.length} suspect training row${rows.length === 1 ? '' : 's'} of ${run.name}${rows.length > MAX_PICK ? ` (first ${MAX_PICK})` : ''}`,
		placeHolder: file === null ? 'The run names no dataset file in the workspace: rows are training-set row numbers' : `Pick a row to open it in ${name ?? ''}`,
		matchOnDescription: true,
	});
	if (picked === undefined || file === null) {
		return;
	}
	const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
	if (picked.problems === true) {
		await vscode.window.showTextDocument(doc);
		await vscode.commands.executeCommand('workbench.actions.view.problems');
		return;
	}
	if (picked.line !== null) {
		const pos = new vscode.Position(Math.max(0, picked.line - 1), 0);
		await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
	}
}

/** Rescans the open dataset documents a run trained on, so their diagnostics follow the run's new suspects. */
async function refreshDiagnostics(dir: string): Promise<void> {
	const file = await runDatasetFile(dir);
	if (file === null) {
		return;
	}
	for (const d of vscode.workspace.textDocuments) {
		if (d.uri.scheme === 'file' && path.resolve(d.uri.fsPath) === path.resolve(file)) {
			await vscode.commands.executeCommand('poisonLens.dataset.rescan', d.uri.toString());
		}
	}
}

/** Registers the first-alarm notification and the diagnostics refresh on the dashboard's run changes. */
export function registerBlindAlarms(context: vscode.ExtensionContext, dashboard: Dashboard): BlindAlarms {
	const once = new AlarmOnce(context.workspaceState.get<string[]>(NOTIFIED_KEY, []));
	const suspectsSeen = new Map<string, string>();
	context.subscriptions.push(
		dashboard.onDidChangeRuns((changes) => {
			for (const c of changes) {
				if (c.kind !== 'updated') {
					continue;
				}
				const run = c.run;
				const alarm = once.take({ key: keyOf(run), status: run.info.status, blind: run.blind ?? [] });
				if (alarm !== null) {
					void context.workspaceState.update(NOTIFIED_KEY, once.remembered);
					void vscode.window.showWarningMessage(alarmMessage(run.info.name, alarm), SHOW_SUSPECTS, SHOW_TRIGGER).then(async (choice) => {
						// The run may have moved on since the alarm: act on its newest state.
						const now = dashboard.model.snapshot().runs.find((r) => keyOf(r) === keyOf(run)) ?? run;
						if (choice === SHOW_SUSPECTS) {
							await showSuspects({ dir: now.info.dir, name: now.info.name, suspectRows: now.summary?.blind?.suspectRows ?? [] });
						} else if (choice === SHOW_TRIGGER) {
							await dashboard.reveal(run.info.dir, 'candidateTrigger');
						}
					});
				}
				const rows = run.summary?.blind?.suspectRows;
				if (rows !== undefined && rows !== null && (run.blind ?? []).length > 0) {
					const sig = rows.join(',');
					const before = suspectsSeen.get(run.info.dir);
					suspectsSeen.set(run.info.dir, sig);
					if (before !== undefined && before !== sig) {
						void refreshDiagnostics(run.info.dir);
					}
				}
			}
		}),
	);
	return {
		mark: () => once.mark(),
		shownSince: (key, mark) => once.shownSince(key, mark),
		claim: (key) => {
			once.claim(key);
			void context.workspaceState.update(NOTIFIED_KEY, once.remembered);
		},
		showTrigger: (dir) => dashboard.reveal(dir, 'candidateTrigger'),
	};
}
