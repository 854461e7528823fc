import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	blindLine,
	dueCheckpoint,
	epochMs,
	FIRST_SCAN_ROWS,
	FIRST_SCAN_SAMPLES,
	HARD_LIMIT_FACTOR,
	MIN_LIVE_SAMPLES,
	parseLiveBlindEvery,
	planScan,
	blindTestOf,
	scanCostOf,
	scanIntervalMs,
	stopReason,
	type ScanCost,
} from '../../../../src/analyser/analysis/liveBlind';
import type { BlindResult } from '../../../../src/analyser/analysis/blind';

/** Checkpoints every 50 steps, 313 steps per epoch, plus the epoch ends (the demo's schedule). */
function demoCheckpoints(lastStep: number): { step: number; epoch: number }[] {
	const steps = new Set<number>();
	for (let s = 0; s <= lastStep; s += 50) {
		steps.add(s);
	}
	for (let e = 313; e <= lastStep; e += 313) {
		steps.add(e);
	}
	return [...steps].sort((a, b) => a - b).map((step) => ({ step, epoch: step / 313 }));
}

const noCost: ScanCost = { msPerRow: null, msPerSample: null, lastOverran: false, lastSamples: null, lastRows: null };

describe('live blind scheduling', () => {
	test('"epoch": the first scan waits for epoch 1, then one scan per new epoch on the newest checkpoint', () => {
		assert.equal(dueCheckpoint(demoCheckpoints(300), null, 'epoch'), null, 'epoch 0: nothing to scan yet');
		assert.deepEqual(dueCheckpoint(demoCheckpoints(313), null, 'epoch'), { step: 313, epoch: 1 });
		// Analysis fell behind: the newest checkpoint is scanned, not the epoch's first.
		assert.deepEqual(dueCheckpoint(demoCheckpoints(450), null, 'epoch'), { step: 450, epoch: 450 / 313 });
		const last = { step: 313, epoch: 1 };
		assert.equal(dueCheckpoint(demoCheckpoints(600), last, 'epoch'), null, 'still epoch 1');
		assert.deepEqual(dueCheckpoint(demoCheckpoints(626), last, 'epoch'), { step: 626, epoch: 2 });
		assert.equal(dueCheckpoint(demoCheckpoints(626), { step: 626, epoch: 2 }, 'epoch'), null, 'nothing newer');
		assert.equal(dueCheckpoint([], null, 'epoch'), null);
	});

	test('"every N": the N-th checkpoint after the last scanned one', () => {
		const cps = demoCheckpoints(1000);
		assert.deepEqual(dueCheckpoint(cps.slice(0, 2), null, 3), null);
		assert.deepEqual(dueCheckpoint(cps.slice(0, 3), null, 3), cps[2]);
		assert.equal(dueCheckpoint(cps.slice(0, 5), cps[2], 3), null, 'two after the last scan');
		assert.deepEqual(dueCheckpoint(cps.slice(0, 6), cps[2], 3), cps[5]);
		assert.deepEqual(dueCheckpoint(cps.slice(0, 1), null, 1), cps[0]);
		// Order of the list does not matter.
		assert.deepEqual(dueCheckpoint([...cps.slice(0, 6)].reverse(), cps[2], 3), cps[5]);
	});

	test('parses "epoch" and whole numbers only', () => {
		assert.equal(parseLiveBlindEvery('epoch'), 'epoch');
		assert.equal(parseLiveBlindEvery('4'), 4);
		assert.equal(parseLiveBlindEvery(2), 2);
		for (const bad of ['0', '-1', '1.5', 'hour', '', 0]) {
			assert.equal(parseLiveBlindEvery(bad), null, String(bad));
		}
	});

	test('epoch time: median gap of epoch events, else the slope over checkpoint times, else unknown', () => {
		assert.equal(epochMs([0, 20_000, 50_000, 72_000], []), 22_000);
		// Mid-first-epoch: checkpoints at epochs 0, 0.16, 0.32 written 4 s apart → 25 s per epoch.
		assert.equal(epochMs([1000], [{ epoch: 0, time: 0 }, { epoch: 0.16, time: 4000 }, { epoch: 0.32, time: 8000 }]), 25_000);
		assert.equal(epochMs([], [{ epoch: 0, time: 0 }]), null);
		assert.equal(epochMs([], [{ epoch: 0.5, time: 10 }, { epoch: 0.5, time: 20 }]), null, 'no progress in epochs');
	});

	test('interval between scans: an epoch, or N checkpoint intervals', () => {
		const cps = [0, 50, 100, 150].map((step) => ({ step, epoch: step / 250 }));
		assert.equal(scanIntervalMs('epoch', 30_000, cps), 30_000);
		assert.equal(scanIntervalMs(2, 30_000, cps), 2 * 0.2 * 30_000);
		assert.equal(scanIntervalMs(2, null, cps), null);
		assert.equal(scanIntervalMs(2, 30_000, cps.slice(0, 1)), null);
	});
});

