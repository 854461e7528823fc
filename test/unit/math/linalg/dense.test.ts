import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	LinalgError,
	diagonalMatrix,
	dot,
	frobeniusNorm,
	identityMatrix,
	matMul,
	matVec,
	matrixFromRows,
	norm2,
	trace,
	transpose,
} from '../../../../src/math/linalg';

describe('dense matrices', () => {
	test('matMul, matVec and transpose match hand-computed products', () => {
		const a = matrixFromRows([[1, 2, 3], [4, 5, 6]]);
		const b = matrixFromRows([[7, 8], [9, 10], [11, 12]]);
		assert.deepEqual(Array.from(matMul(a, b).data), [58, 64, 139, 154]);
		assert.deepEqual(Array.from(matVec(a, Float64Array.of(1, 0, -1))), [-2, -2]);
		const t = transpose(a);
		assert.equal(t.rows, 3);
		assert.deepEqual(Array.from(t.data), [1, 4, 2, 5, 3, 6]);
		assert.deepEqual(Array.from(matMul(identityMatrix(2), a).data), Array.from(a.data));
	});

	test('norms, dot and trace', () => {
		assert.equal(norm2(Float64Array.of(3, 4)), 5);
		// Scaling keeps huge and tiny entries from overflowing or underflowing.
		assert.ok(Math.abs(norm2(Float64Array.of(3e200, 4e200)) / 5e200 - 1) < 1e-15);
		assert.ok(Math.abs(norm2(Float64Array.of(3e-200, 4e-200)) / 5e-200 - 1) < 1e-15);
		assert.equal(norm2(new Float64Array(3)), 0);
		assert.equal(dot([1, 2, 3], [4, 5, 6]), 32);
		assert.equal(trace(diagonalMatrix([1, 2, 3])), 6);
		assert.equal(frobeniusNorm(matrixFromRows([[1, 2], [2, 4]])), 5);
	});

	test('errors name the offending shape or value', () => {
		assert.throws(() => matrixFromRows([[1, 2], [3]]), (e: unknown) => e instanceof LinalgError && /row 1 has length 1, expected 2/.test(e.message));
		assert.throws(() => matrixFromRows([[1, Number.NaN]]), /entry \(0, 1\) = NaN is not finite/);
		assert.throws(() => matMul(matrixFromRows([[1, 2]]), matrixFromRows([[1, 2]])), /A is 1×2, B is 1×2/);
		assert.throws(() => matVec(identityMatrix(2), [1, 2, 3]), /vector length 3 does not match the matrix's 2 columns/);
		assert.throws(() => trace(matrixFromRows([[1, 2]])), /must be square, got 1×2/);
	});
});
