import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusContent, verdictSentence, type LiveRun } from '../../../src/host/runs/statusText';

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
});

describe('verdictSentence', () => {
	test('states the signed lag in epochs, in the direction it ran', () => {
		assert.equal(verdictSentence('early-warning', -0.7), 'the backdoor’s curvature showed up 0.7 epochs before it started working');
		assert.equal(verdictSentence('lagging', 12.4), 'the backdoor worked 12 epochs before its curvature showed up');
		assert.equal(verdictSentence('early-warning', -1), 'the backdoor’s curvature showed up 1.0 epoch before it started working');
		assert.match(verdictSentence('invisible', null), /near-clone/);
		assert.equal(verdictSentence('clean', null), 'no working backdoor and no curvature spike');
	});
});
