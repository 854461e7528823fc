/**
 * End-to-end: a real training script using the SDK runs as a child process; its run folder must validate, and a
 * script killed with SIGKILL mid-epoch must leave a readable run.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint, readEvents, readRun } from '../../src/protocol/runFormat';
import { readTensorSet } from '../../src/protocol/tensorFile';
import { loadStoredTrigger } from '../../src/protocol/trigger';

const root = path.resolve(__dirname, '../..');
const fixture = path.join(root, 'test/fixtures/sdk/train.ts');

function startFixture(args: string[]): { child: ChildProcess; runDir: Promise<string>; exit: Promise<number | null>; output: () => string } {
	const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	let err = '';
	const runDir = new Promise<string>((resolve, reject) => {
		child.stdout?.on('data', (d: Buffer) => {
			out += d.toString();
			const m = /^RUN_DIR (.+)$/m.exec(out);
			if (m?.[1] !== undefined) {
				resolve(m[1]);
			}
		});
		child.on('exit', () => reject(new Error(`fixture exited before creating a run folder:\n${out}\n${err}`)));
	});
	child.stderr?.on('data', (d: Buffer) => {
		err += d.toString();
	});
	const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
	return { child, runDir, exit, output: () => `${out}\n${err}` };
}

async function checkpointsLoad(dirs: string[]): Promise<void> {
	for (const dir of dirs) {
		const model = await tf.loadLayersModel(tf.io.fromMemory(await readCheckpoint(dir)));
		const y = model.predict(tf.zeros([1, 8, 8, 1])) as tf.Tensor;
		assert.deepEqual(y.shape, [1, 3]);
		assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
	}
}

before(async () => {
	await tf.setBackend('cpu');
});

describe('SDK in a real training process', () => {
	test('a completed run folder validates end to end', async () => {
		const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-e2e-'));
		const f = startFixture(['--dir', runs, '--epochs', '3']);
		const runDir = await f.runDir;
		assert.equal(await f.exit, 0, f.output());
		assert.match(f.output(), /DONE final accuracy (0\.\d+|1)\n/);

		const run = await readRun(runDir);
		assert.deepEqual(run.eventErrors, []);
		assert.equal(run.end?.status, 'completed');
		// 240 rows / 16 = 15 steps per epoch; checkpoints every 3 steps plus step 0.
		assert.deepEqual(run.checkpoints.map((c) => c.step), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45]);
		assert.equal(run.events.filter((e) => e.type === 'batch').length, 45);
		assert.equal(run.events.filter((e) => e.type === 'epoch').length, 3);
		await checkpointsLoad(run.checkpoints.map((c) => c.dir));

		const m = run.manifest;
		assert.equal(m.schemaVersion, '1.2');
		assert.equal(m.attack?.kind, 'cross');
		assert.equal(m.attack?.poisonedRows?.length, 24);
		const probe = await readTensorSet(path.join(runDir, m.probe.path));
		assert.equal(probe.count, 32);
		assert.deepEqual(probe.itemShape, [8, 8, 1]);
		const sample = await readTensorSet(path.join(runDir, m.trainSample?.path ?? 'missing'));
		assert.equal(sample.count, 100);
		assert.ok(m.attack?.trigger.stored !== undefined);
		await loadStoredTrigger(runDir, m.attack.trigger.stored);
		// No temporary files or folders are left behind.
		const leftovers = fs.readdirSync(runDir, { recursive: true }).map(String).filter((p) => p.includes('.tmp'));
		assert.deepEqual(leftovers, []);
	});

	const bundle = path.join(root, 'dist/sdk/index.cjs');
	test('the built package entry (dist/sdk/index.cjs) records a valid run and leaves tfjs external', { skip: !fs.existsSync(bundle) && 'dist/sdk/index.cjs not built (node esbuild.mjs)' }, async () => {
		const text = fs.readFileSync(bundle, 'utf8');
		assert.match(text, /require\("@tensorflow\/tfjs"\)/);
		assert.doesNotMatch(text, /The highest priority backend/, 'no copy of tfjs-core inside the SDK bundle');
		const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-e2e-bundle-'));
		const f = startFixture(['--dir', runs, '--epochs', '1', '--bundle']);
		const runDir = await f.runDir;
		assert.equal(await f.exit, 0, f.output());
		const run = await readRun(runDir);
		assert.deepEqual(run.eventErrors, []);
		assert.equal(run.end?.status, 'completed');
		assert.deepEqual(run.checkpoints.map((c) => c.step), [0, 3, 6, 9, 12, 15]);
		await checkpointsLoad(run.checkpoints.map((c) => c.dir));
	});

	test('SIGKILL from outside during training leaves a readable run', async () => {
		const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-e2e-kill-'));
		const f = startFixture(['--dir', runs, '--epochs', '1000', '--delay-ms', '15']);
		const runDir = await f.runDir;
		const events = path.join(runDir, 'events.jsonl');
		// Wait until a full epoch and at least three checkpoints are on disk, then kill at whatever moment it is.
		const deadline = Date.now() + 90_000;
		for (;;) {
			const chunk = await readEvents(events);
			const ckpts = chunk.events.filter((e) => e.type === 'checkpoint-written').length;
			if (ckpts >= 3 && chunk.events.some((e) => e.type === 'epoch')) {
				break;
			}
			assert.ok(Date.now() < deadline, `the fixture made no progress:\n${f.output()}`);
			await new Promise((r) => setTimeout(r, 30));
		}
		f.child.kill('SIGKILL');
		assert.equal(await f.exit, null);
		await checkKilledRun(runDir, Infinity);
	});

	test('SIGKILL mid-epoch (step 22 = batch 7 of epoch 2) leaves a readable run', async () => {
		const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-e2e-selfkill-'));
		const f = startFixture(['--dir', runs, '--epochs', '5', '--delay-ms', '10', '--kill-self-at-step', '22']);
		const runDir = await f.runDir;
		assert.equal(await f.exit, null, f.output());
		assert.equal(f.child.signalCode, 'SIGKILL');
		await checkKilledRun(runDir, 22);
	});
});

/** A killed run: valid manifest, no end event, no bad lines, every announced and every complete checkpoint loads. */
async function checkKilledRun(runDir: string, maxStep: number): Promise<void> {
	const run = await readRun(runDir);
	assert.equal(run.end, undefined, 'a killed run has no end event');
	assert.deepEqual(run.eventErrors, []);
	const steps = run.events.flatMap((e) => (e.type === 'batch' ? [e.step] : []));
	assert.ok(Math.max(0, ...steps) <= maxStep);
	assert.ok(run.checkpoints.length >= 1, 'at least the step-0 checkpoint');
	await checkpointsLoad(run.checkpoints.map((c) => c.dir));
	// Every folder under its final name is complete, announced or not (temporary ones may remain).
	const complete = fs.readdirSync(path.join(runDir, 'checkpoints')).filter((d) => /^\d+$/.test(d));
	await checkpointsLoad(complete.map((d) => path.join(runDir, 'checkpoints', d)));
}
