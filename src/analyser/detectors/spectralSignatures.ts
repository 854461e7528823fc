/**
 * Spectral Signatures (Tran, Li & Madry, NeurIPS 2018), as in the paper's Algorithm 1: for each
 * label, the learned representations R_i (penultimate layer) of the rows with that label are
 * centred, the top right singular vector v of the centred matrix is found, and each row's outlier
 * score is the squared projection ((R_i − R̄)·v)². The rows with the top 1.5·ε·n_c scores of each
 * label are removed, ε an upper bound on the poison fraction (the defender's budget; the paper
 * uses the true ε, which a user does not know: we fix ε a priori, docs/detection.md).
 *
 * The paper has no run-level test; ours (stated a priori): per label, the share of the centred
 * energy on the top direction relative to the next one, σ₁²/σ₂², maximised over labels, alarm
 * when ≥ {@link SPECTRAL_RUN_ALARM}.
 */
import { topDirections } from '../analysis/signature';
import { centredRows, groupByLabel, type DetectorResult } from './common';

/** Options of {@link spectralSignatures}. */
export interface SpectralOptions {
	/** ε, the assumed upper bound on the poison fraction (default 0.05). */
	readonly epsilon?: number;
	/** Removal factor (paper: 1.5). */
	readonly removeFactor?: number;
	/** Labels with fewer rows are not scored (default 8). */
	readonly minClass?: number;
}

/** Run alarm when some label's σ₁²/σ₂² reaches this (a priori, not tuned). */
export const SPECTRAL_RUN_ALARM = 3;

function dot(a: ArrayLike<number>, b: ArrayLike<number>, off: number, d: number): number {
	let s = 0;
	for (let j = 0; j < d; j++) {
		s += a[off + j] * b[j];
	}
	return s;
}

/**
 * @param reps n×d representations, row-major
 * @throws Error when the sizes disagree
 */
export function spectralSignatures(reps: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>, options: SpectralOptions = {}): DetectorResult {
	if (reps.length !== n * d || labels.length !== n) {
		throw new Error(`spectralSignatures: ${reps.length} values and ${labels.length} labels for ${n} rows of ${d}`);
	}
	const eps = options.epsilon ?? 0.05;
	const factor = options.removeFactor ?? 1.5;
	const minClass = options.minClass ?? 8;
	const rowScores = new Float64Array(n).fill(NaN);
	const flagged: number[] = [];
	const classes: Record<string, number>[] = [];
	let runScore = 0;
	for (const [label, idx] of groupByLabel(labels)) {
		const m = idx.length;
		if (m < minClass) {
			classes.push({ label, count: m, removed: 0, gap: NaN });
			continue;
		}
		const c = centredRows(reps, d, idx);
		const dirs = topDirections(c, m, d, 2, 500);
		if (dirs.length === 0) {
			idx.forEach((i) => (rowScores[i] = 0));
			classes.push({ label, count: m, removed: 0, gap: NaN });
			continue;
		}
		const v = dirs[0].v;
		const scores = idx.map((_, r) => dot(c, v, r * d, d) ** 2);
		idx.forEach((i, r) => (rowScores[i] = scores[r]));
		const remove = Math.min(m, Math.floor(factor * eps * m));
		const order = idx.map((_, r) => r).sort((a, b) => scores[b] - scores[a]);
		for (let k = 0; k < remove; k++) {
			flagged.push(idx[order[k]]);
		}
		const s2 = dirs.length > 1 ? dirs[1].sigma2 : 0;
		const gap = s2 > 0 ? dirs[0].sigma2 / s2 : Infinity;
		runScore = Math.max(runScore, Number.isFinite(gap) ? gap : 0);
		classes.push({ label, count: m, removed: remove, gap });
	}
	flagged.sort((a, b) => rowScores[b] - rowScores[a]);
	return { detector: 'spectral-signatures', rowScores, flagged, runScore, alarm: runScore >= SPECTRAL_RUN_ALARM, classes };
}
