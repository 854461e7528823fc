/**
 * Batched power iteration: the top eigenpair of every block of a block-diagonal operator at once
 * (per-sample input curvature), one operator product per iteration for the whole batch.
 */
import { checkpoint } from './cancel';
import { gaussianVector } from '../../math/random';
import type { BlockDiagonalOperator, BlockEigenResult, CancelSignal } from './types';

/** Options for {@link blockPowerIteration}. */
export interface PowerOptions {
	/** Maximum iterations. Default 50. */
	readonly maxIter?: number;
	/** Stop a block when ‖A v − λ v‖ ≤ tol·|λ|; stop when all blocks did. Default 1e-4. */
	readonly tol?: number;
	readonly seed?: number;
	readonly signal?: CancelSignal;
}

const TINY = 1e-30;

/** Scales block i (entries i·d … (i+1)·d − 1) of x to unit norm, in place; returns its norm before (0: left as is). */
function normaliseBlock(x: Float64Array, i: number, d: number): number {
	let s = 0;
	for (let j = i * d; j < (i + 1) * d; j++) {
		s += x[j] * x[j];
	}
	const nrm = Math.sqrt(s);
	if (nrm > 0) {
		for (let j = i * d; j < (i + 1) * d; j++) {
			x[j] /= nrm;
		}
	}
	return nrm;
}

/** Block i's Rayleigh quotient λ = vᵀw (v unit) and explicit residual ‖w − λv‖, with w = A v. */
function rayleighResidual(v: Float64Array, w: Float64Array, i: number, d: number): { readonly rq: number; readonly residual: number } {
	let rq = 0;
	for (let j = i * d; j < (i + 1) * d; j++) {
		rq += v[j] * w[j];
	}
	let r = 0;
	for (let j = i * d; j < (i + 1) * d; j++) {
		r += (w[j] - rq * v[j]) ** 2;
	}
	return { rq, residual: Math.sqrt(r) };
}

/**
 * Power iteration on each block of `op`. Converges to the eigenvalue of largest magnitude of each
 * block (for Gauss–Newton blocks, which are PSD, that is the top one). Residuals are explicit:
 * r_i = ‖A_i v_i − λ_i v_i‖ with λ_i the Rayleigh quotient, from the last product.
 */
export async function blockPowerIteration(op: BlockDiagonalOperator, options: PowerOptions = {}): Promise<BlockEigenResult> {
	const maxIter = options.maxIter ?? 50;
	const tol = options.tol ?? 1e-4;
	if (!Number.isInteger(maxIter) || maxIter < 1) {
		throw new Error(`blockPowerIteration: maxIter=${maxIter} must be a positive integer`);
	}
	if (!(tol > 0)) {
		throw new Error(`blockPowerIteration: tol=${tol} must be > 0`);
	}
	const { blocks: b, blockSize: d } = op;
	const v = gaussianVector(b * d, options.seed ?? 0);
	const normalise = (x: Float64Array, i: number): number => normaliseBlock(x, i, d);
	for (let i = 0; i < b; i++) {
		normalise(v, i);
	}
	const lambda = new Array<number>(b).fill(0);
	const residuals = new Array<number>(b).fill(Infinity);
	const done = new Array<boolean>(b).fill(false);
	let iterations = 0;
	let matvecs = 0;
	for (let it = 0; it < maxIter; it++) {
		await checkpoint(options.signal, `power iteration on ${op.label}`, matvecs);
		const w = await op.matvec(v);
		matvecs++;
		iterations++;
		for (let i = 0; i < b; i++) {
			if (done[i]) {
				continue;
			}
			const { rq, residual } = rayleighResidual(v, w, i, d);
			lambda[i] = rq;
			residuals[i] = residual;
			if (residuals[i] <= tol * Math.max(Math.abs(rq), TINY)) {
				// Keep v_i (the vector the residual belongs to) and stop updating this block.
				done[i] = true;
				continue;
			}
			for (let j = i * d; j < (i + 1) * d; j++) {
				v[j] = w[j];
			}
			if (normalise(v, i) === 0) {
				// A_i v_i = 0: v_i lies in the null space; λ_i = 0 exactly.
				done[i] = true;
				residuals[i] = 0;
				const fresh = gaussianVector(d, (options.seed ?? 0) + 1 + i);
				v.set(fresh, i * d);
				normalise(v, i);
			}
		}
		if (done.every(Boolean)) {
			break;
		}
	}
	const eigenvectors = Array.from({ length: b }, (_, i) => v.slice(i * d, (i + 1) * d));
	return Object.freeze({
		eigenvalues: Object.freeze([...lambda]),
		eigenvectors: Object.freeze(eigenvectors),
		residuals: Object.freeze([...residuals]),
		residualKind: 'explicit',
		converged: Object.freeze([...done]),
		iterations,
		matvecs,
		tol,
		algorithm: 'batched power iteration',
		operator: op.label,
	});
}
