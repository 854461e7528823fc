import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunFormatError } from '../../../src/protocol/runFormat';
import { decodeTensorSet, encodeTensorSet, readTensorSet, writeTensorSet } from '../../../src/protocol/tensorFile';

describe('PLTS tensor files', () => {
	test('encodes the documented byte layout', () => {
		const bytes = encodeTensorSet({ itemShape: [2, 1], count: 2, data: new Float32Array([1, 2, 3, 4]), labels: new Int32Array([7, -1]) });
		// Built by hand from docs/run-format.md: magic, version 1, flags 1 (labels), N = 2, rank 2, dims 2 and 1.
		const expected = Buffer.concat([
			Buffer.from('PLTS', 'ascii'),
			Buffer.from([1, 0, 1, 0]),
			Buffer.from([2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]),
			Buffer.from(new Float32Array([1, 2, 3, 4]).buffer),
			Buffer.from(new Int32Array([7, -1]).buffer),
		]);
		assert.deepEqual(Buffer.from(bytes), expected);
	});

	test('round-trips data, labels and row indices', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-tensor-'));
		const file = path.join(dir, 'sub', 'set.bin');
		const set = {
			itemShape: [3, 2, 1],
			count: 2,
			data: Float32Array.from({ length: 12 }, (_, i) => i / 7),
			labels: new Int32Array([4, 9]),
			rowIndices: new Uint32Array([10, 4000000000]),
		};
		await writeTensorSet(file, set);
		const back = await readTensorSet(file);
		assert.deepEqual(back.itemShape, set.itemShape);
		assert.deepEqual(Array.from(back.data), Array.from(set.data));
		assert.deepEqual(Array.from(back.labels ?? []), [4, 9]);
		assert.deepEqual(Array.from(back.rowIndices ?? []), [10, 4000000000]);
		assert.deepEqual(fs.readdirSync(path.dirname(file)), ['set.bin']);
	});

	test('a set without labels has none', () => {
		const back = decodeTensorSet(encodeTensorSet({ itemShape: [2], count: 1, data: new Float32Array([5, 6]) }), 'x');
		assert.equal(back.labels, undefined);
		assert.equal(back.rowIndices, undefined);
	});

	test('truncated, oversized and foreign files are errors naming the file', () => {
		const good = encodeTensorSet({ itemShape: [4], count: 3, data: new Float32Array(12), labels: new Int32Array(3) });
		const check = (bytes: Uint8Array, re: RegExp): void =>
			assert.throws(() => decodeTensorSet(bytes, 'run/probe/probe.bin'), (e: unknown) => e instanceof RunFormatError && e.file === 'run/probe/probe.bin' && re.test(e.message));
		check(good.subarray(0, good.length - 1), /truncated tensor file/);
		check(good.subarray(0, 10), /truncated tensor file/);
		check(Buffer.concat([good, Buffer.alloc(4)]), /oversized/);
		const foreign = Uint8Array.from(good);
		foreign[0] = 0x42;
		check(foreign, /not a Poison Lens tensor file/);
		const v2 = Uint8Array.from(good);
		v2[4] = 2;
		check(v2, /version 2/);
	});

	test('encode rejects inconsistent lengths', () => {
		assert.throws(() => encodeTensorSet({ itemShape: [2], count: 2, data: new Float32Array(3) }), /3 values, expected 2 × 2/);
		assert.throws(() => encodeTensorSet({ itemShape: [2], count: 1, data: new Float32Array(2), labels: new Int32Array(2) }), /2 labels for 1/);
	});
});
