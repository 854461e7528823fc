import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseAnalysisFile, type BlindCheckpoint } from '../../protocol/analysisRecord';
import { MANIFEST_FILE } from '../../protocol/runFormat';
import { isBroken, summariseRun, type RunSummary } from '../../protocol/runSummary';
import type { HostAnalyser } from '../analyser';
import type { Dashboard } from '../dashboard';
import { pickRun } from './runPicker';
import type { RunStatusBar } from './statusBar';
import { verdictSentence, blindVerdictSentence } from './statusText';
import { endNotice, firstAlarm } from './alarmOnce';
import { alarmKey, showSuspects, SHOW_SUSPECTS, SHOW_TRIGGER, type BlindAlarms } from './blindAlarm';
import { ANALYSE_POISONING, OPEN_DASHBOARD } from '../commandIds';

const OPEN = 'Open dashboard';
const DEFENCE = 'Show recommended defence';
const TRUST = 'Manage Workspace Trust';

export interface RunCommandDeps {
	readonly dashboard: Dashboard;
	readonly analyser: HostAnalyser;
	readonly statusBar: RunStatusBar;
	readonly alarms: BlindAlarms;
}

/** The first alarm among the run's blind scans in its analysis.jsonl (null when none or unreadable). */
async function firstBlindAlarm(runDir: string): Promise<BlindCheckpoint | null> {
	const file = path.join(runDir, 'analysis.jsonl');
	try {
		return firstAlarm(parseAnalysisFile(await fs.promises.readFile(file, 'utf8'), file).blind);
	} catch {
		return null;
	}
}

/**
 * "Analyse poisoning": pick a run, open its dashboard (it fills in live), analyse the run in the analyser process
 * under a cancellable progress notification, then report the verdict with its plain-language reading; without a
 * declared attack, folded with the live first-alarm notification (one blind alarm, one notification: alarmOnce.ts
 * `endNotice`).
 */
async function analysePoisoning(context: vscode.ExtensionContext, { dashboard, analyser, statusBar, alarms }: RunCommandDeps, runDir?: string): Promise<string | undefined> {
	const run = runDir !== undefined ? await runAt(runDir) : await pickRun(context.extensionUri, 'Poison Lens: Analyse poisoning');
	if (!run) {
		return undefined;
	}
	await dashboard.show(run.dir);
	if (!vscode.workspace.isTrusted) {
		// Reading finished analyses is safe; starting the analyser on workspace checkpoints is not.
		const choice = await vscode.window.showWarningMessage(
			`Poison Lens analyses checkpoints only in a trusted workspace (the analyser loads model files from it). The dashboard shows what ${run.manifest.name} already has.`,
			TRUST,
		);
		if (choice === TRUST) {
			await vscode.commands.executeCommand('workbench.trust.manage');
		}
		return run.dir;
	}
	statusBar.setAnalysing(run.dir, true);
	const mark = alarms.mark();
	let result;
	try {
		// A run still training is followed live until it ends (live blind scans included when no attack is declared).
		result = await analyser.analyseRun(run.dir, 'light', { follow: run.status === 'training' });
	} catch {
		return run.dir; // the analyser already showed the error with its stderr tail
	} finally {
		statusBar.setAnalysing(run.dir, false);
	}
	if (result === undefined) {
		void vscode.window.showInformationMessage(`Poison Lens: analysis of ${run.manifest.name} cancelled; the checkpoints already analysed are kept.`);
		return run.dir;
	}
	const { verdict, lag, recommendation } = result.summary;
	// Without a declared attack the verdict is blind mode's test: say that, not the lag verdicts' words.
	const declared = result.checkpoints.some((c) => c.asr !== null);
	const blindTest = declared ? undefined : result.summary.blind?.test;
	// One blind alarm, one notification: the live first-alarm notification may already have said it.
	const key = alarmKey(run.manifest.runId, run.dir);
	const liveAlarm = blindTest === undefined ? null : await firstBlindAlarm(run.dir);
	const notice = endNotice({ finalTest: blindTest, liveAlarm, alarmShown: alarms.shownSince(key, mark) });
	if (notice.claim) {
		alarms.claim(key);
	}
	if (!notice.show) {
		return run.dir;
	}
	const reading = blindTest === undefined ? `is ${verdict}: ${verdictSentence(verdict, lag.lagEpochs)}` : `— ${blindVerdictSentence(blindTest)}`;
	const suspects = result.summary.blind?.suspectRows ?? [];
	const named = notice.alarmActions ? ` ${suspects.length} suspect training row${suspects.length === 1 ? '' : 's'}.` : '';
	const text = `Poison Lens: ${run.manifest.name} ${reading}.${named}${notice.note === null ? '' : ` ${notice.note}`} (${result.analysed} checkpoint${result.analysed === 1 ? '' : 's'} analysed on ${result.backend}.)`;
	const actions = [...(notice.alarmActions ? [SHOW_SUSPECTS, SHOW_TRIGGER] : [OPEN]), ...(recommendation ? [DEFENCE] : [])];
	const shown = verdict === 'clean' && notice.warning === null ? vscode.window.showInformationMessage(text, ...actions) : vscode.window.showWarningMessage(text, ...actions);
	void shown.then(async (choice) => {
		if (choice === OPEN) {
			await dashboard.show(run.dir);
		} else if (choice === SHOW_SUSPECTS) {
			await showSuspects({ dir: run.dir, name: run.manifest.name, suspectRows: suspects });
		} else if (choice === SHOW_TRIGGER) {
			await alarms.showTrigger(run.dir);
		} else if (choice === DEFENCE && recommendation) {
			await vscode.window.showInformationMessage('Recommended defence', { modal: true, detail: recommendation });
		}
	});
	return run.dir;
}

/** The run at a folder (the Runs view passes one), or undefined with an error shown. */
async function runAt(runDir: string): Promise<RunSummary | undefined> {
	const run = await summariseRun(path.join(runDir, MANIFEST_FILE));
	if (isBroken(run)) {
		void vscode.window.showErrorMessage(run.error);
		return undefined;
	}
	return run;
}

export function registerRunCommands(context: vscode.ExtensionContext, deps: RunCommandDeps): void {
	context.subscriptions.push(
		vscode.commands.registerCommand(ANALYSE_POISONING, (runDir?: unknown) => analysePoisoning(context, deps, typeof runDir === 'string' ? runDir : undefined)),
		// Opens on the given run (from the status bar or a link) or on the newest run; the panel switches runs itself.
		vscode.commands.registerCommand(OPEN_DASHBOARD, async (runDir?: unknown) => {
			await deps.dashboard.show(typeof runDir === 'string' ? runDir : undefined);
		}),
	);
}
