import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { greyToRgba, labelColumnOf, rowImageLayout, rowPixels, splitLine } from '../../../src/datasets/rowImage';
import { rgbaToPng } from '../../../src/report/png';

describe('row images', () => {
	const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i}`)];
	const row = ['7', ...Array.from({ length: 784 }, (_, i) => String(i % 28 === 14 ? 255 : 0))];

	test('784 pixel columns and a label: a 28×28 image scaled from 0–255, the label column left out', () => {
		const layout = rowImageLayout(header, row);
		assert.ok(layout !== null && layout.kind === 'pixels');
		assert.equal(layout.side, 28);
		assert.equal(layout.labelColumn, 0);
		const px = rowPixels(layout, row);
		assert.ok(px);
		assert.equal(px[14], 1);
		assert.equal(px[0], 0);
		assert.equal(px.length, 784);
	});

	test('not an image: too few or non-square numeric columns; a text cell in a pixel row gives no image', () => {
		assert.equal(rowImageLayout(['y', 'a', 'b', 'c'], ['1', '0.1', '0.2', '0.3']), null);
		assert.equal(rowImageLayout(['y', ...Array.from({ length: 65 }, (_, i) => `p${i}`)], ['1', ...Array.from({ length: 65 }, () => '0')]), null);
		const layout = rowImageLayout(header, row);
		assert.ok(layout !== null && layout.kind === 'pixels');
		assert.equal(rowPixels(layout, [...row.slice(0, 5), 'x', ...row.slice(6)]), null);
	});

	test('an image-path cell; label column by name, index or detection; quoted CSV fields', () => {
		assert.deepEqual(rowImageLayout(['file', 'class'], ['img/3.png', '3']), { kind: 'path', column: 0, labelColumn: 1 });
		assert.equal(labelColumnOf(['a', 'digit'], ''), 1);
		assert.equal(labelColumnOf(['a', 'b'], '1'), 1);
		assert.equal(labelColumnOf(['a', 'b'], 'b'), 1);
		assert.deepEqual(splitLine('1,"a, b",3', ','), ['1', 'a, b', '3']);
		assert.deepEqual(splitLine('1\t2', '\t'), ['1', '2']);
	});

	test('PNG round trip: upscaled nearest-neighbour grey pixels decode to the same values', () => {
		const grey = [0, 0.5, 1, 0.25];
		const png = PNG.sync.read(rgbaToPng(greyToRgba(grey), 2, 2, 3));
		assert.equal(png.width, 6);
		assert.equal(png.height, 6);
		const at = (x: number, y: number): number => png.data[(y * 6 + x) * 4];
		assert.deepEqual([at(0, 0), at(5, 0), at(0, 5), at(5, 5), at(2, 2), at(3, 3)], [0, 128, 255, 64, 0, 64]);
	});
});
