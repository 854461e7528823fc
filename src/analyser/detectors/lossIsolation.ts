/**
 * Loss-based isolation as in Anti-Backdoor Learning (Li et al., NeurIPS 2021): backdoor examples are
 * learned much faster than clean ones, so early in training their loss is the lowest; ABL isolates
 * the p = 1 % of training examples with the lowest loss. (ABL sharpens the gap with a local gradient
 * ascent loss during its own training; a monitoring tool cannot change the user's training, so the
 * plain cross-entropy of each training-sample row under the run's early checkpoints is used:
 * checkpoints within the first epoch, averaged.)
 *
 * Row score: −(mean early loss). Cut: the lowest-loss `isolationRate` of the sample (paper: 1 %).
 * The paper has no run-level test; ours (a priori): poisons share one training label, so the
 * isolated set concentrates in one label: run score = max over labels of (share of the isolated set
 * with that label − share of the sample with that label); alarm when ≥ {@link LOSS_RUN_ALARM}.
 */
import { groupByLabel, type DetectorResult } from './common';

/** Run alarm threshold on the label concentration of the isolated set (a priori, not tuned). */
export const LOSS_RUN_ALARM = 0.5;

/** Per-row cross-entropy −log p[label] from softmax probabilities (n×C), clamped at 1e-12. */
export function crossEntropyRows(probs: ArrayLike<number>, n: number, classes: number, labels: ArrayLike<number>): Float64Array {
	const out = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		out[i] = -Math.log(Math.max(1e-12, probs[i * classes + labels[i]]));
	}
	return out;
}

/**
 * @param losses per checkpoint, per row losses (all the same length n)
 * @throws Error when there is no loss vector or the lengths differ
 */
export function lossIsolation(losses: readonly Float64Array[], labels: ArrayLike<number>, options: { isolationRate?: number } = {}): DetectorResult {
	if (losses.length === 0) {
		throw new Error('lossIsolation: no checkpoint losses');
	}
	const n = labels.length;
	for (const l of losses) {
		if (l.length !== n) {
			throw new Error(`lossIsolation: ${l.length} losses for ${n} rows`);
		}
	}
	const rowScores = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		let s = 0;
		for (const l of losses) {
			s += l[i];
		}
		rowScores[i] = -s / losses.length;
	}
	const rate = options.isolationRate ?? 0.01;
	const k = Math.max(1, Math.round(rate * n));
	const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rowScores[b] - rowScores[a]);
	const flagged = order.slice(0, k);
	const iso = new Map<number, number>();
	for (const i of flagged) {
		iso.set(labels[i], (iso.get(labels[i]) ?? 0) + 1);
	}
	const classes: Record<string, number>[] = [];
	let runScore = -Infinity;
	for (const [label, idx] of groupByLabel(labels)) {
		const c = (iso.get(label) ?? 0) / k - idx.length / n;
		runScore = Math.max(runScore, c);
		classes.push({ label, count: idx.length, isolated: iso.get(label) ?? 0, concentration: c });
	}
	return { detector: 'loss-isolation', rowScores, flagged, runScore, alarm: runScore >= LOSS_RUN_ALARM, classes };
}
