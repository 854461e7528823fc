import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlindState, CheckpointAnalysis } from '../../../../src/protocol/analysisRecord';
import { analyseLag, asrStep, curvatureBand, spectralStep, checkpointInterval } from '../../../../src/analyser/analysis/lag';

/** A record at `step` (100 steps per epoch) with the given signals; everything else null. */
function rec(step: number, s: { ex?: number | null; ov?: number; gap?: number; tc?: number; l1?: number; error?: string }): CheckpointAnalysis {
	const ex = s.ex === undefined ? 0 : s.ex;
	return {
		kind: 'checkpoint',
		checkpoint: String(step),
		pass: 'light',
		epoch: step / 100,
		step,
		cleanAccuracy: 0.9,
		asr: ex === null ? null : ex + 0.01,
		p0: ex === null ? null : 0.01,
		excessAsr: ex,
		topEigenvalues: [s.l1 ?? 1, (s.l1 ?? 1) / 1.2],
		triggerOverlap: s.ov ?? 0.01,
		spectralGap: s.gap ?? 1.2,
		triggerCurvature: s.tc ?? 0.01,
		perSample: null,
		clean: null,
		error: s.error ?? null,
	};
}

describe('asrStep', () => {
	test('first step at half the final excess ASR', () => {
		const rs = [rec(0, {}), rec(100, { ex: 0.1 }), rec(200, { ex: 0.45 }), rec(300, { ex: 0.9 })];
		assert.deepEqual(asrStep(rs), { step: 200, finalExcess: 0.9 });
	});
	test('none when the final excess ASR stays below the effective threshold', () => {
		assert.deepEqual(asrStep([rec(0, {}), rec(100, { ex: 0.1 })]), { step: null, finalExcess: 0.1 });
	});
	test('none without a declared attack', () => {
		assert.deepEqual(asrStep([rec(0, { ex: null })]), { step: null, finalExcess: null });
	});
});

describe('curvature band', () => {
	test('baseline skips the initial checkpoint and stops at the first excess ASR ≥ 0.05', () => {
		const rs = [rec(0, { tc: 5 }), rec(100, { tc: 1 }), rec(200, { tc: 2, ex: 0.06 }), rec(300, { tc: 1 })];
		const b = curvatureBand(rs);
		assert.deepEqual(b.steps, [100]);
		// One baseline point: MAD 0, so the threshold is 3× its value.
		assert.ok(Math.abs((b.threshold as number) - 3) < 1e-12);
	});
	test('threshold is max(3× median, median + 3σ) on a log scale', () => {
		const rs = [rec(100, { tc: 1 }), rec(200, { tc: Math.E }), rec(300, { tc: Math.E ** 2 })];
		// logs 0, 1, 2: median 1, MAD 1.4826 → median + 3σ = 1 + 4.4478 > 1 + ln 3.
		const b = curvatureBand(rs);
		assert.ok(Math.abs(Math.log(b.threshold as number) - (1 + 3 * 1.4826)) < 1e-9);
	});
});

describe('spectralStep', () => {
	test('overlap+gap needs both and must persist to the next checkpoint', () => {
		const rs = [
			rec(100, {}),
			rec(200, { ov: 0.5, gap: 8 }), // blip
			rec(300, {}),
			rec(400, { ov: 0.5, gap: 4 }), // gap too small
			rec(500, { ov: 0.4, gap: 6 }),
			rec(600, { ov: 0.45, gap: 9 }),
		];
		const s = spectralStep(rs);
		assert.equal(s.step, 500);
		assert.equal(s.signal, 'overlap+gap');
	});
	test('curvature above the band fires; baseline checkpoints cannot', () => {
		const rs = [rec(100, { tc: 1 }), rec(200, { tc: 1 }), rec(300, { tc: 1 }), rec(400, { tc: 3.5 }), rec(500, { tc: 4 })];
		const s = spectralStep(rs);
		assert.equal(s.step, 400);
		assert.equal(s.signal, 'relativeTriggerCurvature');
		assert.deepEqual(s.baselineSteps, [100, 200, 300]);
	});
	test('a single last checkpoint that fires counts', () => {
		assert.equal(spectralStep([rec(100, {}), rec(200, { ov: 0.9, gap: 20 })]).step, 200);
	});
});

