/**
 * Input-space curvature operators of the cross-entropy loss of a classifier.
 *
 * Notation: batch of b inputs x_i ∈ ℝᵈ, logits z_i ∈ ℝᶜ, p_i = softmax(z_i), per-sample loss
 * ℓ_i = −Σ_c y_ic log p_ic, per-sample input Hessian H_i = ∇²_{x_i} ℓ_i and Jacobian
 * J_i = ∂z_i/∂x_i (C×d). Gauss–Newton: G_i = J_iᵀ M_i J_i with M_i = diag p_i − p_i p_iᵀ.
 *
 * - {@link InputHessianOperator}: exact H_i by double backprop (any twice-differentiable net).
 * - {@link gaussNewtonFactors}: forms every J_i once with C vector-Jacobian products (first
 *   order only, all classes in one replicated pass) and stores F_i = B_iᵀ J_i with
 *   M_i = B_i B_iᵀ, B_i = diag(√p_i) − p_i √p_iᵀ; then G_i = F_iᵀ F_i and every GN product is two
 *   small float64 matmuls with no network pass.
 */
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../tfjs/gradients';
import { layerwiseJacobian, layerwiseUnsupportedReason } from './layerwise';
import type { LogitModel } from './model';
import type { BlockDiagonalOperator, LinearOperator } from './types';

/** Class labels: indices [b] (array or int tensor) or one-hot [b, C] tensor. */
export type Labels = ArrayLike<number> | tf.Tensor;

/** Cross-entropy written so that its second derivative survives in tfjs (see gradients.ts). */
export function crossEntropySum(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
	return tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.add(tf.softmax(logits), 1e-30)))));
}

function checkInputs(model: LogitModel, inputs: tf.Tensor, where: string): number {
	const want = model.inputShape;
	const got = inputs.shape.slice(1);
	if (inputs.rank !== want.length + 1 || got.some((d, i) => d !== want[i])) {
		throw new Error(`${where}: inputs have shape ${JSON.stringify(inputs.shape)}, model ${model.label} expects [batch, ${want.join(', ')}]`);
	}
	if (inputs.shape[0] < 1) {
		throw new Error(`${where}: empty batch`);
	}
	return inputs.shape[0];
}

/** Labels as a kept float32 one-hot [b, C] tensor (caller disposes). */
export function oneHotLabels(labels: Labels, b: number, numClasses: number, where: string): tf.Tensor2D {
	return tf.tidy(() => {
		if (labels instanceof tf.Tensor) {
			if (labels.rank === 2) {
				if (labels.shape[0] !== b || labels.shape[1] !== numClasses) {
					throw new Error(`${where}: one-hot labels have shape ${JSON.stringify(labels.shape)}, expected [${b}, ${numClasses}]`);
				}
				return tf.cast(labels, 'float32') as tf.Tensor2D;
			}
			if (labels.rank !== 1 || labels.shape[0] !== b) {
				throw new Error(`${where}: labels have shape ${JSON.stringify(labels.shape)}, expected [${b}] or [${b}, ${numClasses}]`);
			}
			return tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, numClasses), 'float32') as tf.Tensor2D;
		}
		if (labels.length !== b) {
			throw new Error(`${where}: ${labels.length} labels for a batch of ${b}`);
		}
		const idx = Array.from(labels);
		idx.forEach((c, i) => {
			if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
				throw new Error(`${where}: label ${i} is ${c}, expected an integer in [0, ${numClasses})`);
			}
		});
		return tf.cast(tf.oneHot(tf.tensor1d(idx, 'int32'), numClasses), 'float32') as tf.Tensor2D;
	});
}

/**
 * Checks labels against the batch without creating tensors. The Gauss–Newton paths never read
 * the labels (the GN of cross-entropy is label-independent), but bad labels are still a caller
 * bug worth reporting there too.
 */
export function validateLabels(labels: Labels, b: number, numClasses: number, where: string): void {
	tf.dispose(oneHotLabels(labels, b, numClasses, where));
}

async function readFloat64(t: tf.Tensor): Promise<Float64Array> {
	try {
		return Float64Array.from(await t.data());
	} finally {
		t.dispose();
	}
}

