import * as vscode from 'vscode';
import type { Dashboard } from '../dashboard';
import { pickRun } from './runPicker';

export const ANALYSE_POISONING = 'poisonLens.analysePoisoning';
export const OPEN_DASHBOARD = 'poisonLens.openDashboard';

export function registerRunCommands(context: vscode.ExtensionContext, dashboard: Dashboard): void {
	context.subscriptions.push(
		vscode.commands.registerCommand(ANALYSE_POISONING, async () => {
			const run = await pickRun(context.extensionUri, 'Poison Lens: Analyse poisoning');
			if (run) {
				await dashboard.show(run.dir);
			}
			return run?.dir;
		}),
		// Opens on the given run (from a link or another command) or on the newest run; the panel switches runs itself.
		vscode.commands.registerCommand(OPEN_DASHBOARD, async (runDir?: unknown) => {
			await dashboard.show(typeof runDir === 'string' ? runDir : undefined);
		}),
	);
}
