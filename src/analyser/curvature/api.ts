/**
 * High-level entry points the analyser calls: top eigenpairs of the batch-mean input curvature,
 * per-sample top eigenvalues, and the curvature along a direction. Each picks the method, builds
 * the operator, runs the algorithm and releases every tensor it created.
 */
import * as tf from '@tensorflow/tfjs';
import { checkpoint } from './cancel';
import { hutchinsonTrace, type TraceOptions } from './hutchinson';
import { lanczos } from './lanczos';
import { logitModelFromLayers, type LogitModel } from './model';
import {
	InputHessianOperator,
	gaussNewtonFactors,
	meanGaussNewtonOperator,
	type GaussNewtonFactors,
	validateLabels,
	type Labels,
} from './operators';
import { meanGaussNewtonEigenGram, perSampleGaussNewtonEigen } from './gaussNewtonEigen';
import { blockPowerIteration } from './power';
import type { BlockEigenResult, CancelSignal, DirectionalCurvatureResult, EigenResult, TraceResult } from './types';

/**
 * - 'hvp': exact input Hessian by double backprop (any net; the PyHessian-style method).
 * - 'gn': factored Gauss–Newton (C first-order VJPs once, then float64 matmuls). Equals the
 *   Hessian almost everywhere for piecewise-linear nets; for smooth nets it is the GN term Λ_GN.
 * - 'gn-gram': the same GN, batch-mean eigenpairs from the exact Gram eigendecomposition.
 * - 'auto': 'gn' when the model is piecewise linear, else 'hvp'.
 */
export type CurvatureMethod = 'auto' | 'hvp' | 'gn' | 'gn-gram';

/** A model accepted by the entry points. */
export type CurvatureModel = LogitModel | tf.LayersModel;

/** Options shared by the entry points. */
export interface CurvatureOptions {
	readonly method?: CurvatureMethod;
	readonly seed?: number;
	readonly signal?: CancelSignal;
	/**
	 * Gauss–Newton factors of these same inputs from {@link gaussNewtonFactors}, to share one
	 * formation between per-sample and batch-mean analyses of a checkpoint (gn methods only).
	 */
	readonly factors?: GaussNewtonFactors;
}

async function factorsFor(m: LogitModel, inputs: tf.Tensor, options: CurvatureOptions): Promise<GaussNewtonFactors> {
	const f = options.factors;
	if (f === undefined) {
		return gaussNewtonFactors(m, inputs);
	}
	const d = m.inputShape.reduce((a, c) => a * c, 1);
	if (f.batch !== inputs.shape[0] || f.dim !== d || f.numClasses !== m.numClasses) {
		throw new Error(
			`factors are for ${f.batch} samples × ${f.dim} inputs × ${f.numClasses} classes, but the call has ${inputs.shape[0]} × ${d} × ${m.numClasses}`,
		);
	}
	return f;
}

/** Options of {@link topEigenpairs}. */
export interface TopEigenOptions extends CurvatureOptions {
	/** Number of eigenpairs. Default 5. */
	readonly k?: number;
	/** Lanczos steps. Default min(d, max(3k + 20, 40)). */
	readonly maxIter?: number;
	/** Relative residual tolerance. Default 1e-6 (gn), 1e-4 (hvp: float32 HVPs). */
	readonly tol?: number;
	/** Compute ‖Av − λv‖ with k extra products. Default false. */
	readonly explicitResiduals?: boolean;
}

/** Options of {@link perSampleTopEigen}. */
export interface PerSampleOptions extends CurvatureOptions {
	/** Power iterations (hvp method). Default 50. */
	readonly maxIter?: number;
	/** Relative residual tolerance (hvp method). Default 1e-3. */
	readonly tol?: number;
}

/** Which method ran and whether its matrix is the exact loss Hessian. */
export interface MethodInfo {
	readonly method: 'hvp' | 'gn' | 'gn-gram';
	/** True for 'hvp', and for GN methods on piecewise-linear nets (equal almost everywhere). */
	readonly equalsHessian: boolean;
	readonly elapsedMs: number;
}

