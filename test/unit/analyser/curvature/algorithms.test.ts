/**
 * Lanczos, batched power iteration and Hutchinson on explicit seeded matrices with known
 * spectra, plus cancellation, validation and determinism.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
	blockPowerIteration,
	CurvatureCancelledError,
	denseOperator,
	hutchinsonTrace,
	lambdaOperator,
	lanczos,
	type BlockDiagonalOperator,
} from '../../../../src/analyser/curvature';
import { absCos, column, matrixWithSpectrum } from './matrices';

const N = 120;
// A spectrum with a clear top-5 and a dense bulk (eigenvalue 1 − i/N … ≥ 0), like input Hessians.
const SPECTRUM = Array.from({ length: N }, (_, i) => (i < 5 ? [10, 8, 6.5, 5, 4.2][i] : 1.5 * (1 - i / N)));

describe('lanczos (full reorthogonalisation)', () => {
	const { a, q } = matrixWithSpectrum(SPECTRUM, 1);
	const op = denseOperator(a, N);

	test('top-5 eigenpairs of Q diag(λ) Qᵀ to 1e-9, with explicit residuals', async () => {
		const r = await lanczos(op, { k: 5, tol: 1e-10, seed: 4, explicitResiduals: true, maxIter: 80 });
		assert.equal(r.converged, true);
		assert.equal(r.residualKind, 'explicit');
		[10, 8, 6.5, 5, 4.2].forEach((l, i) => {
			assert.ok(Math.abs(r.eigenvalues[i] - l) < 1e-9 * l, `λ${i}: ${r.eigenvalues[i]} vs ${l}`);
			assert.ok(absCos(r.eigenvectors[i], column(q, N, i)) > 1 - 1e-9);
			assert.ok(r.residuals[i] < 1e-9 * l);
		});
		assert.ok(Object.isFrozen(r));
		assert.equal(r.matvecs, r.iterations + 5);
	});

	test('is deterministic for a seed and reports non-convergence honestly', async () => {
		const r1 = await lanczos(op, { k: 5, maxIter: 8, seed: 2 });
		const r2 = await lanczos(op, { k: 5, maxIter: 8, seed: 2 });
		assert.deepEqual(r1.eigenvalues, r2.eigenvalues);
		assert.equal(r1.converged, false);
		assert.ok(r1.residuals.some((x) => x > 1e-6));
	});

	test('largest-magnitude mode finds a dominant negative eigenvalue', async () => {
		const { a: a2 } = matrixWithSpectrum([-12, 3, 2, 1, 0.5, 0.1, 0, 0], 5);
		const r = await lanczos(denseOperator(a2, 8), { k: 1, which: 'LM', maxIter: 8, tol: 1e-10 });
		assert.ok(Math.abs(r.eigenvalues[0] + 12) < 1e-9);
	});

	test('stops on an invariant subspace (rank-2 operator) with exact pairs', async () => {
		const u = Float64Array.from({ length: 50 }, (_, i) => Math.sin(i + 1));
		const w = Float64Array.from({ length: 50 }, (_, i) => Math.cos(3 * i));
		const rank2 = lambdaOperator(50, (v) => {
			let uv = 0;
			let wv = 0;
			for (let i = 0; i < 50; i++) {
				uv += u[i] * v[i];
				wv += w[i] * v[i];
			}
			return Float64Array.from(v, (_, i) => 3 * uv * u[i] + wv * w[i]);
		});
		const r = await lanczos(rank2, { k: 2, tol: 1e-8, explicitResiduals: true });
		assert.ok(r.iterations <= 3, `iterations ${r.iterations}`);
		assert.equal(r.converged, true);
	});

	test('validates k and maxIter with the values in the message', async () => {
		await assert.rejects(lanczos(op, { k: 0 }), /k=0 must be a positive integer/);
		await assert.rejects(lanczos(op, { k: 121 }), /k=121 exceeds operator size 120/);
		await assert.rejects(lanczos(op, { k: 5, maxIter: 3 }), /maxIter=3/);
	});

	test('cancels between products (AbortSignal) and says after how many', async () => {
		const ctl = new AbortController();
		let calls = 0;
		const counting = lambdaOperator(N, async (v) => {
			calls++;
			if (calls === 3) {
				ctl.abort();
			}
			return op.matvec(v);
		});
		await assert.rejects(lanczos(counting, { k: 5, signal: ctl.signal }), (e: unknown) => e instanceof CurvatureCancelledError && /after 3 matrix-vector products/.test(e.message));
		assert.equal(calls, 3);
	});

	test('cancels with a vscode-jsonrpc style token', async () => {
		await assert.rejects(lanczos(op, { k: 1, signal: { isCancellationRequested: true } }), CurvatureCancelledError);
	});
});

describe('blockPowerIteration', () => {
	// Three independent 20×20 blocks with known, well-separated top eigenvalues.
	const blocks = [7, 3, 0.5].map((top, i) => matrixWithSpectrum([top, top / 4, top / 8, ...new Array<number>(17).fill(top / 20)], 10 + i));
	const d = 20;
	const op: BlockDiagonalOperator = {
		size: 3 * d,
		shape: [3, d],
		label: 'three explicit blocks',
		blocks: 3,
		blockSize: d,
		blockShape: [d],
		matvec: (v) => {
			const out = new Float64Array(3 * d);
			blocks.forEach(({ a }, b) => {
				for (let i = 0; i < d; i++) {
					let s = 0;
					for (let j = 0; j < d; j++) {
						s += a[i * d + j] * v[b * d + j];
					}
					out[b * d + i] = s;
				}
			});
			return Promise.resolve(out);
		},
	};

	test('per-block top eigenpairs with explicit residuals and per-block convergence', async () => {
		const r = await blockPowerIteration(op, { maxIter: 200, tol: 1e-8, seed: 1 });
		[7, 3, 0.5].forEach((l, b) => {
			assert.ok(Math.abs(r.eigenvalues[b] - l) < 1e-9 * l, `block ${b}: ${r.eigenvalues[b]}`);
			assert.ok(absCos(r.eigenvectors[b], column(blocks[b].q, d, 0)) > 1 - 1e-7);
			assert.ok(r.residuals[b] <= 1e-8 * l);
		});
		assert.deepEqual(r.converged, [true, true, true]);
	});

	test('reports unconverged blocks when stopped early', async () => {
		const r = await blockPowerIteration(op, { maxIter: 2, tol: 1e-12 });
		assert.ok(r.converged.includes(false));
		assert.equal(r.iterations, 2);
	});
});

describe('hutchinsonTrace', () => {
	test('is exact (zero spread) on a diagonal matrix: zᵀDz = tr D for Rademacher z', async () => {
		const diag = Float64Array.from({ length: 40 }, (_, i) => i / 10 - 1);
		const r = await hutchinsonTrace(lambdaOperator(40, (v) => Float64Array.from(v, (x, i) => x * diag[i])), { maxSamples: 4, minSamples: 2 });
		const tr = diag.reduce((a, b) => a + b, 0);
		assert.ok(Math.abs(r.estimate - tr) < 1e-12);
		assert.equal(r.stderr, 0);
	});

	test('estimate lies within 4 standard errors of the exact trace', async () => {
		const { a } = matrixWithSpectrum(SPECTRUM, 2);
		const r = await hutchinsonTrace(denseOperator(a, N), { maxSamples: 200, tol: 1e-3, seed: 9 });
		const tr = SPECTRUM.reduce((x, y) => x + y, 0);
		assert.ok(Math.abs(r.estimate - tr) <= 4 * r.stderr, `${r.estimate} ± ${r.stderr} vs ${tr}`);
		assert.ok(r.stderr > 0 && r.samples >= 8);
	});
});
