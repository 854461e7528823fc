import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointSteps, crossingLags, randomShift, signedLag, sustainedCrossing } from '../../../bench/reproduce/cnnMath';
import { parseArgs } from '../../../bench/reproduce/args';
import { pointRunView } from '../../../bench/reproduce/cnn';

describe('reproduce: augmentation', () => {
	test('a shift moves pixels by the drawn offset and fills with zeros', () => {
		// 3×3 image, values 1..9; rand() = 0 → offset −1 in both axes (floor(0·3) − 1).
		const img = Float32Array.from({ length: 9 }, (_, i) => i + 1);
		const out = randomShift(img, [3, 3, 1], 1, () => 0);
		// out[y][x] = in[y + 1][x + 1]: the image moves up-left.
		assert.deepEqual(Array.from(out), [5, 6, 0, 8, 9, 0, 0, 0, 0]);
		// rand() just below 1 → offset +1: moves down-right.
		const down = randomShift(img, [3, 3, 1], 1, () => 0.999);
		assert.deepEqual(Array.from(down), [0, 0, 0, 0, 1, 2, 0, 4, 5]);
		// rand() = 0.5 → offset 0: unchanged.
		assert.deepEqual(Array.from(randomShift(img, [3, 3, 1], 1, () => 0.5)), Array.from(img));
	});

	test('a partial item is refused', () => {
		assert.throws(() => randomShift(new Float32Array(10), [3, 3, 1], 1, () => 0), /10 values is not a whole number/);
	});
});

describe('reproduce: checkpoint schedule and threshold-crossing lag', () => {
	test('dense steps early, sparse later, always 0 and the last step', () => {
		assert.deepEqual(checkpointSteps(100, 10, 30, 25), [0, 10, 20, 30, 55, 80, 100]);
		assert.deepEqual(checkpointSteps(7, 10, 30, 25), [0, 7]);
	});

	test('sustainedCrossing ignores an early spike that falls back', () => {
		const steps = [0, 10, 20, 30, 40];
		assert.equal(sustainedCrossing(steps, [0, 0.9, 0, 0.6, 0.8], 0.5), 30);
		assert.equal(sustainedCrossing(steps, [0, 0.9, null, 0.6, 0.8], 0.5), 10);
		assert.equal(sustainedCrossing(steps, [0, 0.9, 0.9, 0.9, 0.1], 0.5), null);
	});

	test('crossingLags: half of each rise, guards for ineffective attacks and flat curves, signed lag', () => {
		const steps = [0, 10, 20, 30, 40];
		// Excess ASR final 0.8 → level 0.4, reached for good at 30 (the spike at 10 does not count).
		// Overlap 0.1 → 0.7 → level 0.4, reached at 20. Curvature 1 → 9 → level 5, reached at 40.
		const r = crossingLags(steps, [0, 0.5, 0.1, 0.5, 0.8], [0.1, 0.2, 0.45, 0.6, 0.7], [1, 2, 3, 4, 9]);
		assert.deepEqual(r, { halfAsrStep: 30, halfOverlapStep: 20, halfCurvatureStep: 40, halfLagOverlap: -10, halfLagCurvature: 10 });
		// Final excess ASR below 0.2: no attack step, no lag; a flat overlap and a curvature that did not double: no steps.
		const n = crossingLags(steps, [0, 0.9, 0, 0, 0.1], [0.1, 0.1, 0.12, 0.1, 0.11], [1, 1.2, 1.5, 1.8, 1.9]);
		assert.deepEqual(n, { halfAsrStep: null, halfOverlapStep: null, halfCurvatureStep: null, halfLagOverlap: null, halfLagCurvature: null });
		assert.equal(signedLag(100, 60), -40);
		assert.equal(signedLag(null, 60), null);
	});
});