/**
 * Exact input-Hessian products by double backprop, per sample (block-diagonal, vectors
 * [b, ...inputShape]) or batch mean ((1/b) Σ H_i, vectors [...inputShape]).
 * Owns copies of the inputs and labels: call {@link InputHessianOperator.dispose}.
 */
export class InputHessianOperator implements BlockDiagonalOperator {
	readonly size: number;
	readonly shape: readonly number[];
	readonly label: string;
	readonly blocks: number;
	readonly blockSize: number;
	readonly blockShape: readonly number[];
	private readonly x: tf.Tensor;
	private readonly y: tf.Tensor2D;
	private disposed = false;

	constructor(
		private readonly model: LogitModel,
		inputs: tf.Tensor,
		labels: Labels,
		readonly mode: 'perSample' | 'mean',
	) {
		installGradientFixes();
		const b = checkInputs(model, inputs, 'InputHessianOperator');
		this.x = tf.keep(tf.clone(inputs));
		this.y = tf.keep(oneHotLabels(labels, b, model.numClasses, 'InputHessianOperator'));
		this.blocks = mode === 'perSample' ? b : 1;
		this.blockShape = Object.freeze([...model.inputShape]);
		this.blockSize = model.inputShape.reduce((a, c) => a * c, 1);
		this.shape = Object.freeze(mode === 'perSample' ? [b, ...model.inputShape] : [...model.inputShape]);
		this.size = this.blocks * this.blockSize;
		this.label = `input Hessian (${mode === 'perSample' ? 'per sample' : 'batch mean'}, ${b} samples, double backprop)`;
	}

	/** Batch size b. */
	get batch(): number {
		return this.x.shape[0];
	}

	async matvec(v: Float64Array): Promise<Float64Array> {
		if (this.disposed) {
			throw new Error(`${this.label}: used after dispose()`);
		}
		if (v.length !== this.size) {
			throw new Error(`${this.label}: vector has ${v.length} values, expected ${this.size}`);
		}
		const out = tf.tidy(() => {
			const b = this.batch;
			const vt = tf.tensor(Float32Array.from(v), [...this.shape]);
			const V = this.mode === 'perSample' ? vt : tf.tile(tf.expandDims(vt, 0), [b, ...this.model.inputShape.map(() => 1)]);
			const loss = (xx: tf.Tensor): tf.Scalar => crossEntropySum(this.model.logits(xx), this.y);
			const g = tf.grad(loss);
			const hv = tf.grad((xx: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(g(xx), V)))(this.x);
			return this.mode === 'perSample' ? hv : tf.div(tf.sum(hv, 0), b);
		});
		return readFloat64(out);
	}

	/** Releases the operator's input and label copies. Idempotent. */
	dispose(): void {
		if (!this.disposed) {
			tf.dispose([this.x, this.y]);
			this.disposed = true;
		}
	}
}

/**
 * The factored Gauss–Newton data of a batch: F_i = B_iᵀ J_i, stored row-major as
 * F[(i·C + c)·d + j] in float64, with G_i = F_iᵀ F_i = J_iᵀ(diag p_i − p_i p_iᵀ)J_i.
 */
export interface GaussNewtonFactors {
	readonly batch: number;
	readonly numClasses: number;
	/** Input dimension d. */
	readonly dim: number;
	readonly inputShape: readonly number[];
	/** Shape (batch, C, d). */
	readonly F: Float64Array;
	/** Softmax probabilities, shape (batch, C). */
	readonly p: Float64Array;
	/** Network passes used to form the factors (forward+backward over replicated rows). */
	readonly passes: number;
	/** 'layerwise': masks once per sample (piecewise-linear chains); 'autodiff': replicated tf.grad. */
	readonly jacobianMethod: 'layerwise' | 'autodiff';
}

/** Options for {@link gaussNewtonFactors}. */
export interface FactorOptions {
	/** Cap on rows (replicated samples) per backward pass, to bound memory. Default 1024. */
	readonly maxRowsPerPass?: number;
	/** 'auto' (default): layerwise when the model's layer chain supports it, else autodiff. */
	readonly jacobian?: 'auto' | 'autodiff' | 'layerwise';
}

