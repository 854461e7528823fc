/**
 * What the status-bar item says about the workspace's runs. Pure (no `vscode`), so it is unit-tested in plain Node.
 */
import type { BlindCheckpoint, BlindState, BlindTest, Verdict } from '../../protocol/analysisRecord';
import type { RunStatus } from '../../protocol/runSummary';
import { falseAlarmText } from '../../protocol/falseAlarms';

export interface LiveRun {
	readonly dir: string;
	readonly name: string;
	readonly status: RunStatus;
	/** Verdict from the run's analysis summary, null before any analysis. */
	readonly verdict: Verdict | null;
	readonly analysing: boolean;
	/** The newest live blind scan (analysis.jsonl `kind: "blind"`), when the run has one. Optional. */
	readonly blind?: BlindCheckpoint | null;
}

/** The blind state as the status bar writes it. */
export const BLIND_STATE_TEXT: Record<BlindState, string> = {
	alarm: 'ALARM',
	quiet: 'quiet',
	inconclusive: 'inconclusive',
	'nothing-to-analyse': 'nothing to analyse',
};

function num(x: number | null): string {
	return x === null ? '–' : String(Math.round(x * 1000) / 1000);
}

/**
 * The live blind scan in words: a short part for the status-bar text and a tooltip with the score, the null band,
 * the scanned rows and the reason.
 */
export function blindStatus(b: BlindCheckpoint): { text: string; tooltip: string } {
	const t = b.test;
	const rows = b.scoredRows === null ? '' : ` over ${b.scoredRows}${b.totalRows === null ? '' : ` of ${b.totalRows}`} training rows`;
	const far = falseAlarmText(t);
	return {
		text: `blind: ${BLIND_STATE_TEXT[t.state]}`,
		tooltip: `Blind test at step ${b.step} (epoch ${b.epoch.toFixed(2)})${rows}: ${BLIND_STATE_TEXT[t.state]}. Score ${num(t.score)}, null band ${num(t.nullLow)}–${num(t.nullHigh)} (${t.nullName || 'null not named'}; ${far}). ${t.reason}.`,
	};
}

export interface StatusContent {
	readonly text: string;
	readonly tooltip: string;
	/** The run a click opens in the dashboard. */
	readonly dir: string;
	/** Verdicts that call for attention get the warning background. */
	readonly warning: boolean;
}

const VERDICT_ICON: Record<Verdict, string> = {
	clean: '$(shield)',
	'early-warning': '$(warning)',
	visible: '$(warning)',
	lagging: '$(error)',
	invisible: '$(error)',
};

/** Plain-language meaning of each verdict, for tooltips (docs/metrics.md has the definitions). */
export const VERDICT_MEANING: Record<Verdict, string> = {
	clean: 'no working backdoor and no curvature spike',
	'early-warning': 'the trigger’s curvature appeared before the attack worked',
	visible: 'the attack and its curvature spike appeared together',
	lagging: 'the attack worked before its curvature appeared',
	invisible: 'the attack works but no curvature spike shows (no spectral signal): check the dataset for near-duplicates',
};

/**
 * Chooses what to show: a run being analysed first, then a run that is training, then the run the user analysed last
 * (its verdict stays in view after the analysis ends, even when a newer run exists), then the newest run's verdict.
 * @param runs newest first
 * @param lastAnalysed folder of the run analysed last in this window, if any
 * @returns undefined when there is nothing to show (no runs)
 */
export function statusContent(runs: readonly LiveRun[], lastAnalysed: string | null = null): StatusContent | undefined {
	const newest = runs[0];
	if (newest === undefined) {
		return undefined;
	}
	const analysing = runs.find((r) => r.analysing);
	if (analysing) {
		return { text: `$(loading~spin) Poison Lens: analysing ${analysing.name}`, tooltip: `Analysing checkpoints of ${analysing.name}`, dir: analysing.dir, warning: false };
	}
	const training = runs.filter((r) => r.status === 'training');
	const focus = training[0] ?? runs.find((r) => r.dir === lastAnalysed) ?? newest;
	// A live run's blind state says more than the verdict of its last summary: it is shown instead.
	const blind = focus.blind === undefined || focus.blind === null ? null : blindStatus(focus.blind);
	const verdict = blind !== null ? ` · ${blind.text}` : focus.verdict === null ? '' : ` · ${focus.verdict}`;
	const warning = blind !== null ? focus.blind?.test.state === 'alarm' : focus.verdict !== null && focus.verdict !== 'clean';
	const meaning = focus.verdict === null ? 'not analysed yet' : VERDICT_MEANING[focus.verdict];
	const blindTip = blind === null ? '' : ` ${blind.tooltip}`;
	if (training.length > 0) {
		const more = training.length > 1 ? ` (+${training.length - 1} more)` : '';
		const icon = focus.blind?.test.state === 'alarm' ? '$(warning)' : '$(pulse)';
		return { text: `${icon} Poison Lens: ${focus.name} training${more}${verdict}`, tooltip: `${focus.name} is training: ${meaning}.${blindTip} Click to open the dashboard.`, dir: focus.dir, warning };
	}
	const icon = focus.blind?.test.state === 'alarm' ? '$(warning)' : focus.verdict === null ? '$(beaker)' : VERDICT_ICON[focus.verdict];
	return { text: `${icon} Poison Lens: ${focus.name}${verdict}`, tooltip: `${focus.name} (${focus.status}): ${meaning}.${blindTip} Click to open the dashboard.`, dir: focus.dir, warning };
}

function epochs(n: number): string {
	const v = Math.abs(n);
	return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${v === 1 ? 'epoch' : 'epochs'}`;
}

/**
 * The one-line, plain-language reading of a verdict for the notification after an analysis, e.g.
 * "the backdoor's curvature showed up 0.7 epochs before it started working".
 * @param lagEpochs signed lag (spectral step − ASR step) in epochs; negative means the spectrum led
 */
export function verdictSentence(verdict: Verdict, lagEpochs: number | null): string {
	switch (verdict) {
		case 'early-warning':
			return lagEpochs === null ? 'the backdoor’s curvature showed up before it started working' : `the backdoor’s curvature showed up ${epochs(lagEpochs)} before it started working`;
		case 'lagging':
			return lagEpochs === null ? 'the backdoor worked before its curvature showed up' : `the backdoor worked ${epochs(lagEpochs)} before its curvature showed up`;
		case 'visible':
			return 'the backdoor and its curvature spike appeared together';
		case 'invisible':
			return 'the backdoor works but leaves no curvature spike (no spectral signal): the spectrum cannot see it, check the dataset for near-duplicates';
		case 'clean':
			return 'no working backdoor and no curvature spike';
	}
}

/**
 * The notification's reading of a run analysed without a declared attack: the blind test's state and its reason
 * (the lag verdicts speak of an attack's curvature and ASR, which blind mode does not measure).
 */
export function blindVerdictSentence(test: BlindTest): string {
	return `blind test ${BLIND_STATE_TEXT[test.state]}: ${test.reason.replace(/\.$/, '')}`;
}