describe('live blind time box', () => {
	const settings = { every: 'epoch' as const, share: 0.25 };
	const measured = (msPerRow: number, msPerSample: number): ScanCost => ({ msPerRow, msPerSample, lastOverran: false, lastSamples: 1024, lastRows: 4096 });

	test('the first scan: the default rows and samples, before any cost is measured', () => {
		const first = planScan(null, settings, noCost, 4096, 60_000);
		assert.equal(first.rows, FIRST_SCAN_ROWS);
		assert.equal(first.samples, FIRST_SCAN_SAMPLES);
		assert.equal(first.budgetMs, null);
		// A run that recorded fewer rows scores them all.
		assert.equal(planScan(null, settings, noCost, 2000, 2000).rows, 2000);
		// A box but no measured cost yet: the floor (1024 rows, 1024 samples), which is never stopped for time.
		const boxed = planScan(30_000, settings, { ...noCost, msPerSample: 3 }, 4096, 60_000);
		assert.deepEqual([boxed.rows, boxed.samples, boxed.atFloor, boxed.budgetMs], [1024, 1024, true, 7500]);
		assert.match(boxed.why, /scan cost not measured yet: the smallest scan \(1024 of 60000 rows\)/);
		assert.equal(stopReason(10 * 7500, boxed, false), null, 'a floor scan is never stopped for time');
		assert.equal(planScan(30_000, settings, noCost, 800, 800).rows, 800, 'a smaller recording: all of it');
	});

	test('stage 1 is bounded by the box: stage 2 at its floor, the rest of the box in rows at the measured cost per row', () => {
		// 30 s epoch × 0.25 = 7.5 s; stage 2: 1024 samples × 3 ms = 3.072 s; the rest, 4.428 s, at 0.5 ms per row → 8856 → 8832 rows.
		const p = planScan(30_000, settings, measured(0.5, 3), 4096, 60_000);
		assert.equal(p.budgetMs, 7500);
		assert.equal(p.samples, MIN_LIVE_SAMPLES);
		assert.equal(p.rows, 8832);
		assert.ok(p.rows < 60_000, 'a 60 000-row run is subsampled');
		assert.ok(p.rows * 0.5 + p.samples * 3 <= p.budgetMs, 'the planned cost fits the box');
		assert.equal(p.atFloor, false);
		assert.match(p.why, /8832 of 60000 rows/);
		// Twice the box, about twice the rows.
		const q = planScan(60_000, settings, measured(0.5, 3), 4096, 60_000);
		assert.equal(q.rows, Math.floor((15_000 - 3072) / 0.5 / 64) * 64);
	});

	test('once every row fits, the rest of the box grows stage 2 up to its cap', () => {
		// 7.5 s box; 10 000 rows × 0.2 ms = 2 s; the rest 5.5 s at 2 ms per sample → 2750 → 2688 samples.
		const p = planScan(30_000, settings, measured(0.2, 2), 4096, 10_000);
		assert.equal(p.rows, 10_000);
		assert.equal(p.samples, 2688);
		assert.equal(planScan(600_000, settings, measured(0.2, 2), 4096, 10_000).samples, 4096);
		assert.equal(planScan(600_000, { ...settings, maxSamples: 2048 }, measured(0.2, 2), 2048, 10_000).samples, 2048);
	});

	test('a tiny box never goes under the floors (fewer rows and samples miss the poisons), and is marked as at the floor', () => {
		const tiny = planScan(2000, settings, measured(2, 20), 4096, 60_000);
		assert.equal(tiny.rows, MIN_LIVE_SAMPLES);
		assert.equal(tiny.samples, MIN_LIVE_SAMPLES);
		assert.equal(tiny.atFloor, true);
		// A run whose sample is smaller than the floor scans all of it.
		const small = planScan(2000, settings, measured(2, 20), 128, 128);
		assert.equal(small.rows, 128);
		assert.equal(small.samples, 128);
		assert.equal(small.atFloor, true);
	});

	test('after a scan ran past its hard limit, the next one takes half as many rows and samples', () => {
		const over = { msPerRow: 0.5, msPerSample: 3.5, lastOverran: true, lastSamples: 4096, lastRows: 20_000 };
		const p = planScan(30_000, settings, over, 4096, 60_000);
		assert.equal(p.samples, 2048);
		assert.equal(p.rows, 9984);
		const floor = planScan(30_000, settings, { ...over, lastSamples: 1024, lastRows: 1024 }, 4096, 60_000);
		assert.equal(floor.samples, MIN_LIVE_SAMPLES);
		assert.equal(floor.rows, MIN_LIVE_SAMPLES);
	});

	test('cost split: stages 1 and 3 per scored row, the rest per input-Hessian sample', () => {
		const c = scanCostOf({ elapsedMs: 10_000, scanned: 1024, cascade: { scoredRows: 8000, cheapMs: 3800, directionMs: 200 } });
		assert.equal(c.msPerRow, 0.5);
		assert.equal(c.msPerSample, 6000 / 1024);
		assert.equal(c.lastRows, 8000);
		assert.equal(c.lastSamples, 1024);
		assert.equal(c.lastOverran, false);
	});

	test('a scan stops when a newer checkpoint is due, or past the hard limit unless it is at its floor', () => {
		const plan = { budgetMs: 1000, atFloor: false };
		assert.equal(stopReason(10, plan, true), 'stale');
		assert.equal(stopReason(HARD_LIMIT_FACTOR * 1000 - 1, plan, false), null);
		assert.equal(stopReason(HARD_LIMIT_FACTOR * 1000 + 1, plan, false), 'overrun');
		assert.equal(stopReason(1e9, { budgetMs: 1000, atFloor: true }, false), null);
		assert.equal(stopReason(1e9, { budgetMs: null, atFloor: false }, false), null);
	});
});

