/**
 * Lanczos with full reorthogonalisation for the top-k eigenpairs of a symmetric operator.
 *
 * Full reorthogonalisation (classical Gram–Schmidt applied twice against every stored basis
 * vector, in float64) suppresses the ghost copies of converged eigenvalues that plain Lanczos
 * produces in finite precision (Paige 1976). Its O(m²n) cost is negligible here: n is an input
 * dimension (≈ 10³) and m ≤ a few hundred, while each product is an HVP or two small matmuls.
 * The tridiagonal eigenproblem is solved in float64 JS ({@link tridiagonalEigen}).
 */
import { checkpoint } from './cancel';
import { gaussianVector } from '../../math/random';
import { tridiagonalEigen } from '../../math/linalg';
import type { CancelSignal, EigenResult, LinearOperator } from './types';
import { axpy, dot, norm } from '../../math/vector';

/** Options for {@link lanczos}. */
export interface LanczosOptions {
	/** Number of eigenpairs (largest algebraic). */
	readonly k: number;
	/** Maximum Lanczos steps (Krylov dimension). Default min(n, max(3k + 20, 40)). */
	readonly maxIter?: number;
	/** Converged when every Ritz residual ≤ tol·|λ| (relative). Default 1e-6. */
	readonly tol?: number;
	/** Seed of the Gaussian start vector. Default 0. */
	readonly seed?: number;
	/** Compute ‖Av − λv‖ with k extra products instead of the Ritz estimates. Default false. */
	readonly explicitResiduals?: boolean;
	/** 'LA': largest algebraic (default); 'LM': largest magnitude. */
	readonly which?: 'LA' | 'LM';
	readonly signal?: CancelSignal;
	/** Check convergence every this many steps (each check solves T_m). Default 5. */
	readonly checkEvery?: number;
}

const TINY = 1e-30;

function validate(op: LinearOperator, o: LanczosOptions): { k: number; maxIter: number; tol: number } {
	const n = op.size;
	if (!Number.isInteger(o.k) || o.k < 1) {
		throw new Error(`lanczos: k=${o.k} must be a positive integer`);
	}
	if (o.k > n) {
		throw new Error(`lanczos: k=${o.k} exceeds operator size ${n} (${op.label})`);
	}
	const maxIter = o.maxIter ?? Math.min(n, Math.max(3 * o.k + 20, 40));
	if (!Number.isInteger(maxIter) || maxIter < o.k || maxIter > n) {
		throw new Error(`lanczos: maxIter=${maxIter} must be an integer in [k=${o.k}, n=${n}]`);
	}
	const tol = o.tol ?? 1e-6;
	if (!(tol > 0)) {
		throw new Error(`lanczos: tol=${tol} must be > 0`);
	}
	return { k: o.k, maxIter, tol };
}

function selectOrder(values: Float64Array, which: 'LA' | 'LM'): number[] {
	const idx = Array.from(values.keys());
	if (which === 'LM') {
		idx.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]));
	} else {
		idx.sort((a, b) => values[b] - values[a]);
	}
	return idx;
}

/** The Lanczos recurrence so far: the orthonormal basis Q and the tridiagonal T_m (diagonal α, off-diagonal β). */
interface Krylov {
	readonly Q: Float64Array[];
	readonly alpha: number[];
	readonly beta: number[];
}

/** Ritz pairs of T_m in the requested order (top k), as coordinates in Q, with their residual estimates |β_m s_m|. */
interface Ritz {
	readonly values: number[];
	readonly s: Float64Array[];
	readonly residuals: number[];
}

function solveT({ alpha, beta }: Krylov, k: number, which: 'LA' | 'LM'): Ritz {
	const m = alpha.length;
	const eig = tridiagonalEigen(alpha, beta.slice(0, m - 1), { order: 'ascending', residuals: false, label: 'Lanczos T' });
	const order = selectOrder(eig.eigenvalues, which).slice(0, Math.min(k, m));
	const bLast = beta.length >= m ? beta[m - 1] : 0;
	const values: number[] = [];
	const s: Float64Array[] = [];
	const residuals: number[] = [];
	for (const j of order) {
		const col = new Float64Array(m);
		for (let i = 0; i < m; i++) {
			col[i] = eig.eigenvectors.data[i * m + j];
		}
		values.push(eig.eigenvalues[j]);
		s.push(col);
		residuals.push(Math.abs(bLast * col[m - 1]));
	}
	return { values, s, residuals };
}

