/**
 * Shared shape of the baseline detectors: every detector gives a suspicion score per
 * training-sample row (higher = more suspect), the rows it flags at its own cut, and a run-level
 * score with an alarm. Pure code, no tfjs.
 */

/** What one detector says about one run's training sample. */
export interface DetectorResult {
	/** Detector id, e.g. `spectral-signatures`. */
	readonly detector: string;
	/** Per row of the training sample (same order), higher = more suspect; NaN where not scored. */
	readonly rowScores: Float64Array;
	/** Row positions (into the training sample) flagged at the detector's own cut. */
	readonly flagged: number[];
	/** Run-level score, higher = more likely poisoned. */
	readonly runScore: number;
	/** The detector's own run-level alarm (its a-priori rule, documented in docs/detection.md). */
	readonly alarm: boolean;
	/** Per-class details for people. */
	readonly classes: readonly Record<string, number>[];
}

/** Row positions grouped by label, labels ascending. */
export function groupByLabel(labels: ArrayLike<number>): Map<number, number[]> {
	const members = new Map<number, number[]>();
	for (let i = 0; i < labels.length; i++) {
		const list = members.get(labels[i]);
		if (list === undefined) {
			members.set(labels[i], [i]);
		} else {
			list.push(i);
		}
	}
	return new Map([...members.entries()].sort((a, b) => a[0] - b[0]));
}

/** The rows `idx` of an n×d row-major matrix, centred (float64, m×d). */
export function centredRows(vectors: ArrayLike<number>, d: number, idx: readonly number[]): Float64Array {
	const m = idx.length;
	const c = new Float64Array(m * d);
	const mean = new Float64Array(d);
	idx.forEach((i, r) => {
		for (let j = 0; j < d; j++) {
			const v = vectors[i * d + j];
			c[r * d + j] = v;
			mean[j] += v / m;
		}
	});
	for (let r = 0; r < m; r++) {
		for (let j = 0; j < d; j++) {
			c[r * d + j] -= mean[j];
		}
	}
	return c;
}

