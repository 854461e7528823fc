import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { JsonlTail, RunReader } from '../../../src/host/dashboard/runStore';
import { blindCsv, csvKind } from '../../../src/host/dashboard/csv';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'runs');
const tmpRoot = mkdtempSync(path.join(tmpdir(), 'pl-runstore-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

function newRun(name: string, withManifestFrom = 'synthetic-cross-theta1'): string {
	const dir = path.join(tmpRoot, name);
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'manifest.json'), readFileSync(path.join(FIXTURES, withManifestFrom, 'manifest.json')));
	return dir;
}

// Times just before now, so a run with no `end` reads as live rather than interrupted.
const T0 = Date.now() - 60_000;
const batch = (step: number, loss: number): string => JSON.stringify({ type: 'batch', time: new Date(T0 + step * 20).toISOString(), step, epoch: 0, batch: step - 1, fractionalEpoch: step / 100, loss, metrics: { acc: 0.5 } });

describe('RunReader on the synthetic fixture', () => {
	test('reads every file with no problem: the fixture follows the SDK schema', async () => {
		for (const name of ['synthetic-cross-theta1', 'synthetic-cross-theta0', 'synthetic-cross-theta1-kappa1e3', 'synthetic-cross-theta1-kappa1e4', 'synthetic-blind']) {
			const r = new RunReader(path.join(FIXTURES, name));
			await r.refresh();
			assert.deepEqual(r.view().problems, [], name);
		}
	});

	test('primary fixture: 6 epochs × 157 steps logged per batch, decimated to 500, 12 checkpoints', async () => {
		const r = new RunReader(path.join(FIXTURES, 'synthetic-cross-theta1'));
		assert.equal(await r.refresh(), true);
		const v = r.view(500);
		assert.equal(v.info.id, 'synthetic-cross-theta1');
		assert.equal(v.info.status, 'finished');
		assert.equal(v.info.attackDeclared, true);
		assert.equal(v.info.theta, 0.01);
		assert.equal(v.info.kappa, 0);
		assert.equal(v.info.stepsPerEpoch, 157);
		const loss = v.metrics.find((m) => m.level === 'batch' && m.name === 'loss');
		assert.equal(loss?.rawCount, 6 * 157);
		assert.equal(loss?.series.step.length, 500);
		assert.equal(loss?.series.epoch[loss.series.epoch.length - 1], 6);
		const epochAcc = v.metrics.find((m) => m.level === 'epoch' && m.name === 'val_acc');
		assert.equal(epochAcc?.rawCount, 6);
		assert.equal(v.checkpoints.length, 12);
		assert.equal(v.checkpoints.filter((c) => c.error !== null).length, 1);
		for (let i = 1; i < v.checkpoints.length; i++) {
			assert.ok(v.checkpoints[i].time > v.checkpoints[i - 1].time, 'checkpoint wall times increase');
		}
		assert.equal(v.summary?.verdict, 'early-warning');
		assert.ok(v.images.topEigenvector !== undefined && v.images.declaredTrigger !== undefined);
		assert.equal(await r.refresh(), false, 'nothing new on a second refresh');
	});

	test('blind fixture: no attack, candidate trigger image', async () => {
		const r = new RunReader(path.join(FIXTURES, 'synthetic-blind'));
		await r.refresh();
		const v = r.view();
		assert.equal(v.info.attackDeclared, false);
		assert.ok(v.images.candidateTrigger !== undefined);
		assert.equal(v.summary?.blind?.suspects, 41);
	});
});

