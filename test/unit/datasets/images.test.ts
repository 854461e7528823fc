import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ImageDecodeError, decodeImage, resizeArea } from '../../../src/datasets/images';
import { scanText } from '../../../src/datasets/scan';
import { scanInWorker } from '../../../src/host/datasets/scanClient';
import { runScan } from '../../../src/cli/scan';
import { mulberry32 } from '../../../src/math/random';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-images-'));
// Worker threads do not inherit tsx's loader (as in scan.test.ts): a CommonJS bootstrap registers it.
const WORKER = path.join(tmp, 'bootstrap.js');
fs.writeFileSync(WORKER, `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(path.resolve(__dirname, '../../../src/datasets/scanWorker.ts'))});\n`);
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function png(width: number, height: number, rgba: (x: number, y: number) => [number, number, number, number]): Buffer {
	const p = new PNG({ width, height });
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			p.data.set(rgba(x, y), 4 * (y * width + x));
		}
	}
	return PNG.sync.write(p);
}

describe('image decoding and resampling', () => {
	test('PNG: grey = BT.601 luma, alpha composited over black', () => {
		const colours: [number, number, number, number][] = [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [200, 100, 50, 128]];
		const img = decodeImage(png(2, 2, (x, y) => colours[y * 2 + x]), 'a.png');
		assert.equal(img.width, 2);
		assert.equal(img.height, 2);
		colours.forEach(([r, g, b, a], i) => {
			assert.ok(Math.abs(img.grey[i] - (a / 255) * (0.299 * r + 0.587 * g + 0.114 * b)) < 1e-3, `pixel ${i}: ${img.grey[i]}`);
		});
	});

	test('JPEG: a flat grey image decodes to its level (lossy, within 2 levels)', () => {
		const data = Buffer.alloc(8 * 8 * 4, 0);
		for (let i = 0; i < 64; i++) {
			data.set([120, 120, 120, 255], 4 * i);
		}
		const bytes = jpeg.encode({ data, width: 8, height: 8 }, 100).data;
		const img = decodeImage(bytes, 'g.jpg');
		assert.ok(img.grey.every((v) => Math.abs(v - 120) <= 2), `${Math.min(...img.grey)}–${Math.max(...img.grey)}`);
	});

	test('other formats and corrupt files are refused with the file named', () => {
		assert.throws(() => decodeImage(Buffer.from('GIF89a……'), 'x.gif'), (e: unknown) => e instanceof ImageDecodeError && /x\.gif: not a PNG or JPEG/.test(e.message));
		const good = png(4, 4, () => [1, 2, 3, 255]);
		assert.throws(() => decodeImage(good.subarray(0, 30), 'cut.png'), (e: unknown) => e instanceof ImageDecodeError && /cut\.png: cannot decode PNG/.test(e.message));
	});

	test('resizeArea: block means for whole factors, overlap-weighted means otherwise, identity at the same size', () => {
		const grey = Float32Array.from({ length: 16 }, (_, i) => i);
		const r = resizeArea({ width: 4, height: 4, grey }, 2);
		assert.deepEqual(Array.from(r), [(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4, (8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4]);
		assert.deepEqual(Array.from(resizeArea({ width: 4, height: 4, grey }, 4)), Array.from(grey));
		// 3×3 → 2×2: cell (0,0) covers [0,1.5]²: weights 1, 0.5 per axis.
		const g3 = Float32Array.from({ length: 9 }, (_, i) => i * i);
		const want00 = (1 * 1 * g3[0] + 0.5 * 1 * g3[1] + 1 * 0.5 * g3[3] + 0.5 * 0.5 * g3[4]) / (1.5 * 1.5);
		assert.ok(Math.abs(resizeArea({ width: 3, height: 3, grey: g3 }, 2)[0] - want00) < 1e-5);
	});
});

describe('image-path datasets: the scan compares pixels', () => {
	// Four classes of 12×12 images (a bright 6×6 block in quadrant c, plus noise), 12 per class.
	const dir = path.join(tmp, 'set');
	fs.mkdirSync(path.join(dir, 'img'), { recursive: true });
	const rand = mulberry32(3);
	const pixels = (c: number, noise: number): (x: number, y: number) => [number, number, number, number] => {
		const r0 = c < 2 ? 0 : 6;
		const c0 = c % 2 === 0 ? 0 : 6;
		return (x, y) => {
			const v = Math.max(0, Math.min(255, Math.round((y >= r0 && y < r0 + 6 && x >= c0 && x < c0 + 6 ? 200 : 20) + noise * (rand() - 0.5))));
			return [v, v, v, 255];
		};
	};
	const rows: string[] = ['file,label'];
	for (let i = 0; i < 48; i++) {
		const c = i % 4;
		fs.writeFileSync(path.join(dir, 'img', `${i}.png`), png(12, 12, pixels(c, 120)));
		rows.push(`img/${i}.png,${c}`);
	}
	// Line 50: the content of img/5.png (class 1) under another name, labelled 3.
	fs.copyFileSync(path.join(dir, 'img', '5.png'), path.join(dir, 'img', 'copy.png'));
	rows.push('img/copy.png,3');
	// Line 51: a missing file; line 52: a text file named .png.
	rows.push('img/nope.png,0');
	fs.writeFileSync(path.join(dir, 'img', 'text.png'), 'not an image');
	rows.push('img/text.png,2');
	const csv = `${rows.join('\n')}\n`;
	fs.writeFileSync(path.join(dir, 'train.csv'), csv);

	test('with the folder known: a renamed copy with another label is a dirty-label duplicate; missing and unreadable images are errors', () => {
		const r = scanText(csv, 'train.csv', { baseDir: dir });
		const got = r.problems.map((p) => [p.line, p.code, p.related]);
		assert.deepEqual(got, [
			[50, 'dirty-label-duplicate', [7]],
			[51, 'missing-image', []],
			[52, 'unreadable-image', []],
		]);
		assert.match(r.problems[1].message, /file 'img\/nope\.png': no such file/);
		assert.match(r.problems[2].message, /img\/text\.png: not a PNG or JPEG/);
		assert.equal(r.problems[1].severity, 'error');
	});

	test('structure only: image files are still checked, not decoded', () => {
		const r = scanText(csv, 'train.csv', { baseDir: dir, structureOnly: true });
		assert.deepEqual(r.problems.map((p) => [p.line, p.code]), [[51, 'missing-image']]);
	});

	test('without the folder (an untitled buffer) the paths are only text: the renamed copy is not found', () => {
		const r = scanText(csv, 'train.csv');
		assert.ok(!r.problems.some((p) => p.code === 'dirty-label-duplicate' || p.code === 'missing-image'));
	});

	test('the scan worker (editor) and the CLI resolve the images against the folder they are given', async () => {
		const direct = scanText(csv, 'train.csv', { baseDir: dir });
		const viaWorker = await scanInWorker({ workerPath: WORKER, fileName: 'train.csv', source: { path: path.join(dir, 'train.csv') }, options: { baseDir: dir } });
		assert.deepEqual(viaWorker.problems, direct.problems);
		const out = path.join(tmp, 'out.json');
		const log = console.log;
		console.log = () => undefined;
		let code: number;
		try {
			code = await runScan([path.join(dir, 'train.csv'), '--json', out]);
		} finally {
			console.log = log;
		}
		assert.equal(code, 1, 'error-severity findings (missing, unreadable images) give exit 1');
		const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { problems: { line: number; code: string }[] };
		assert.deepEqual(json.problems.map((p) => [p.line, p.code]), [[50, 'dirty-label-duplicate'], [51, 'missing-image'], [52, 'unreadable-image']]);
	});

	test('JSONL with an image key gets the same checks', () => {
		const jl = ['{"image":"img/0.png","label":0}', '{"image":"img/gone.jpg","label":1}'].join('\n');
		const r = scanText(jl, 'set.jsonl', { baseDir: dir });
		assert.deepEqual(r.problems.map((p) => [p.line, p.code]), [[2, 'missing-image']]);
	});
});
