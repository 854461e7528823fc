import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runBaselines } from '../../../../src/analyser/detectors/run';
import { loadRunContext, readTrainingSample } from '../../../../src/analyser/analysis/context';
import { loadCheckpointModel } from '../../../../src/analyser/analysis/checkpoint';
import { spectralSignatures } from '../../../../src/analyser/detectors/spectralSignatures';
import { readRun } from '../../../../src/protocol/runFormat';

/** A real SDK run of a tiny CNN (test/fixtures/runs-analyser, 128-row training sample, no declared attack). */
const FIXTURE = path.join(__dirname, '../../../fixtures/runs-analyser/undeclared');

describe('baseline detectors over a run folder', () => {
	test('every detector scores every training-sample row; Spectral Signatures equals the pure detector on hand-extracted penultimate activations', async () => {
		await tf.setBackend('cpu');
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-detectors-'));
		fs.cpSync(FIXTURE, dir, { recursive: true });
		const before = fs.readdirSync(dir).sort();
		const r = await runBaselines(dir, { stripN: 4, rowScoreCheckpoints: 2, timeline: true });
		assert.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing written into the run folder');
		const ctx = await loadRunContext(dir);
		const sample = await readTrainingSample(ctx, 'test');
		assert.equal(r.rows.length, sample.count);
		assert.deepEqual(
			r.detectors.map((d) => d.detector).sort(),
			['activation-clustering', 'loss-isolation', 'row-scores', 'spectral-signatures', 'strip'],
		);
		for (const d of r.detectors) {
			assert.equal(d.rowScores.length, sample.count, d.detector);
			assert.ok(d.flagged.every((i) => Number.isInteger(i) && i >= 0 && i < sample.count), d.detector);
			assert.ok(Number.isFinite(d.runScore), `${d.detector} run score ${d.runScore}`);
			assert.ok(d.seconds >= 0);
		}
		// Independent extraction of the penultimate layer: apply every layer before the last Dense by hand.
		const snap = await readRun(dir);
		const newest = [...snap.checkpoints].sort((a, b) => b.step - a.step)[0];
		const model = await loadCheckpointModel(ctx, newest.dir);
		const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
		const lastDense = layers.map((l) => l.getClassName()).lastIndexOf('Dense');
		const reps = tf.tidy(() => {
			let x: tf.Tensor = tf.tensor(sample.data, [sample.count, ...ctx.itemShape]);
			for (const l of layers.slice(0, lastDense)) {
				x = l.apply(x) as tf.Tensor;
			}
			return x.reshape([sample.count, -1]);
		});
		const width = reps.shape[1] ?? 0;
		const expected = spectralSignatures(await reps.data(), sample.count, width, sample.labels);
		reps.dispose();
		model.dispose();
		const got = r.detectors.find((d) => d.detector === 'spectral-signatures');
		assert.ok(got !== undefined);
		expected.rowScores.forEach((v, i) => assert.ok(Math.abs(v - got.rowScores[i]) <= 1e-4 * Math.max(1, Math.abs(v)), `row ${i}: ${got.rowScores[i]} vs ${v}`));
		assert.ok(r.timeline.length > 0);
		fs.rmSync(dir, { recursive: true, force: true });
	});
});
