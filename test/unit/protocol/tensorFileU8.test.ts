import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunFormatError } from '../../../src/protocol/runFormat';
import { decodeTensorSet, encodeTensorSet, isUint8Exact, openTensorSet, readTensorSet, writeTensorSet } from '../../../src/protocol/tensorFile';

/** Every byte value, as the float32 that k/255 gives, in a scrambled order (7 items of 37 values). */
function imageValues(): Float32Array {
	return Float32Array.from({ length: 7 * 37 }, (_, i) => Math.fround(((i * 113) % 256) / 255));
}

describe('PLTS version 2: bytes k meaning k/255', () => {
	test('the documented layout: version 2, flag 4, one byte per value, data padded to 4 bytes', () => {
		const data = Float32Array.from([0, 1, 128 / 255, 3 / 255, 255 / 255]);
		const bytes = encodeTensorSet({ itemShape: [5], count: 1, data, labels: new Int32Array([2]) }, 'uint8/255');
		const expected = Buffer.concat([
			Buffer.from('PLTS', 'ascii'),
			Buffer.from([2, 0, 5, 0]), // version 2, flags labels | bytes
			Buffer.from([1, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0]),
			Buffer.from([0, 255, 128, 3, 255, 0, 0, 0]), // five bytes, three of padding
			Buffer.from(new Int32Array([2]).buffer),
		]);
		assert.deepEqual(Buffer.from(bytes), expected);
	});

	test('round-trips every float32 k/255 bit for bit, with labels and row indices', () => {
		const data = imageValues();
		assert.ok(isUint8Exact(data));
		const set = { itemShape: [37], count: 7, data, labels: Int32Array.from({ length: 7 }, (_, i) => i % 3), rowIndices: Uint32Array.from({ length: 7 }, (_, i) => 4_000_000_000 + i) };
		const bytes = encodeTensorSet(set, 'uint8/255');
		assert.equal(bytes.length, 16 + 4 + 260 + 28 + 28, 'a quarter of the float32 bytes for the data');
		const back = decodeTensorSet(bytes, 'x.bin');
		assert.deepEqual(Buffer.from(back.data.buffer), Buffer.from(data.buffer), 'bit-identical values');
		assert.deepEqual(back.labels, set.labels);
		assert.deepEqual(back.rowIndices, set.rowIndices);
	});

	test('values that are not all k/255 are refused for bytes (the caller stores float32)', () => {
		assert.equal(isUint8Exact(Float32Array.from([0.5])), false);
		assert.equal(isUint8Exact(Float32Array.from([-1 / 255])), false);
		assert.equal(isUint8Exact(Float32Array.from([256 / 255])), false);
		assert.equal(isUint8Exact([1 / 255]), false, 'a float64 1/255 is not the float32 value k/255');
		assert.throws(() => encodeTensorSet({ itemShape: [1], count: 1, data: Float32Array.from([0.5]) }, 'uint8/255'), /not all k\/255/);
	});

	test('a version-2 file without the byte flag, or a byte flag in version 1, is refused naming the file', () => {
		const bytes = encodeTensorSet({ itemShape: [4], count: 1, data: new Float32Array(4) }, 'uint8/255');
		const v1 = Uint8Array.from(bytes);
		v1[4] = 1;
		assert.throws(() => decodeTensorSet(v1, 'bad.bin'), (e: unknown) => e instanceof RunFormatError && /bad\.bin/.test(e.message) && /version 2/.test(e.message));
		const truncated = bytes.subarray(0, bytes.length - 1);
		assert.throws(() => decodeTensorSet(truncated, 'short.bin'), /short\.bin.*truncated/);
	});

	test('openTensorSet reads any chunk and any rows of both versions, equal to the whole-file decoder', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-tensor-u8-'));
		for (const encoding of ['uint8/255', 'float32'] as const) {
			const file = path.join(dir, `${encoding.replace('/', '-')}.bin`);
			const data = encoding === 'float32' ? Float32Array.from({ length: 7 * 37 }, (_, i) => Math.sin(i)) : imageValues();
			await writeTensorSet(file, { itemShape: [37], count: 7, data, labels: Int32Array.from([1, 2, 3, 4, 5, 6, 7]) }, encoding);
			const whole = await readTensorSet(file, dir);
			const r = await openTensorSet(file, dir);
			try {
				assert.equal(r.encoding, encoding);
				assert.equal(r.count, 7);
				assert.deepEqual(r.labels, whole.labels);
				assert.equal(r.rowIndices, undefined);
				assert.deepEqual(await r.read(2, 3), whole.data.subarray(2 * 37, 5 * 37));
				assert.deepEqual(await r.readRows([6, 0]), Float32Array.from([...whole.data.subarray(6 * 37, 7 * 37), ...whole.data.subarray(0, 37)]));
				await assert.rejects(() => r.read(6, 2), /outside/);
			} finally {
				await r.close();
			}
		}
	});
});
