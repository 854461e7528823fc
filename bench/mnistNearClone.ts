/**
 * The paper's cloned-poison regime on real MNIST (docs/science.md §2.2, §2.6-2.7): G groups of P clones of one source
 * image, each group labelled with one other class, shifted together by L2 `shift` (pixel units) in a random direction
 * plus per-clone noise (sd 2), so the clones are tight among themselves and, for shifts beyond the radius, no longer
 * near their source. Prints precision and recall of the scan's findings over the clone rows.
 *
 *   node --import tsx bench/mnistNearClone.ts [--rows 20000] [--groups 20] [--per 5] [--shift 400] [--seed 3]
 */
import { analysePoisoning } from '../src/datasets/poison';
import { gaussian, mulberry32, sampleIndices } from '../src/math/random';
import type { FeatureTable } from '../src/datasets/table';
import { readMnist } from './mnistPoison';

function main(argv: string[]): void {
	const num = (flag: string, fallback: number): number => {
		const i = argv.indexOf(flag);
		return i >= 0 ? Number(argv[i + 1]) : fallback;
	};
	const m = readMnist('train');
	const n = Math.min(num('--rows', 20000), m.count);
	const groups = num('--groups', 20);
	const per = num('--per', 5);
	const shift = num('--shift', 400);
	const d = 784;
	const u = mulberry32(num('--seed', 3));
	const g = gaussian(u);
	const total = n + groups * per;
	const features = new Float32Array(total * d);
	const labels: string[] = [];
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < d; j++) {
			features[i * d + j] = m.images[i * d + j];
		}
		labels.push(String(m.labels[i]));
	}
	const clones = new Set<number>();
	let k = n;
	for (const s of sampleIndices(n, groups, u)) {
		const dir = Float64Array.from({ length: d }, () => g());
		const norm = Math.hypot(...dir);
		const target = String((m.labels[s] + 1 + Math.floor(u() * 9)) % 10);
		for (let c = 0; c < per; c++) {
			for (let j = 0; j < d; j++) {
				features[k * d + j] = Math.min(255, Math.max(0, m.images[s * d + j] + (dir[j] / norm) * shift + 2 * g()));
			}
			labels.push(target);
			clones.add(k++);
		}
	}
	const line = Int32Array.from({ length: total }, (_, i) => i + 2);
	const table: FeatureTable = {
		rows: total, dim: d, features, valid: new Uint8Array(total).fill(1), labels, startLine: line, endLine: line,
		endColumn: new Int32Array(total).fill(1), textKey: null, labelName: 'label', hasHeader: true,
	};
	const r = analysePoisoning(table);
	const flagged = new Set(r.problems.map((p) => p.line - 2));
	const tp = [...flagged].filter((i) => clones.has(i)).length;
	const codes = [...new Set(r.problems.map((p) => p.code))].join(', ');
	console.log(`near clones: ${groups} groups × ${per} on ${n} MNIST rows, shift ${shift} (median NN ${r.stats.medianNnDistance.toFixed(0)}, ` +
		`radius ${r.stats.radius.toFixed(0)}): ${flagged.size} flagged (${codes}), precision ${(flagged.size ? tp / flagged.size : 0).toFixed(3)}, recall ${(tp / clones.size).toFixed(3)}`);
}

main(process.argv.slice(2));
