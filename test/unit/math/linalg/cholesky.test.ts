import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	LinalgError,
	cholesky,
	choleskyLogDeterminant,
	choleskySolve,
	matMul,
	matVec,
	matrixFromRows,
	norm2,
	solveTriangular,
	transpose,
	zeroMatrix,
} from '../../../../src/math/linalg';

// A = L Lᵀ with an integer L, so the exact factor is known.
const L_EXACT = matrixFromRows([
	[2, 0, 0, 0],
	[1, 3, 0, 0],
	[-1, 2, 1, 0],
	[4, -2, 3, 5],
]);
const A = matMul(L_EXACT, transpose(L_EXACT));

describe('cholesky', () => {
	test('recovers a known integer factor', () => {
		const l = cholesky(A);
		for (let k = 0; k < 16; k++) {
			assert.ok(Math.abs(l.data[k] - L_EXACT.data[k]) <= 1e-14 * 5, `entry ${k}: ${l.data[k]} vs ${L_EXACT.data[k]}`);
		}
		// det A = (2·3·1·5)² = 900.
		assert.ok(Math.abs(choleskyLogDeterminant(l) - Math.log(900)) < 1e-13);
	});

	test('choleskySolve solves vector and matrix right-hand sides to a small residual', () => {
		const l = cholesky(A);
		const b = Float64Array.of(1, -2, 3, 0.5);
		const x = choleskySolve(l, b);
		const r = matVec(A, x).map((v, i) => v - b[i]);
		assert.ok(norm2(r) <= 1e-13 * norm2(b), `residual ${norm2(r)}`);
		const bm = matrixFromRows([[1, 0], [0, 1], [2, 3], [-1, 4]]);
		const xm = choleskySolve(l, bm);
		const rm = matMul(A, xm).data.map((v, k) => v - bm.data[k]);
		assert.ok(norm2(rm) <= 1e-13 * norm2(bm.data));
	});

	test('solveTriangular: L x = b and Lᵀ x = b against the exact factor', () => {
		const xTrue = Float64Array.of(1, 2, 3, 4);
		const b = matVec(L_EXACT, xTrue);
		assert.deepEqual(Array.from(solveTriangular(L_EXACT, b)), Array.from(xTrue));
		const bt = matVec(transpose(L_EXACT), xTrue);
		assert.deepEqual(Array.from(solveTriangular(L_EXACT, bt, { transpose: true })), Array.from(xTrue));
	});

	test('a 200×200 shifted Hilbert-like SPD matrix factors with a tiny reconstruction error', () => {
		const n = 200;
		const a = zeroMatrix(n, n);
		for (let i = 0; i < n; i++) {
			for (let j = 0; j < n; j++) {
				a.data[i * n + j] = 1 / (i + j + 1) + (i === j ? 1 : 0);
			}
		}
		const l = cholesky(a);
		const rec = matMul(l, transpose(l));
		let err = 0;
		for (let k = 0; k < n * n; k++) {
			err = Math.max(err, Math.abs(rec.data[k] - a.data[k]));
		}
		assert.ok(err < 1e-14, `max reconstruction error ${err}`);
	});

	test('errors name the pivot, the asymmetric entries and the label', () => {
		const indefinite = matrixFromRows([[1, 2], [2, 1]]);
		assert.throws(
			() => cholesky(indefinite, { label: 'K + cI' }),
			(e: unknown) => e instanceof LinalgError && e.message === 'cholesky: K + cI is not positive definite: pivot 1 = -3 (diagonal entry (1, 1) = 1)',
		);
		assert.throws(() => cholesky(matrixFromRows([[2, 1], [0, 2]])), /not symmetric: entry \(0, 1\) = 1 but \(1, 0\) = 0/);
		assert.throws(() => cholesky(matrixFromRows([[1, 0, 0]])), /must be square, got 1×3/);
		assert.throws(() => cholesky(A, { symmetryTolerance: -1 }), /symmetryTolerance must be >= 0, got -1/);
		assert.throws(() => solveTriangular(L_EXACT, Float64Array.of(1, 2)), /right-hand side has 2 rows, expected 4/);
		assert.throws(() => solveTriangular(matrixFromRows([[1, 0], [1, 0]]), Float64Array.of(1, 2)), /diagonal entry \(1, 1\) of L = 0/);
	});
});