describe('reproduce: arguments', () => {
	test('--quick, --only, --seeds and npm_config_quick', () => {
		assert.deepEqual(parseArgs([]), { quick: false, sections: ['theory', 'linear', 'cnn', 'defence'], fresh: false, figures: true, report: false, seeds: 3, dataset: null, shard: null, deadline: null, out: null, merge: [] });
		assert.equal(parseArgs(['--report']).report, true);
		const q = parseArgs(['--quick', '--only=linear,theory', '--no-figures']);
		assert.deepEqual(q.sections, ['theory', 'linear']);
		assert.equal(q.seeds, 1);
		assert.equal(q.figures, false);
		assert.equal(parseArgs([], { npm_config_quick: 'true' }).quick, true);
		assert.equal(parseArgs(['--seeds=2']).seeds, 2);
	});

	test('unknown flags and sections are refused by name', () => {
		assert.throws(() => parseArgs(['--fast']), /unknown argument '--fast'/);
		assert.throws(() => parseArgs(['--only=theory,gpu']), /unknown section 'gpu'/);
		assert.throws(() => parseArgs(['--seeds=0']), /--seeds=0/);
		assert.throws(() => parseArgs(['--report', '--fresh']), /use one/);
		assert.throws(() => parseArgs(['--shard=3/3']), /0 <= I < N/);
		assert.throws(() => parseArgs(['--shard=1']), /--shard=I\/N/);
		assert.throws(() => parseArgs(['--dataset=cifar']), /expected one of mnist, fashion-mnist/);
		assert.throws(() => parseArgs(['--deadline=-1']), /--deadline=-1/);
		assert.throws(() => parseArgs(['--report', '--shard=0/2']), /use one/);
	});

	test('worker options: --dataset, --shard, --deadline, --out, --merge', () => {
		const w = parseArgs(['--only=cnn', '--dataset=fashion-mnist', '--shard=2/15', '--deadline=420', '--out=/tmp/w2', '--merge=/a,/b', '--merge=/c']);
		assert.equal(w.dataset, 'fashion-mnist');
		assert.deepEqual(w.shard, { index: 2, count: 15 });
		assert.equal(w.deadline, 420);
		assert.equal(w.out, '/tmp/w2');
		assert.deepEqual(w.merge, ['/a', '/b', '/c']);
	});
});

describe('reproduce: a point as the dashboard sees it', () => {
	test('pointRunView maps the CSV rows onto the webview RunView the dashboard charts read', () => {
		const run = { section: 'cnn', dataset: 'mnist', attack: 'cross', theta: 0.01, kappa: 0, augment: false, seed: 0, steps: 1252, epochs: 4, asrStep: 120, spectralStep: 80, lagSteps: -40, verdict: 'early-warning', spectralSignal: 'overlap+gap' };
		const cp = (step: number, extra: Record<string, number | string | null>): Record<string, number | string | boolean | null> => ({ ...run, step, epoch: step / 313, probeAccuracy: 0.9, asr: 0.5, p0: 0.01, excessAsr: 0.49, lambda1: 2, lambda2: 0.5, overlap: 0.6, gap: 4, triggerCurvature: 0.3, error: '', ...extra });
		const v = pointRunView(run, [cp(80, {}), cp(0, { lambda1: null, lambda2: null, error: 'CheckpointCorrupt: x' })]);
		assert.deepEqual(v.checkpoints.map((c) => c.step), [0, 80]);
		assert.equal(v.checkpoints[0].error, 'CheckpointCorrupt: x');
		assert.equal(v.checkpoints[0].topEigenvalues, null);
		assert.deepEqual(v.checkpoints[1].topEigenvalues, [2, 0.5]);
		assert.equal(v.checkpoints[1].cleanAccuracy, 0.9);
		assert.equal(v.checkpoints[1].triggerOverlap, 0.6);
		assert.equal(v.checkpoints[1].error, null);
		assert.equal(v.info.stepsPerEpoch, 313);
		assert.equal(v.info.attackDeclared, true);
		assert.deepEqual(v.summary?.lag, { asrStep: 120, spectralStep: 80, lagSteps: -40, lagEpochs: -40 / 313 });
		assert.equal(v.summary?.verdict, 'early-warning');
	});
});
