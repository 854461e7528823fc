import * as vscode from 'vscode';
import { MANIFEST_GLOB } from '../../protocol/runFormat';
import { isBroken, sortRuns, summariseRun, type BrokenRun, type RunStatus, type RunSummary } from '../../protocol/runSummary';

/** README anchor of the section that shows how to instrument a training script. */
export const INSTRUMENT_SECTION = 'instrument-a-training-script';
export const HOW_TO_INSTRUMENT = 'How to instrument a training script';

const STATUS_ICON: Record<RunStatus, string> = {
	created: '$(circle-outline)',
	training: '$(sync~spin)',
	finished: '$(pass)',
	failed: '$(error)',
	interrupted: '$(debug-pause)',
};

export interface RunPickItem extends vscode.QuickPickItem {
	readonly run: RunSummary | BrokenRun;
}

/** Finds every run folder in the open workspace folders (`**\/.poison-lens/runs/*\/manifest.json`). */
export async function findRuns(token?: vscode.CancellationToken): Promise<(RunSummary | BrokenRun)[]> {
	const files = await vscode.workspace.findFiles(MANIFEST_GLOB, '**/node_modules/**', undefined, token);
	const runs = await Promise.all(files.map((uri) => summariseRun(uri.fsPath)));
	const good = sortRuns(runs.filter((r): r is RunSummary => !isBroken(r)));
	const broken = runs.filter(isBroken);
	return [...good, ...broken];
}

function formatDate(iso: string): string {
	const d = new Date(iso);
	const pad = (n: number): string => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Builds the quick-pick rows: name, then date and status, then the run's folder relative to the workspace. */
export function toPickItems(runs: readonly (RunSummary | BrokenRun)[]): RunPickItem[] {
	return runs.map((run) => {
		const where = vscode.workspace.asRelativePath(run.dir);
		if (isBroken(run)) {
			return { run, label: `$(warning) ${where}`, description: 'unreadable run', detail: run.error };
		}
		return {
			run,
			label: run.manifest.name,
			description: `${formatDate(run.manifest.createdAt)} · ${STATUS_ICON[run.status]} ${run.status}`,
			detail: where,
		};
	});
}

/**
 * Lets the user choose a run. With no runs in the workspace it explains how to create one and offers the README
 * section on instrumenting a training script.
 * @returns the chosen run, or undefined when there is none or the user dismissed the picker
 */
export async function pickRun(extensionUri: vscode.Uri, title: string): Promise<RunSummary | undefined> {
	const runs = await findRuns();
	if (runs.length === 0) {
		const choice = await vscode.window.showInformationMessage(
			'No Poison Lens runs in this workspace yet. Add the Poison Lens SDK callback to a TensorFlow.js training script: each training run then writes a run folder under .poison-lens/runs.',
			HOW_TO_INSTRUMENT,
		);
		if (choice === HOW_TO_INSTRUMENT) {
			await openInstrumentationHelp(extensionUri);
		}
		return undefined;
	}
	const picked = await vscode.window.showQuickPick(toPickItems(runs), {
		title,
		placeHolder: `Choose a training run (${runs.length} found)`,
		matchOnDescription: true,
		matchOnDetail: true,
	});
	if (!picked) {
		return undefined;
	}
	if (isBroken(picked.run)) {
		void vscode.window.showErrorMessage(picked.run.error);
		await vscode.window.showTextDocument(vscode.Uri.file(`${picked.run.dir}/manifest.json`));
		return undefined;
	}
	return picked.run;
}

/** Opens the extension's README in the Markdown preview, at `section` (the instrumentation section by default; '' for the top). */
export async function openInstrumentationHelp(extensionUri: vscode.Uri, section: string = INSTRUMENT_SECTION): Promise<void> {
	// vsce stores the README as `readme.md` inside a VSIX; a development checkout has `README.md`.
	for (const name of ['README.md', 'readme.md']) {
		const readme = vscode.Uri.joinPath(extensionUri, name);
		try {
			await vscode.workspace.fs.stat(readme);
		} catch {
			continue;
		}
		await vscode.commands.executeCommand('markdown.showPreview', section === '' ? readme : readme.with({ fragment: section }));
		return;
	}
	void vscode.window.showErrorMessage(`Poison Lens: the README is missing from ${extensionUri.fsPath}; see docs/sdk.md in the repository.`);
}
