import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	type DenseMatrix,
	type SymmetricEigenResult,
	LinalgError,
	diagonalMatrix,
	frobeniusNorm,
	matMul,
	matrixFromRows,
	symmetricEigen,
	transpose,
	tridiagonalEigen,
	zeroMatrix,
} from '../../../../src/math/linalg';

const EPS = 2 ** -52;

/** Q = I − 2vvᵀ/‖v‖², an explicit orthogonal (Householder) matrix. */
function householder(v: number[]): DenseMatrix {
	const n = v.length;
	const vv = v.reduce((s, x) => s + x * x, 0);
	const q = zeroMatrix(n, n);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < n; j++) {
			q.data[i * n + j] = (i === j ? 1 : 0) - (2 * v[i] * v[j]) / vv;
		}
	}
	return q;
}

/** Q diag(λ) Qᵀ, symmetrised exactly. */
function withSpectrum(q: DenseMatrix, lambda: number[]): DenseMatrix {
	const a = matMul(matMul(q, diagonalMatrix(lambda)), transpose(q));
	const n = a.rows;
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < i; j++) {
			const m = 0.5 * (a.data[i * n + j] + a.data[j * n + i]);
			a.data[i * n + j] = m;
			a.data[j * n + i] = m;
		}
	}
	return a;
}

/** Checks the evidence every result must carry: ‖Av − λv‖ small, VᵀV = I. */
function assertDecomposition(a: DenseMatrix, r: SymmetricEigenResult, tolerance: number): void {
	const n = a.rows;
	const scale = Math.max(frobeniusNorm(a), 1);
	assert.equal(r.converged, true);
	assert.equal(r.residualNorms.length, n);
	for (let j = 0; j < n; j++) {
		assert.ok(r.residualNorms[j] <= tolerance * scale, `residual ${j} = ${r.residualNorms[j]}`);
	}
	const vtv = matMul(transpose(r.eigenvectors), r.eigenvectors);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < n; j++) {
			assert.ok(Math.abs(vtv.data[i * n + j] - (i === j ? 1 : 0)) <= tolerance * n, `VᵀV (${i}, ${j}) = ${vtv.data[i * n + j]}`);
		}
	}
}

