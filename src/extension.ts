import type * as vscode from 'vscode';
import { registerAnalyser } from './host/analyser';
import { registerDashboard } from './host/dashboard';
import { registerDatasetDiagnostics } from './host/datasets';
import { registerRowScores } from './host/datasets/rowScores';
import { registerInstrumentation } from './host/instrument';
import { registerRowImageHover } from './host/datasets/imageHover';
import { registerBlindAlarms } from './host/runs/blindAlarm';
import { registerRunCommands } from './host/runs/commands';
import { registerRunStatusBar } from './host/runs/statusBar';
import { registerRunsView } from './host/runs/runsView';

/** Activation is a list of registrations and nothing else. */
export function activate(context: vscode.ExtensionContext): void {
	registerDatasetDiagnostics(context);
	const dashboard = registerDashboard(context);
	const statusBar = registerRunStatusBar(context);
	const analyser = registerAnalyser(context);
	registerRowScores(context, analyser);
	const alarms = registerBlindAlarms(context, dashboard);
	registerRunCommands(context, { dashboard, analyser, statusBar, alarms });
	registerRunsView(context, dashboard);
	registerInstrumentation(context);
	registerRowImageHover(context);
}

export function deactivate(): void {
	// Every resource is owned by context.subscriptions.
}
