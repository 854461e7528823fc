import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
	blendsFor,
	candidateCount,
	DEFAULT_BLENDS,
	LARGE_SCAN_BLENDS,
	LARGE_SCAN_ROWS,
	cheapStage,
	combineStages,
	gateSuspects,
	CURVATURE_COS2_AT_CUT,
	directionStage,
	expensiveSelection,
	readRowScores,
	robustCentre,
	robustZWithinLabel,
	ROW_SCORE_REFERENCE,
	SUSPECT_CUT,
	spectralProjections,
	writeRowScores,
} from '../../../../src/analyser/analysis/cascade';
import { coverageText } from '../../../../src/cli/analyse';
import type { LogitModel } from '../../../../src/analyser/curvature/index';
import { openTensorSet, writeTensorSet } from '../../../../src/protocol/tensorFile';

before(async () => {
	await tf.setBackend('cpu');
});

/** A logit model z = W x (C × d), for closed-form checks. */
function linearLogits(w: number[][], shape: number[]): LogitModel {
	const wt = tf.tensor2d(w).transpose();
	return {
		inputShape: shape,
		numClasses: w.length,
		piecewiseLinear: true,
		label: 'linear',
		logits: (x: tf.Tensor) => tf.tidy(() => tf.matMul<tf.Tensor2D>(x.reshape([x.shape[0] ?? 0, -1]), wt)),
		dispose: () => undefined,
	};
}

async function tensorFile(values: number[], count: number, labels: number[]): Promise<string> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-cascade-'));
	const file = path.join(dir, 'rows.bin');
	await writeTensorSet(file, { itemShape: [values.length / count], count, data: Float32Array.from(values), labels: Int32Array.from(labels) });
	return file;
}

