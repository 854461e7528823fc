import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen, tridiagonalEigen } from '../../../../src/math/linalg';
import { absCos, column, matrixWithSpectrum } from './matrices';

// The eigensolver calls the curvature code makes: ascending order, no residual pass (Lanczos T and Gram matrices).
describe('float64 symmetric eigensolvers as the curvature code calls them', () => {
	test('tridiagonal(−1, 2, −1): λ_k = 2 − 2cos(kπ/(n+1)) and A v = λ v', () => {
		const n = 30;
		const r = tridiagonalEigen(new Array(n).fill(2), new Array(n - 1).fill(-1), { order: 'ascending', residuals: false });
		const eig = { values: r.eigenvalues, vectors: r.eigenvectors.data };
		for (let k = 1; k <= n; k++) {
			const want = 2 - 2 * Math.cos((k * Math.PI) / (n + 1));
			assert.ok(Math.abs(eig.values[k - 1] - want) < 1e-13, `λ_${k}: ${eig.values[k - 1]} vs ${want}`);
			const v = column(eig.vectors, n, k - 1);
			for (let i = 0; i < n; i++) {
				const av = 2 * v[i] - (i > 0 ? v[i - 1] : 0) - (i < n - 1 ? v[i + 1] : 0);
				assert.ok(Math.abs(av - eig.values[k - 1] * v[i]) < 1e-12);
			}
		}
	});

	test('dense Q diag(λ) Qᵀ: eigenvalues to 1e-12, eigenvectors to |cos| ≥ 1 − 1e-12', () => {
		const eigs = [9, 7.5, 3, 2.25, 1, 0.5, 0, -0.25, -1, -4];
		const { a, q } = matrixWithSpectrum(eigs, 3);
		const r = symmetricEigen({ rows: eigs.length, cols: eigs.length, data: Float64Array.from(a) }, { order: 'ascending', residuals: false });
		const eig = { values: r.eigenvalues, vectors: r.eigenvectors.data };
		const sorted = [...eigs].sort((x, y) => x - y);
		sorted.forEach((l, i) => assert.ok(Math.abs(eig.values[i] - l) < 1e-12, `${eig.values[i]} vs ${l}`));
		// eigenvalue 9 is eigs[0] → column 0 of Q; it is the largest → last column of the result
		assert.ok(absCos(column(eig.vectors, 10, 9), column(q, 10, 0)) > 1 - 1e-12);
	});

	test('rejects a matrix of the wrong size with the sizes in the message', () => {
		assert.throws(() => symmetricEigen({ rows: 2, cols: 2, data: Float64Array.from([1, 2, 3]) }), /3 entries, expected 2×2/);
	});
});
