import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlindState } from '../../../src/protocol/analysisRecord';
import type { BlindPoint } from '../../../src/protocol/webview';
import { blindX, suspicionSeries } from '../../../webview/derive';

function scan(step: number, state: BlindState, score: number | null, band: [number, number] | null = [0.02, 0.2]): BlindPoint {
	return {
		kind: 'blind',
		step,
		epoch: step / 313,
		time: step / 10,
		test: { state, score, nullName: 'n', nullSize: 1, nullLow: band?.[0] ?? null, nullHigh: band?.[1] ?? null, falseAlarmRate: null, reason: `r${step}` },
		flipRate: score,
		controlFlipRate: band?.[0] ?? null,
		suspects: 3,
		scoredRows: 1024,
		totalRows: 20000,
		analysisMs: 1,
	};
}

describe('suspicion chart series', () => {
	test('the class-shortcut gap is a series of its own with its threshold; scans made before the test have none', () => {
		const withShortcut = (step: number, gap: number): BlindPoint => {
			const b = scan(step, gap >= 0.23 ? 'alarm' : 'quiet', 0.1);
			return { ...b, test: { ...b.test, shortcut: { norm: 0.05, cls: 0, rate: 0.1 + gap, secondCls: 2, second: 0.1, gap, threshold: 0.23 } } };
		};
		const s = suspicionSeries([scan(313, 'quiet', 0.1), withShortcut(939, 0.6), withShortcut(626, 0.05)], 'step');
		assert.ok(s !== null);
		assert.deepEqual(
			s.shortcutGap.map((p) => [p.x, p.y]),
			[
				[626, 0.05],
				[939, 0.6],
			],
		);
		assert.equal(s.shortcutThreshold, 0.23);
		assert.equal(s.byState.alarm[0].shortcutGap, 0.6);
		assert.equal(s.byState.quiet[0].shortcutGap, null);
		const old = suspicionSeries([scan(313, 'quiet', 0.1)], 'step');
		assert.deepEqual(old?.shortcutGap, []);
		assert.equal(old?.shortcutThreshold, null);
	});

	test('no blind scans: no chart', () => {
		assert.equal(suspicionSeries(undefined, 'step'), null);
		assert.equal(suspicionSeries([], 'step'), null);
	});

	test('score line, null band edges, points by state, the first alarm and the latest scan, in step order', () => {
		const scans = [scan(939, 'alarm', 0.9), scan(313, 'nothing-to-analyse', null, null), scan(626, 'quiet', 0.1), scan(1252, 'alarm', 0.95, [0.05, 0.25])];
		const s = suspicionSeries(scans, 'step');
		assert.ok(s !== null);
		assert.deepEqual(
			s.score.map((p) => [p.x, p.y]),
			[
				[626, 0.1],
				[939, 0.9],
				[1252, 0.95],
			],
			'scans without a score are not on the line',
		);
		assert.deepEqual(s.nullHigh, [
			{ x: 626, y: 0.2 },
			{ x: 939, y: 0.2 },
			{ x: 1252, y: 0.25 },
		]);
		assert.deepEqual(s.nullLow.map((p) => p.y), [0.02, 0.02, 0.05]);
		assert.deepEqual(s.byState['nothing-to-analyse'].map((p) => [p.x, p.y]), [[313, 0]], 'shown at 0 so the scan is visible');
		assert.deepEqual(s.byState.alarm.map((p) => p.step), [939, 1252]);
		assert.deepEqual(s.byState.quiet.map((p) => p.step), [626]);
		assert.equal(s.byState.inconclusive.length, 0);
		assert.equal(s.firstAlarm?.step, 939);
		assert.equal(s.firstAlarm?.reason, 'r939');
		assert.equal(s.latest?.step, 1252);
	});

	test('x follows the chosen axis', () => {
		const b = scan(626, 'quiet', 0.1);
		assert.equal(blindX(b, 'step'), 626);
		assert.equal(blindX(b, 'epoch'), 2);
		assert.equal(blindX(b, 'time'), 62.6);
		assert.equal(suspicionSeries([b], 'epoch')?.score[0].x, 2);
	});

	test('a run without any alarm has no first-alarm marker', () => {
		assert.equal(suspicionSeries([scan(313, 'quiet', 0.05), scan(626, 'inconclusive', 0.5, [0.45, 1])], 'step')?.firstAlarm, null);
	});
});
