/**
 * Dataset files from untrusted workspaces: giant lines, foreign encodings, decompression and decoding bombs,
 * special files and paths that lead out. Each case is one the fault-injection run found.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { decodeImage, imageDimensions } from '../../../src/datasets/images';
import { declaredIdxBytes, readIdxFile } from '../../../src/datasets/idx';
import { scanIdx } from '../../../src/datasets/idxScan';
import { scanBytes, scanText } from '../../../src/datasets/scan';
import { blankLongLines, decodeDatasetBytes } from '../../../src/datasets/textInput';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-hostile-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function codes(r: { problems: { code: string }[] }): string[] {
	return r.problems.map((p) => p.code);
}

function png(width: number, height: number): Buffer {
	const img = new PNG({ width, height });
	img.data.fill(200);
	return PNG.sync.write(img);
}

/** A PNG whose IHDR claims another size (the CRC no longer matches: the header must be checked before decoding). */
function lyingPng(width: number, height: number): Buffer {
	const b = Buffer.from(png(4, 4));
	b.writeUInt32BE(width, 16);
	b.writeUInt32BE(height, 20);
	return b;
}

describe('line-too-long', () => {
	test('a 5 MB single-line CSV is one line-too-long problem, not a parse of millions of fields', () => {
		const text = '1,'.repeat(2_500_000);
		const r = scanText(text, 'one-line.csv');
		assert.deepEqual(codes(r).filter((c) => c === 'line-too-long').length, 1);
		const p = r.problems.find((q) => q.code === 'line-too-long');
		assert.equal(p?.line, 1);
		assert.match(p?.message ?? '', /line is 5000000 characters long, more than the limit of 1048576; it is not parsed \(starts '1,1,1,/);
	});

	test('the other lines keep their numbers and are still checked', () => {
		const rows = ['x,y,label', '1,2,a', `${'9'.repeat(200)},1,b`, '3,oops,a', '4,5,b'];
		const r = scanText(rows.join('\n'), 'mixed.csv', { maxLineChars: 100 });
		const long = r.problems.find((p) => p.code === 'line-too-long');
		assert.equal(long?.line, 3);
		const bad = r.problems.find((p) => p.code === 'non-numeric');
		assert.equal(bad?.line, 4);
	});

	test('JSONL lines are capped too', () => {
		const text = `{"x":1,"label":"a"}\n{"x":[${'1,'.repeat(100)}1],"label":"b"}\n{"x":2,"label":"b"}\n`;
		const r = scanText(text, 'd.jsonl', { maxLineChars: 100 });
		assert.deepEqual(r.problems.filter((p) => p.code === 'line-too-long').map((p) => p.line), [2]);
	});

	test('blankLongLines keeps offsets: same length, line breaks in place', () => {
		const t = 'ab\ncdefgh\nij';
		const out = blankLongLines(t, 3);
		assert.equal(out.text.length, t.length);
		assert.equal(out.text, 'ab\n      \nij');
		assert.deepEqual([...out.lines], [2]);
	});
});

describe('encoding problems', () => {
	test('a UTF-16 file is an encoding problem, not "51 rows, 0 problems"', () => {
		const text = ['x,label', ...Array.from({ length: 50 }, (_, i) => `${i},${i % 2 ? 'a' : 'b'}`)].join('\n');
		const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
		const r = scanBytes(bytes, 'u16.csv', { structureOnly: true });
		assert.deepEqual(codes(r), ['encoding']);
		assert.match(r.problems[0].message, /UTF-16 LE/);
		const u32 = decodeDatasetBytes(Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0]));
		assert.match(u32.problems[0].message, /UTF-32 LE/);
	});

	test('invalid UTF-8 and NUL bytes are reported on their line and column', () => {
		const bytes = Buffer.concat([Buffer.from('x,label\n1,a\n2,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n3,b\n4,\u0000b\n')]);
		const r = scanBytes(bytes, 'bad.csv', { structureOnly: true });
		const enc = r.problems.filter((p) => p.code === 'encoding');
		assert.deepEqual(enc.map((p) => [p.line, p.column]), [[3, 3], [5, 3]]);
		assert.match(enc[0].message, /invalid UTF-8 \(byte 0xc3\)/);
		assert.match(enc[1].message, /NUL byte/);
		assert.ok(!enc[1].message.includes('\u0000'));
	});

	test('valid UTF-8 (4-byte sequences included) has no encoding problem', () => {
		assert.deepEqual(decodeDatasetBytes(Buffer.from('x,label\n1,😀\n2,é\n')).problems, []);
	});

	test('control characters from a cell are escaped in messages', () => {
		const r = scanText('x,y,label\n1,2,a\n3,4,b\n5,ab\u001b[2Jc\u0007,a\n6,7,b\n', 'ctl.csv', { structureOnly: true });
		const m = r.problems.find((p) => p.code === 'non-numeric')?.message ?? '';
		assert.ok(m.length > 0);
		// eslint-disable-next-line no-control-regex
		assert.ok(!/[\u0000-\u001f]/.test(m), m);
		assert.match(m, /\\x1b\[2Jc\\x07/);
	});
});

describe('image budgets and image paths', () => {
	test('a PNG declaring 30000 × 30000 is refused from its header, before decoding', () => {
		const b = lyingPng(30000, 30000);
		assert.deepEqual(imageDimensions(b), { width: 30000, height: 30000 });
		assert.throws(() => decodeImage(b, 'huge.png'), /declares 30000 × 30000 pixels, more than the limit of 16777216; it is not decoded/);
	});

	test('JPEG dimensions come from the SOF marker', () => {
		// SOI, APP0 (length 4), SOF0: length 11, precision 8, height 0x1000, width 0x2000.
		const b = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x10, 0x00, 0x20, 0x00, 0x01, 0x01, 0x11, 0x00]);
		assert.deepEqual(imageDimensions(b), { width: 0x2000, height: 0x1000 });
		assert.throws(() => decodeImage(b, 'big.jpg', 1000), /declares 8192 × 4096 pixels/);
	});

	const ws = path.join(tmp, 'ws');
	const data = path.join(ws, 'data');
	fs.mkdirSync(path.join(data, 'img'), { recursive: true });
	fs.writeFileSync(path.join(tmp, 'outside.png'), png(8, 8));
	for (let i = 0; i < 6; i++) {
		fs.writeFileSync(path.join(data, 'img', `${i}.png`), png(8, 8));
	}
	fs.writeFileSync(path.join(data, 'img', 'huge.png'), lyingPng(30000, 30000));
	fs.symlinkSync('/dev/zero', path.join(data, 'img', 'zero.png'));
	fs.symlinkSync(path.join(tmp, 'outside.png'), path.join(data, 'img', 'out-link.png'));
	execFileSync('mkfifo', [path.join(data, 'img', 'fifo.png')]);

	function scanImages(paths: string[], opts: { imagesOutside?: boolean } = {}): ReturnType<typeof scanText> {
		const rows = ['image,label', ...Array.from({ length: 6 }, (_, i) => `img/${i}.png,${i % 2 ? 'a' : 'b'}`), ...paths.map((p, i) => `${p},${i % 2 ? 'a' : 'b'}`)];
		return scanText(rows.join('\n'), 'images.csv', { baseDir: data, imageRoot: ws, ...opts });
	}

	test('a huge declared PNG, /dev/zero behind a symlink and a FIFO are unreadable images, not OOM or a hang', () => {
		// Paths allowed outside (a trusted workspace), so the symlink to /dev/zero is followed and refused by type.
		const r = scanImages(['img/huge.png', 'img/zero.png', 'img/fifo.png'], { imagesOutside: true });
		const byLine = new Map(r.problems.filter((p) => p.code === 'unreadable-image').map((p) => [p.line, p.message]));
		assert.match(byLine.get(8) ?? '', /declares 30000 × 30000 pixels/);
		assert.match(byLine.get(9) ?? '', /character device, not a regular file/);
		assert.match(byLine.get(10) ?? '', /FIFO/);
		// Confined (the default): /dev/zero lies outside the workspace, so it reads as missing.
		const confined = scanImages(['img/zero.png', 'img/fifo.png']);
		assert.deepEqual(confined.problems.filter((p) => p.code === 'missing-image').map((p) => p.line), [8]);
		assert.deepEqual(confined.problems.filter((p) => p.code === 'unreadable-image').map((p) => p.line), [9]);
	});

	test('paths out of the workspace folder read like missing files, with the same words', () => {
		const outsideAbs = path.join(tmp, 'outside.png');
		const r = scanImages(['../../outside.png', outsideAbs, 'img/out-link.png', 'img/none.png', '../../none.png']);
		const missing = r.problems.filter((p) => p.code === 'missing-image');
		assert.deepEqual(missing.map((p) => p.line), [8, 9, 10, 11, 12]);
		const tails = missing.map((p) => p.message.replace(/^image '[^']*': /, ''));
		assert.equal(new Set(tails).size, 1, tails.join(' | '));
		assert.match(tails[0], /no such file inside .*ws \(image paths must stay inside it\)/);
	});

	test('a trusted workspace may allow paths outside (setting on)', () => {
		const r = scanImages(['../../outside.png'], { imagesOutside: true });
		assert.equal(r.problems.filter((p) => p.code === 'missing-image').length, 0);
	});
});

