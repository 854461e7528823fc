/** The live-alarm replay's pure parts (bench/detect/lead.ts): which checkpoints the live monitor scans, the first alarm, the lead record, the arguments. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueSteps, firstAlarmEpoch, leadRecord, parseLeadArgs } from '../../../bench/detect/lead';
import { buildGrid } from '../../../bench/detect/grid';
import type { Truth } from '../../../bench/detect/train';

const halfEpochs = (n: number): { step: number; epoch: number }[] => Array.from({ length: n }, (_, i) => ({ step: 100 * i, epoch: i / 2 }));

test('dueSteps: once per epoch from epoch 1 on, at the first checkpoint of each new epoch; every N checkpoints', () => {
	assert.deepEqual(dueSteps(halfEpochs(9)), [200, 400, 600, 800]);
	assert.deepEqual(dueSteps(halfEpochs(9), 3), [200, 500, 800]);
	assert.deepEqual(dueSteps([]), []);
	// Order of announcement does not matter.
	assert.deepEqual(dueSteps([...halfEpochs(5)].reverse()), [200, 400]);
});

test('firstAlarmEpoch: the earliest alarm by step, null without one', () => {
	const scans = [
		{ step: 600, epoch: 3, state: 'alarm' },
		{ step: 200, epoch: 1, state: 'quiet' },
		{ step: 400, epoch: 2, state: 'alarm' },
	];
	assert.equal(firstAlarmEpoch(scans), 2);
	assert.equal(firstAlarmEpoch(scans.map((s) => ({ ...s, state: 'inconclusive' }))), null);
});

test('leadRecord: lead = first alarm − the epoch the excess ASR reached half its final value; a clean run that alarms counts its alarm', () => {
	const grid = buildGrid();
	const poisoned = grid.find((p) => p.attack === 'badnets');
	const clean = grid.find((p) => p.attack === null);
	assert.ok(poisoned !== undefined && clean !== undefined);
	const timeline = [0, 0.5, 1, 1.5, 2].map((epoch, i) => ({ step: 100 * i, epoch, cleanAccuracy: 0.9, asr: 0, p0: 0, excessAsr: [0, 0.1, 0.5, 0.9, 0.95][i] }));
	const truth = { timeline } as unknown as Truth;
	const scans = [
		{ step: 200, epoch: 1, state: 'quiet', score: 0.1, nullHigh: 0.2, scoredRows: 1024, seconds: 3 },
		{ step: 400, epoch: 2, state: 'alarm', score: 0.9, nullHigh: 0.2, scoredRows: 1024, seconds: 3 },
	];
	const r = leadRecord(poisoned, truth, scans, 1, 0.25, 'abc1234', '2026-12-07');
	assert.equal(r.status, 'works');
	assert.equal(r.halfEpoch, 1); // the first excess ASR ≥ 0.95 / 2 is 0.5, at epoch 1
	assert.equal(r.firstAlarmEpoch, 2);
	assert.equal(r.leadEpochs, 1);
	assert.equal(r.missingScans, 1);
	const c = leadRecord(clean, truth, scans, 0, 0.25, 'abc1234', '2026-12-07');
	assert.equal(c.status, 'clean');
	assert.equal(c.attack, 'none');
	assert.equal(c.firstAlarmEpoch, 2, 'a clean run that alarms live is a live false alarm');
});

test('parseLeadArgs: --keep and --split are required; shard, share and deadline are checked by name', () => {
	const a = parseLeadArgs(['--keep=/tmp/k', '--split=held-out', '--shard=1/2', '--share=1']);
	assert.equal(a.split, 'held-out');
	assert.deepEqual(a.shard, { index: 1, count: 2 });
	assert.equal(a.share, 1);
	assert.equal(parseLeadArgs(['--keep=/tmp/k', '--split=dev']).share, 0.25);
	assert.throws(() => parseLeadArgs(['--split=dev']), /needs --keep=DIR/);
	assert.throws(() => parseLeadArgs(['--keep=/k', '--split=test']), /--split=dev or --split=held-out/);
	assert.throws(() => parseLeadArgs(['--keep=/k', '--split=dev', '--shard=2/2']), /--shard must be I\/N/);
	assert.throws(() => parseLeadArgs(['--keep=/k', '--split=dev', '--share=0']), /--share must be in \(0, 1\]/);
	assert.throws(() => parseLeadArgs(['--keep=/k', '--split=dev', '--fast']), /unknown argument '--fast'/);
});
