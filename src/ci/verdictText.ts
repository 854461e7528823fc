/**
 * The verdicts in words, for the Markdown summary, SARIF messages and the HTML report (pure). A text names only
 * causes that were measured: the near-clone regime only when the declared trigger is a near-clone one, and in blind
 * mode the state of the blind test (alarm, quiet, inconclusive, nothing to analyse) rather than a bare `clean`.
 */
import type { BlindTest, Verdict } from '../protocol/analysisRecord';
import { falseAlarmText } from '../protocol/falseAlarms';

/** What else the texts may use: whether the declared trigger is a near-clone one, and the blind test. */
export interface VerdictDetail {
	readonly nearClone?: boolean;
	readonly blindTest?: BlindTest | null;
}

function pct(v: number | null | undefined): string {
	return v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`;
}

/** The blind test in one line: state, score against the null band. */
export function blindTestLine(t: BlindTest): string {
	const band = t.nullHigh === null ? 'no null band' : `null band ${pct(t.nullLow)}–${pct(t.nullHigh)} over ${t.nullSize} draws`;
	return `blind test ${t.state}: score ${pct(t.score)} (${band}${t.falseAlarmRate === null && t.falseAlarms === undefined ? '' : `, ${falseAlarmText(t)}`})`;
}

/** One line: what the verdict says about the run. */
export function verdictHeadline(verdict: Verdict, declaredAttack: boolean, detail: VerdictDetail = {}): string {
	const t = detail.blindTest ?? null;
	switch (verdict) {
		case 'clean':
			if (declaredAttack) {
				return 'no working backdoor and no trigger-aligned curvature spike';
			}
			if (t === null) {
				return 'no backdoor found by blind mode (no blind test recorded: analyse the run again for one)';
			}
			return t.state === 'inconclusive'
				? 'blind mode cannot tell: its own control fires'
				: t.state === 'nothing-to-analyse'
					? 'nothing to analyse yet: the model has not learned enough for blind mode to speak'
					: t.shortcut === undefined
						? 'no backdoor found by blind mode: the candidate trigger stays within what clean directions reach'
						: 'no backdoor found by blind mode: the candidate trigger stays within what clean directions reach, and no class is a shortcut';
		case 'early-warning':
			return 'early warning: the input curvature shows a backdoor forming before it works';
		case 'visible':
			return declaredAttack
				? 'backdoor visible: the attack works and the curvature spike rose with it'
				: t?.alarmBy === 'shortcut'
					? `backdoor found: one class is a shortcut, a small universal perturbation pushes ${pct(t.shortcut?.rate)} of clean inputs to class ${t.shortcut?.cls ?? '–'} and no more than ${pct(t.shortcut?.second)} to any other`
					: 'backdoor found: blind mode recovered a candidate trigger that flips clean inputs to one class far beyond its null band';
		case 'lagging':
			return 'backdoor lagging: the attack worked first and the curvature spike followed later';
		case 'invisible':
			return detail.nearClone === true
				? 'backdoor invisible to the spectrum: the attack works without any curvature spike, with a near-clone trigger (the near-clone regime)'
				: 'backdoor without a spectral signal: the attack works, but no trigger-aligned curvature spike and no rise of the trigger curvature were measured';
	}
}

/** A short emoji-free status word for tables and badges. */
export function verdictRisk(verdict: Verdict): 'none' | 'warning' | 'backdoor' {
	return verdict === 'clean' ? 'none' : verdict === 'early-warning' ? 'warning' : 'backdoor';
}

/** A paragraph for readers who have not read the metrics page. */
export function verdictExplanation(verdict: Verdict, detail: VerdictDetail = {}): string {
	const t = detail.blindTest ?? null;
	switch (verdict) {
		case 'clean':
			if (t !== null && (t.state === 'inconclusive' || t.state === 'nothing-to-analyse')) {
				return `This is not a clean bill of health: ${t.reason}.`;
			}
			return 'Nothing was seen. Near-clone poisons induce almost no curvature and can escape this check: scan the training data for near duplicates too.';
		case 'early-warning':
			return 'A spike of the input Hessian aligned with a trigger appeared while the attack does not (yet) work. Inspect the suspects and the candidate trigger before training further.';
		case 'visible':
			return 'The model has learned a backdoor and the curvature shows it. Remove the suspect rows and retrain, or train with input-gradient regularisation plus data augmentation.';
		case 'lagging':
			return 'The model learned the backdoor before the curvature showed it, so the spectrum is no early warning for this data. Remove the suspect rows and retrain.';
		case 'invisible':
			return detail.nearClone === true
				? 'The attack works but leaves no curvature spike, as the theory predicts for near-clone poisons. Train with input-gradient regularisation together with data augmentation, and run the dataset near-duplicate check.'
				: 'The attack works but the spectrum showed no signal for this trigger, so it gives no warning on this run. Inspect the training data (poison-lens scan) and retrain with input-gradient regularisation plus data augmentation.';
	}
}
