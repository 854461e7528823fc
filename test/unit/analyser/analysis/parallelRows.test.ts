import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cheapStageOnThreads, directionStageOnThreads, sampleEigenOnThreads, shortcutOnThreads } from '../../../../src/analyser/analysis/parallelRows';
import { sampleTopEigen } from '../../../../src/analyser/analysis/sampleEigen';
import { directionStage, openTrainingRows } from '../../../../src/analyser/analysis/cascade';
import { blindTestFor, perClassPerturbations, randomDirection, shortcutEstimateMs } from '../../../../src/analyser/analysis/blindTest';
import { rowWindow, stratifiedOrder, subsetReader } from '../../../../src/analyser/analysis/rowSubset';
import { loadCheckpointModel, predictClasses } from '../../../../src/analyser/analysis/checkpoint';
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

describe('stage 3 on worker threads', () => {
	test('2 threads give every row of the flip class exactly the drop 1 thread gives, on every row or on a live subsample', { timeout: 120_000 }, async () => {
		await withNewestCheckpoint(async ({ runDir, ctx, newest, logit, rows: file }) => {
			const direction = randomDirection(ctx.dim, 3);
			for (const rows of [undefined, rowWindow(stratifiedOrder(file.labels, 1), 10, 80)]) {
				const view = rows === undefined ? file : subsetReader(file, rows);
				const flipClass = view.labels[0];
				// Chunks of 8 rows so both threads get several.
				const alone = await directionStage(logit, view, view.labels, direction, flipClass, 0.1, { chunk: 8 });
				// Decide after the first chunk, and always hand the rest to the workers (the fixture is too small to pay otherwise).
				const two = await directionStageOnThreads(runDir, newest.dir, logit, view, view.labels, direction, flipClass, 0.1, { threads: 2, chunk: 8, probeMs: 0, thresholdMs: 0, ...(rows === undefined ? {} : { rows }) });
				assert.equal(two.threads, 2);
				const here = await directionStageOnThreads(runDir, newest.dir, logit, view, view.labels, direction, flipClass, 0.1, { threads: 2, chunk: 8, ...(rows === undefined ? {} : { rows }) });
				assert.equal(here.threads, 1, 'a stage 3 that takes well under two seconds stays in this thread');
				assert.deepEqual(here.drop, alone.drop);
				assert.equal(two.rows, alone.rows);
				assert.ok(alone.rows > 8, `${alone.rows} rows of the flip class`);
				assert.deepEqual(two.drop, alone.drop);
				assert.ok(Array.from(alone.drop).some((v) => Number.isFinite(v) && v !== 0), 'the drops are real numbers');
			}
		});
	});
});

describe('the class-shortcut test on worker threads', () => {
	test('2 threads give every class exactly the perturbation and rate of 1 thread, and the blind test the same evidence', { timeout: 180_000 }, async () => {
		await withNewestCheckpoint(async ({ runDir, ctx, newest, model, logit }) => {
			const clean = await predictClasses(model, ctx.probe.data, ctx.itemShape);
			const o = { steps: 3, norm: 0.05, seed: 11 };
			const alone = await perClassPerturbations(model, logit, ctx.probe, clean, ctx.numClasses, o);
			const onThreads = shortcutOnThreads(runDir, newest.dir, ctx.probe, ctx.numClasses, 2);
			assert.ok(onThreads !== null, 'the cpu backend runs on worker threads');
			const two = await onThreads(clean, o);
			assert.deepEqual(two.rates, alone.rates);
			assert.deepEqual(two.directions, alone.directions);
			assert.ok(alone.directions.filter((d) => d !== null).length >= 2, 'several classes measured');
			const opts = { minCos2: 0.3, minCluster: 3, maxClusters: 5, uapSteps: 3, randomDirections: 4, curvatureDirections: 4, nullDraws: 20 };
			const candidates = [{ rate: 0.5, cls: 0 }];
			const here = await blindTestFor(model, logit, ctx.probe, ctx.numClasses, candidates, opts);
			// perClassMinMs 0: the fixture's test is far too small to be sent to workers by default.
			const there = await blindTestFor(model, logit, ctx.probe, ctx.numClasses, candidates, { ...opts, perClass: onThreads, perClassMinMs: 0 });
			let called = 0;
			const counted: typeof onThreads = (c, x) => {
				called++;
				return onThreads(c, x);
			};
			await blindTestFor(model, logit, ctx.probe, ctx.numClasses, candidates, { ...opts, perClass: counted });
			assert.equal(called, 0, 'a shortcut test estimated under two seconds stays in this thread');
			assert.ok(shortcutEstimateMs(10, 100, 10, 10) > shortcutEstimateMs(10, 100, 10, 5));
			assert.equal(shortcutEstimateMs(10, 100, 10, 10), 10 * 0.1 * (10 * 3 * 100 + 200));
			assert.deepEqual(there.evidence, here.evidence);
			assert.deepEqual(there.test, here.test);
			assert.deepEqual(there.fragilityByClass, here.fragilityByClass);
		});
	});
});
