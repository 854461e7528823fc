/**
 * The verdicts in words, for the Markdown summary, SARIF messages and the HTML report (pure).
 */
import type { Verdict } from '../protocol/analysisRecord';

/** One line: what the verdict says about the run. */
export function verdictHeadline(verdict: Verdict, declaredAttack: boolean): string {
	switch (verdict) {
		case 'clean':
			return declaredAttack ? 'no working backdoor and no trigger-aligned curvature spike' : 'no backdoor found by blind mode';
		case 'early-warning':
			return 'early warning: the input curvature shows a backdoor forming before it works';
		case 'visible':
			return declaredAttack
				? 'backdoor visible: the attack works and the curvature spike rose with it'
				: 'backdoor found: blind mode recovered a candidate trigger that flips clean inputs to one class';
		case 'lagging':
			return 'backdoor lagging: the attack worked first and the curvature spike followed later';
		case 'invisible':
			return 'backdoor invisible to the spectrum: the attack works without any curvature spike (near-clone regime)';
	}
}

/** A short emoji-free status word for tables and badges. */
export function verdictRisk(verdict: Verdict): 'none' | 'warning' | 'backdoor' {
	return verdict === 'clean' ? 'none' : verdict === 'early-warning' ? 'warning' : 'backdoor';
}

/** A paragraph for readers who have not read the metrics page. */
export function verdictExplanation(verdict: Verdict): string {
	switch (verdict) {
		case 'clean':
			return 'Nothing was seen. Near-clone poisons induce almost no curvature and can escape this check: scan the training data for near duplicates too.';
		case 'early-warning':
			return 'A spike of the input Hessian aligned with a trigger appeared while the attack does not (yet) work. Inspect the suspects and the candidate trigger before training further.';
		case 'visible':
			return 'The model has learned a backdoor and the curvature shows it. Remove the suspect rows and retrain, or train with input-gradient regularisation plus data augmentation.';
		case 'lagging':
			return 'The model learned the backdoor before the curvature showed it, so the spectrum is no early warning for this data. Remove the suspect rows and retrain.';
		case 'invisible':
			return 'The attack works but leaves no curvature spike. Train with input-gradient regularisation together with data augmentation, and run the dataset near-duplicate check.';
	}
}
