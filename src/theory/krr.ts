import { type DenseMatrix, cholesky, choleskySolve, zeroMatrix } from '../math/linalg';
import { TheoryError, checkNumber, checkPoint, formatValue } from './errors';
import { type Kernel } from './kernels';

/** Options for {@link fitKrr}. Give exactly one of `lambda` and `ridge`. */
export interface KrrFitOptions {
	readonly kernel: Kernel;
	/** Training inputs x_1 … x_n, each of the same dimension d. */
	readonly inputs: ReadonlyArray<Float64Array>;
	/** Training targets y_1 … y_n. */
	readonly targets: ArrayLike<number>;
	/** Ridge λ ≥ 0 of the paper's α = (K + nλI)⁻¹y; the ridge is then c = nλ with n = inputs.length. */
	readonly lambda?: number;
	/**
	 * The ridge c itself, added to K's diagonal. Use this to compare two fits with the same c, as
	 * docs/science.md §7.9 compares the poisoned fit (n = n_clean + m) with the clean one.
	 */
	readonly ridge?: number;
}

/** A fitted kernel ridge regression predictor f(x) = Σ_i α_i k(x, x_i). Read-only. */
export interface KrrModel {
	readonly kernel: Kernel;
	readonly inputs: ReadonlyArray<Float64Array>;
	/** Shape (n). */
	readonly targets: Float64Array;
	/** α = (K + cI)⁻¹ y. Shape (n). */
	readonly alpha: Float64Array;
	/** c, the ridge added to K's diagonal (c = nλ when fitted with `lambda`). */
	readonly ridge: number;
	/** Input dimension d. */
	readonly dimension: number;
}

/** Restricts a sum over training points to indices [start, end), e.g. the poison block. */
export interface TermRange {
	readonly start: number;
	readonly end: number;
}

/**
 * Validates a point set and returns its dimension.
 * @throws TheoryError naming the first bad point
 */
export function checkInputs(where: string, inputs: ReadonlyArray<Float64Array>, name = 'inputs'): number {
	if (!Array.isArray(inputs) || inputs.length === 0) {
		throw new TheoryError(`${where}: ${name} must be a non-empty array of Float64Array points, got ${formatValue(inputs)}`);
	}
	const first: unknown = inputs[0];
	if (!(first instanceof Float64Array) || first.length === 0) {
		throw new TheoryError(`${where}: ${name}[0] must be a non-empty Float64Array, got ${formatValue(first)}`);
	}
	const d = first.length;
	for (let i = 0; i < inputs.length; i++) {
		checkPoint(where, `${name}[${i}]`, inputs[i], d);
	}
	return d;
}

/**
 * The Gram matrix K_ij = k(x_i, x_j), filled symmetrically.
 * @returns n×n matrix
 */
export function kernelMatrix(kernel: Kernel, inputs: ReadonlyArray<Float64Array>): DenseMatrix {
	const n = inputs.length;
	const k = zeroMatrix(n, n);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j <= i; j++) {
			const v = kernel.value(inputs[i], inputs[j]);
			k.data[i * n + j] = v;
			k.data[j * n + i] = v;
		}
	}
	return k;
}

/**
 * Resolves the ridge c from `lambda` (c = nλ) or `ridge`.
 * @throws TheoryError unless exactly one is a non-negative finite number
 */
export function resolveRidge(where: string, n: number, lambda: number | undefined, ridge: number | undefined): number {
	if ((lambda === undefined) === (ridge === undefined)) {
		throw new TheoryError(`${where}: give exactly one of options.lambda and options.ridge, got lambda = ${formatValue(lambda)}, ridge = ${formatValue(ridge)}`);
	}
	if (lambda !== undefined) {
		checkNumber(where, 'options.lambda', lambda, 'nonNegative');
		return n * lambda;
	}
	checkNumber(where, 'options.ridge', ridge as number, 'nonNegative');
	return ridge as number;
}

/**
 * Fits kernel ridge regression, α = (K + cI)⁻¹ y, by Cholesky in float64 (docs/science.md §2.1).
 *
 * @param options kernel, inputs, targets and the ridge (`lambda` gives c = nλ; `ridge` gives c)
 * @returns the fitted model
 * @throws TheoryError on ragged or non-finite inputs, a target count mismatch, or a bad ridge;
 *   LinalgError when K + cI is not numerically positive definite (e.g. c = 0 with duplicate points)
 */
export function fitKrr(options: KrrFitOptions): KrrModel {
	const where = 'fitKrr';
	const d = checkInputs(where, options.inputs, 'options.inputs');
	const n = options.inputs.length;
	if (options.targets.length !== n) {
		throw new TheoryError(`${where}: options.targets has length ${options.targets.length}, expected ${n} (one per input)`);
	}
	const targets = Float64Array.from(options.targets);
	for (let i = 0; i < n; i++) {
		checkNumber(where, `options.targets[${i}]`, targets[i]);
	}
	const c = resolveRidge(where, n, options.lambda, options.ridge);
	const k = kernelMatrix(options.kernel, options.inputs);
	for (let i = 0; i < n; i++) {
		k.data[i * n + i] += c;
	}
	const l = cholesky(k, { label: `K + cI (c = ${c})` });
	const alpha = choleskySolve(l, targets);
	return Object.freeze({ kernel: options.kernel, inputs: options.inputs, targets, alpha, ridge: c, dimension: d });
}

