import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alarmMessage, AlarmOnce, MAX_REMEMBERED, type AlarmRun } from '../../../src/host/runs/alarmOnce';
import type { BlindCheckpoint, BlindState } from '../../../src/protocol/analysisRecord';

function scan(step: number, state: BlindState): BlindCheckpoint {
	return {
		kind: 'blind',
		step,
		epoch: step / 100,
		test: { state, score: state === 'alarm' ? 0.8 : 0.05, nullName: 'n', nullSize: 1, nullLow: 0.01, nullHigh: 0.2, falseAlarmRate: null, reason: `state ${state}` },
		flipRate: 0.8,
		controlFlipRate: 0.01,
		suspects: 7,
		scoredRows: 1024,
		totalRows: 2000,
		analysisMs: 10,
	};
}

const run = (blind: BlindCheckpoint[], status: AlarmRun['status'] = 'training', key = 'r1@/w/r1'): AlarmRun => ({ key, status, blind });

describe('first-alarm notification: once per run', () => {
	test('fires on the first alarm of a live run, and never again for that run however many alarms follow', () => {
		const once = new AlarmOnce();
		assert.equal(once.take(run([scan(100, 'quiet')])), null);
		assert.equal(once.take(run([scan(100, 'quiet'), scan(200, 'inconclusive')])), null);
		const first = once.take(run([scan(100, 'quiet'), scan(300, 'alarm'), scan(200, 'inconclusive')]));
		assert.equal(first?.step, 300);
		assert.equal(once.take(run([scan(100, 'quiet'), scan(300, 'alarm'), scan(400, 'alarm')])), null);
		assert.equal(once.take(run([scan(100, 'quiet'), scan(300, 'alarm'), scan(400, 'quiet'), scan(500, 'alarm')])), null, 'an alarm after a quiet spell is still the same run');
		assert.deepEqual(once.remembered, ['r1@/w/r1']);
	});

	test('the earliest alarm is named even when several arrive together', () => {
		const once = new AlarmOnce();
		assert.equal(once.take(run([scan(400, 'alarm'), scan(300, 'alarm')]))?.step, 300);
	});

	test('a clean live run never fires; each run fires on its own', () => {
		const once = new AlarmOnce();
		assert.equal(once.take(run([scan(100, 'quiet'), scan(200, 'quiet'), scan(300, 'nothing-to-analyse')], 'training', 'clean')), null);
		assert.notEqual(once.take(run([scan(100, 'alarm')], 'training', 'a')), null);
		assert.notEqual(once.take(run([scan(100, 'alarm')], 'training', 'b')), null);
	});

	test('an old run found with an alarm is not notified; a run seen training is, even when its alarm comes after it ended', () => {
		const once = new AlarmOnce();
		assert.equal(once.take(run([scan(100, 'alarm')], 'finished', 'old')), null);
		assert.equal(once.take(run([scan(100, 'quiet')], 'training', 'live')), null);
		assert.equal(once.take(run([scan(100, 'quiet'), scan(200, 'alarm')], 'finished', 'live'))?.step, 200);
	});

	test('runs notified before (the workspace state) are not notified again, and the memory is bounded', () => {
		assert.equal(new AlarmOnce(['r1@/w/r1']).take(run([scan(100, 'alarm')])), null);
		const once = new AlarmOnce(Array.from({ length: MAX_REMEMBERED }, (_, i) => `k${i}`));
		assert.notEqual(once.take(run([scan(1, 'alarm')], 'training', 'new')), null);
		assert.equal(once.remembered.length, MAX_REMEMBERED);
		assert.equal(once.remembered[once.remembered.length - 1], 'new');
		assert.equal(once.remembered.includes('k0'), false);
	});

	test('the message says where, the score against the null band, why, and how many suspects', () => {
		assert.equal(
			alarmMessage('demo run', scan(300, 'alarm')),
			"Poison Lens: possible backdoor forming in demo run: the blind scan at step 300 (epoch 3.00) raised an alarm (score 0.8 above the null band's 0.2): state alarm. 7 suspect training rows.",
		);
	});
});
