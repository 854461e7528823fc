/** Measured false alarms and their exact bound (src/protocol/falseAlarms.ts), against closed forms and a direct binomial sum. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binomialCdf, falseAlarmText, measuredFalseAlarms, upperBound } from '../../../src/protocol/falseAlarms';

function choose(n: number, k: number): number {
	let c = 1;
	for (let i = 1; i <= k; i++) {
		c = (c * (n - k + i)) / i;
	}
	return c;
}

test('binomialCdf equals the direct sum of C(n, i) p^i (1 − p)^(n − i)', () => {
	for (const [k, n, p] of [
		[0, 10, 0.1],
		[2, 10, 0.3],
		[5, 17, 0.25],
		[3, 40, 0.02],
	] as const) {
		let direct = 0;
		for (let i = 0; i <= k; i++) {
			direct += choose(n, i) * p ** i * (1 - p) ** (n - i);
		}
		assert.ok(Math.abs(binomialCdf(k, n, p) - direct) < 1e-12, `${k}, ${n}, ${p}`);
	}
	assert.equal(binomialCdf(-1, 5, 0.5), 0);
	assert.equal(binomialCdf(5, 5, 0.5), 1);
});

test('upperBound: k = 0 has the closed form 1 − 0.05^(1/n); k > 0 solves P(X ≤ k) = 0.05; k = n gives 1', () => {
	for (const n of [1, 5, 17, 24, 100]) {
		assert.ok(Math.abs(upperBound(0, n) - (1 - 0.05 ** (1 / n))) < 1e-12, `n = ${n}`);
	}
	for (const [k, n] of [
		[1, 10],
		[2, 11],
		[3, 40],
	] as const) {
		const u = upperBound(k, n);
		assert.ok(u > k / n && u < 1);
		assert.ok(Math.abs(binomialCdf(k, n, u) - 0.05) < 1e-9, `${k}/${n}: ${u}`);
	}
	// A published value: one event in ten trials, one-sided 95 % Clopper–Pearson upper bound 0.3942.
	assert.ok(Math.abs(upperBound(1, 10) - 0.3942) < 1e-4);
	assert.equal(upperBound(4, 4), 1);
	assert.throws(() => upperBound(3, 2), /0 ≤ k ≤ n/);
	assert.throws(() => upperBound(0, 0), /n ≥ 1/);
});

test('the words: a count with its bound when measured, the rate alone from older records, "not measured" otherwise', () => {
	const m = measuredFalseAlarms(0, 17, 'clean held-out runs of bench:detect');
	assert.equal(falseAlarmText({ falseAlarmRate: 0, falseAlarms: m }), 'false alarms on 0 of 17 clean held-out runs of bench:detect (95 % upper bound 16.2 %)');
	assert.equal(falseAlarmText({ falseAlarmRate: 0.04 }), 'false-alarm rate 4.0 % on clean benchmark runs');
	assert.equal(falseAlarmText({ falseAlarmRate: null }), 'false-alarm rate not measured');
});