function allConverged(values: readonly number[], residuals: readonly number[], k: number, tol: number): boolean {
	return values.length === k && residuals.every((res, i) => res <= tol * Math.max(Math.abs(values[i]), TINY));
}

/** Runs the recurrence until the top k Ritz pairs converge, the space is invariant or maxIter steps are taken. */
async function iterate(op: LinearOperator, options: LanczosOptions, k: number, maxIter: number, tol: number): Promise<{ krylov: Krylov; ritz: Ritz; matvecs: number }> {
	const which = options.which ?? 'LA';
	const checkEvery = Math.max(1, options.checkEvery ?? 5);
	const n = op.size;
	const krylov: Krylov = { Q: [], alpha: [], beta: [] };
	const { Q, alpha, beta } = krylov;
	let q = gaussianVector(n, options.seed ?? 0);
	const q0 = norm(q);
	for (let i = 0; i < n; i++) {
		q[i] /= q0;
	}
	let matvecs = 0;
	let ritz: Ritz | null = null;
	for (let j = 0; j < maxIter; j++) {
		await checkpoint(options.signal, `lanczos on ${op.label}`, matvecs);
		Q.push(q);
		const w = await op.matvec(q);
		matvecs++;
		if (w.length !== n) {
			throw new Error(`lanczos: ${op.label} returned ${w.length} values for a vector of size ${n}`);
		}
		const a = dot(q, w);
		alpha.push(a);
		// Two passes of classical Gram–Schmidt against the whole basis (float64).
		for (let pass = 0; pass < 2; pass++) {
			for (const qi of Q) {
				axpy(-dot(qi, w), qi, w);
			}
		}
		const b = norm(w);
		beta.push(b);
		const last = j === maxIter - 1;
		const invariant = b <= 1e-12 * Math.max(Math.abs(a), ...beta.slice(0, -1).map(Math.abs), TINY);
		if (last || invariant || (j + 1 >= k && (j + 1) % checkEvery === 0)) {
			ritz = solveT(krylov, k, which);
			if (invariant) {
				// Krylov space is invariant: the Ritz pairs are exact eigenpairs of A restricted to it.
				ritz = { ...ritz, residuals: ritz.residuals.map(() => 0) };
			}
			if (allConverged(ritz.values, ritz.residuals, k, tol) || invariant) {
				break;
			}
		}
		if (last) {
			break;
		}
		q = new Float64Array(n);
		for (let i = 0; i < n; i++) {
			q[i] = w[i] / b;
		}
	}
	return { krylov, ritz: ritz ?? solveT(krylov, k, which), matvecs };
}

/**
 * Top-k eigenpairs of a symmetric operator by Lanczos with full reorthogonalisation.
 * Deterministic for a given seed; cancellable between products; returns a frozen record.
 */
export async function lanczos(op: LinearOperator, options: LanczosOptions): Promise<EigenResult> {
	const { k, maxIter, tol } = validate(op, options);
	const n = op.size;
	const { krylov, ritz, matvecs: iterMatvecs } = await iterate(op, options, k, maxIter, tol);
	let matvecs = iterMatvecs;
	const m = krylov.alpha.length;
	const eigenvectors = ritz.s.map((s) => {
		const v = new Float64Array(n);
		for (let i = 0; i < m; i++) {
			axpy(s[i], krylov.Q[i], v);
		}
		const nv = norm(v);
		for (let i = 0; i < n; i++) {
			v[i] /= nv;
		}
		return v;
	});
	let residuals = ritz.residuals;
	let residualKind: EigenResult['residualKind'] = 'ritz-estimate';
	if (options.explicitResiduals === true) {
		residuals = [];
		for (let i = 0; i < eigenvectors.length; i++) {
			await checkpoint(options.signal, `lanczos residuals on ${op.label}`, matvecs);
			const av = await op.matvec(eigenvectors[i]);
			matvecs++;
			residuals.push(norm(axpy(-ritz.values[i], eigenvectors[i], av)));
		}
		residualKind = 'explicit';
	}
	return Object.freeze({
		eigenvalues: Object.freeze([...ritz.values]),
		eigenvectors: Object.freeze(eigenvectors),
		residuals: Object.freeze([...residuals]),
		residualKind,
		iterations: m,
		matvecs,
		converged: allConverged(ritz.values, residuals, k, tol),
		tol,
		algorithm: 'lanczos (full reorthogonalisation)',
		operator: op.label,
	});
}
