import * as vscode from 'vscode';
import { pickRun } from './runPicker';

export const ANALYSE_POISONING = 'poisonLens.analysePoisoning';
export const OPEN_DASHBOARD = 'poisonLens.openDashboard';

export function registerRunCommands(context: vscode.ExtensionContext): void {
	context.subscriptions.push(
		vscode.commands.registerCommand(ANALYSE_POISONING, async () => {
			const run = await pickRun(context.extensionUri, 'Poison Lens: Analyse poisoning');
			if (run) {
				await vscode.window.showTextDocument(vscode.Uri.file(`${run.dir}/manifest.json`), { preview: true });
			}
			return run?.dir;
		}),
		vscode.commands.registerCommand(OPEN_DASHBOARD, async () => {
			const run = await pickRun(context.extensionUri, 'Poison Lens: Open training dashboard');
			return run?.dir;
		}),
	);
}
