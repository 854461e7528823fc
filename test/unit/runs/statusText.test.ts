import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blindStatus, blindVerdictSentence, statusContent, verdictSentence, type LiveRun } from '../../../src/host/runs/statusText';
import type { BlindCheckpoint } from '../../../src/protocol/analysisRecord';

const run = (over: Partial<LiveRun>): LiveRun => ({ dir: `/w/${over.name ?? 'r'}`, name: 'r', status: 'finished', verdict: null, analysing: false, ...over });

describe('statusContent', () => {
	test('shows nothing without runs', () => {
		assert.equal(statusContent([]), undefined);
	});
	test('a run being analysed wins over training and verdicts', () => {
		const c = statusContent([run({ name: 'a', status: 'training' }), run({ name: 'b', analysing: true })]);
		assert.equal(c?.text, '$(loading~spin) Poison Lens: analysing b');
		assert.equal(c?.dir, '/w/b');
	});
	test('training runs come next, with a count and the verdict so far', () => {
		const c = statusContent([run({ name: 'old', verdict: 'clean' }), run({ name: 't1', status: 'training', verdict: 'early-warning' }), run({ name: 't2', status: 'training' })]);
		assert.equal(c?.text, '$(pulse) Poison Lens: t1 training (+1 more) · early-warning');
		assert.equal(c?.warning, true);
		assert.match(c?.tooltip ?? '', /before the attack worked/);
	});
	test('otherwise the newest run and its verdict; clean is not a warning', () => {
		assert.deepEqual(statusContent([run({ name: 'n', verdict: 'clean' }), run({ name: 'o', verdict: 'lagging' })]), {
			text: '$(shield) Poison Lens: n · clean',
			tooltip: 'n (finished): no working backdoor and no curvature spike. Click to open the dashboard.',
			dir: '/w/n',
			warning: false,
		});
		assert.equal(statusContent([run({ name: 'n' })])?.text, '$(beaker) Poison Lens: n');
		assert.equal(statusContent([run({ name: 'n', verdict: 'invisible' })])?.warning, true);
	});
	test('the run analysed last stays in view after its analysis, before a newer run; a training run still comes first', () => {
		const runs = [run({ name: 'newer', verdict: 'clean' }), run({ name: 'mine', verdict: 'lagging' })];
		assert.equal(statusContent(runs, '/w/mine')?.text, '$(error) Poison Lens: mine · lagging');
		assert.equal(statusContent(runs, '/w/gone')?.text, '$(shield) Poison Lens: newer · clean');
		assert.equal(statusContent([run({ name: 't', status: 'training' }), ...runs], '/w/mine')?.text, '$(pulse) Poison Lens: t training');
	});
});

describe('verdictSentence', () => {
	test('states the signed lag in epochs, in the direction it ran', () => {
		assert.equal(verdictSentence('early-warning', -0.7), 'the backdoor’s curvature showed up 0.7 epochs before it started working');
		assert.equal(verdictSentence('lagging', 12.4), 'the backdoor worked 12 epochs before its curvature showed up');
		assert.equal(verdictSentence('early-warning', -1), 'the backdoor’s curvature showed up 1.0 epoch before it started working');
		assert.match(verdictSentence('invisible', null), /no spectral signal/);
		assert.equal(verdictSentence('clean', null), 'no working backdoor and no curvature spike');
	});
});

describe('live blind state in the status bar', () => {
	const blind = (state: BlindCheckpoint['test']['state'], score: number | null = 0.62): BlindCheckpoint => ({
		kind: 'blind',
		step: 450,
		epoch: 1.4377,
		test: { state, score, nullName: 'one seeded random direction at the same size (provisional rule)', nullSize: 1, nullLow: 0.02, nullHigh: 0.2, falseAlarmRate: null, reason: 'the candidate direction flips 62.0 % of clean probes to class 0' },
		flipRate: score,
		controlFlipRate: 0.02,
		suspects: 40,
		scoredRows: 1024,
		totalRows: 20000,
		analysisMs: 5000,
	});

	test('a training run shows its blind state instead of the verdict; an alarm gets the warning background', () => {
		const c = statusContent([run({ name: 't', status: 'training', verdict: 'clean', blind: blind('alarm') })]);
		assert.equal(c?.text, '$(warning) Poison Lens: t training · blind: ALARM');
		assert.equal(c?.warning, true);
		assert.match(c?.tooltip ?? '', /Blind test at step 450 \(epoch 1\.44\) over 1024 of 20000 training rows: ALARM\. Score 0\.62, null band 0\.02–0\.2 \(one seeded random direction at the same size \(provisional rule\); false-alarm rate not measured\)\. the candidate direction flips 62\.0 % of clean probes to class 0\./);
		const q = statusContent([run({ name: 't', status: 'training', verdict: 'visible', blind: blind('quiet', 0.1) })]);
		assert.equal(q?.text, '$(pulse) Poison Lens: t training · blind: quiet');
		assert.equal(q?.warning, false, 'quiet: no warning even though the last summary said visible');
		assert.equal(statusContent([run({ name: 't', status: 'training', blind: blind('nothing-to-analyse', null) })])?.text, '$(pulse) Poison Lens: t training · blind: nothing to analyse');
		assert.equal(statusContent([run({ name: 't', status: 'training', blind: blind('inconclusive') })])?.text, '$(pulse) Poison Lens: t training · blind: inconclusive');
	});

	test('blindStatus names the measured false-alarm rate when there is one', () => {
		const b = blind('quiet');
		assert.match(blindStatus({ ...b, test: { ...b.test, falseAlarmRate: 0.031 } }).tooltip, /false-alarm rate 3\.1 % on clean benchmark runs/);
		// With the count behind it: the count and its bound, never a bare "0 %".
		const counted = { ...b.test, falseAlarmRate: 0, falseAlarms: { alarms: 0, runs: 17, upper95: 0.1616, where: 'clean held-out runs of bench:detect' } };
		assert.match(blindStatus({ ...b, test: counted }).tooltip, /false alarms on 0 of 17 clean held-out runs of bench:detect \(95 % upper bound 16\.2 %\)/);
		assert.equal(blindStatus({ ...b, scoredRows: null }).tooltip.includes('training rows'), false);
	});
});

describe('blindVerdictSentence', () => {
	test('a run without a declared attack is read by its blind test, in words, without the lag verdicts', () => {
		const t = { state: 'alarm' as const, score: 0.85, nullName: 'n', nullSize: 200, nullLow: 0.1, nullHigh: 0.48, falseAlarmRate: null, reason: 'the candidate flips 84.6 % of clean probes to class 0.' };
		assert.equal(blindVerdictSentence(t), 'blind test ALARM: the candidate flips 84.6 % of clean probes to class 0');
		assert.equal(blindVerdictSentence({ ...t, state: 'inconclusive', reason: 'the model is fragile to any perturbation of this size' }), 'blind test inconclusive: the model is fragile to any perturbation of this size');
		assert.doesNotMatch(blindVerdictSentence(t), /curvature spike/);
	});
});