/**
 * Forms all per-sample Jacobians J_i with C vector-Jacobian products: the batch is replicated
 * C times, copy c seeded with e_c, so one backward pass over C·b rows yields every row of every
 * J_i (chunked by `maxRowsPerPass`). First order only: no second-order gradient is involved.
 */
export async function gaussNewtonFactors(model: LogitModel, inputs: tf.Tensor, options: FactorOptions = {}): Promise<GaussNewtonFactors> {
	const b = checkInputs(model, inputs, 'gaussNewtonFactors');
	const C = model.numClasses;
	const d = model.inputShape.reduce((a, c) => a * c, 1);
	const maxRows = Math.max(b, options.maxRowsPerPass ?? 1024);
	const classesPerPass = Math.max(1, Math.floor(maxRows / b));
	const J = new Float64Array(b * C * d);
	let passes = 0;
	const wanted = options.jacobian ?? 'auto';
	const reason = model.chain === undefined ? 'not a layers model' : layerwiseUnsupportedReason(model.chain);
	if (wanted === 'layerwise' && reason !== null) {
		throw new Error(`gaussNewtonFactors: layerwise Jacobian unavailable for ${model.label}: ${reason}`);
	}
	const jacobianMethod = wanted === 'autodiff' || reason !== null ? 'autodiff' : 'layerwise';
	if (jacobianMethod === 'layerwise' && model.chain !== undefined) {
		const chain = model.chain;
		const samplesPerPass = Math.max(1, Math.floor(maxRows / C));
		for (let i0 = 0; i0 < b; i0 += samplesPerPass) {
			const bs = Math.min(samplesPerPass, b - i0);
			const part = tf.tidy(() => layerwiseJacobian(chain, bs === b ? inputs : tf.slice(inputs, i0, bs), C));
			const data = await part.data();
			part.dispose();
			passes++;
			J.set(data, i0 * C * d);
		}
	} else {
		const ones = model.inputShape.map(() => 1);
		for (let c0 = 0; c0 < C; c0 += classesPerPass) {
			const cs = Math.min(classesPerPass, C - c0);
			const rows = tf.tidy(() => {
				const xr = tf.tile(inputs, [cs, ...ones]);
				const sel = tf.tidy(() => {
					const idx = tf.tensor1d(
						Array.from({ length: cs * b }, (_, r) => c0 + Math.floor(r / b)),
						'int32',
					);
					return tf.cast(tf.oneHot(idx, C), 'float32');
				});
				return tf.grad((xx: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(model.logits(xx), sel)))(xr);
			});
			const data = await rows.data();
			rows.dispose();
			passes++;
			// rows are ordered (class c0 + k, sample i): scatter into J[i][c][:].
			for (let k = 0; k < cs; k++) {
				for (let i = 0; i < b; i++) {
					const src = (k * b + i) * d;
					J.set(data.subarray(src, src + d), (i * C + c0 + k) * d);
				}
			}
		}
	}
	const probs = tf.tidy(() => tf.softmax(model.logits(inputs)));
	const p = await readFloat64(probs);
	// F_i[c] = √p_ic (J_i[c] − Σ_k p_ik J_i[k]), i.e. B_iᵀ J_i with B_i = diag(√p_i) − p_i √p_iᵀ.
	const F = new Float64Array(b * C * d);
	const mean = new Float64Array(d);
	for (let i = 0; i < b; i++) {
		mean.fill(0);
		for (let c = 0; c < C; c++) {
			const pc = p[i * C + c];
			const off = (i * C + c) * d;
			for (let j = 0; j < d; j++) {
				mean[j] += pc * J[off + j];
			}
		}
		for (let c = 0; c < C; c++) {
			const s = Math.sqrt(p[i * C + c]);
			const off = (i * C + c) * d;
			for (let j = 0; j < d; j++) {
				F[off + j] = s * (J[off + j] - mean[j]);
			}
		}
	}
	return Object.freeze({ batch: b, numClasses: C, dim: d, inputShape: Object.freeze([...model.inputShape]), F, p, passes, jacobianMethod });
}

