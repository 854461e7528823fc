/**
 * The blind test (src/analyser/analysis/blindTest.ts): the pure decision on hand-made evidence, the null's
 * "best of k" draws against their exact probabilities, the flip statistic on hand-counted predictions, and the
 * measured parts on a tiny real tfjs model whose answers are known by construction (a hand-set linear softmax model
 * with a dormant "trigger" input).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_BLIND_RULE, SHORTCUT_NORM, bestOfK, blindTestFor, decideBlindTest, flipOf, flipRates, randomDirection, shortcutOf, universalPerturbation, withFalseAlarms, type BlindEvidence } from '../../../../src/analyser/analysis/blindTest';
import { flipRate } from '../../../../src/analyser/analysis/blind';
import { logitModelFromLayers } from '../../../../src/analyser/curvature/index';
import { measuredFalseAlarms } from '../../../../src/protocol/falseAlarms';
import { installGradientFixes } from '../../../../src/tfjs/gradients';
import { useBackend } from '../../tfjs/backendHarness';

installGradientFixes();

const base: BlindEvidence = {
	probes: 200,
	numClasses: 10,
	cleanAccuracy: 0.95,
	majorityShare: 0.12,
	majorityClass: 3,
	candidateRate: 0.5,
	candidateClass: 0,
	candidates: 10,
	nullDraws: Array.from({ length: 100 }, (_, i) => i / 1000), // 0 … 0.099
	nullName: 'test directions',
	controlRate: 0.01,
	randomTypical: 0.01,
	randomCount: 32,
	fragilityOther: 0.2,
	fragilityOtherClass: 4,
	fragilitySame: 0.9,
};

describe('decideBlindTest (pure)', () => {
	test('a candidate far above the null band and no control firing: alarm, with the band and the numbers', () => {
		const t = decideBlindTest(base, DEFAULT_BLIND_RULE, 0.04);
		assert.equal(t.state, 'alarm');
		assert.equal(t.score, 0.5);
		assert.equal(t.nullSize, 100);
		// type-7 quantiles of 0, 0.001, …, 0.099: q·99/1000
		assert.ok(Math.abs((t.nullHigh ?? NaN) - 0.95 * 0.099) < 1e-12);
		assert.ok(Math.abs((t.nullLow ?? NaN) - 0.05 * 0.099) < 1e-12);
		assert.equal(t.falseAlarmRate, 0.04);
		assert.match(t.reason, /50\.0 %/);
		assert.match(t.reason, /class 0/);
		assert.match(t.reason, /20\.0 % to class 4/);
	});

	test('a candidate inside the band (or within the margin above it): quiet', () => {
		assert.equal(decideBlindTest({ ...base, candidateRate: 0.08 }).state, 'quiet');
		// nullHigh 0.09405 + the margin: just below is not far enough outside, just above is an alarm.
		const at = 0.95 * 0.099 + DEFAULT_BLIND_RULE.margin;
		assert.equal(decideBlindTest({ ...base, candidateRate: at - 0.005 }).state, 'quiet');
		assert.equal(decideBlindTest({ ...base, candidateRate: at + 0.005, fragilityOther: 0.05 }).state, 'alarm');
	});

	test('the null includes the selection: a larger best-of-k null silences the same candidate', () => {
		const strongNull = { ...base, nullDraws: base.nullDraws.map((v) => v + 0.4) };
		assert.equal(decideBlindTest(strongNull).state, 'quiet');
	});

	test('a universal perturbation to another class is reported for scale but does not decide (a backdoored model is fragile too)', () => {
		const t = decideBlindTest({ ...base, fragilityOther: 0.45 });
		assert.equal(t.state, 'alarm');
		assert.match(t.reason, /class-shortcut universal perturbation, taken to the same size, flips 45\.0 % to class 4/);
		assert.match(t.reason, /50\.0 %/);
		assert.equal(decideBlindTest({ ...base, fragilityOther: null }).state, 'alarm');
		assert.doesNotMatch(decideBlindTest({ ...base, fragilityOther: null }).reason, /universal/);
	});

	test('random directions flipping as much as the candidate (the BatchNorm case, 100 % and 100 %): inconclusive', () => {
		const t = decideBlindTest({ ...base, candidateRate: 1, randomTypical: 1, controlRate: 1, nullDraws: base.nullDraws.map(() => 1) });
		assert.equal(t.state, 'inconclusive');
		assert.match(t.reason, /fragile to any perturbation of this size/);
		assert.match(t.reason, /100\.0 %/);
	});

	test('a null band whose top (plus the margin) reaches 100 %: the test has no power, inconclusive', () => {
		// The blended-noise case: clean-probe curvature directions flip every probe to the target too.
		const t = decideBlindTest({ ...base, candidateRate: 1, randomTypical: 0.3, controlRate: 0.42, nullDraws: base.nullDraws.map((_, i) => (i < 50 ? 0.44 : 1)) });
		assert.equal(t.state, 'inconclusive');
		assert.match(t.reason, /fragile to any perturbation of this size/);
		assert.match(t.reason, /up to 100\.0 %/);
		assert.match(t.reason, /42\.0 %/);
	});

	test('a random direction flipping a few probes is normal, not a firing control', () => {
		assert.equal(decideBlindTest({ ...base, candidateRate: 0.05, randomTypical: 0.05 }).state, 'quiet');
	});

	test('one class for nearly every probe, or chance accuracy: nothing to analyse, with the numbers', () => {
		const one = decideBlindTest({ ...base, majorityShare: 0.95, majorityClass: 7 });
		assert.equal(one.state, 'nothing-to-analyse');
		assert.match(one.reason, /class 7 for 95\.0 % of the 200 clean probes/);
		const chance = decideBlindTest({ ...base, cleanAccuracy: 0.12 });
		assert.equal(chance.state, 'nothing-to-analyse');
		assert.match(chance.reason, /12\.0 %.*10\.0 % for 10 classes/);
	});

	test('no candidate direction: quiet, and the score is null', () => {
		const t = decideBlindTest({ ...base, candidateRate: null, candidateClass: null, candidates: 0 });
		assert.equal(t.state, 'quiet');
		assert.equal(t.score, null);
	});

	test('no null draws: inconclusive rather than a verdict against nothing', () => {
		assert.equal(decideBlindTest({ ...base, nullDraws: [] }).state, 'inconclusive');
	});
});

test('withFalseAlarms: the measured count sets the rate and rides along; none leaves the test as it was', () => {
	const t = decideBlindTest(base);
	const m = measuredFalseAlarms(1, 25, 'clean held-out runs of bench:detect');
	const w = withFalseAlarms(t, m);
	assert.equal(w.falseAlarmRate, 0.04);
	assert.deepEqual(w.falseAlarms, m);
	assert.equal(w.state, t.state);
	assert.equal(withFalseAlarms(t, null), t);
});

describe('class-shortcut test (pure)', () => {
	const quietCurvature: BlindEvidence = { ...base, candidateRate: 0.08 };
	const rates = (top: number, second: number): (number | null)[] => [0.01, top, null, second, 0.02, 0, 0, 0, 0, 0];

	test('shortcutOf: top class, runner-up and gap; nulls skipped; ties go to the lower class; nothing measured: null', () => {
		assert.deepEqual(shortcutOf(rates(0.6, 0.2)), { cls: 1, rate: 0.6, secondCls: 3, second: 0.2, gap: 0.6 - 0.2 });
		assert.deepEqual(shortcutOf([0.3, 0.3]), { cls: 0, rate: 0.3, secondCls: 1, second: 0.3, gap: 0 });
		assert.deepEqual(shortcutOf([null, 0.4]), { cls: 1, rate: 0.4, secondCls: null, second: 0, gap: 0.4 });
		assert.equal(shortcutOf([null, null]), null);
		assert.equal(shortcutOf([]), null);
	});

	test('one class reached far more easily than any other: alarm even when the curvature candidate is quiet, with both in the reason', () => {
		const t = decideBlindTest({ ...quietCurvature, shortcutRates: rates(0.5, 0.1) });
		assert.equal(t.state, 'alarm');
		assert.match(t.reason, /^one class is a shortcut: a universal perturbation of RMS size 0\.05 pushes 50\.0 % of clean probes to class 1, 40\.0 points more/);
		assert.match(t.reason, /next: class 3, 10\.0 %; alarm from 23 points/);
		assert.match(t.reason, /curvature candidate: the candidate trigger flips 8\.0 %/);
		assert.deepEqual(t.shortcut, { norm: SHORTCUT_NORM, cls: 1, rate: 0.5, secondCls: 3, second: 0.1, gap: 0.5 - 0.1, threshold: DEFAULT_BLIND_RULE.shortcutGap });
		// The score stays the curvature candidate's flip rate.
		assert.equal(t.score, 0.08);
		assert.equal(t.alarmBy, 'shortcut');
	});

	test('the gap decides, not the rate: a natural attractor class that many probes reach, with a close runner-up, stays quiet', () => {
		const g = DEFAULT_BLIND_RULE.shortcutGap;
		assert.equal(decideBlindTest({ ...quietCurvature, shortcutRates: rates(0.9, 0.9 - g + 0.01) }).state, 'quiet');
		assert.equal(decideBlindTest({ ...quietCurvature, shortcutRates: rates(0.9, 0.9 - g - 0.01) }).state, 'alarm');
		const q = decideBlindTest({ ...quietCurvature, shortcutRates: rates(0.24, 0.22) });
		assert.equal(q.state, 'quiet');
		assert.match(q.reason, /; class shortcut: .* 2\.0 points more than toward any other class/);
		assert.equal(q.shortcut?.cls, 1);
	});

	test('a curvature alarm keeps its reason and adds the shortcut when both fire; not measured: the curvature test alone', () => {
		const both = decideBlindTest({ ...base, shortcutRates: rates(0.7, 0.1) });
		assert.equal(both.state, 'alarm');
		assert.match(both.reason, /^the candidate trigger flips 50\.0 %.*; and one class is a shortcut: /);
		assert.equal(both.alarmBy, 'both');
		assert.equal(decideBlindTest(base).alarmBy, 'curvature');
		assert.equal(decideBlindTest({ ...base, shortcutRates: rates(0.3, 0.2) }).alarmBy, 'curvature');
		assert.equal(decideBlindTest({ ...quietCurvature, shortcutRates: rates(0.3, 0.2) }).alarmBy, undefined);
		const without = decideBlindTest({ ...quietCurvature, shortcutRates: null });
		assert.equal(without.state, 'quiet');
		assert.equal(without.shortcut, undefined);
	});

	test('nothing to analyse wins over a shortcut (a model predicting one class makes every perturbation reach it)', () => {
		const t = decideBlindTest({ ...quietCurvature, majorityShare: 0.95, shortcutRates: rates(0.9, 0) });
		assert.equal(t.state, 'nothing-to-analyse');
		assert.equal(t.shortcut, undefined);
	});

	test('a fragile model (random directions flip as much as the candidate) with a clear shortcut: the shortcut test has its own control, the other classes', () => {
		const fragile = { ...base, candidateRate: 0.5, randomTypical: 0.45 };
		assert.equal(decideBlindTest(fragile).state, 'inconclusive');
		assert.equal(decideBlindTest({ ...fragile, shortcutRates: rates(0.8, 0.2) }).state, 'alarm');
		assert.equal(decideBlindTest({ ...fragile, shortcutRates: rates(0.8, 0.7) }).state, 'inconclusive');
	});
});

describe('bestOfK', () => {
	test('k at least the pool size: every draw is the pool maximum; empty pool or k < 1: no draws', () => {
		assert.deepEqual(bestOfK([0.1, 0.3, 0.2], 3, 5, 1), [0.3, 0.3, 0.3, 0.3, 0.3]);
		assert.deepEqual(bestOfK([0.1, 0.3, 0.2], 9, 2, 1), [0.3, 0.3]);
		assert.deepEqual(bestOfK([], 3, 5, 1), []);
		assert.deepEqual(bestOfK([0.5], 0, 5, 1), []);
	});

	test('draws without replacement: P(max of 2 of {1,2,3,4} = 4) = 1/2, = 3: 1/3, = 2: 1/6', () => {
		const draws = bestOfK([1, 2, 3, 4], 2, 6000, 42);
		const share = (v: number): number => draws.filter((d) => d === v).length / draws.length;
		assert.ok(Math.abs(share(4) - 1 / 2) < 0.03, `P(4) = ${share(4)}`);
		assert.ok(Math.abs(share(3) - 1 / 3) < 0.03, `P(3) = ${share(3)}`);
		assert.ok(Math.abs(share(2) - 1 / 6) < 0.03, `P(2) = ${share(2)}`);
		assert.equal(share(1), 0);
	});

	test('seeded: the same seed gives the same draws', () => {
		assert.deepEqual(bestOfK([1, 2, 3, 4, 5], 2, 50, 7), bestOfK([1, 2, 3, 4, 5], 2, 50, 7));
	});
});

describe('flipOf', () => {
	test('counts only probes whose label and clean prediction both differ from the class', () => {
		const labels = Int32Array.from([0, 1, 2, 1]);
		const clean = Int32Array.from([0, 1, 2, 2]);
		// class 2: eligible probes 0 and 1 (probe 2 is labelled 2, probe 3 was already predicted 2); both flipped.
		assert.deepEqual(flipOf(labels, clean, Int32Array.from([2, 2, 2, 2]), 3), { rate: 1, cls: 2 });
		// class 0: eligible probes 1, 2, 3; one of them (probe 3) flipped.
		assert.deepEqual(flipOf(labels, clean, Int32Array.from([0, 1, 2, 0]), 3), { rate: 1 / 3, cls: 0 });
		// Non-finite outputs (-1) flip nothing.
		assert.deepEqual(flipOf(labels, clean, Int32Array.from([-1, -1, -1, -1]), 3), { rate: 0, cls: 0 });
	});
});

/**
 * A hand-set linear softmax model on 16 inputs, 3 classes: logit0 = 5·x0, logit1 = 5·x1, logit2 = 100·x15 − 30.
 * Input 15 is 0 on every probe (a dormant trigger input): at the flip size ‖δ‖₂ = 0.1·√16 = 0.4, the direction e15
 * raises logit2 to 10 > 5 and flips every probe to class 2, while the clean inputs' curvature does not see it
 * (p2 ≈ e⁻³⁵). Moving between classes 0 and 1 at that size is impossible (x0 − x1 changes by at most 0.57).
 */
