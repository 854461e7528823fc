// Checks of the numerical building blocks against independent references: brute-force neighbour searches over the
// same seeded points, closed-form eigenvalues, and hand-computed offsets.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { KdTree } from '../../../src/datasets/kdTree';
import { lshPairs } from '../../../src/datasets/lsh';
import { randomizedPca } from '../../../src/datasets/pca';
import { symmetricEigen } from '../../../src/math/linalg';
import { gaussian, mulberry32 } from '../../../src/math/random';
import { capProblems } from '../../../src/datasets/problem';
import type { Problem } from '../../../src/datasets/problem';
import { LineIndex, parseCell } from '../../../src/datasets/table';
import { fieldOffsets } from '../../../src/datasets/csvReader';

function randomPoints(n: number, k: number, seed: number): Float64Array {
	const g = gaussian(mulberry32(seed));
	return Float64Array.from({ length: n * k }, () => g());
}

function dist2(p: Float64Array, k: number, a: number, b: number): number {
	let s = 0;
	for (let c = 0; c < k; c++) {
		s += (p[a * k + c] - p[b * k + c]) ** 2;
	}
	return s;
}

describe('KdTree', () => {
	const n = 600;
	const k = 5;
	const pts = randomPoints(n, k, 11);
	const tree = new KdTree(pts, k);

	test('radius queries return exactly the brute-force neighbours', () => {
		for (const q of [0, 17, 333, 599]) {
			const got: number[] = [];
			tree.radius(pts, q * k, 1.1, (id) => {
				got.push(id);
				return true;
			});
			const want = Array.from({ length: n }, (_, i) => i).filter((i) => dist2(pts, k, q, i) <= 1.1 * 1.1);
			assert.deepEqual(got.sort((a, b) => a - b), want);
		}
	});

	test('exact nearest (eps = 0) matches brute force, skipping the query itself', () => {
		for (const q of [3, 250, 512]) {
			const got = tree.nearest(pts, q * k, 7, (id) => id === q);
			const want = Array.from({ length: n }, (_, i) => i).filter((i) => i !== q).sort((a, b) => dist2(pts, k, q, a) - dist2(pts, k, q, b)).slice(0, 7);
			assert.deepEqual([...got.ids], want);
		}
	});

	test('approximate nearest (eps = 1) stays within (1 + eps) of the exact k-th distance', () => {
		for (const q of [5, 99, 401]) {
			const exact = tree.nearest(pts, q * k, 5, (id) => id === q);
			const approx = tree.nearest(pts, q * k, 5, (id) => id === q, 1);
			assert.ok(Math.sqrt(approx.d2[4]) <= 2 * Math.sqrt(exact.d2[4]) + 1e-12);
		}
	});
});

describe('lshPairs', () => {
	test('finds at least 95 % of the pairs within the radius (brute-force reference)', () => {
		const n = 2000;
		const k = 8;
		const pts = randomPoints(n, k, 5);
		// Plant 100 close pairs so the radius has real neighbours to find.
		const g = gaussian(mulberry32(9));
		for (let i = 0; i < 100; i++) {
			for (let c = 0; c < k; c++) {
				pts[(n - 1 - i) * k + c] = pts[i * k + c] + 0.05 * g();
			}
		}
		const r = 0.3;
		const want = new Set<number>();
		for (let a = 0; a < n; a++) {
			for (let b = a + 1; b < n; b++) {
				if (dist2(pts, k, a, b) <= r * r) {
					want.add(a * n + b);
				}
			}
		}
		const got = new Set<number>();
		lshPairs(pts, n, k, r, mulberry32(1), (a, b) => {
			assert.ok(a < b);
			if (dist2(pts, k, a, b) <= r * r) {
				got.add(a * n + b);
			}
		});
		assert.ok(want.size >= 100);
		const found = [...want].filter((p) => got.has(p)).length;
		assert.ok(found / want.size >= 0.95, `recall ${found}/${want.size}`);
	});
});