describe('IDX budgets and values', () => {
	function idx(typeByte: number, dims: number[], payload: Buffer): Buffer {
		const head = Buffer.alloc(4 + 4 * dims.length);
		head[2] = typeByte;
		head[3] = dims.length;
		dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
		return Buffer.concat([head, payload]);
	}

	test('a gzip that inflates past its declared size stops at the declared size', () => {
		// Header declares 10 × 4 × 4 bytes; the gzip holds 64 MiB after it.
		const raw = idx(0x08, [10, 4, 4], Buffer.alloc(64 * 1024 * 1024));
		const f = path.join(tmp, 'bomb-idx3-ubyte.gz');
		fs.writeFileSync(f, zlib.gzipSync(raw, { level: 9 }));
		assert.ok(fs.statSync(f).size < 200_000);
		assert.throws(() => readIdxFile(f), /inflates to more than the 176 bytes its IDX header declares/);
		assert.equal(declaredIdxBytes(raw.subarray(0, 16)), 176);
	});

	test('a header declaring more than the limit is refused before inflating', () => {
		const f = path.join(tmp, 'huge-idx3-ubyte.gz');
		fs.writeFileSync(f, zlib.gzipSync(idx(0x08, [100000, 1000, 1000], Buffer.alloc(16))));
		assert.throws(() => readIdxFile(f), /declares 100000000016 bytes of data, more than the limit/);
	});

	test('a FIFO as the IDX file is refused, not a hang', () => {
		const p = path.join(tmp, 'fifo-idx3-ubyte');
		execFileSync('mkfifo', [p]);
		assert.throws(() => readIdxFile(p), /FIFO/);
	});

	test('NaN and Infinity pixels in a float IDX are non-finite problems, like CSV cells', () => {
		const values = Buffer.alloc(4 * 4 * 6);
		for (let i = 0; i < 24; i++) {
			values.writeFloatBE(i % 5, 4 * i);
		}
		values.writeFloatBE(NaN, 4 * 5);
		values.writeFloatBE(Infinity, 4 * 18);
		const images = path.join(tmp, 'f-idx3-ubyte');
		const labels = path.join(tmp, 'f-idx1-ubyte');
		fs.writeFileSync(images, idx(0x0d, [6, 2, 2], values));
		fs.writeFileSync(labels, idx(0x08, [6], Buffer.from([0, 1, 0, 1, 0, 1])));
		const r = scanIdx(images, labels, { structureOnly: true });
		const nf = r.problems.filter((p) => p.code === 'non-finite');
		assert.deepEqual(nf.map((p) => p.line), [2, 5]);
		assert.match(nf[0].message, /record 2: value 1 is NaN, not a finite number/);
		assert.match(nf[1].message, /record 5: value 2 is Infinity/);
	});
});

describe('line ends', () => {
	test('lone CR line ends (classic Mac) give the editor\'s line numbers, not everything on line 1', () => {
		const r = scanText('x,y,label\r1,2,a\r3,oops,b\r4,5,a\r6,7,b\r', 'mac.csv', { structureOnly: true });
		assert.equal(r.rows, 4);
		assert.deepEqual(r.problems.filter((p) => p.code === 'non-numeric').map((p) => p.line), [3]);
	});
});
