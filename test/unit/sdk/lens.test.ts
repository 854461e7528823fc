import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PoisonLens, sampleRows } from '../../../src/sdk/lens';
import { crossAttack } from '../../../src/sdk/attacks/index';
import { readCheckpoint, readManifest, readRun } from '../../../src/protocol/runFormat';
import { readTensorSet } from '../../../src/protocol/tensorFile';
import { applyTrigger, loadStoredTrigger } from '../../../src/protocol/trigger';
import { mulberry32 } from '../../../src/math/random';

const ITEM = [6, 6, 1];
const PER = 36;

function images(n: number, seed: number): { values: Float32Array; labels: Int32Array } {
	const rand = mulberry32(seed);
	return { values: Float32Array.from({ length: n * PER }, () => rand()), labels: Int32Array.from({ length: n }, (_, i) => i % 3) };
}

function model(): tf.Sequential {
	const m = tf.sequential();
	m.add(tf.layers.flatten({ inputShape: ITEM }));
	m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
	m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
	return m;
}

function tmp(): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'pl-lens-'));
}

before(async () => {
	await tf.setBackend('cpu');
});

describe('PoisonLens with model.fit', () => {
	test('writes a valid run folder: manifest, probe, train sample, trigger, events, checkpoints', async () => {
		const dir = tmp();
		const train = images(48, 1);
		const probe = images(40, 2);
		const attack = crossAttack({ images: train.values, labels: train.labels, itemShape: ITEM }, { fraction: 0.125, targetLabel: 0, seed: 1, arm: 1, marginBottom: 0, marginRight: 0 });
		const rowIndices = Int32Array.from({ length: 48 }, (_, i) => 1000 + i);
		const warnings: string[] = [];
		const lens = await PoisonLens.start({
			runName: 'Unit Test!',
			dir,
			probe: { xs: { values: probe.values, itemShape: ITEM }, labels: probe.labels, size: 16, seed: 3, source: 'synthetic' },
			attack,
			checkpointEvery: 2,
			trainSample: { xs: { values: attack.images, itemShape: ITEM }, labels: attack.labels, size: 20, seed: 4, rowIndices, source: 'synthetic-train' },
			dataset: { name: 'synthetic', numClasses: 3 },
			onWarning: (m) => warnings.push(m),
		});
		assert.match(lens.runId, /^unit-test-\d{8}-\d{6}-[0-9a-f]{4}$/);
		const m = model();
		const xs = tf.tensor4d(attack.images, [48, 6, 6, 1]);
		const ys = tf.oneHot(tf.tensor1d(attack.labels, 'int32'), 3);
		await m.fit(xs, ys, { batchSize: 16, epochs: 2, shuffle: false, verbose: 0, callbacks: [lens.callback()] });
		await lens.end();
		assert.deepEqual(warnings, []);

		const run = await readRun(lens.runDir);
		assert.deepEqual(run.eventErrors, []);
		const man = run.manifest;
		// model.fit on a Sequential hands callbacks the inner functional model, so either name is right.
		assert.ok(['Sequential', 'Model'].includes(man.model?.className ?? ''));
		assert.deepEqual(man.model?.layers.map((l) => l.className).filter((c) => c !== 'InputLayer'), ['Flatten', 'Dense']);
		assert.equal(man.model?.totalParams, 36 * 3 + 3);
		assert.deepEqual(man.dataset.inputShape, ITEM);
		assert.equal(man.attack?.kind, 'cross');
		// Poisoned rows are recorded as source rows (through rowIndices), like the training sample.
		assert.deepEqual(man.attack?.poisonedRows, Array.from(attack.poisonIndices, (r) => 1000 + r));
		const batches = run.events.filter((e) => e.type === 'batch');
		assert.deepEqual(batches.map((e) => e.step), [1, 2, 3, 4, 5, 6]);
		assert.ok(batches.every((e) => e.type === 'batch' && typeof e.loss === 'number' && e.metrics?.acc !== undefined && e.metrics.batch === undefined));
		assert.equal(batches[2]?.type === 'batch' ? batches[2].fractionalEpoch : -1, 1);
		assert.deepEqual(run.events.filter((e) => e.type === 'epoch').map((e) => e.epoch), [0, 1]);
		assert.deepEqual(run.checkpoints.map((c) => c.step), [0, 2, 4, 6]);
		assert.equal(run.events[run.events.length - 1]?.type, 'end');
		assert.equal(run.end?.status, 'completed');

		// The last checkpoint holds the final weights.
		const art = await readCheckpoint(run.checkpoints[3]?.dir ?? '');
		const loaded = await tf.loadLayersModel(tf.io.fromMemory(art));
		const a = (m.predict(xs) as tf.Tensor).dataSync();
		const b = (loaded.predict(xs) as tf.Tensor).dataSync();
		assert.deepEqual(Array.from(b), Array.from(a));
		// Step 0 holds the initial weights, which differ.
		const first = await tf.loadLayersModel(tf.io.fromMemory(await readCheckpoint(run.checkpoints[0]?.dir ?? '')));
		assert.notDeepEqual(Array.from((first.predict(xs) as tf.Tensor).dataSync()), Array.from(a));

		// Probe: the seeded subset of the given rows, with labels and row indices.
		const p = await readTensorSet(path.join(lens.runDir, man.probe.path));
		const rows = sampleRows(40, 16, 3);
		assert.deepEqual(Array.from(p.rowIndices ?? []), Array.from(rows));
		assert.deepEqual(Array.from(p.labels ?? []), Array.from(rows, (r) => probe.labels[r]));
		assert.deepEqual(Array.from(p.data.subarray(0, PER)), Array.from(probe.values.subarray((rows[0] ?? 0) * PER, ((rows[0] ?? 0) + 1) * PER)));
		// Train sample: rows exactly as trained, labelled with the labels used, indexed by source row.
		const s = await readTensorSet(path.join(lens.runDir, man.trainSample?.path ?? ''));
		assert.equal(s.count, 20);
		const srows = sampleRows(48, 20, 4);
		assert.deepEqual(Array.from(s.rowIndices ?? []), Array.from(srows, (r) => 1000 + r));
		assert.deepEqual(Array.from(s.labels ?? []), Array.from(srows, (r) => attack.labels[r]));
		// Stored trigger reproduces the generator's trigger.
		const stored = man.attack?.trigger.stored;
		assert.ok(stored !== undefined);
		const spec = await loadStoredTrigger(lens.runDir, stored);
		assert.deepEqual(Array.from(applyTrigger(spec, ITEM, probe.values)), Array.from(attack.trigger(probe.values)));
		xs.dispose();
		ys.dispose();
	});

	test('checkpoint() captures the weights at the call, even if training changes them right after', async () => {
		const dir = tmp();
		const probe = images(8, 5);
		const lens = await PoisonLens.start({ runName: 'custom', dir, probe: { xs: { values: probe.values, itemShape: ITEM }, labels: probe.labels }, checkpointEvery: 1 });
		const m = model();
		const before = m.getWeights().map((w) => Array.from(w.dataSync()));
		const pending = lens.checkpoint(m, { step: 1, epoch: 0, metrics: { loss: 1 } });
		await pending;
		m.setWeights(m.getWeights().map((w) => tf.zerosLike(w)));
		await lens.end();
		const run = await readRun(lens.runDir);
		const art = await readCheckpoint(run.checkpoints[0]?.dir ?? '');
		const loaded = await tf.loadLayersModel(tf.io.fromMemory(art));
		assert.deepEqual(loaded.getWeights().map((w) => Array.from(w.dataSync())), before);
		assert.equal(run.manifest.model?.className, 'Sequential', 'the manifest learns the model from the first checkpoint');
	});

	test('nothing is appended after end: a loop still logging batches (as under a signal handler) leaves end last', async () => {
		const probe = images(8, 5);
		const lens = await PoisonLens.start({ runName: 'closed', dir: tmp(), probe: { xs: { values: probe.values, itemShape: ITEM }, labels: probe.labels }, checkpointEvery: 1 });
		lens.logBatch({ step: 1, epoch: 0, batch: 0, loss: 1 });
		const ending = lens.end('stopped');
		lens.logBatch({ step: 2, epoch: 0, batch: 1, loss: 1 });
		await ending;
		lens.logBatch({ step: 3, epoch: 0, batch: 2, loss: 1 });
		lens.error(new Error('late'));
		await lens.flush();
		const run = await readRun(lens.runDir);
		const types = (fs.readFileSync(path.join(lens.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type));
		assert.equal(types[types.length - 1], 'end');
		assert.equal(run.end?.status, 'stopped');
		assert.ok(!types.slice(0, -1).includes('end'));
	});
});

describe('PoisonLens inputs', () => {
	test('tensors and one-hot labels give the same probe file as typed arrays', async () => {
		const probe = images(30, 9);
		const oneHot = tf.oneHot(tf.tensor1d(probe.labels, 'int32'), 3);
		const xs = tf.tensor4d(probe.values, [30, 6, 6, 1]);
		const a = await PoisonLens.start({ runName: 'a', dir: tmp(), probe: { xs, labels: oneHot, size: 10, seed: 2 }, checkpointEvery: 'epoch' });
		const b = await PoisonLens.start({ runName: 'b', dir: tmp(), probe: { xs: { values: probe.values, itemShape: ITEM }, labels: Array.from(probe.labels), size: 10, seed: 2 }, checkpointEvery: 'epoch' });
		await a.end();
		await b.end();
		const pa = fs.readFileSync(path.join(a.runDir, 'probe/probe.bin'));
		const pb = fs.readFileSync(path.join(b.runDir, 'probe/probe.bin'));
		assert.ok(pa.equals(pb));
		assert.equal((await readManifest(a.runDir)).dataset.numClasses, 3);
		xs.dispose();
		oneHot.dispose();
	});
});

describe('PoisonLens when the folder cannot be written', () => {
	test('an unwritable folder gives one warning and training goes on', async () => {
		const warnings: string[] = [];
		const probe = images(8, 6);
		const lens = await PoisonLens.start({
			runName: 'nowhere',
			dir: '/dev/null/runs',
			probe: { xs: { values: probe.values, itemShape: ITEM }, labels: probe.labels },
			checkpointEvery: 1,
			onWarning: (w) => warnings.push(w),
		});
		const m = model();
		const xs = tf.tensor4d(probe.values, [8, 6, 6, 1]);
		const ys = tf.oneHot(tf.tensor1d(probe.labels, 'int32'), 3);
		const h = await m.fit(xs, ys, { batchSize: 4, epochs: 2, verbose: 0, callbacks: [lens.callback()] });
		await lens.end();
		assert.equal(h.history.loss?.length, 2);
		assert.equal(warnings.length, 1);
		assert.match(warnings[0] ?? '', /\[poison-lens\] cannot create the run folder in \/dev\/null\/runs\/nowhere-.*Training continues/);
		assert.equal(lens.writeFailed, true);
		xs.dispose();
		ys.dispose();
	});

	test('a write failure mid-run gives exactly one warning; earlier files stay readable', async () => {
		const dir = tmp();
		const warnings: string[] = [];
		const probe = images(16, 7);
		const lens = await PoisonLens.start({
			runName: 'breaks',
			dir,
			probe: { xs: { values: probe.values, itemShape: ITEM }, labels: probe.labels },
			checkpointEvery: 1,
			onWarning: (w) => warnings.push(w),
		});
		// Make every later write fail: the checkpoints folder becomes a file.
		fs.rmSync(path.join(lens.runDir, 'checkpoints'), { recursive: true });
		fs.writeFileSync(path.join(lens.runDir, 'checkpoints'), 'not a folder');
		const m = model();
		const xs = tf.tensor4d(probe.values, [16, 6, 6, 1]);
		const ys = tf.oneHot(tf.tensor1d(probe.labels, 'int32'), 3);
		const h = await m.fit(xs, ys, { batchSize: 4, epochs: 3, verbose: 0, callbacks: [lens.callback()] });
		await lens.end();
		assert.equal(h.history.loss?.length, 3);
		assert.equal(warnings.length, 1, warnings.join('\n'));
		assert.match(warnings[0] ?? '', /cannot write checkpoint checkpoints\/0/);
		const manifest = await readManifest(lens.runDir);
		assert.equal(manifest.name, 'breaks');
		xs.dispose();
		ys.dispose();
	});

	test('bad options are errors, not warnings', async () => {
		const probe = images(4, 8);
		await assert.rejects(
			PoisonLens.start({ runName: 'x', dir: tmp(), probe: { xs: { values: probe.values, itemShape: ITEM }, labels: [0, 1] }, checkpointEvery: 1 }),
			/probe has 4 inputs but 2 labels/,
		);
		await assert.rejects(
			PoisonLens.start({ runName: 'x', dir: tmp(), probe: { xs: { values: probe.values, itemShape: ITEM }, labels: probe.labels }, checkpointEvery: 0 }),
			/checkpointEvery must be a positive integer/,
		);
	});
});