describe('PCA', () => {
	test('symmetricEigen: closed-form eigenvalues of [[2,1,0],[1,2,0],[0,0,5]] are 5, 3, 1', () => {
		const r = symmetricEigen({ rows: 3, cols: 3, data: Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]) }, { order: 'descending' });
		const [values, vectors] = [r.eigenvalues, r.eigenvectors.data];
		assert.deepEqual([...values].map((v) => Math.round(v * 1e9) / 1e9), [5, 3, 1]);
		// Second eigenvector is (1, 1, 0)/sqrt(2) up to sign.
		assert.ok(Math.abs(Math.abs(vectors[0 * 3 + 1]) - Math.SQRT1_2) < 1e-9 && Math.abs(vectors[2 * 3 + 1]) < 1e-9);
	});

	test('randomizedPca recovers planted orthogonal directions (std 10, 5, 1) in 20-D', () => {
		const d = 20;
		const n = 3000;
		const u = mulberry32(3);
		const g = gaussian(u);
		const dirs = [0, 1, 2].map((i) => {
			const v = new Float64Array(d);
			v[i * 3] = 0.6;
			v[i * 3 + 1] = 0.8;
			return v;
		});
		const data = new Float32Array(n * d);
		for (let r = 0; r < n; r++) {
			const coef = [10 * g(), 5 * g(), 1 * g()];
			for (let j = 0; j < d; j++) {
				data[r * d + j] = coef[0] * dirs[0][j] + coef[1] * dirs[1][j] + coef[2] * dirs[2][j] + 0.01 * g();
			}
		}
		const mean = new Float64Array(d);
		const basis = randomizedPca({ data, dim: d, mean, scale: new Float64Array(d).fill(1) }, Int32Array.from({ length: 1000 }, (_, i) => i), 3, u);
		for (let c = 0; c < 3; c++) {
			let dot = 0;
			for (let j = 0; j < d; j++) {
				dot += basis[j * 3 + c] * dirs[c][j];
			}
			assert.ok(Math.abs(dot) > 0.999, `direction ${c}: |cos| = ${Math.abs(dot)}`);
		}
	});

	test('randomizedPca on features too large to square (1e200) returns an orthonormal basis instead of throwing', () => {
		const d = 4;
		const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
		const huge = { data, dim: d, mean: new Float64Array(d), scale: new Float64Array(d).fill(1e200) };
		const basis = randomizedPca(huge, Int32Array.from([0, 1, 2]), 2, mulberry32(1));
		assert.equal(basis.length, d * 2);
		assert.ok(basis.every(Number.isFinite));
		for (let c = 0; c < 2; c++) {
			let n2 = 0;
			for (let j = 0; j < d; j++) {
				n2 += basis[j * 2 + c] ** 2;
			}
			assert.ok(Math.abs(n2 - 1) < 1e-12, `column ${c} has norm² ${n2}`);
		}
	});
});

describe('small helpers', () => {
	test('LineIndex maps offsets to 1-based line and column (LF and CRLF)', () => {
		const idx = new LineIndex('ab\ncd\r\ne');
		assert.deepEqual(idx.position(0), { line: 1, column: 1 });
		assert.deepEqual(idx.position(3), { line: 2, column: 1 });
		assert.deepEqual(idx.position(5), { line: 2, column: 3 });
		assert.deepEqual(idx.position(7), { line: 3, column: 1 });
		assert.equal(idx.lineCount, 3);
	});

	test('fieldOffsets honours quotes and doubled quotes', () => {
		const t = 'a,"b,""c""",d';
		assert.deepEqual(fieldOffsets(t, 0, t.length, ','), [0, 2, 12]);
	});

	test('parseCell separates numbers, blanks, NaN/Inf and text', () => {
		assert.deepEqual(['1.5', ' ', '', 'NaN', '-inf', 'Infinity', '1e999', 'x1'].map((s) => parseCell(s).kind),
			['number', 'empty', 'empty', 'nonFinite', 'nonFinite', 'nonFinite', 'nonFinite', 'text']);
	});

	test('capProblems keeps poisoning evidence first and summarises the rest per code', () => {
		const mk = (line: number, code: Problem['code'], severity: Problem['severity']): Problem =>
			({ line, column: 1, endColumn: 2, code, severity, message: 'm', related: [], evidence: [] });
		const capped = capProblems([
			mk(5, 'non-numeric', 'error'), mk(2, 'non-numeric', 'error'), mk(9, 'dirty-label-near-duplicate', 'warning'),
			mk(3, 'ragged-row', 'error'), mk(7, 'near-clone-cluster', 'warning'),
		], 3);
		assert.deepEqual(capped.map((p) => [p.line, p.code]), [[1, 'problem-cap'], [2, 'non-numeric'], [7, 'near-clone-cluster'], [9, 'dirty-label-near-duplicate']]);
		assert.match(capped[0].message, /2 more problem\(s\).*non-numeric ×1.*ragged-row ×1|2 more problem\(s\).*ragged-row ×1.*non-numeric ×1/);
	});
});