describe('row suspicion cascade', () => {
	test('robust centre and z within labels (hand-computed)', () => {
		// values 1, 2, 3, 4, 100: median 3, |dev| 2 1 0 1 97 → MAD 1, scale 1.4826.
		const c = robustCentre([1, 2, 3, 4, 100]);
		assert.equal(c.median, 3);
		assert.ok(Math.abs(c.scale - 1.4826) < 1e-12);
		const z = robustZWithinLabel([1, 2, 3, 4, 100, 10, 10, 10], [0, 0, 0, 0, 0, 1, 1, 1]);
		assert.ok(Math.abs(z[4] - 97 / 1.4826) < 1e-9);
		assert.ok(Math.abs(z[0] + 2 / 1.4826) < 1e-9);
		// A constant group: scale floored, z = 0 (no division by zero).
		assert.deepEqual(Array.from(z.subarray(5)), [0, 0, 0]);
	});

	test('spectral projections: |centred row · top singular vector| per label (explicit matrix)', () => {
		// Label 0: points on the line t·(3, 4)/5, t = -2, -1, 0, 1, 2 → mean 0, projections |t|.
		const reps: number[] = [];
		for (const t of [-2, -1, 0, 1, 2]) {
			reps.push((3 * t) / 5, (4 * t) / 5);
		}
		// Label 1: (5, 0), (7, 0), (9, 0) → centred −2, 0, 2 along x.
		reps.push(5, 0, 7, 0, 9, 0);
		const p = spectralProjections(Float32Array.from(reps), 8, 2, [0, 0, 0, 0, 0, 1, 1, 1]);
		const want = [2, 1, 0, 1, 2, 2, 0, 2];
		p.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `row ${i}: ${v} vs ${want[i]}`));
	});

	test('blends per row: the default up to LARGE_SCAN_ROWS scored rows, the large-set level above, an explicit number always', () => {
		assert.equal(blendsFor(2048), DEFAULT_BLENDS);
		assert.equal(blendsFor(LARGE_SCAN_ROWS), DEFAULT_BLENDS);
		assert.equal(blendsFor(LARGE_SCAN_ROWS + 1), LARGE_SCAN_BLENDS);
		assert.equal(blendsFor(60_000, 3), 3);
		assert.equal(blendsFor(60_000, 0), 1);
	});

	test('candidates: the top k by cheap score; the control: k other rows, seeded', () => {
		assert.equal(candidateCount(10_000), 512);
		assert.equal(candidateCount(40_000), 800);
		assert.equal(candidateCount(60_000), 1024);
		assert.equal(candidateCount(100), 100);
		assert.equal(candidateCount(100, 7), 7);
		const cheap = Float64Array.from({ length: 50 }, (_, i) => (i * 37) % 50);
		const { candidates, control } = expensiveSelection(cheap, 5, 0);
		assert.deepEqual(Array.from(candidates).map((i) => cheap[i]).sort((a, b) => b - a), [49, 48, 47, 46, 45]);
		assert.equal(control.length, 5);
		assert.ok(Array.from(control).every((c) => !Array.from(candidates).includes(c)));
		assert.deepEqual(expensiveSelection(cheap, 5, 0).control, control, 'seeded');
	});

	test('one score per row: with a candidate, max(curvature z, direction z); without, the cheap z', () => {
		const cheap = Float64Array.from([10, 0, 0, 0, 0, 0]);
		// Rows 0…5 scanned; control rows 3, 4, 5 have cos² 0.01, 0.02, 0.03 → median 0.02, MAD-scale 0.014826 < floor 0.3/3.5.
		const scanned = [0, 1, 2, 3, 4, 5];
		const cos2 = Float64Array.from([0.02, 0.9, 0.3, 0.01, 0.02, 0.03]);
		const floor = CURVATURE_COS2_AT_CUT / ROW_SCORE_REFERENCE;
		const drop = Float64Array.from([NaN, NaN, 1, 1, 1, 1]);
		drop[2] = 1; // flip-class rows 2…5, all equal: direction z 0
		const s = combineStages(cheap, scanned, cos2, [3, 4, 5], drop, ROW_SCORE_REFERENCE);
		assert.ok(Math.abs(s.curvature[1] - (0.9 - 0.02) / floor) < 1e-9);
		assert.ok(Math.abs(s.score[1] - (0.9 - 0.02) / floor) < 1e-9);
		assert.equal(s.score[0], 0, 'a high cheap score alone does not make a suspect once a candidate exists');
		assert.deepEqual(s.suspects, [1], 'cos² 0.3 is just below the reference z (0.28 above the control median)');
		assert.equal(s.controlMissed, 0);
		// The score does not depend on the cut; the dev-chosen cut only moves the suspects.
		const atCut = combineStages(cheap, scanned, cos2, [3, 4, 5], drop);
		assert.deepEqual(Array.from(atCut.score), Array.from(s.score));
		assert.equal(atCut.cut, SUSPECT_CUT);
		assert.deepEqual(atCut.suspects, Array.from(s.score.keys()).filter((i) => s.score[i] >= SUSPECT_CUT).sort((a, b) => s.score[b] - s.score[a]));
		const none = combineStages(cheap, [], null, [], null);
		assert.deepEqual(none.suspects, [0]);
		assert.equal(none.score[0], 10);
	});

	test('stage 3: the drop of the flip class log-probability when the direction is added or removed (closed form)', async () => {
		// Two classes, z = (x0, 0): log p0 = x0 − log(e^x0 + 1). Direction (1, 0), rms 0.1, d = 2 → step 0.1·√2.
		const logit = linearLogits([[1, 0], [0, 0]], [2]);
		const file = await tensorFile([0.9, 0.5, 0.1, 0.5, 0.5, 0.5], 3, [0, 0, 1]);
		const reader = await openTensorSet(file);
		try {
			const r = await directionStage(logit, reader, reader.labels ?? new Int32Array(0), [1, 0], 0, 0.1, {});
			const lp = (x0: number): number => x0 - Math.log(Math.exp(x0) + 1);
			const step = 0.1 * Math.SQRT2;
			const want = (x0: number): number => Math.max(lp(x0) - lp(Math.min(1, x0 + step)), lp(x0) - lp(Math.max(0, x0 - step)));
			assert.equal(r.rows, 2);
			assert.ok(Math.abs(r.drop[0] - want(0.9)) < 1e-6);
			assert.ok(Math.abs(r.drop[1] - want(0.1)) < 1e-6);
			assert.ok(Number.isNaN(r.drop[2]), 'rows of other labels are not tested');
		} finally {
			await reader.close();
		}
	});

	test('stage 1: a model that ignores its input has entropy log C under every blend', async () => {
		const logit = linearLogits([[0, 0], [0, 0], [0, 0]], [2]);
		const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 3, kernelInitializer: 'zeros', activation: 'softmax' })] });
		const file = await tensorFile([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 4, [0, 0, 1, 1]);
		const reader = await openTensorSet(file);
		try {
			const c = await cheapStage(logit, model, reader, reader.labels ?? new Int32Array(0), { blends: 3, chunk: 3 });
			for (const v of c.strip) {
				assert.ok(Math.abs(v + Math.log(Math.log(3) + 1e-6)) < 1e-5);
			}
		} finally {
			await reader.close();
			model.dispose();
		}
	});

	test('every row\'s score round-trips through blind/row-scores.csv', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-scores-'));
		const cheap = { strip: Float64Array.from([1, 2]), spectral: Float64Array.from([0.5, 0.25]), cheap: Float64Array.from([0, 4]), ms: 1 };
		const s = combineStages(cheap.cheap, [], null, [], null);
		const rel = await writeRowScores(dir, 12, [7, 9], [1, 0], cheap, s, 5);
		const back = await readRowScores(dir);
		assert.equal(rel, 'blind/row-scores.csv');
		assert.equal(back?.cut, SUSPECT_CUT);
		assert.equal(back?.step, 12);
		assert.equal(back?.scoredRows, 2);
		assert.equal(back?.totalRows, 5);
		assert.deepEqual(back?.scores.get(9), { label: 0, score: 4, suspect: true });
		assert.deepEqual(back?.scores.get(7), { label: 1, score: 0, suspect: false });
		assert.equal(back?.testState, null);
	});

	test('stage 3: a drop must at least halve the row\'s probability (ln 2 nats) to reach the reference z, however still the other rows are', () => {
		const n = 40;
		const cheap = new Float64Array(n);
		// Genuine rows of the flip class barely move (1e-4 nats, spread 1e-5); row 0 drops 0.5 nats, row 1 drops 1 nat.
		const drop = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0.5 : i === 1 ? 1 : 1e-4 + 1e-5 * ((i % 5) - 2)));
		const s = combineStages(cheap, [], new Float64Array(0), [], drop, ROW_SCORE_REFERENCE);
		assert.ok(s.direction[0] < ROW_SCORE_REFERENCE, `0.5 nats scored ${s.direction[0]}`);
		assert.ok(s.direction[1] >= ROW_SCORE_REFERENCE, `1 nat scored ${s.direction[1]}`);
		assert.ok(Math.abs(s.direction[1] - (1 - 1e-4) / (Math.LN2 / ROW_SCORE_REFERENCE)) < 1e-9);
		assert.deepEqual(s.suspects, [1]);
		assert.equal(s.drop[1], 1);
		// A candidate the blind test did not confirm is no evidence: the rows fall back to their stage-1 score.
		const quiet = gateSuspects(s, 'quiet', cheap);
		assert.deepEqual(Array.from(quiet.score), Array.from(cheap));
		assert.equal(quiet.direction[1], s.direction[1]);
		assert.equal(gateSuspects(s, 'alarm', cheap).score[1], s.direction[1]);
	});

	test('suspects only when the blind test alarms; every row keeps its score either way, and the file says which state gated it', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-scores-'));
		const cheap = { strip: Float64Array.from([1, 2]), spectral: Float64Array.from([0.5, 0.25]), cheap: Float64Array.from([0, 4]), ms: 1 };
		const s = combineStages(cheap.cheap, [], null, [], null);
		assert.deepEqual(s.suspects, [1]);
		assert.equal(gateSuspects(s, 'alarm', cheap.cheap), s);
		for (const state of ['quiet', 'inconclusive', 'nothing-to-analyse'] as const) {
			const g = gateSuspects(s, state, cheap.cheap);
			assert.deepEqual(g.suspects, []);
			assert.deepEqual(Array.from(g.score), Array.from(cheap.cheap));
			await writeRowScores(dir, 3, [7, 9], [1, 0], cheap, g, 2, state);
			const back = await readRowScores(dir);
			assert.equal(back?.testState, state);
			assert.deepEqual(back?.scores.get(9), { label: 0, score: 4, suspect: false });
		}
		await writeRowScores(dir, 3, [7, 9], [1, 0], cheap, gateSuspects(s, 'alarm', cheap.cheap), 2, 'alarm');
		const back = await readRowScores(dir);
		assert.equal(back?.testState, 'alarm');
		assert.deepEqual(back?.scores.get(9), { label: 0, score: 4, suspect: true });
	});

	test('coverage text: all rows, or "scored N of M rows" with the bound', () => {
		assert.equal(coverageText(100, 100), 'scored all 100 training rows');
		assert.match(coverageText(4096, 10000) ?? '', /^scored 4096 of 10000 rows \(a capped sample: 5904 rows were never looked at, so recall over the whole training set is at most 41\.0 % in expectation\)$/);
		assert.equal(coverageText(null, 5), null);
	});
});