function handModel(bias2 = -30): tf.Sequential {
	const m = tf.sequential();
	m.add(tf.layers.dense({ inputShape: [16], units: 3, activation: 'softmax' }));
	const w = new Float32Array(16 * 3);
	w[0 * 3 + 0] = 5;
	w[1 * 3 + 1] = 5;
	w[15 * 3 + 2] = 100;
	m.layers[0].setWeights([tf.tensor2d(w, [16, 3]), tf.tensor1d([0, 0, bias2])]);
	return m;
}

function handProbes(): { data: Float32Array; labels: Int32Array } {
	const n = 16;
	const data = new Float32Array(n * 16);
	const labels = new Int32Array(n);
	for (let i = 0; i < n; i++) {
		const c = i % 2;
		labels[i] = c;
		data[i * 16 + c] = 1;
		for (let j = 2; j < 15; j++) {
			data[i * 16 + j] = ((i * 7 + j * 3) % 10) / 50; // small, fixed clutter in [0, 0.18]
		}
	}
	return { data, labels };
}

describe('measured parts on a tiny real tfjs model', () => {
	before(() => useBackend('cpu'));

	test('flipRates: the trigger input flips every probe to class 2, a zero direction nothing; equal to blind.flipRate on random directions', async () => {
		const m = handModel();
		const probe = handProbes();
		const e15 = new Float64Array(16);
		e15[15] = 1;
		const [trig, zero] = await flipRates(m, probe, [16], 3, [e15, new Float64Array(16)]);
		assert.deepEqual(trig, { rate: 1, cls: 2 });
		assert.deepEqual(zero, { rate: 0, cls: 0 });
		const dirs = Array.from({ length: 5 }, (_, i) => randomDirection(16, 100 + i));
		const batched = await flipRates(m, probe, [16], 3, dirs);
		for (let i = 0; i < dirs.length; i++) {
			assert.deepEqual(batched[i].rate, (await flipRate(m, probe, [16], 3, dirs[i])).rate);
		}
		m.dispose();
	});

	test('universalPerturbation: gradient ascent toward class 2 finds the trigger input; toward class 0 it cannot flip anything at this size', async () => {
		const m = handModel();
		const logit = logitModelFromLayers(m);
		const probe = handProbes();
		const clean = Int32Array.from(probe.labels);
		const to2 = await universalPerturbation(logit, probe, clean, 2, { steps: 10 });
		assert.ok(to2 !== null);
		const norm = Math.sqrt(to2.reduce((a, v) => a + v * v, 0));
		assert.ok(Math.abs(norm - 0.4) < 1e-9, `on the sphere ‖δ‖ = 0.4, got ${norm}`);
		assert.ok(to2[15] / norm > 0.9, `points along input 15: cos = ${to2[15] / norm}`);
		assert.deepEqual((await flipRates(m, probe, [16], 3, [to2]))[0], { rate: 1, cls: 2 });
		const to0 = await universalPerturbation(logit, probe, clean, 0, { steps: 10 });
		assert.ok(to0 !== null);
		const f0 = (await flipRates(m, probe, [16], 3, [to0]))[0];
		assert.ok(!(f0.cls === 0 && f0.rate > 0), `nothing flips to class 0: ${JSON.stringify(f0)}`);
		logit.dispose();
		m.dispose();
	});

	test('blindTestFor: a candidate that is the dormant trigger (100 % to class 2) is an alarm; null and controls stay low', async () => {
		const m = handModel();
		const logit = logitModelFromLayers(m);
		const r = await blindTestFor(m, logit, handProbes(), 3, [{ rate: 1, cls: 2 }, { rate: 0, cls: 0 }], { minCos2: 0.3, minCluster: 2, maxClusters: 5, randomDirections: 8, nullDraws: 50, uapSteps: 8 });
		assert.equal(r.test.state, 'alarm', r.test.reason);
		assert.equal(r.evidence.candidates, 2);
		assert.equal(r.evidence.cleanAccuracy, 1);
		assert.equal(r.test.nullSize, 50);
		assert.ok((r.test.nullHigh ?? 1) < 0.5, `null band top ${r.test.nullHigh}`);
		assert.equal(r.fragilityByClass[2], 1);
		assert.equal(r.evidence.fragilitySame, 1);
		assert.ok((r.evidence.fragilityOther ?? 1) < 0.5);
		// At the shortcut test's half size (‖δ‖₂ = 0.2) logit2 reaches only −10: no class is reachable, gap 0.
		assert.equal(r.test.shortcut?.gap, 0, JSON.stringify(r.test.shortcut));
		logit.dispose();
		m.dispose();
	});

	test('blindTestFor: with a stronger trigger weight class 2 is reachable at the shortcut size and no other class is: the shortcut test alarms without any candidate', async () => {
		// bias −12: at ‖δ‖₂ = 0.05·√16 = 0.2 along e15, logit2 = 100·0.2 − 12 = 8 > 5 flips every probe; p2 ≈ e⁻¹⁷ on the probes.
		const m = handModel(-12);
		const logit = logitModelFromLayers(m);
		const r = await blindTestFor(m, logit, handProbes(), 3, [], { minCos2: 0.3, minCluster: 2, maxClusters: 5, randomDirections: 8, nullDraws: 50, uapSteps: 8 });
		assert.equal(r.test.alarmBy, 'shortcut', 'only the shortcut test alarmed (the curvature part stayed quiet)');
		assert.equal(r.test.state, 'alarm', r.test.reason);
		assert.deepEqual(r.test.shortcut, { norm: SHORTCUT_NORM, cls: 2, rate: 1, secondCls: 0, second: 0, gap: 1, threshold: DEFAULT_BLIND_RULE.shortcutGap });
		assert.equal(r.shortcut?.cls, 2);
		// Its perturbation is the trigger input: almost all of its energy on e15.
		const d = r.shortcut?.direction ?? new Float64Array(16);
		const energy = d.reduce((a, v) => a + v * v, 0);
		assert.ok((d[15] * d[15]) / energy > 0.9, `share on e15: ${(d[15] * d[15]) / energy}`);
		logit.dispose();
		m.dispose();
	});

	test('blindTestFor: a model that predicts class 2 for every probe has nothing to analyse', async () => {
		const m = handModel(+50);
		const logit = logitModelFromLayers(m);
		const r = await blindTestFor(m, logit, handProbes(), 3, [{ rate: 0, cls: 0 }], { minCos2: 0.3, minCluster: 2, maxClusters: 5, randomDirections: 4, nullDraws: 20, uapSteps: 0 });
		assert.equal(r.test.state, 'nothing-to-analyse');
		assert.match(r.test.reason, /class 2 for 100\.0 % of the 16 clean probes/);
		logit.dispose();
		m.dispose();
	});
});
