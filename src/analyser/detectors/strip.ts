/**
 * STRIP (Gao et al., ACSAC 2019): an input carrying a trigger keeps its (target) prediction when
 * superimposed with other clean inputs, so the entropy of its predictions over N superimpositions
 * is low; a clean input's prediction scatters. Superimposition as in the paper's code: the pixel sum
 * of the two images, saturated to the valid range [0, 1]. The defender holds clean held-out inputs
 * (here the run's probe set): their own entropies, each superimposed with other probes, give the
 * clean distribution; the paper fits a normal to it and sets the detection boundary at a chosen
 * false-rejection rate (FRR 1 % here).
 *
 * Row score: −(mean entropy over the N superimpositions). Cut: entropy below the boundary.
 * Run score (Gao et al. use STRIP at run time on incoming inputs; over a training sample the natural
 * run-level question is whether more rows fall below the boundary than the FRR allows): the share of
 * the sample below the boundary, in the label where that share is highest; alarm when it exceeds
 * {@link STRIP_RUN_ALARM} (a priori, not tuned).
 */
import { groupByLabel, type DetectorResult } from './common';

/** Run alarm when some label has more than this share of rows under the 1 %-FRR boundary. */
export const STRIP_RUN_ALARM = 0.05;

/** z of the normal's 1 % lower tail. */
const Z_FRR_1PCT = 2.3263478740408408;

/** Shannon entropy (nats) of each row of an n×C probability matrix. */
export function entropyRows(probs: ArrayLike<number>, n: number, classes: number): Float64Array {
	const out = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		let h = 0;
		for (let c = 0; c < classes; c++) {
			const p = probs[i * classes + c];
			if (p > 0) {
				h -= p * Math.log(p);
			}
		}
		out[i] = h;
	}
	return out;
}

/** The boundary at a false-rejection rate from a normal fitted to the clean entropies: μ − z·σ. */
export function stripBoundary(cleanEntropies: ArrayLike<number>, z = Z_FRR_1PCT): number {
	const n = cleanEntropies.length;
	if (n < 2) {
		throw new Error(`stripBoundary: needs at least 2 clean entropies, got ${n}`);
	}
	let mu = 0;
	for (let i = 0; i < n; i++) {
		mu += cleanEntropies[i] / n;
	}
	let v = 0;
	for (let i = 0; i < n; i++) {
		v += (cleanEntropies[i] - mu) ** 2 / (n - 1);
	}
	return mu - z * Math.sqrt(v);
}

/**
 * @param rowEntropies mean entropy over N superimpositions of each training-sample row
 * @param cleanEntropies the same for clean held-out inputs
 */
export function strip(rowEntropies: Float64Array, cleanEntropies: ArrayLike<number>, labels: ArrayLike<number>): DetectorResult {
	if (rowEntropies.length !== labels.length) {
		throw new Error(`strip: ${rowEntropies.length} entropies for ${labels.length} labels`);
	}
	const boundary = stripBoundary(cleanEntropies);
	const rowScores = rowEntropies.map((h) => -h);
	const flagged: number[] = [];
	rowEntropies.forEach((h, i) => {
		if (h < boundary) {
			flagged.push(i);
		}
	});
	flagged.sort((a, b) => rowScores[b] - rowScores[a]);
	const classes: Record<string, number>[] = [];
	let runScore = 0;
	for (const [label, idx] of groupByLabel(labels)) {
		const below = idx.filter((i) => rowEntropies[i] < boundary).length;
		const share = below / idx.length;
		runScore = Math.max(runScore, share);
		classes.push({ label, count: idx.length, below, share });
	}
	return { detector: 'strip', rowScores, flagged, runScore, alarm: runScore > STRIP_RUN_ALARM, classes: [...classes, { boundary }] };
}