/** G_i v_i for every sample: u = F_i v_i (C values), then F_iᵀ u. Pure float64 JS. */
export function perSampleGaussNewtonOperator(f: GaussNewtonFactors): BlockDiagonalOperator {
	const { batch: b, numClasses: C, dim: d, F } = f;
	const u = new Float64Array(C);
	return Object.freeze({
		size: b * d,
		shape: Object.freeze([b, ...f.inputShape]),
		label: `input Gauss–Newton (per sample, ${b} samples, factored)`,
		blocks: b,
		blockSize: d,
		blockShape: f.inputShape,
		matvec: (v: Float64Array): Promise<Float64Array> => {
			if (v.length !== b * d) {
				throw new Error(`per-sample Gauss–Newton: vector has ${v.length} values, expected ${b * d}`);
			}
			const out = new Float64Array(b * d);
			for (let i = 0; i < b; i++) {
				const vo = i * d;
				for (let c = 0; c < C; c++) {
					const fo = (i * C + c) * d;
					let s = 0;
					for (let j = 0; j < d; j++) {
						s += F[fo + j] * v[vo + j];
					}
					u[c] = s;
				}
				for (let c = 0; c < C; c++) {
					const fo = (i * C + c) * d;
					const uc = u[c];
					for (let j = 0; j < d; j++) {
						out[vo + j] += uc * F[fo + j];
					}
				}
			}
			return Promise.resolve(out);
		},
	});
}

/** (1/b) Σ_i G_i v: u = F v (b·C values), then Fᵀu / b. Pure float64 JS; no network pass. */
export function meanGaussNewtonOperator(f: GaussNewtonFactors): LinearOperator {
	const { batch: b, numClasses: C, dim: d, F } = f;
	const rows = b * C;
	return Object.freeze({
		size: d,
		shape: f.inputShape,
		label: `input Gauss–Newton (batch mean, ${b} samples, factored)`,
		matvec: (v: Float64Array): Promise<Float64Array> => {
			if (v.length !== d) {
				throw new Error(`mean Gauss–Newton: vector has ${v.length} values, expected ${d}`);
			}
			const out = new Float64Array(d);
			// Four rows per sweep: v and out are read/written once per four rows of F.
			let r = 0;
			for (; r + 4 <= rows; r += 4) {
				const o0 = r * d;
				const o1 = o0 + d;
				const o2 = o1 + d;
				const o3 = o2 + d;
				let s0 = 0;
				let s1 = 0;
				let s2 = 0;
				let s3 = 0;
				for (let j = 0; j < d; j++) {
					const vj = v[j];
					s0 += F[o0 + j] * vj;
					s1 += F[o1 + j] * vj;
					s2 += F[o2 + j] * vj;
					s3 += F[o3 + j] * vj;
				}
				s0 /= b;
				s1 /= b;
				s2 /= b;
				s3 /= b;
				for (let j = 0; j < d; j++) {
					out[j] += s0 * F[o0 + j] + s1 * F[o1 + j] + s2 * F[o2 + j] + s3 * F[o3 + j];
				}
			}
			for (; r < rows; r++) {
				const fo = r * d;
				let s = 0;
				for (let j = 0; j < d; j++) {
					s += F[fo + j] * v[j];
				}
				s /= b;
				for (let j = 0; j < d; j++) {
					out[j] += s * F[fo + j];
				}
			}
			return Promise.resolve(out);
		},
	});
}

/** Wraps a callback as an operator (tests, explicit matrices). */
export function lambdaOperator(size: number, matvec: (v: Float64Array) => Float64Array | Promise<Float64Array>, label = 'lambda operator'): LinearOperator {
	return Object.freeze({ size, shape: Object.freeze([size]), label, matvec: async (v: Float64Array) => matvec(v) });
}

/** An explicit dense symmetric matrix (row-major, n×n) as an operator. */
export function denseOperator(a: ArrayLike<number>, n: number, label = `dense ${n}x${n}`): LinearOperator {
	if (a.length !== n * n) {
		throw new Error(`denseOperator: ${a.length} entries for ${n}x${n}`);
	}
	return lambdaOperator(
		n,
		(v) => {
			const out = new Float64Array(n);
			for (let i = 0; i < n; i++) {
				let s = 0;
				for (let j = 0; j < n; j++) {
					s += a[i * n + j] * v[j];
				}
				out[i] = s;
			}
			return out;
		},
		label,
	);
}
