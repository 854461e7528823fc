/**
 * Scans an IDX image file and its label file (MNIST layout) for dirty-label duplicates and near-clone clusters.
 * IDX binaries have no lines, so problems use the 1-based record number as `line` and column 1. CLI only (the
 * editor never opens binaries). Pure module; the IDX parsing itself is src/datasets/idx.ts.
 */
import { readIdxFile } from './idx';
import { analysePoisoning } from './poison';
import { capProblems, ProblemCode, type Problem } from './problem';
import type { ScanResult } from './scan';
import { DEFAULT_MAX_PROBLEMS } from './scan';
import type { FeatureTable, ScanOptions } from './table';

/** Whether a file name looks like an IDX file (`*-idx3-ubyte`, `*.idx3`, …). */
export function isIdxFile(fileName: string): boolean {
	return /idx\d(-ubyte)?(\.gz)?$|\.idx\d?$/i.test(fileName);
}

/**
 * Scans images (N × H × W …) against labels (N).
 * @throws IdxError (from idx.ts) naming the file when either is malformed or their counts differ
 */
export function scanIdx(imagesFile: string, labelsFile: string, opts: ScanOptions = {}): ScanResult {
	const t0 = performance.now();
	const images = readIdxFile(imagesFile);
	const labels = readIdxFile(labelsFile);
	const n = images.dims[0] ?? 0;
	if (labels.dims.length !== 1 || labels.dims[0] !== n) {
		throw new Error(`${labelsFile}: ${JSON.stringify(labels.dims)} labels do not match the ${n} records of ${imagesFile}`);
	}
	const dim = n === 0 ? 0 : images.data.length / n;
	const line = Int32Array.from({ length: n }, (_, i) => i + 1);
	const features = Float32Array.from(images.data);
	const valid = new Uint8Array(n).fill(1);
	// Float IDX files can hold NaN or ±Infinity (or values past float32): reported per record, like CSV cells.
	const structure: Problem[] = [];
	if (images.data instanceof Float32Array || images.data instanceof Float64Array) {
		for (let i = 0; i < n; i++) {
			for (let j = 0; j < dim; j++) {
				const v = features[i * dim + j];
				if (v - v !== 0) {
					structure.push({
						line: i + 1, column: 1, endColumn: 2, code: ProblemCode.nonFinite, severity: 'error',
						message: `record ${i + 1}: value ${j} is ${String(images.data[i * dim + j])}${Number.isFinite(images.data[i * dim + j]) ? ' (beyond float32)' : ''}, not a finite number`,
						related: [], evidence: [],
					});
					valid[i] = 0;
					features.fill(0, i * dim, (i + 1) * dim);
					break;
				}
			}
		}
	}
	const table: FeatureTable = {
		rows: n,
		dim,
		features,
		valid,
		labels: Array.from(labels.data, (l) => String(l)),
		startLine: line,
		endLine: line,
		endColumn: new Int32Array(n).fill(1),
		textKey: null,
		labelName: 'label',
		hasHeader: false,
	};
	const r = analysePoisoning(table, opts);
	const problems = [...structure, ...r.problems];
	return {
		file: imagesFile,
		rows: n,
		labelColumn: labelsFile,
		hasHeader: false,
		problems: capProblems(problems, opts.maxProblems ?? DEFAULT_MAX_PROBLEMS),
		totalProblems: problems.length,
		poison: r.stats,
		elapsedMs: performance.now() - t0,
	};
}
