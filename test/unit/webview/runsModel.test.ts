import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { csvField, metricsCsv } from '../../../src/host/dashboard/csv';
import { RunsModel } from '../../../src/host/dashboard/runsModel';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'runs');
const tmp = mkdtempSync(path.join(tmpdir(), 'pl-runsmodel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function rootWith(name: string, runs: string[]): string {
	const root = path.join(tmp, name, '.poison-lens', 'runs');
	mkdirSync(root, { recursive: true });
	for (const r of runs) {
		cpSync(path.join(FIXTURES, r), path.join(root, r), { recursive: true });
	}
	return root;
}

describe('RunsModel', () => {
	test('discovers run folders (those with a manifest) under the roots, newest first', async () => {
		const root = rootWith('ws1', ['synthetic-cross-theta1', 'synthetic-cross-theta0']);
		mkdirSync(path.join(root, 'not-a-run'));
		const m = new RunsModel(() => [root]);
		const changes = await m.discover();
		assert.equal(changes.length, 2);
		const snap = m.snapshot();
		assert.deepEqual(snap.runs.map((r) => r.info.id), ['synthetic-cross-theta1', 'synthetic-cross-theta0']);
		assert.equal(snap.primaryRunId, 'synthetic-cross-theta1');
		assert.equal(snap.runsRoot, root);
		assert.deepEqual(await m.discover(), [], 'known runs are not re-announced');
	});

	test('maps changed files to their run folder, including a run being created', async () => {
		const root = rootWith('ws2', ['synthetic-cross-theta0']);
		const m = new RunsModel(() => [root]);
		await m.discover();
		const known = path.join(root, 'synthetic-cross-theta0');
		assert.equal(m.runDirFor(path.join(known, 'events.jsonl')), known);
		assert.equal(m.runDirFor(path.join(root, 'new-run', 'manifest.json')), path.join(root, 'new-run'));
		assert.equal(m.runDirFor(path.join(tmp, 'elsewhere.txt')), null);
	});

	test('an append shows up as an update, a deleted folder as a removal', async () => {
		const root = rootWith('ws3', ['synthetic-cross-theta0']);
		const m = new RunsModel(() => [root]);
		await m.discover();
		const dir = path.join(root, 'synthetic-cross-theta0');
		assert.equal(await m.refreshDir(dir), null, 'no change, no message');
		appendFileSync(path.join(dir, 'analysis.jsonl'), JSON.stringify({ kind: 'checkpoint', epoch: 6.5, step: 1020, cleanAccuracy: 0.99, error: null }) + '\n');
		const c = await m.refreshDir(dir);
		assert.equal(c?.kind, 'updated');
		if (c?.kind === 'updated') {
			assert.equal(c.run.checkpoints[c.run.checkpoints.length - 1]?.step, 1020);
		}
		rmSync(dir, { recursive: true });
		assert.deepEqual(await m.refreshDir(dir), { kind: 'removed', runId: 'synthetic-cross-theta0' });
		assert.equal(m.snapshot().runs.length, 0);
	});

	test('opens a run outside the roots and makes it primary; refuses a folder without a manifest', async () => {
		const m = new RunsModel(() => []);
		const v = await m.open(path.join(FIXTURES, 'synthetic-blind'));
		assert.equal(v.info.id, 'synthetic-blind');
		assert.equal(m.snapshot().primaryRunId, 'synthetic-blind');
		const empty = path.join(tmp, 'empty');
		mkdirSync(empty);
		await assert.rejects(m.open(empty), /empty is not a Poison Lens run folder: it has no manifest\.json/);
	});

	test('CSV export is full resolution: every logged batch, not the 500 drawn points', async () => {
		const m = new RunsModel(() => [], () => 100);
		await m.open(path.join(FIXTURES, 'synthetic-cross-theta1'));
		const view = m.snapshot().runs[0];
		assert.equal(view.metrics.find((x) => x.name === 'loss' && x.level === 'batch')?.series.step.length, 100);
		const csv = m.csv('training', ['synthetic-cross-theta1']);
		const lossRows = csv.split('\n').filter((l) => l.startsWith('synthetic-cross-theta1,batch,loss,'));
		assert.equal(lossRows.length, 6 * 157);
		const analysis = m.csv('lag', ['synthetic-cross-theta1', 'unknown-run']).trim().split('\n');
		assert.equal(analysis.length, 1 + 12);
		const header = analysis[0].split(',');
		assert.deepEqual(header.slice(0, 4), ['run', 'theta', 'kappa', 'step']);
		assert.ok(header.includes('lambda5') && header.includes('triggerCurvature'));
		// The failed checkpoint's message contains no comma here, but every row has the header's width.
		for (const row of analysis.slice(1)) {
			assert.equal(row.split(',').length, header.length, row);
		}
	});
});

describe('csv helpers', () => {
	test('quotes fields with commas, quotes and newlines; empties for null and non-finite', () => {
		assert.equal(csvField('a,b'), '"a,b"');
		assert.equal(csvField('say "hi"'), '"say ""hi"""');
		assert.equal(csvField('two\nlines'), '"two\nlines"');
		assert.equal(csvField(null), '');
		assert.equal(csvField(Number.NaN), '');
		assert.equal(csvField(0.5), '0.5');
	});

	test('metricsCsv writes one row per point', () => {
		const csv = metricsCsv([{ runId: 'r,1', metrics: [{ name: 'loss', level: 'batch', series: { step: [1, 2], epoch: [0.1, 0.2], time: [0, 1], value: [2, 1] } }] }]);
		assert.equal(csv, 'run,level,metric,step,epoch,time_s,value\n"r,1",batch,loss,1,0.1,0,2\n"r,1",batch,loss,2,0.2,1,1\n');
	});
});

describe('RunsModel with a run written while watched', () => {
	test('a run folder that gets its manifest later is picked up then', async () => {
		const root = rootWith('ws4', []);
		const m = new RunsModel(() => [root]);
		const dir = path.join(root, 'late');
		mkdirSync(dir);
		assert.equal(await m.refreshDir(dir), null, 'no manifest yet: nothing to show');
		cpSync(path.join(FIXTURES, 'synthetic-cross-theta0', 'manifest.json'), path.join(dir, 'manifest.json'));
		writeFileSync(path.join(dir, 'events.jsonl'), '');
		const c = await m.refreshDir(dir);
		assert.equal(c?.kind, 'updated');
	});
});
