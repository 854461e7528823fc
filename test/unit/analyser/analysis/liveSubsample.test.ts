/**
 * The live monitor's time box bounds stage 1 too: on a real SDK run (the undeclared-attack fixture, 128 recorded rows
 * of 800), a second live scan with a box too small for every row scores a stratified window of the rows, and every
 * output of it says "scored N of M rows".
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { blindLine, LiveBlindMonitor, type LiveView } from '../../../../src/analyser/analysis/liveBlind';
import { openTrainingRows, readRowScores } from '../../../../src/analyser/analysis/cascade';
import { loadRunContext } from '../../../../src/analyser/analysis/context';
import { liveBlindText } from '../../../../src/cli/analyse';
import { readRun } from '../../../../src/protocol/runFormat';

before(async () => {
	await tf.setBackend('cpu');
});

const FIXTURE = path.join(__dirname, '..', '..', '..', 'fixtures', 'runs-analyser', 'undeclared');

describe('live blind scan: a subsample sized to the box', () => {
	test('the first scan scores every row; a scan whose box is too small scores a stratified window and says "scored N of M rows"', { timeout: 120_000 }, async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-live-subsample-'));
		fs.cpSync(FIXTURE, dir, { recursive: true });
		const ctx = await loadRunContext(dir);
		const recorded = ctx.manifest.trainSample?.count ?? 0;
		const totalRows = ctx.manifest.trainSample?.totalRows ?? 0;
		assert.equal(recorded, 128);
		const reader = await openTrainingRows(ctx, 'test');
		const labels = Int32Array.from(reader.labels);
		const source = Uint32Array.from(reader.rowIndices ?? []);
		await reader.close();
		const newest = [...(await readRun(dir)).checkpoints].sort((a, b) => b.step - a.step)[0];
		const target = { step: newest.step, epoch: newest.epoch ?? 1, dir: newest.dir };
		// The epoch time is not known yet at the first scan (no box); then epochs of 0.4 s: a 0.1 s box, far too small for 128 rows.
		const epochTimes: number[] = [];
		const view: LiveView = { checkpoints: [target], epochTimes, checkpointTimes: [], poll: () => Promise.resolve() };
		const monitor = new LiveBlindMonitor(ctx, { every: 'epoch', share: 0.25, minSamples: 32, maxSamples: 64 }, 64, recorded);

		const first = await monitor.scan(target, view, undefined);
		assert.equal(first.kind, 'done');
		if (first.kind !== 'done') {
			return;
		}
		assert.equal(first.plan.rows, recorded, 'no cost measured yet: the first scan takes up to 4096 rows, here all');
		assert.equal(first.result.summary.scoredRows, recorded);
		assert.equal(first.coversAll, true);
		assert.equal(monitor.rowCursor, 0, 'a whole-set scan does not move the ring');

		epochTimes.push(0, 400);
		const second = await monitor.scan(target, view, undefined);
		assert.equal(second.kind, 'done');
		if (second.kind !== 'done') {
			return;
		}
		const n = second.plan.rows;
		assert.ok(n >= 32 && n < recorded, `the box bounds stage 1: ${n} rows`);
		assert.equal(second.result.summary.scoredRows, n);
		assert.equal(second.result.cascade.scoredRows, n);
		assert.equal(second.result.summary.totalRows, totalRows);
		assert.equal(second.coversAll, false, 'a subsample never stands for the final scan');
		assert.equal(monitor.rowCursor, n, 'the next scan starts where this one ended');
		// The live line, the CLI's stderr line, the row-scores file: "scored N of M rows".
		const line = blindLine(target, second.result, totalRows);
		assert.equal(line.scoredRows, n);
		assert.equal(line.totalRows, totalRows);
		assert.ok(line.scoredRows !== null && line.totalRows !== null && line.scoredRows < line.totalRows);
		assert.match(liveBlindText(line), new RegExp(`, scored ${n} of ${totalRows} rows, `));
		const stored = await readRowScores(dir);
		assert.equal(stored?.scoredRows, n);
		assert.equal(stored?.totalRows, totalRows);
		// The scored rows are source rows of the recording, stratified by label (each label's share to within two rows).
		const scored = [...(stored?.scores.keys() ?? [])];
		const sourceSet = new Set(source);
		assert.ok(scored.every((r) => sourceSet.has(r)));
		assert.ok((second.result.summary.suspectRows ?? []).every((r) => stored?.scores.has(r)), 'suspects are among the scored rows');
		for (const label of new Set(labels)) {
			const share = (n * labels.filter((l) => l === label).length) / recorded;
			const got = scored.filter((r) => stored?.scores.get(r)?.label === label).length;
			assert.ok(Math.abs(got - share) < 2, `label ${label}: ${got} rows scored, its share is ${share.toFixed(2)}`);
		}
	});
});

describe('the live stderr line', () => {
	test('names the test that alarmed and the class-shortcut gap beside the score and its band', () => {
		const line = {
			kind: 'blind' as const, step: 50, epoch: 2, flipRate: 0.846, controlFlipRate: 0, suspects: 1, scoredRows: 128, totalRows: 800, analysisMs: 1200,
			test: { state: 'alarm' as const, score: 0.846, nullName: 'n', nullSize: 200, nullLow: 0.1, nullHigh: 0.846, falseAlarmRate: null, reason: 'one class is a shortcut', alarmBy: 'shortcut' as const, shortcut: { norm: 0.05, cls: 0, rate: 0.231, secondCls: 1, second: 0, gap: 0.2308, threshold: 0.23 } },
		};
		assert.equal(
			liveBlindText(line),
			'live blind scan at step 50 (epoch 2.00, scored 128 of 800 rows, 1.2 s): ALARM by the class-shortcut test, score 0.846 (null band 0.1–0.846), class-shortcut gap 0.231 (alarm from 0.23): one class is a shortcut',
		);
		const quiet = { ...line, test: { ...line.test, state: 'quiet' as const, alarmBy: undefined, shortcut: undefined } };
		assert.match(liveBlindText(quiet), /\): quiet, score 0\.846 \(null band 0\.1–0\.846\): one class/);
	});
});