describe('RunReader live tailing', () => {
	test('a partial last line waits; a completed one is read; byte offsets only move forward', async () => {
		const dir = newRun('live');
		const ev = path.join(dir, 'events.jsonl');
		const r = new RunReader(dir);
		await r.refresh();
		assert.equal(r.view().metrics.length, 0);
		assert.equal(r.view().info.status, 'created');
		appendFileSync(ev, batch(1, 2.0) + '\n' + batch(2, 1.5).slice(0, 20));
		await r.refresh();
		let loss = r.view().metrics.find((m) => m.name === 'loss');
		assert.deepEqual(loss?.series.value, [2.0]);
		appendFileSync(ev, batch(2, 1.5).slice(20) + '\n');
		await r.refresh();
		loss = r.view().metrics.find((m) => m.name === 'loss');
		assert.deepEqual(loss?.series.value, [2.0, 1.5]);
		assert.equal(r.view().info.status, 'training');
		// Ten minutes without a new line and no `end` record: the training process is gone.
		assert.equal(r.info(Date.now() + 11 * 60_000).status, 'interrupted');
	});

	test('a multi-byte character split across two appends is decoded whole', async () => {
		const file = path.join(tmpRoot, 'utf8.jsonl');
		const line = Buffer.from(JSON.stringify({ name: 'θ=1% κ' }) + '\n', 'utf8');
		const cut = line.indexOf(Buffer.from('θ', 'utf8')) + 1; // inside the two-byte θ
		writeFileSync(file, line.subarray(0, cut));
		const t = new JsonlTail(file);
		assert.deepEqual((await t.read()).lines, []);
		appendFileSync(file, line.subarray(cut));
		const { lines } = await t.read();
		assert.equal(lines.length, 1);
		assert.deepEqual(JSON.parse(lines[0].text), { name: 'θ=1% κ' });
		assert.equal(lines[0].line, 1);
	});

	test('overlapping reads (two file events at once, or the dashboard opening while a watcher refreshes) return each line once and never land mid-line', async () => {
		const file = path.join(tmpRoot, 'overlap.jsonl');
		const rec = (i: number) => JSON.stringify({ kind: 'summary', i, lag: { asrStep: null, spectralStep: null } });
		writeFileSync(file, [1, 2, 3].map(rec).join('\n') + '\n');
		const t = new JsonlTail(file);
		const first = t.read();
		appendFileSync(file, [4, 5].map(rec).join('\n') + '\n');
		const second = t.read();
		const third = t.read();
		const got = (await Promise.all([first, second, third])).flatMap((r) => r.lines);
		assert.deepEqual(got.map((l) => (JSON.parse(l.text) as { i: number }).i), [1, 2, 3, 4, 5]);
		assert.deepEqual(got.map((l) => l.line), [1, 2, 3, 4, 5]);
		appendFileSync(file, rec(6) + '\n');
		const next = await t.read();
		assert.deepEqual(next.lines.map((l) => (JSON.parse(l.text) as { i: number }).i), [6]);
		assert.equal(t.bytesRead, readFileSync(file).length);
	});

	test('overlapping refreshes of one run read each analysis line once', async () => {
		const dir = newRun('overlap-run');
		const an = path.join(dir, 'analysis.jsonl');
		const cpLine = (step: number) => JSON.stringify({ kind: 'checkpoint', epoch: step / 100, step, cleanAccuracy: 0.9, pass: 'light' });
		writeFileSync(an, [100, 200].map(cpLine).join('\n') + '\n');
		const r = new RunReader(dir);
		const a = r.refresh();
		appendFileSync(an, cpLine(300) + '\n');
		const b = r.refresh();
		await Promise.all([a, b, r.refresh()]);
		const v = r.view();
		assert.deepEqual(v.problems, []);
		assert.deepEqual(v.checkpoints.map((c) => c.step), [100, 200, 300]);
	});

	test('a truncated file is read again from the start', async () => {
		const dir = newRun('truncated');
		const ev = path.join(dir, 'events.jsonl');
		writeFileSync(ev, [1, 2, 3].map((s) => batch(s, s)).join('\n') + '\n');
		const r = new RunReader(dir);
		await r.refresh();
		assert.equal(r.view().metrics.find((m) => m.name === 'loss')?.rawCount, 3);
		writeFileSync(ev, batch(1, 9) + '\n');
		assert.equal(await r.refresh(), true);
		const loss = r.view().metrics.find((m) => m.name === 'loss');
		assert.deepEqual(loss?.series.value, [9]);
	});

	test('a corrupt line is a problem naming file and line; the rest is still read', async () => {
		const dir = newRun('corrupt');
		writeFileSync(path.join(dir, 'events.jsonl'), [batch(1, 1), '{"type":"batch", oops', JSON.stringify({ type: 'warp-speed', time: '2026-11-20T09:00:02Z' }), batch(2, 0.5)].join('\n') + '\n');
		writeFileSync(path.join(dir, 'analysis.jsonl'), ['{"kind":"checkpoint","epoch":1,"step":100,"cleanAccuracy":"high"}', '{"kind":"checkpoint","epoch":1,"step":100,"cleanAccuracy":0.9,"pass":"light"}', '{"kind":"checkpoint","epoch":1,"step":100,"cleanAccuracy":0.95,"pass":"full"}'].join('\n') + '\n');
		const r = new RunReader(dir);
		await r.refresh();
		const v = r.view();
		assert.equal(v.metrics.find((m) => m.name === 'loss')?.rawCount, 2);
		assert.equal(v.problems.length, 3);
		assert.match(v.problems[0], /events\.jsonl:2: not valid JSON/);
		assert.match(v.problems[1], /events\.jsonl:3:/);
		assert.match(v.problems[2], /analysis\.jsonl:1: field "cleanAccuracy" must be a finite number or null, got "high"/);
		// The full pass written after the light pass supersedes it.
		assert.equal(v.checkpoints.length, 1);
		assert.equal(v.checkpoints[0].pass, 'full');
		assert.equal(v.checkpoints[0].cleanAccuracy, 0.95);
	});

	test('an SDK error event and a failed end mark the run failed', async () => {
		const dir = newRun('failed');
		writeFileSync(path.join(dir, 'events.jsonl'), [batch(1, 1), JSON.stringify({ type: 'error', time: '2026-11-20T09:00:03Z', message: 'NaN loss at step 2' }), JSON.stringify({ type: 'end', time: '2026-11-20T09:00:04Z', step: 2, epoch: 0, status: 'failed' })].join('\n') + '\n');
		const r = new RunReader(dir);
		await r.refresh();
		assert.equal(r.view().info.status, 'failed');
		assert.equal(r.view().runError, 'NaN loss at step 2');
	});

	test('a missing manifest is reported and the folder name stands in for the id', async () => {
		const dir = path.join(tmpRoot, 'no-manifest');
		mkdirSync(dir, { recursive: true });
		const r = new RunReader(dir);
		await r.refresh();
		assert.equal(r.id, 'no-manifest');
		assert.match(r.view().problems[0], /manifest\.json: missing/);
	});
});

