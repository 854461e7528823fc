/**
 * A rule's measured false alarms: how many clean benchmark runs it alarmed on, out of how many, and an exact
 * (Clopper–Pearson) one-sided 95 % upper bound on its false-alarm rate (pure). A count of 0 in 17 is not "0 %": its
 * bound is 16 %, and the words say so.
 */
import type { BlindTest } from './analysisRecord';

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
	if (k < 0) {
		return 0;
	}
	if (k >= n) {
		return 1;
	}
	let term = Math.pow(1 - p, n); // P(X = 0)
	let sum = term;
	for (let i = 1; i <= k; i++) {
		term *= ((n - i + 1) / i) * (p / (1 - p));
		sum += term;
	}
	return Math.min(1, sum);
}

/**
 * The exact one-sided upper confidence bound on a binomial rate after `k` events in `n` trials: the p at which
 * P(X ≤ k) = 1 − level (Clopper–Pearson). For k = 0 it is 1 − (1 − level)^(1/n). Throws on n < 1 or k outside 0…n.
 */
export function upperBound(k: number, n: number, level = 0.95): number {
	if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 0 || k > n) {
		throw new RangeError(`upperBound: need whole numbers 0 ≤ k ≤ n and n ≥ 1, got k = ${k}, n = ${n}`);
	}
	if (k === n) {
		return 1;
	}
	let lo = k / n;
	let hi = 1;
	for (let i = 0; i < 60; i++) {
		const mid = (lo + hi) / 2;
		if (binomialCdf(k, n, mid) > 1 - level) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return (lo + hi) / 2;
}

/** The false alarms of a rule on a benchmark's clean runs. */
export interface MeasuredFalseAlarms {
	readonly alarms: number;
	readonly runs: number;
	/** Exact one-sided 95 % upper bound on the rate. */
	readonly upper95: number;
	/** Where it was measured, in words (e.g. "clean held-out runs of bench:detect"). */
	readonly where: string;
}

/** Builds the record from a count (the bound computed here). */
export function measuredFalseAlarms(alarms: number, runs: number, where: string): MeasuredFalseAlarms {
	return { alarms, runs, upper95: upperBound(alarms, runs), where };
}

/** The words every surface uses: "false alarms on 0 of 24 clean held-out runs of bench:detect (95 % upper bound 11.7 %)". */
export function falseAlarmText(t: Pick<BlindTest, 'falseAlarmRate' | 'falseAlarms'>): string {
	const f = t.falseAlarms;
	if (f !== undefined) {
		return `false alarms on ${f.alarms} of ${f.runs} ${f.where} (95 % upper bound ${(100 * f.upper95).toFixed(1)} %)`;
	}
	return t.falseAlarmRate === null ? 'false-alarm rate not measured' : `false-alarm rate ${(100 * t.falseAlarmRate).toFixed(1)} % on clean benchmark runs`;
}
