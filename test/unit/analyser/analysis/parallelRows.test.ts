import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cheapStageOnThreads, sampleEigenOnThreads } from '../../../../src/analyser/analysis/parallelRows';
import { sampleTopEigen } from '../../../../src/analyser/analysis/sampleEigen';
import { openTrainingRows } from '../../../../src/analyser/analysis/cascade';
import { rowWindow, stratifiedOrder, subsetReader } from '../../../../src/analyser/analysis/rowSubset';
import { loadCheckpointModel } from '../../../../src/analyser/analysis/checkpoint';
import { loadRunContext, type RunContext } from '../../../../src/analyser/analysis/context';
import { logitModelFromLayers, type LogitModel } from '../../../../src/analyser/curvature/index';
import { readRun } from '../../../../src/protocol/runFormat';

before(async () => {
	await tf.setBackend('cpu');
});

/** The undeclared fixture's newest checkpoint and its training rows, disposed after `fn`. */
async function withNewestCheckpoint(
	fn: (f: { runDir: string; ctx: RunContext; newest: { dir: string }; model: tf.LayersModel; logit: LogitModel; rows: Awaited<ReturnType<typeof openTrainingRows>> }) => Promise<void>,
): Promise<void> {
	const runDir = path.join(__dirname, '..', '..', '..', 'fixtures', 'runs-analyser', 'undeclared');
	const ctx = await loadRunContext(runDir);
	const newest = [...(await readRun(runDir)).checkpoints].sort((a, b) => b.step - a.step)[0];
	const model = await loadCheckpointModel(ctx, newest.dir);
	const logit = logitModelFromLayers(model, newest.dir);
	const rows = await openTrainingRows(ctx, 'test');
	try {
		await fn({ runDir, ctx, newest, model, logit, rows });
	} finally {
		logit.dispose();
		model.dispose();
		await rows.close();
	}
}

describe('stage 1 on worker threads', () => {
	test('2 threads give every row exactly the score 1 thread gives (a real fixture run)', { timeout: 120_000 }, async () => {
		await withNewestCheckpoint(async ({ runDir, newest, model, logit, rows: reader }) => {
			// Chunks of 16 rows so that both threads get several chunks.
			const one = await cheapStageOnThreads(runDir, newest.dir, logit, model, reader, reader.labels, { threads: 1, chunk: 16, blends: 4 });
			const two = await cheapStageOnThreads(runDir, newest.dir, logit, model, reader, reader.labels, { threads: 2, chunk: 16, blends: 4 });
			assert.equal(one.threads, 1);
			assert.equal(two.threads, 2);
			assert.equal(two.strip.length, reader.count);
			assert.deepEqual(two.strip, one.strip);
			assert.deepEqual(two.spectral, one.spectral);
			assert.deepEqual(two.cheap, one.cheap);
		});
	});

	test('a live scan\'s subsample: 2 threads, each on its own view of the rows, give exactly the scores of 1 thread', { timeout: 120_000 }, async () => {
		await withNewestCheckpoint(async ({ runDir, newest, model, logit, rows: file }) => {
			const rows = rowWindow(stratifiedOrder(file.labels, 1), 40, 48);
			const view = subsetReader(file, rows);
			const one = await cheapStageOnThreads(runDir, newest.dir, logit, model, view, view.labels, { threads: 1, chunk: 16, blends: 4, rows });
			const two = await cheapStageOnThreads(runDir, newest.dir, logit, model, view, view.labels, { threads: 2, chunk: 16, blends: 4, rows });
			assert.equal(two.threads, 2);
			assert.equal(two.strip.length, 48);
			assert.deepEqual(two.strip, one.strip);
			assert.deepEqual(two.cheap, one.cheap);
		});
	});
});

describe('stage 2 on worker threads', () => {
	test('2 threads give every scanned row exactly the eigenpair 1 thread gives, on every row or on a live subsample', { timeout: 120_000 }, async () => {
		await withNewestCheckpoint(async ({ runDir, ctx, newest, logit, rows: file }) => {
			for (const rows of [undefined, rowWindow(stratifiedOrder(file.labels, 1), 10, 80)]) {
				const view = rows === undefined ? file : subsetReader(file, rows);
				// Every third row of the view is "scanned"; chunks of 8 so both threads get several.
				const positions = Int32Array.from({ length: Math.floor(view.count / 3) }, (_, i) => 3 * i);
				const data = await view.readRows(positions);
				const labels = Int32Array.from(positions, (i) => view.labels[i]);
				const alone = await sampleTopEigen(logit, data, labels, positions.length, ctx.dim, { chunk: 8 });
				const two = await sampleEigenOnThreads(runDir, newest.dir, logit, data, labels, positions, { threads: 2, chunk: 8, ...(rows === undefined ? {} : { rows }) });
				assert.ok(positions.length > 16, `${positions.length} scanned rows`);
				assert.deepEqual(two.lambda, alone.lambda);
				assert.deepEqual(two.vectors, alone.vectors);
				assert.ok(alone.lambda.some((l) => l > 0), 'the eigenvalues are real numbers, not zeros');
			}
		});
	});
});
