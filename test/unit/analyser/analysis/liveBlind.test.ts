import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	blindLine,
	dueCheckpoint,
	epochMs,
	FIRST_SCAN_SAMPLES,
	HARD_LIMIT_FACTOR,
	MIN_LIVE_SAMPLES,
	parseLiveBlindEvery,
	planScan,
	blindTestOf,
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

const noCost: ScanCost = { msPerSample: null, lastOverran: false, lastSamples: null };

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

	test('the first scan takes the default size; then the box over the measured cost, in multiples of 64, within the limits', () => {
		const first = planScan(null, settings, noCost, 4096);
		assert.equal(first.samples, FIRST_SCAN_SAMPLES);
		assert.equal(first.budgetMs, null);
		// 30 s epoch × 0.25 = 7.5 s; 3.5 ms per row → 2142 → 2112 (multiple of 64).
		const p = planScan(30_000, settings, { msPerSample: 3.5, lastOverran: false, lastSamples: 1024 }, 4096);
		assert.equal(p.budgetMs, 7500);
		assert.equal(p.samples, 2112);
		assert.equal(p.atFloor, false);
		assert.ok(p.samples * 3.5 <= p.budgetMs);
		// A tiny box never goes under the floor (fewer rows miss the poisons), and is marked as at the floor.
		const tiny = planScan(2000, settings, { msPerSample: 20, lastOverran: false, lastSamples: 1024 }, 4096);
		assert.equal(tiny.samples, MIN_LIVE_SAMPLES);
		assert.equal(tiny.atFloor, true);
		// A big box is capped by the sample (and by maxSamples).
		assert.equal(planScan(600_000, settings, { msPerSample: 1, lastOverran: false, lastSamples: 1024 }, 4096).samples, 4096);
		assert.equal(planScan(600_000, { ...settings, maxSamples: 2048 }, { msPerSample: 1, lastOverran: false, lastSamples: 1024 }, 2048).samples, 2048);
		// A run whose sample is smaller than the floor scans all of it.
		assert.equal(planScan(null, settings, noCost, 128).samples, 128);
	});

	test('after a scan ran past its hard limit, the next one takes half as many rows', () => {
		assert.equal(planScan(30_000, settings, { msPerSample: 3.5, lastOverran: true, lastSamples: 4096 }, 4096).samples, 2048);
		assert.equal(planScan(30_000, settings, { msPerSample: 3.5, lastOverran: true, lastSamples: 1024 }, 4096).samples, MIN_LIVE_SAMPLES);
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
		cascade: { scoredRows: 1024, totalRows: 1024, candidates: 512, control: 512, controlMissed: 0, cheapMs: 0, threads: 1, hessianMs: 0, directionRows: 0, directionMs: 0, cut: 3.5, rowScoresFile: null, suspectScores: [] },
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