describe('symmetricEigen', () => {
	test('recovers a prescribed spectrum (with a repeated and a negative eigenvalue) of Q diag(λ) Qᵀ', () => {
		const lambda = [5, -3, 2, 2, 0.5, 1e-3, -7];
		const a = withSpectrum(householder([1, -2, 0.5, 3, 1, -1, 2]), lambda);
		const r = symmetricEigen(a, { order: 'ascending' });
		const expected = [...lambda].sort((x, y) => x - y);
		for (let j = 0; j < lambda.length; j++) {
			assert.ok(Math.abs(r.eigenvalues[j] - expected[j]) <= 50 * EPS * 7, `λ${j} = ${r.eigenvalues[j]}, expected ${expected[j]}`);
		}
		assertDecomposition(a, r, 50 * EPS);
	});

	test('descending is the default order and eigenvectors follow their eigenvalues', () => {
		const a = matrixFromRows([[2, 1, 0], [1, 2, 1], [0, 1, 2]]);
		const r = symmetricEigen(a);
		// Eigenvalues 2 + √2, 2, 2 − √2 with eigenvectors (1, ±√2, 1)/2 and (1, 0, −1)/√2.
		const expected = [2 + Math.SQRT2, 2, 2 - Math.SQRT2];
		for (let j = 0; j < 3; j++) {
			assert.ok(Math.abs(r.eigenvalues[j] - expected[j]) < 1e-15 * 4);
		}
		const v0 = [0, 1, 2].map((i) => r.eigenvectors.data[i * 3]);
		const sign = Math.sign(v0[0]);
		assert.ok(Math.abs(sign * v0[0] - 0.5) < 1e-15 && Math.abs(sign * v0[1] - Math.SQRT1_2) < 1e-15 && Math.abs(sign * v0[2] - 0.5) < 1e-15);
		assertDecomposition(a, r, 20 * EPS);
	});

	test('1-D Laplacian: eigenvalues 2 − 2cos(kπ/(n+1)), eigenvectors sin(jkπ/(n+1))', () => {
		const n = 60;
		const a = zeroMatrix(n, n);
		for (let i = 0; i < n; i++) {
			a.data[i * n + i] = 2;
			if (i > 0) {
				a.data[i * n + i - 1] = -1;
				a.data[(i - 1) * n + i] = -1;
			}
		}
		const r = symmetricEigen(a, { order: 'ascending' });
		for (let k = 1; k <= n; k++) {
			const exact = 2 - 2 * Math.cos((k * Math.PI) / (n + 1));
			assert.ok(Math.abs(r.eigenvalues[k - 1] - exact) < 1e-13, `λ${k}`);
			// Compare |cos| between the computed and the exact eigenvector (sign is arbitrary).
			let dotp = 0;
			let nn = 0;
			for (let j = 0; j < n; j++) {
				const s = Math.sin(((j + 1) * k * Math.PI) / (n + 1));
				dotp += s * r.eigenvectors.data[j * n + k - 1];
				nn += s * s;
			}
			assert.ok(Math.abs(Math.abs(dotp) / Math.sqrt(nn) - 1) < 1e-12, `eigenvector ${k}`);
		}
		assertDecomposition(a, r, 50 * EPS);
	});

	test('rank one uuᵀ: one eigenvalue ‖u‖² along u, the rest zero', () => {
		const u = [1, 2, -2, 4];
		const n = u.length;
		const a = zeroMatrix(n, n);
		for (let i = 0; i < n; i++) {
			for (let j = 0; j < n; j++) {
				a.data[i * n + j] = u[i] * u[j];
			}
		}
		const r = symmetricEigen(a);
		assert.ok(Math.abs(r.eigenvalues[0] - 25) < 1e-13);
		for (let j = 1; j < n; j++) {
			assert.ok(Math.abs(r.eigenvalues[j]) < 1e-13);
		}
		const cos = u.reduce((s, x, i) => s + x * r.eigenvectors.data[i * n], 0) / 5;
		assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-14);
		assertDecomposition(a, r, 20 * EPS);
	});

	test('trace and Frobenius invariants on a seeded dense 80×80 matrix', () => {
		const n = 80;
		const a = zeroMatrix(n, n);
		let s = 12345;
		const next = (): number => {
			s = (Math.imul(s, 1103515245) + 12345) >>> 0;
			return s / 2 ** 32 - 0.5;
		};
		for (let i = 0; i < n; i++) {
			for (let j = 0; j <= i; j++) {
				const v = next();
				a.data[i * n + j] = v;
				a.data[j * n + i] = v;
			}
		}
		const r = symmetricEigen(a);
		let tr = 0;
		for (let i = 0; i < n; i++) {
			tr += a.data[i * n + i];
		}
		const sum = r.eigenvalues.reduce((p, x) => p + x, 0);
		const sumSq = r.eigenvalues.reduce((p, x) => p + x * x, 0);
		assert.ok(Math.abs(sum - tr) < 1e-12);
		assert.ok(Math.abs(sumSq - frobeniusNorm(a) ** 2) < 1e-11);
		for (let j = 1; j < n; j++) {
			assert.ok(r.eigenvalues[j] <= r.eigenvalues[j - 1]);
		}
		assertDecomposition(a, r, 100 * EPS);
	});

	test('trivial sizes and diagonal input', () => {
		assert.equal(symmetricEigen(zeroMatrix(0, 0)).eigenvalues.length, 0);
		assert.deepEqual(Array.from(symmetricEigen(matrixFromRows([[-4]])).eigenvalues), [-4]);
		assert.deepEqual(Array.from(symmetricEigen(diagonalMatrix([3, -1, 2]), { order: 'ascending' }).eigenvalues), [-1, 2, 3]);
		assert.equal(symmetricEigen(zeroMatrix(3, 3)).eigenvalues.every((x) => x === 0), true);
		assert.equal(symmetricEigen(diagonalMatrix([1, 2]), { residuals: false }).residualNorms.length, 0);
	});

	test('validation errors name the option or entry', () => {
		assert.throws(() => symmetricEigen(matrixFromRows([[1, 2], [3, 1]]), { label: 'H' }), (e: unknown) => e instanceof LinalgError && /H is not symmetric: entry \(0, 1\) = 2 but \(1, 0\) = 3/.test(e.message));
		assert.throws(() => symmetricEigen(diagonalMatrix([1]), { order: 'up' as 'ascending' }), /options.order must be 'ascending' or 'descending', got "up"/);
		assert.throws(() => symmetricEigen(diagonalMatrix([1]), { maxIterations: 0 }), /options.maxIterations must be a positive integer, got 0/);
		assert.throws(() => symmetricEigen(matrixFromRows([[1, 2, 3]])), /must be square, got 1×3/);
		const bad = diagonalMatrix([1, 2]);
		bad.data[3] = Number.POSITIVE_INFINITY;
		assert.throws(() => symmetricEigen(bad), /entry \(1, 1\) = Infinity is not finite/);
	});
});

describe('tridiagonalEigen', () => {
	test('Toeplitz tridiagonal (a, b): eigenvalues a + 2b cos(kπ/(n+1)), residuals measured against T', () => {
		const n = 100;
		const r = tridiagonalEigen(new Float64Array(n).fill(3), new Float64Array(n - 1).fill(0.7), { order: 'ascending' });
		const exact = Array.from({ length: n }, (_, k) => 3 + 1.4 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((x, y) => x - y);
		for (let k = 0; k < n; k++) {
			assert.ok(Math.abs(r.eigenvalues[k] - exact[k]) < 1e-13, `λ${k}`);
		}
		assert.ok(Math.max(...r.residualNorms) < 1e-13);
		assert.equal(r.converged, true);
	});

	test('a decoupled block (zero off-diagonal) and a 1×1 problem', () => {
		const r = tridiagonalEigen([1, 5, 2], [0, 0]);
		assert.deepEqual(Array.from(r.eigenvalues), [5, 2, 1]);
		assert.deepEqual(Array.from(tridiagonalEigen([7], []).eigenvalues), [7]);
	});

	test('errors name the bad length or entry', () => {
		assert.throws(() => tridiagonalEigen([1, 2, 3], [1]), /offDiagonal has length 1, expected 2/);
		assert.throws(() => tridiagonalEigen([1, Number.NaN], [1]), /diagonal\[1\] = NaN is not finite/);
		assert.throws(() => tridiagonalEigen([1, 2], [Number.NaN]), /offDiagonal\[0\] = NaN is not finite/);
	});
});