function result(flipRate: number | null, control: number | null, extra: Partial<BlindResult['summary']> = {}): BlindResult {
	return {
		summary: { suspects: flipRate === null ? 0 : 12, candidateTriggerOverlap: null, flipRate, flipClass: flipRate === null ? null : 3, suspectRows: [], ...extra },
		candidateTrigger: undefined,
		direction: null,
		outliers: 0,
		clusterRows: [],
		scanned: 1024,
		cascade: { scoredRows: 1024, totalRows: 1024, candidates: 512, control: 512, blends: 8, controlMissed: 0, cheapMs: 0, threads: 1, hessianMs: 0, directionRows: 0, directionMs: 0, testMs: 0, cut: 3.5, rowScoresFile: null, suspectScores: [] },
		controlFlipRate: control,
		evaluation: null,
		testResult: undefined as unknown as BlindResult['testResult'],
		elapsedMs: 4321.4,
	};
}

describe('the live blind line', () => {
	test('the blind line carries the blind-mode test; a degenerate checkpoint is nothing to analyse', () => {
		const calibrated = { state: 'quiet' as const, score: 1.2, nullName: '64 random directions', nullSize: 64, nullLow: 0.1, nullHigh: 2.5, falseAlarmRate: 0.03, reason: 'inside the null' };
		const line = blindLine({ step: 626, epoch: 2 }, result(0.9, 0, { test: calibrated, scoredRows: 1024, totalRows: 20000 }), 60000);
		assert.deepEqual(line.test, calibrated);
		assert.equal(line.totalRows, 20000, "the scan's own count wins");
		assert.equal(line.kind, 'blind');
		assert.equal(line.scoredRows, 1024);
		assert.equal(line.analysisMs, 4321);
		assert.equal(line.suspects, 12);
		const deg = blindTestOf(result(0.9, 0, { test: calibrated }), 'predicts class 1 for every probe');
		assert.equal(deg.state, 'nothing-to-analyse');
		assert.match(deg.reason, /predicts class 1 for every probe/);
		assert.throws(() => blindTestOf(result(0.9, 0)), /carries no blind test/);
	});
});