describe('analyseLag verdicts', () => {
	const ramp = (asrFrom: number, spikeFrom: number | null): CheckpointAnalysis[] =>
		[0, 100, 200, 300, 400, 500, 600, 700].map((step) =>
			rec(step, {
				ex: step >= asrFrom ? 0.9 : 0,
				...(spikeFrom !== null && step >= spikeFrom ? { ov: 0.5, gap: 10 } : {}),
			}),
		);

	test('spectrum two intervals before the ASR: early-warning with a negative lag', () => {
		const r = analyseLag(ramp(500, 300));
		assert.equal(r.verdict, 'early-warning');
		assert.deepEqual(r.lag, { asrStep: 500, spectralStep: 300, lagSteps: -200, lagEpochs: -2 });
	});
	test('within one checkpoint interval: visible', () => {
		assert.equal(analyseLag(ramp(400, 500)).verdict, 'visible');
		assert.equal(analyseLag(ramp(400, 400)).lag.lagSteps, 0);
	});
	test('ASR more than one interval first: lagging', () => {
		const r = analyseLag(ramp(200, 500));
		assert.equal(r.verdict, 'lagging');
		assert.equal(r.lag.lagSteps, 300);
	});
	test('ASR high, no spike: invisible, recommending regularisation plus augmentation', () => {
		const r = analyseLag(ramp(300, null));
		assert.equal(r.verdict, 'invisible');
		assert.match(r.recommendation ?? '', /input-gradient regularisation/);
		assert.match(r.recommendation ?? '', /augmentation/);
		// Only a declared near-clone trigger lets the text name the near-clone regime: otherwise it says what was measured.
		assert.doesNotMatch(r.recommendation ?? '', /near-clone/);
		assert.match(r.recommendation ?? '', /no spectral signal/);
		assert.match(analyseLag(ramp(300, null), null, undefined, { nearClone: true }).recommendation ?? '', /near-clone/);
	});
	test('nothing happens: clean', () => {
		const r = analyseLag(ramp(10_000, null));
		assert.equal(r.verdict, 'clean');
		assert.deepEqual(r.lag, { asrStep: null, spectralStep: null, lagSteps: null, lagEpochs: null });
	});
	test('spectrum fires, attack not (yet) working: early-warning', () => {
		assert.equal(analyseLag(ramp(10_000, 400)).verdict, 'early-warning');
	});
	test('attack not working and only the relative curvature rising: clean, not a warning', () => {
		// The reproduce sweep saw this on a θ = 0 near-clone control and on κ = 100 penalty runs.
		const rs = [rec(100, { tc: 1 }), rec(200, { tc: 1 }), rec(300, { tc: 1 }), rec(400, { tc: 3.5 }), rec(500, { tc: 4 })];
		const r = analyseLag(rs);
		assert.equal(r.ruleSteps.relativeCurvature, 400);
		assert.equal(r.verdict, 'clean');
		assert.equal(r.recommendation, null);
	});
	test('error records are ignored', () => {
		const rs = [...ramp(500, 300), rec(800, { error: 'CheckpointCorrupt: bad', ex: null })];
		assert.equal(analyseLag(rs).verdict, 'early-warning');
	});
	test('no declared attack: only the blind test\'s alarm reads visible, whatever the flip rate', () => {
		const rs = [rec(100, { ex: null }), rec(200, { ex: null })];
		const test = (state: BlindState) => ({ state, score: 0.8, nullName: 'n', nullSize: 10, nullLow: 0.1, nullHigh: 0.2, falseAlarmRate: null, reason: 'r' });
		assert.equal(analyseLag(rs, null).verdict, 'clean');
		assert.equal(analyseLag(rs, { suspects: 30, candidateTriggerOverlap: null, flipRate: 0.8, test: test('alarm') }).verdict, 'visible');
		for (const state of ['quiet', 'inconclusive', 'nothing-to-analyse'] as const) {
			assert.equal(analyseLag(rs, { suspects: 30, candidateTriggerOverlap: null, flipRate: 1, test: test(state) }).verdict, 'clean', state);
		}
		// A summary without a test (written before the test existed) is no finding, even at a 100 % flip rate.
		assert.equal(analyseLag(rs, { suspects: 3244, candidateTriggerOverlap: null, flipRate: 1 }).verdict, 'clean');
	});
	test('checkpoint interval is the median spacing', () => {
		assert.equal(checkpointInterval([0, 50, 100, 113, 163]), 50);
		assert.equal(checkpointInterval([7]), 0);
	});
});

describe('curvature band fallback', () => {
	test('an attack working from the first trained checkpoint uses the initial checkpoint as the baseline', () => {
		const rs = [rec(0, { tc: 0.002, ex: -0.1 }), rec(25, { tc: 0.26, ex: 0.5 }), rec(50, { tc: 0.9, ex: 1 })];
		const b = curvatureBand(rs);
		assert.deepEqual(b.steps, [0]);
		const r = analyseLag(rs);
		assert.equal(r.lag.spectralStep, 25);
		assert.equal(r.verdict, 'visible');
	});
});

describe('relative trigger curvature', () => {
	test('tᵀHt growing with λ1 (overall sharpening) is no signal; growing against it is', () => {
		const sharpening = [100, 200, 300, 400, 500, 600].map((step, i) => rec(step, { tc: 0.01 * 2 ** i, l1: 0.1 * 2 ** i }));
		assert.equal(spectralStep(sharpening).step, null);
		const tcs = [0.002, 0.002, 0.0021, 0.004, 0.008, 0.016];
		const backdoor = [100, 200, 300, 400, 500, 600].map((step, i) => rec(step, { tc: tcs[i], l1: 0.1 }));
		// ρ = 0.02, 0.02, 0.021 (baseline: median 0.02, MAD 0) → threshold 3 × 0.02 = 0.06; 0.04 < 0.06 < 0.08.
		const s = spectralStep(backdoor);
		assert.deepEqual(s.baselineSteps, [100, 200, 300]);
		assert.ok(Math.abs((s.threshold as number) - 0.06) < 1e-12);
		assert.equal(s.step, 500);
		assert.deepEqual(s.ruleSteps, { overlapGap: null, relativeCurvature: 500 });
	});
});
