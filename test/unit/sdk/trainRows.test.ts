import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PoisonLens, sampleRows } from '../../../src/sdk/lens';
import { readManifest } from '../../../src/protocol/runFormat';
import { readTensorSet } from '../../../src/protocol/tensorFile';
import { loadRunContext, readTrainingSample } from '../../../src/analyser/analysis/context';
import { mulberry32 } from '../../../src/math/random';

const ITEM = [5, 5, 1];
const PER = 25;

function tmp(): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'pl-rows-'));
}

/** 8-bit image rows (k/255) or arbitrary float rows. */
function rows(n: number, seed: number, eightBit: boolean): Float32Array {
	const rand = mulberry32(seed);
	return Float32Array.from({ length: n * PER }, () => (eightBit ? Math.floor(rand() * 256) / 255 : rand()));
}

before(async () => {
	await tf.setBackend('cpu');
});

async function startWith(dir: string, train: tf.Tensor | Float32Array, labels: Int32Array, size?: number): Promise<PoisonLens> {
	const probe = rows(12, 9, true);
	const lens = await PoisonLens.start({
		runName: 'rows',
		dir,
		probe: { xs: { values: probe, itemShape: ITEM }, labels: Int32Array.from({ length: 12 }, (_, i) => i % 3) },
		checkpointEvery: 'epoch',
		trainSample: { xs: train instanceof tf.Tensor ? train : { values: train, itemShape: ITEM }, labels, ...(size === undefined ? {} : { size }) },
		handleSignals: false,
	});
	await lens.end();
	return lens;
}

describe('the SDK keeps every training row by default, compactly and losslessly', () => {
	test('8-bit image rows: all kept, stored as bytes, read back bit for bit (values and tensor inputs)', async () => {
		const n = 2600; // more than two write chunks
		const values = rows(n, 1, true);
		const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
		for (const input of ['values', 'tensor'] as const) {
			const t = input === 'tensor' ? tf.tensor4d(values, [n, ...ITEM] as [number, number, number, number]) : values;
			const lens = await startWith(tmp(), t, labels);
			if (t instanceof tf.Tensor) {
				t.dispose();
			}
			const m = await readManifest(path.join(lens.runDir, 'manifest.json'));
			assert.equal(m.trainSample?.count, n, `${input}: every row kept`);
			assert.equal(m.trainSample?.totalRows, n);
			assert.equal(m.trainSample?.encoding, 'uint8/255');
			const file = path.join(lens.runDir, m.trainSample?.path ?? '');
			assert.equal(fs.statSync(file).size, 16 + 12 + n * PER + 8 * n, 'one byte per value');
			const s = await readTensorSet(file);
			assert.deepEqual(Buffer.from(s.data.buffer), Buffer.from(values.buffer), `${input}: bit-identical`);
			assert.deepEqual(s.labels, labels);
			assert.deepEqual(s.rowIndices, Uint32Array.from({ length: n }, (_, i) => i));
		}
	});

	test('other values: stored as float32, and the manifest says so; exact too', async () => {
		const n = 300;
		const values = rows(n, 2, false);
		values[n * PER - 1] = 0.5; // one value that is not k/255 is enough
		const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
		const lens = await startWith(tmp(), values, labels);
		const m = await readManifest(path.join(lens.runDir, 'manifest.json'));
		assert.equal(m.trainSample?.encoding, 'float32');
		const s = await readTensorSet(path.join(lens.runDir, m.trainSample?.path ?? ''));
		assert.deepEqual(s.data, values);
	});

	test('an explicit size caps the rows: a seeded sample, totalRows says how many there were', async () => {
		const n = 500;
		const values = rows(n, 3, true);
		const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
		const lens = await startWith(tmp(), values, labels, 64);
		const m = await readManifest(path.join(lens.runDir, 'manifest.json'));
		assert.equal(m.trainSample?.count, 64);
		assert.equal(m.trainSample?.totalRows, n);
		const s = await readTensorSet(path.join(lens.runDir, m.trainSample?.path ?? ''));
		const kept = sampleRows(n, 64, 0);
		assert.deepEqual(Array.from(s.rowIndices ?? []), Array.from(kept));
		assert.deepEqual(s.data.subarray(0, PER), values.subarray(kept[0] * PER, (kept[0] + 1) * PER));
		await assert.rejects(() => startWith(tmp(), values, labels, 0), /trainSample\.size must be a positive integer/);
	});

	test('an older run folder (manifest 1.0, float32 version-1 sample without "encoding") still loads', async () => {
		const dir = path.join(__dirname, '..', '..', 'fixtures', 'runs-analyser', 'undeclared');
		const raw = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { schemaVersion: string; trainSample?: { encoding?: string } };
		assert.match(raw.schemaVersion, /^1\.[01]$/);
		assert.equal(raw.trainSample?.encoding, undefined);
		const bytes = fs.readFileSync(path.join(dir, 'train-sample', 'train-sample.bin'));
		assert.equal(bytes.readUInt16LE(4), 1, 'a version-1 file');
		const ctx = await loadRunContext(dir);
		const sample = await readTrainingSample(ctx, 'test');
		assert.ok(sample.count > 0);
		assert.equal(sample.data.length, sample.count * ctx.dim);
	});
});
