/**
 * The verdict texts name only what was measured: the near-clone regime only for a declared near-clone trigger, and
 * in blind mode the blind test's state (an inconclusive test is not "no backdoor found").
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlindState, BlindTest } from '../../../src/protocol/analysisRecord';
import { analysisSummaryMd } from '../../../src/ci/summary';
import { blindTestLine, verdictExplanation, verdictHeadline } from '../../../src/ci/verdictText';

function blindTest(state: BlindState, reason = 'because'): BlindTest {
	return { state, score: 0.42, nullName: 'null directions', nullSize: 200, nullLow: 0.05, nullHigh: 0.2, falseAlarmRate: null, reason };
}

describe('verdict texts', () => {
	test('invisible: "no spectral signal" for any trigger; the near-clone regime only when the trigger is a near-clone one', () => {
		const blend = verdictHeadline('invisible', true);
		assert.doesNotMatch(blend, /near-clone/);
		assert.match(blend, /no trigger-aligned curvature spike/);
		assert.doesNotMatch(verdictExplanation('invisible'), /near-clone/i);
		assert.match(verdictHeadline('invisible', true, { nearClone: true }), /near-clone regime/);
		assert.match(verdictExplanation('invisible', { nearClone: true }), /near-clone/);
	});

	test('blind mode: the clean verdict says which state the test was in', () => {
		assert.match(verdictHeadline('clean', false, { blindTest: blindTest('quiet') }), /no backdoor found/);
		assert.match(verdictHeadline('clean', false, { blindTest: blindTest('inconclusive') }), /cannot tell/);
		assert.match(verdictHeadline('clean', false, { blindTest: blindTest('nothing-to-analyse') }), /nothing to analyse/);
		assert.match(verdictHeadline('clean', false), /no blind test recorded/);
		const why = 'the model is fragile to any perturbation of this size: a random direction flips 100.0 %';
		assert.equal(verdictExplanation('clean', { blindTest: blindTest('inconclusive', why) }), `This is not a clean bill of health: ${why}.`);
		assert.match(verdictHeadline('visible', false, { blindTest: blindTest('alarm') }), /far beyond its null band/);
	});

	test('blind mode with the class-shortcut test: the headline names the test that alarmed, and a quiet one says no class is a shortcut', () => {
		const shortcut = { norm: 0.05, cls: 0, rate: 0.95, secondCls: 3, second: 0.12, gap: 0.83, threshold: 0.23 };
		const byShortcut: BlindTest = { ...blindTest('alarm'), alarmBy: 'shortcut', shortcut };
		assert.equal(
			verdictHeadline('visible', false, { blindTest: byShortcut }),
			'backdoor found: one class is a shortcut, a small universal perturbation pushes 95.0 % of clean inputs to class 0 and no more than 12.0 % to any other',
		);
		assert.match(verdictHeadline('visible', false, { blindTest: { ...byShortcut, alarmBy: 'both' } }), /far beyond its null band/);
		assert.match(verdictHeadline('clean', false, { blindTest: { ...blindTest('quiet'), shortcut: { ...shortcut, gap: 0.05 } } }), /and no class is a shortcut$/);
	});

	test('blindTestLine and the Markdown summary show state, score, null band and reason', () => {
		assert.equal(blindTestLine(blindTest('quiet')), 'blind test quiet: score 42.0 % (null band 5.0 %–20.0 % over 200 draws)');
		const md = analysisSummaryMd(
			{
				runName: 'r',
				manifestUri: 'r/manifest.json',
				verdict: 'clean',
				lag: { asrStep: null, spectralStep: null, lagSteps: null, lagEpochs: null },
				finalExcessAsr: null,
				recommendation: null,
				blind: { suspects: 12, candidateTriggerOverlap: null, flipRate: 0.42, flipClass: 3, test: blindTest('inconclusive', 'fragile | really') },
				declaredAttack: false,
				checkpoints: 3,
				errors: [],
			},
			[],
			{ failed: false, failOn: [] },
		);
		assert.match(md, /blind mode cannot tell/);
		assert.match(md, /\| blind test \| `inconclusive`: score 42\.0 %, null band 5\.0 %–20\.0 % \(200 draws\) \|/);
		assert.match(md, /\| why \| fragile \\\| really \|/);
	});
});
