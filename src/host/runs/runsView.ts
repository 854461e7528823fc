/**
 * Registers the Runs view and its commands: refresh, Analyse, Open dashboard, Compare with…, Reveal in Explorer,
 * Delete run (after a modal confirmation), Export run report, and the welcome buttons' Run the demo and Open docs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { version } from '../../../package.json';
import { RUNS_DIR } from '../../protocol/runFormat';
import { collectReport } from '../../report/collect';
import { buildReportHtml } from '../../report/html';
import type { Dashboard } from '../dashboard';
import { ANALYSE_POISONING } from '../commandIds';
import { findRuns, openInstrumentationHelp, pickRun, toPickItems } from './runPicker';
import { RUNS_VIEW, RunsTreeProvider } from './runsTree';
import type { RunNode } from './runsTreeModel';

export const EXPORT_REPORT = 'poisonLens.exportReport';
export const RUN_DEMO = 'poisonLens.runDemo';
export const OPEN_DOCS = 'poisonLens.openDocs';

function isNode(v: unknown): v is RunNode {
	return typeof v === 'object' && v !== null && typeof (v as RunNode).runDir === 'string' && typeof (v as RunNode).kind === 'string';
}

/** The run folder a command was invoked on: a tree node, a folder Uri, a path string; else undefined. */
function runDirOf(arg: unknown): string | undefined {
	if (isNode(arg)) {
		return arg.runDir;
	}
	if (arg instanceof vscode.Uri) {
		return arg.fsPath;
	}
	return typeof arg === 'string' ? arg : undefined;
}

/** Writes a run's report where the user chooses and offers to open it. */
async function exportReport(extensionUri: vscode.Uri, arg: unknown): Promise<string | undefined> {
	let dir = runDirOf(arg);
	if (dir === undefined) {
		dir = (await pickRun(extensionUri, 'Poison Lens: Export run report'))?.dir;
		if (dir === undefined) {
			return undefined;
		}
	}
	const runDir = dir;
	const target = await vscode.window.showSaveDialog({
		defaultUri: vscode.Uri.file(path.join(runDir, 'report.html')),
		filters: { 'HTML report': ['html'] },
		title: 'Export Poison Lens run report',
		saveLabel: 'Export report',
	});
	if (target === undefined) {
		return undefined;
	}
	try {
		const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(runDir))?.uri.fsPath ?? null;
		const html = buildReportHtml(await collectReport(runDir, { workspaceRoot: ws, toolVersion: version }));
		await vscode.workspace.fs.writeFile(target, Buffer.from(html, 'utf8'));
	} catch (err) {
		void vscode.window.showErrorMessage(`Poison Lens: cannot export the report of ${runDir}: ${(err as Error).message}`);
		return undefined;
	}
	const OPEN_BROWSER = 'Open in browser';
	const REVEAL = 'Reveal in Explorer';
	void vscode.window.showInformationMessage(`Poison Lens: report written to ${vscode.workspace.asRelativePath(target)} (one self-contained HTML file).`, OPEN_BROWSER, REVEAL).then(async (choice) => {
		if (choice === OPEN_BROWSER) {
			await vscode.env.openExternal(target);
		} else if (choice === REVEAL) {
			await vscode.commands.executeCommand('revealInExplorer', target);
		}
	});
	return target.fsPath;
}

/** Starts `poison-lens demo` (the bundled CLI) in a terminal, writing its run into the first workspace folder. */
function runDemo(extensionUri: vscode.Uri): vscode.Terminal | undefined {
	const folder = vscode.workspace.workspaceFolders?.[0];
	if (folder === undefined) {
		void vscode.window.showWarningMessage('Poison Lens: open a folder first; the demo writes its run folder under .poison-lens/runs in it.');
		return undefined;
	}
	const cli = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.js').fsPath;
	const terminal = vscode.window.createTerminal({
		name: 'Poison Lens demo',
		cwd: folder.uri,
		shellPath: process.execPath,
		shellArgs: [cli, 'demo', '--out', path.join(folder.uri.fsPath, RUNS_DIR)],
		// In desktop VS Code process.execPath is Electron: run it as Node.
		env: { ELECTRON_RUN_AS_NODE: '1' },
	});
	terminal.show();
	return terminal;
}

export function registerRunsView(context: vscode.ExtensionContext, dashboard: Dashboard): RunsTreeProvider {
	const provider = new RunsTreeProvider(dashboard);
	const view = vscode.window.createTreeView(RUNS_VIEW, { treeDataProvider: provider, showCollapseAll: true });
	provider.visible = view.visible;
	context.subscriptions.push(view.onDidChangeVisibility((e) => (provider.visible = e.visible)));
	context.subscriptions.push(
		provider,
		view,
		vscode.commands.registerCommand('poisonLens.runs.refresh', () => provider.refresh()),
		vscode.commands.registerCommand('poisonLens.runs.analyse', (arg: unknown) => vscode.commands.executeCommand(ANALYSE_POISONING, runDirOf(arg))),
		vscode.commands.registerCommand('poisonLens.runs.openDashboard', (arg: unknown) => dashboard.show(runDirOf(arg))),
		vscode.commands.registerCommand('poisonLens.runs.compareWith', async (arg: unknown) => {
			const dir = runDirOf(arg);
			if (dir === undefined) {
				return;
			}
			const others = (await findRuns()).filter((r) => path.resolve(r.dir) !== path.resolve(dir));
			if (others.length === 0) {
				void vscode.window.showInformationMessage('Poison Lens: this is the only run in the workspace; there is nothing to compare it with.');
				return;
			}
			type Item = vscode.QuickPickItem & { dir: string };
			const items: Item[] = toPickItems(others).map(({ run, ...item }) => ({ ...item, dir: run.dir }));
			const choice = await vscode.window.showQuickPick(items, { title: `Compare ${path.basename(dir)} with…`, placeHolder: 'Pick the other run', matchOnDetail: true });
			if (choice !== undefined) {
				await dashboard.compare(dir, choice.dir);
			}
		}),
		vscode.commands.registerCommand('poisonLens.runs.reveal', async (arg: unknown) => {
			const dir = runDirOf(arg);
			if (dir !== undefined) {
				await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
			}
		}),
		vscode.commands.registerCommand('poisonLens.runs.delete', async (arg: unknown) => {
			const dir = runDirOf(arg);
			if (dir === undefined || !fs.existsSync(dir)) {
				return;
			}
			const name = isNode(arg) ? arg.label : path.basename(dir);
			const DELETE = 'Delete run';
			const choice = await vscode.window.showWarningMessage(
				`Delete the run "${name}"?`,
				{ modal: true, detail: `This removes the folder ${vscode.workspace.asRelativePath(dir)} with its checkpoints and analysis (to the trash where the system has one).` },
				DELETE,
			);
			if (choice !== DELETE) {
				return;
			}
			const uri = vscode.Uri.file(dir);
			try {
				await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: true });
			} catch {
				// No trash here (a remote or headless host): the user confirmed the deletion itself.
				await vscode.workspace.fs.delete(uri, { recursive: true, useTrash: false });
			}
			await dashboard.model.refreshDir(dir);
			await provider.refresh();
		}),
		vscode.commands.registerCommand(EXPORT_REPORT, (arg: unknown) => exportReport(context.extensionUri, arg)),
		vscode.commands.registerCommand(RUN_DEMO, () => runDemo(context.extensionUri)),
		vscode.commands.registerCommand(OPEN_DOCS, () => openInstrumentationHelp(context.extensionUri, '')),
	);
	return provider;
}
