/** Scoring functions of the detection benchmark (pure, unit-tested against hand-computed cases). */

/**
 * ROC AUC of `scores` against binary `truth` (Mann–Whitney U / (n₊·n₋), ties counted half). NaN scores rank lowest.
 * Returns null when one class is empty.
 */
export function auroc(scores: ArrayLike<number>, truth: ArrayLike<boolean>): number | null {
	const n = scores.length;
	if (truth.length !== n) {
		throw new Error(`auroc: ${n} scores for ${truth.length} labels`);
	}
	const items = Array.from({ length: n }, (_, i) => ({ s: Number.isNaN(scores[i]) ? -Infinity : scores[i], t: truth[i] }));
	items.sort((a, b) => a.s - b.s);
	let pos = 0;
	let rankSum = 0;
	let i = 0;
	while (i < n) {
		let j = i;
		while (j + 1 < n && items[j + 1].s === items[i].s) {
			j++;
		}
		const avgRank = (i + j) / 2 + 1;
		for (let k = i; k <= j; k++) {
			if (items[k].t) {
				pos++;
				rankSum += avgRank;
			}
		}
		i = j + 1;
	}
	const neg = n - pos;
	if (pos === 0 || neg === 0) {
		return null;
	}
	return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Precision and recall of a flagged set against the true positives among the scored rows. */
export function precisionRecall(flagged: readonly number[], truth: ReadonlySet<number>, positivesInSample: number): { precision: number | null; recall: number | null; tp: number } {
	const tp = flagged.filter((r) => truth.has(r)).length;
	return { tp, precision: flagged.length > 0 ? tp / flagged.length : null, recall: positivesInSample > 0 ? tp / positivesInSample : null };
}

/** Final excess ASR at or above which the attack "works". */
export const WORKS_AT = 0.5;

/**
 * The epoch at which the excess ASR first reaches half its final value, when the attack works
 * (final excess ≥ {@link WORKS_AT}); null otherwise.
 */
export function halfAsrEpoch(timeline: readonly { epoch: number; excessAsr: number }[]): number | null {
	if (timeline.length === 0) {
		return null;
	}
	const final = timeline[timeline.length - 1].excessAsr;
	if (!(final >= WORKS_AT)) {
		return null;
	}
	const hit = timeline.find((t) => t.excessAsr >= final / 2);
	return hit === undefined ? null : hit.epoch;
}

/** Lead time in epochs: first alarm − half-ASR epoch (negative = warned before the attack worked); null if either is missing. */
export function leadTime(alarmEpoch: number | null, halfEpoch: number | null): number | null {
	return alarmEpoch === null || halfEpoch === null ? null : alarmEpoch - halfEpoch;
}

/** Mean of the non-null values, or null. */
export function meanOf(values: readonly (number | null)[]): number | null {
	const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
	return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

/** A detector's score on one run, as the CSV stores it. */
export interface RunDetectorRow {
	readonly key: string;
	readonly split: string;
	readonly arch: string;
	readonly dataset: string;
	readonly attack: string;
	readonly benchOnly: boolean;
	readonly theta: number;
	readonly optimiser: string;
	readonly epochs: number;
	readonly seed: number;
	readonly finalExcessAsr: number;
	/** clean | works | failed */
	readonly status: 'clean' | 'works' | 'failed';
	readonly trainSeconds: number;
	readonly detector: string;
	readonly runScore: number | null;
	readonly alarm: boolean | null;
	readonly rowAuroc: number | null;
	readonly rowAurocTarget: number | null;
	readonly precision: number | null;
	readonly recall: number | null;
	readonly flagged: number;
	readonly poisonedInSample: number;
	readonly leadEpochs: number | null;
	readonly analysisSeconds: number;
}

/** Aggregate of a set of rows for one detector. */
export interface Aggregate {
	readonly runs: number;
	/** alarms / runs with a working attack */
	readonly detection: { hits: number; of: number };
	readonly falseAlarmClean: { hits: number; of: number };
	readonly falseAlarmFailed: { hits: number; of: number };
	/** ROC AUC of the run score: working-attack runs vs clean runs. */
	readonly runAuc: number | null;
	readonly rowAuroc: number | null;
	readonly rowAurocTarget: number | null;
	readonly precision: number | null;
	readonly recall: number | null;
	readonly lead: number | null;
	readonly analysisSeconds: number | null;
	readonly trainSeconds: number | null;
}

/** Aggregates one detector's rows. */
export function aggregate(rows: readonly RunDetectorRow[]): Aggregate {
	const count = (st: RunDetectorRow['status']): { hits: number; of: number } => {
		const r = rows.filter((x) => x.status === st && x.alarm !== null);
		return { hits: r.filter((x) => x.alarm === true).length, of: r.length };
	};
	const scored = rows.filter((x) => (x.status === 'works' || x.status === 'clean') && x.runScore !== null);
	const runAuc = auroc(
		scored.map((x) => x.runScore ?? NaN),
		scored.map((x) => x.status === 'works'),
	);
	const poisoned = rows.filter((x) => x.status !== 'clean');
	return {
		runs: rows.length,
		detection: count('works'),
		falseAlarmClean: count('clean'),
		falseAlarmFailed: count('failed'),
		runAuc,
		rowAuroc: meanOf(poisoned.map((x) => x.rowAuroc)),
		rowAurocTarget: meanOf(poisoned.map((x) => x.rowAurocTarget)),
		precision: meanOf(poisoned.map((x) => x.precision)),
		recall: meanOf(poisoned.map((x) => x.recall)),
		lead: meanOf(rows.filter((x) => x.status === 'works').map((x) => x.leadEpochs)),
		analysisSeconds: meanOf(rows.map((x) => x.analysisSeconds)),
		trainSeconds: meanOf(rows.map((x) => x.trainSeconds)),
	};
}
