/**
 * Shared types of the curvature core: the matrix-free operator seam, cancellation, and the
 * read-only result records every algorithm returns (values plus convergence evidence).
 */

/**
 * A symmetric matrix-free linear operator A: ℝⁿ → ℝⁿ.
 *
 * Vectors are flat float64 arrays of length `size`, laid out row-major in `shape` (for example
 * `[batch, 28, 28, 1]` for a per-sample operator, `[28, 28, 1]` for a batch-mean one).
 * Implementations that call tfjs run each product inside `tf.tidy` and leave no tensors behind.
 */
export interface LinearOperator {
	/** n = product of `shape`. */
	readonly size: number;
	/** Tensor shape of one vector. */
	readonly shape: readonly number[];
	/** Human-readable name for records and errors, e.g. "input Hessian (batch mean, 64 samples)". */
	readonly label: string;
	/** A·v. `v.length === size`; the result is a new array. */
	matvec(v: Float64Array): Promise<Float64Array>;
}

/**
 * A block-diagonal operator diag(A₁, …, A_b): one independent block per sample. Vectors have
 * shape `[blocks, ...blockShape]`; block i of the product depends only on block i of the input.
 */
export interface BlockDiagonalOperator extends LinearOperator {
	readonly blocks: number;
	/** Size of one block (product of blockShape). */
	readonly blockSize: number;
	readonly blockShape: readonly number[];
}

/**
 * Anything that can say "stop": an `AbortSignal` (`aborted`) or a vscode-jsonrpc
 * `CancellationToken` (`isCancellationRequested`). Checked between matrix-vector products.
 */
export type CancelSignal = { readonly aborted: boolean } | { readonly isCancellationRequested: boolean };

/** Thrown when a {@link CancelSignal} fires; the algorithm stops before its next product. */
export class CurvatureCancelledError extends Error {
	constructor(where: string, iterations: number) {
		super(`${where}: cancelled after ${iterations} matrix-vector products`);
		this.name = 'CurvatureCancelledError';
	}
}

/** Top-k eigenpairs of one symmetric operator. */
export interface EigenResult {
	/** Descending. Shape (k). */
	readonly eigenvalues: readonly number[];
	/** Unit-norm, one per eigenvalue. Shape (k, n). */
	readonly eigenvectors: readonly Float64Array[];
	/** ‖A v − λ v‖ per pair. Shape (k). See `residualKind`. */
	readonly residuals: readonly number[];
	/** 'explicit': computed with extra products; 'ritz-estimate': |β_m s_mj| from Lanczos (exact in exact arithmetic with full reorthogonalisation). */
	readonly residualKind: 'explicit' | 'ritz-estimate' | 'exact-factor';
	/** Lanczos steps / power iterations performed. */
	readonly iterations: number;
	/** Operator products performed (each may be one HVP, or two small matmuls). */
	readonly matvecs: number;
	/** Every residual ≤ tol·max(|λ|, tiny). */
	readonly converged: boolean;
	readonly tol: number;
	/** What produced it, e.g. "lanczos(full reorth)" or "gram-exact". */
	readonly algorithm: string;
	readonly operator: string;
}

/** Top eigenpair of each block of a block-diagonal operator (per-sample curvature). */
export interface BlockEigenResult {
	/** Shape (blocks). */
	readonly eigenvalues: readonly number[];
	/** Shape (blocks, blockSize), unit norm. */
	readonly eigenvectors: readonly Float64Array[];
	/** ‖A_i v_i − λ_i v_i‖. Shape (blocks). */
	readonly residuals: readonly number[];
	readonly residualKind: 'explicit' | 'exact-factor';
	/** Per block. Shape (blocks). */
	readonly converged: readonly boolean[];
	readonly iterations: number;
	readonly matvecs: number;
	readonly tol: number;
	readonly algorithm: string;
	readonly operator: string;
}

/** Hutchinson trace estimate with its uncertainty. */
export interface TraceResult {
	readonly estimate: number;
	/** Standard error of the mean over samples. */
	readonly stderr: number;
	readonly samples: number;
	readonly converged: boolean;
	readonly operator: string;
}

/** Curvature of the loss along one input direction d: dᵀ H_i d / ‖d‖² per sample, and their mean. */
export interface DirectionalCurvatureResult {
	/** Shape (batch). */
	readonly perSample: readonly number[];
	readonly mean: number;
	readonly operator: string;
}