function termBounds(where: string, model: KrrModel, range: TermRange | undefined): [number, number] {
	if (range === undefined) {
		return [0, model.alpha.length];
	}
	const { start, end } = range;
	if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > model.alpha.length || start > end) {
		throw new TheoryError(`${where}: range [${formatValue(start)}, ${formatValue(end)}) is not a sub-range of [0, ${model.alpha.length})`);
	}
	return [start, end];
}

/**
 * f(x) = Σ_i α_i k(x, x_i), optionally summed over `range` only (the "poison part").
 * @throws TheoryError when x has the wrong dimension or a non-finite entry
 */
export function krrPredict(model: KrrModel, x: Float64Array, range?: TermRange): number {
	checkPoint('krrPredict', 'x', x, model.dimension);
	const [start, end] = termBounds('krrPredict', model, range);
	let s = 0;
	for (let i = start; i < end; i++) {
		s += model.alpha[i] * model.kernel.value(x, model.inputs[i]);
	}
	return s;
}

/**
 * ∇_x f(x) = Σ_i α_i ∇_x k(x, x_i) (for RBF the closed form −Σ α_i (x − x_i) k(x, x_i)/ℓ² of
 * docs/science.md §7.9), optionally over `range` only.
 * @returns shape (d)
 */
export function krrInputGradient(model: KrrModel, x: Float64Array, range?: TermRange): Float64Array {
	checkPoint('krrInputGradient', 'x', x, model.dimension);
	const [start, end] = termBounds('krrInputGradient', model, range);
	const g = new Float64Array(model.dimension);
	for (let i = start; i < end; i++) {
		model.kernel.addGradient(x, model.inputs[i], model.alpha[i], g);
	}
	return g;
}

/**
 * ∇²_x f(x) = Σ_i α_i ∇²_x k(x, x_i), optionally over `range` only.
 * @returns d×d symmetric matrix
 */
export function krrInputHessian(model: KrrModel, x: Float64Array, range?: TermRange): DenseMatrix {
	checkPoint('krrInputHessian', 'x', x, model.dimension);
	const [start, end] = termBounds('krrInputHessian', model, range);
	const h = zeroMatrix(model.dimension, model.dimension);
	for (let i = start; i < end; i++) {
		model.kernel.addHessian(x, model.inputs[i], model.alpha[i], h.data);
	}
	return h;
}

/** Everything about the squared loss L = ½(f(x) − y)² at one input, in input space. Read-only. */
export interface LossCurvature {
	/** f(x). */
	readonly prediction: number;
	/** f(x) − y. */
	readonly residual: number;
	/** ½(f(x) − y)². */
	readonly loss: number;
	/** ∇_x f. Shape (d). */
	readonly predictionGradient: Float64Array;
	/** ∇_x L = (f − y) ∇_x f. Shape (d). */
	readonly lossGradient: Float64Array;
	/** ∇²_x f. Shape (d, d). */
	readonly predictionHessian: DenseMatrix;
	/** ∇²_x L = ∇f ∇fᵀ + (f − y) ∇²f (docs/science.md §2.1). Shape (d, d). */
	readonly lossHessian: DenseMatrix;
	/**
	 * Λ_GN = ‖∇_x f‖², the only non-zero eigenvalue of the rank-one Gauss–Newton term ∇f ∇fᵀ;
	 * its eigenvector is ∇f/‖∇f‖.
	 */
	readonly gaussNewtonEigenvalue: number;
}

/**
 * Input gradient and Hessian of f and of the squared loss ½(f(x) − y)² at x, plus Λ_GN.
 * @param y the label the loss is taken against
 */
export function lossCurvature(model: KrrModel, x: Float64Array, y: number): LossCurvature {
	checkNumber('lossCurvature', 'y', y);
	const prediction = krrPredict(model, x);
	const predictionGradient = krrInputGradient(model, x);
	const predictionHessian = krrInputHessian(model, x);
	const d = model.dimension;
	const residual = prediction - y;
	const lossGradient = predictionGradient.map((g) => residual * g);
	const lossHessian = zeroMatrix(d, d);
	let gn = 0;
	for (let i = 0; i < d; i++) {
		gn += predictionGradient[i] * predictionGradient[i];
		for (let j = 0; j < d; j++) {
			lossHessian.data[i * d + j] = predictionGradient[i] * predictionGradient[j] + residual * predictionHessian.data[i * d + j];
		}
	}
	return Object.freeze({
		prediction,
		residual,
		loss: 0.5 * residual * residual,
		predictionGradient,
		lossGradient,
		predictionHessian,
		lossHessian,
		gaussNewtonEigenvalue: gn,
	});
}