function resolveModel(model: CurvatureModel): { m: LogitModel; owned: boolean } {
	if (model instanceof tf.LayersModel) {
		return { m: logitModelFromLayers(model), owned: true };
	}
	return { m: model, owned: false };
}

/**
 * The one rule for how the input curvature of a model is computed: piecewise-linear nets (ReLU, max-pool) use the
 * factored Gauss–Newton, which equals the input Hessian of the cross-entropy almost everywhere; other nets use exact
 * double-backprop HVPs. The analyser ({@link ../analysis/spectrum}) and the functions below both follow it.
 */
export function autoCurvatureMethod(m: LogitModel): 'gn' | 'hvp' {
	return m.piecewiseLinear ? 'gn' : 'hvp';
}

/** Default relative residual tolerance of Lanczos per method: float32 HVPs cannot reach the GN path's 1e-6. */
export const LANCZOS_TOL = { gn: 1e-6, hvp: 1e-4 } as const;

function resolveMethod(method: CurvatureMethod | undefined, m: LogitModel): 'hvp' | 'gn' | 'gn-gram' {
	const chosen = method ?? 'auto';
	if (chosen === 'auto') {
		return autoCurvatureMethod(m);
	}
	if (!['hvp', 'gn', 'gn-gram'].includes(chosen)) {
		throw new Error(`unknown curvature method '${String(chosen)}'; expected auto, hvp, gn or gn-gram`);
	}
	return chosen;
}

async function withModel<T>(model: CurvatureModel, body: (m: LogitModel) => Promise<T>): Promise<T> {
	const { m, owned } = resolveModel(model);
	try {
		return await body(m);
	} finally {
		if (owned) {
			m.dispose();
		}
	}
}

/**
 * Top-k eigenpairs of the batch-mean input curvature (1/b) Σ_i ∇²_{x_i} ℓ_i (or its GN term).
 * Eigenvectors live in input space (length d = product of the input shape).
 */
export async function topEigenpairs(
	model: CurvatureModel,
	inputs: tf.Tensor,
	labels: Labels,
	options: TopEigenOptions = {},
): Promise<EigenResult & MethodInfo> {
	return withModel(model, async (m) => {
		const start = performance.now();
		const method = resolveMethod(options.method, m);
		const k = options.k ?? 5;
		let result: EigenResult;
		if (method === 'hvp') {
			const op = new InputHessianOperator(m, inputs, labels, 'mean');
			try {
				result = await lanczos(op, {
					k,
					maxIter: options.maxIter,
					tol: options.tol ?? LANCZOS_TOL.hvp,
					seed: options.seed,
					signal: options.signal,
					explicitResiduals: options.explicitResiduals,
				});
			} finally {
				op.dispose();
			}
		} else {
			const factors = await factorsFor(m, inputs, options);
			validateLabels(labels, factors.batch, m.numClasses, 'topEigenpairs');
			if (method === 'gn-gram') {
				result = meanGaussNewtonEigenGram(factors, k, options.tol ?? LANCZOS_TOL.gn);
			} else {
				result = await lanczos(meanGaussNewtonOperator(factors), {
					k,
					maxIter: options.maxIter,
					tol: options.tol ?? LANCZOS_TOL.gn,
					seed: options.seed,
					signal: options.signal,
					explicitResiduals: options.explicitResiduals,
				});
			}
		}
		return Object.freeze({
			...result,
			method,
			equalsHessian: method === 'hvp' || m.piecewiseLinear,
			elapsedMs: performance.now() - start,
		});
	});
}

/**
 * Top eigenvalue and eigenvector of every per-sample input curvature ∇²_{x_i} ℓ_i (or G_i).
 * 'gn' is exact (C×C Gram per sample); 'hvp' runs batched power iteration (largest magnitude).
 */