describe('live blind lines in the run view', () => {
	const blind = (step: number, state: string, score: number | null): string =>
		JSON.stringify({ kind: 'blind', step, epoch: step / 100, test: { state, score, nullName: 'n', nullSize: 1, nullLow: 0.02, nullHigh: 0.2, falseAlarmRate: null, reason: `at ${step}` }, flipRate: score, controlFlipRate: 0.02, suspects: 4, scoredRows: 1024, totalRows: 20000, analysisMs: 900 });

	test('are tailed into view().blind (one per step, the later line wins) with wall times, and exported as the suspicion CSV', async () => {
		const dir = newRun('live-blind');
		writeFileSync(path.join(dir, 'events.jsonl'), [1, 50, 100, 150].map((s) => batch(s, 1 / s)).join('\n') + '\n');
		writeFileSync(path.join(dir, 'analysis.jsonl'), blind(50, 'quiet', 0.1) + '\n');
		const r = new RunReader(dir);
		await r.refresh();
		assert.deepEqual(r.view().blind?.map((b) => [b.step, b.test.state]), [[50, 'quiet']]);
		appendFileSync(path.join(dir, 'analysis.jsonl'), blind(100, 'alarm', 0.8) + '\n' + blind(50, 'inconclusive', 0.4) + '\n');
		assert.equal(await r.refresh(), true);
		const v = r.view();
		assert.deepEqual(v.blind?.map((b) => [b.step, b.test.state]), [
			[50, 'inconclusive'],
			[100, 'alarm'],
		]);
		assert.deepEqual(v.problems, []);
		// The run's clock: step 100's batch was written 1 s after step 50's (20 ms per step).
		assert.ok(Math.abs((v.blind?.[1].time ?? NaN) - (v.blind?.[0].time ?? NaN) - 1) < 1e-6, JSON.stringify(v.blind?.map((b) => b.time)));
		assert.equal(csvKind('suspicion'), 'blind');
		const csv = blindCsv([{ info: v.info, blind: r.blindPoints() }]).trim().split(/\r?\n/);
		assert.equal(csv.length, 3);
		assert.match(csv[0], /^run,step,epoch,time_s,state,score,nullLow,nullHigh,/);
		assert.match(csv[2], /,100,1,[\d.]+,alarm,0\.8,0\.02,0\.2,n,1,,0\.8,0\.02,4,1024,20000,900,at 100$/);
	});
});
