/**
 * An image-path dataset made from real MNIST with a planted dirty-label near-duplicate poison: every row of
 * bench/mnistPoison.ts's CSV (same rows, same poisons, same order) is written as a 28×28 grey PNG, and the dataset
 * is a `file,label` CSV naming them. `poison-lens scan` then has to find the clones by pixels (images.ts): the poison
 * files have their own names.
 *
 *   node --import tsx bench/mnistImages.ts <folder> [--rows N] [--fraction 0.01] [--bump 80] [--seed 7]
 *     writes <folder>/train.csv, <folder>/img/*.png and <folder>/train.csv.truth.json
 *   poison-lens scan <folder>/train.csv --json out.json --max-problems 100000
 *   node --import tsx bench/mnistPoison.ts --score out.json <folder>/train.csv.truth.json
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { makePoisonedMnistCsv } from './mnistPoison';

function arg(argv: string[], name: string, def: number): number {
	const i = argv.indexOf(`--${name}`);
	return i >= 0 ? Number(argv[i + 1]) : def;
}

function main(): void {
	const argv = process.argv.slice(2);
	const out = argv[0];
	if (out === undefined || out.startsWith('--')) {
		throw new Error('usage: mnistImages.ts <folder> [--rows N] [--fraction F] [--bump B] [--seed S]');
	}
	const r = makePoisonedMnistCsv({ rows: arg(argv, 'rows', 10000), fraction: arg(argv, 'fraction', 0.01), bump: arg(argv, 'bump', 80), seed: arg(argv, 'seed', 7) });
	fs.mkdirSync(path.join(out, 'img'), { recursive: true });
	const lines = r.text.trimEnd().split('\n');
	const csv = ['file,label'];
	for (let k = 1; k < lines.length; k++) {
		const cells = lines[k].split(',');
		const png = new PNG({ width: 28, height: 28 });
		for (let j = 0; j < 784; j++) {
			const v = Number(cells[j + 1]);
			png.data.set([v, v, v, 255], 4 * j);
		}
		fs.writeFileSync(path.join(out, 'img', `${k}.png`), PNG.sync.write(png));
		csv.push(`img/${k}.png,${cells[0]}`);
	}
	fs.writeFileSync(path.join(out, 'train.csv'), `${csv.join('\n')}\n`);
	fs.writeFileSync(path.join(out, 'train.csv.truth.json'), JSON.stringify({ rows: r.rows, poisonLines: r.poisonLines, bumpNorms: r.bumpNorms }));
	console.log(`wrote ${out}/train.csv: ${r.rows} rows (${lines.length - 1} images), ${r.poisonLines.length} poisons`);
}

main();