export async function perSampleTopEigen(
	model: CurvatureModel,
	inputs: tf.Tensor,
	labels: Labels,
	options: PerSampleOptions = {},
): Promise<BlockEigenResult & MethodInfo> {
	return withModel(model, async (m) => {
		const start = performance.now();
		const method = resolveMethod(options.method, m);
		let result: BlockEigenResult;
		if (method === 'hvp') {
			const op = new InputHessianOperator(m, inputs, labels, 'perSample');
			try {
				result = await blockPowerIteration(op, {
					maxIter: options.maxIter ?? 50,
					tol: options.tol ?? 1e-3,
					seed: options.seed,
					signal: options.signal,
				});
			} finally {
				op.dispose();
			}
		} else {
			const factors = await factorsFor(m, inputs, options);
			validateLabels(labels, factors.batch, m.numClasses, 'perSampleTopEigen');
			result = perSampleGaussNewtonEigen(factors);
		}
		return Object.freeze({
			...result,
			method: method === 'gn-gram' ? 'gn' : method,
			equalsHessian: method === 'hvp' || m.piecewiseLinear,
			elapsedMs: performance.now() - start,
		});
	});
}

/**
 * Curvature of the loss along one input direction t: tᵀ H_i t / ‖t‖² for every sample (one HVP
 * for the whole batch, exact for any net), and the batch mean. docs/science.md §7.4: the earliest and
 * cheapest backdoor signal when t is the trigger.
 */
export async function curvatureAlong(
	model: CurvatureModel,
	inputs: tf.Tensor,
	labels: Labels,
	direction: ArrayLike<number> | tf.Tensor,
	options: CurvatureOptions = {},
): Promise<DirectionalCurvatureResult> {
	return withModel(model, async (m) => {
		const d = m.inputShape.reduce((a, c) => a * c, 1);
		const t = direction instanceof tf.Tensor ? Float64Array.from(await direction.data()) : Float64Array.from(direction);
		if (t.length !== d) {
			throw new Error(`curvatureAlong: direction has ${t.length} values, model input has ${d}`);
		}
		let tt = 0;
		for (let j = 0; j < d; j++) {
			tt += t[j] * t[j];
		}
		if (!(tt > 0)) {
			throw new Error('curvatureAlong: direction is zero');
		}
		const b = inputs.shape[0];
		const V = new Float64Array(b * d);
		for (let i = 0; i < b; i++) {
			V.set(t, i * d);
		}
		const op = new InputHessianOperator(m, inputs, labels, 'perSample');
		let hv: Float64Array;
		try {
			await checkpoint(options.signal, `curvatureAlong on ${op.label}`, 0);
			hv = await op.matvec(V);
		} finally {
			op.dispose();
		}
		const perSample: number[] = [];
		for (let i = 0; i < b; i++) {
			let s = 0;
			for (let j = 0; j < d; j++) {
				s += t[j] * hv[i * d + j];
			}
			perSample.push(s / tt);
		}
		return Object.freeze({
			perSample: Object.freeze(perSample),
			mean: perSample.reduce((a, c) => a + c, 0) / b,
			operator: op.label,
		});
	});
}

/** Hutchinson estimate of tr((1/b) Σ H_i) (hvp) or of the mean GN (gn; exact trace is also Σ‖F‖²/b). */
export async function meanCurvatureTrace(
	model: CurvatureModel,
	inputs: tf.Tensor,
	labels: Labels,
	options: CurvatureOptions & TraceOptions = {},
): Promise<TraceResult & MethodInfo> {
	return withModel(model, async (m) => {
		const start = performance.now();
		const method = resolveMethod(options.method, m);
		let result: TraceResult;
		if (method === 'hvp') {
			const op = new InputHessianOperator(m, inputs, labels, 'mean');
			try {
				result = await hutchinsonTrace(op, options);
			} finally {
				op.dispose();
			}
		} else {
			const factors = await factorsFor(m, inputs, options);
			validateLabels(labels, factors.batch, m.numClasses, 'meanCurvatureTrace');
			result = await hutchinsonTrace(meanGaussNewtonOperator(factors), options);
		}
		return Object.freeze({ ...result, method, equalsHessian: method === 'hvp' || m.piecewiseLinear, elapsedMs: performance.now() - start });
	});
}

/** Exact trace of the batch-mean Gauss–Newton: Σ ‖F‖² / b (no sampling). */
export function gaussNewtonMeanTrace(f: GaussNewtonFactors): number {
	let s = 0;
	for (let i = 0; i < f.F.length; i++) {
		s += f.F[i] * f.F[i];
	}
	return s / f.batch;
}
