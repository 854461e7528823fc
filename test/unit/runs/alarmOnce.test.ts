import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alarmMessage, AlarmOnce, endNotice, firstAlarm, MAX_REMEMBERED, type AlarmRun } from '../../../src/host/runs/alarmOnce';
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

	test('a class-shortcut alarm names its gap and threshold, not a score that may sit inside the curvature band', () => {
		const s = scan(50, 'alarm');
		const byShortcut = { ...s, test: { ...s.test, score: 0.846, nullHigh: 0.846, alarmBy: 'shortcut' as const, shortcut: { norm: 0.05, cls: 0, rate: 0.231, secondCls: 1, second: 0, gap: 0.2308, threshold: 0.23 } } };
		const text = alarmMessage('demo run', byShortcut);
		assert.match(text, /raised an alarm \(class-shortcut gap 0\.231 at or above its threshold 0\.23\)/);
		assert.doesNotMatch(text, /above the null band/);
	});
});

describe('end-of-analysis notification: one blind alarm, one notification', () => {
	const test_ = (state: BlindState) => scan(900, state).test;

	test('the live alarm was shown during this analysis and the final test alarms too: no second notification', () => {
		const n = endNotice({ finalTest: test_('alarm'), liveAlarm: scan(300, 'alarm'), alarmShown: true });
		assert.equal(n.show, false);
		assert.equal(n.claim, true);
	});

	test('no live alarm was shown (a finished run, or the first alarm came with the final scan): the end notification carries the alarm\'s actions', () => {
		for (const liveAlarm of [null, scan(900, 'alarm')]) {
			const n = endNotice({ finalTest: test_('alarm'), liveAlarm, alarmShown: false });
			assert.deepEqual(n, { show: true, alarmActions: true, note: null, warning: true, claim: true }, String(liveAlarm?.step));
		}
	});

	test('a live alarm that the final test does not confirm is said, as a warning, shown before or not', () => {
		for (const state of ['quiet', 'inconclusive', 'nothing-to-analyse'] as const) {
			for (const alarmShown of [true, false]) {
				const n = endNotice({ finalTest: test_(state), liveAlarm: scan(300, 'alarm'), alarmShown });
				assert.equal(n.show, true);
				assert.equal(n.alarmActions, false, 'no suspects to show for a withdrawn alarm');
				assert.equal(n.warning, true);
				assert.equal(n.claim, true, 'the live watcher must not announce it afterwards');
				assert.equal(n.note, 'The live blind scan at step 300 (epoch 3.00) raised an alarm that the final scan over every recorded row does not confirm.');
			}
		}
	});

	test('no alarm anywhere, or a declared attack: the notification as always', () => {
		const plain = { show: true, alarmActions: false, note: null, warning: null, claim: false };
		assert.deepEqual(endNotice({ finalTest: test_('quiet'), liveAlarm: null, alarmShown: false }), plain);
		assert.deepEqual(endNotice({ finalTest: undefined, liveAlarm: scan(300, 'alarm'), alarmShown: true }), plain);
	});

	test('shown during this analysis: a mark before it, the first-alarm notification after; a claimed run is never notified live', () => {
		const once = new AlarmOnce();
		assert.equal(once.take(run([scan(100, 'alarm')], 'training', 'earlier'))?.step, 100);
		const mark = once.mark();
		assert.equal(once.shownSince('earlier', mark), false, 'shown before the analysis started');
		assert.notEqual(once.take(run([scan(200, 'alarm')], 'training', 'now')), null);
		assert.equal(once.shownSince('now', mark), true);
		assert.equal(once.shownSince('never', mark), false);
		once.take(run([scan(100, 'quiet')], 'training', 'claimed'));
		once.claim('claimed');
		once.claim('claimed');
		assert.equal(once.take(run([scan(100, 'quiet'), scan(200, 'alarm')], 'finished', 'claimed')), null);
		assert.equal(once.remembered.filter((k) => k === 'claimed').length, 1);
		assert.equal(firstAlarm([scan(400, 'alarm'), scan(100, 'quiet'), scan(300, 'alarm')])?.step, 300);
		assert.equal(firstAlarm([scan(100, 'quiet')]), null);
	});
});
