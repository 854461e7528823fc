/**
 * Thin adapter over the curvature core (src/analyser/curvature): one batch of inputs, its
 * curvature formed once, then the batch-mean top-k, the per-sample top eigenpairs and the
 * curvature along per-sample directions all reuse it.
 *
 * Why an adapter: the core's high-level entry points (`topEigenpairs`, `perSampleTopEigen`,
 * `curvatureAlong`) each rebuild the Gauss–Newton factors (one network pass over b·C rows) and
 * `curvatureAlong` takes one direction for the whole batch, whereas the trigger direction differs
 * per probe (clipping). Here the factors are built once and shared.
 *
 * Method: piecewise-linear nets (ReLU, max-pool) use the factored Gauss–Newton, which equals the
 * input Hessian of the cross-entropy almost everywhere (docs/science.md §7.6); other nets use exact
 * double-backprop HVPs.
 */
import * as tf from '@tensorflow/tfjs';
import {
	InputHessianOperator,
	blockPowerIteration,
	gaussNewtonFactors,
	lanczos,
	meanGaussNewtonOperator,
	perSampleGaussNewtonEigen,
	type BlockEigenResult,
	type CancelSignal,
	type EigenResult,
	type GaussNewtonFactors,
	type LogitModel,
} from '../curvature/index';
import { checkpoint as cancelPoint } from '../curvature/cancel';

/** The curvature of one batch, ready for several questions. */
export interface BatchCurvature {
	readonly method: 'gn' | 'hvp';
	readonly batch: number;
	readonly dim: number;
	/** Top-k eigenpairs of the batch-mean input Hessian (Lanczos, at most `maxIter` steps). */
	topK(k: number, maxIter: number | undefined, signal?: CancelSignal): Promise<EigenResult>;
	/** Top eigenpair of every per-sample Hessian. */
	perSample(signal?: CancelSignal): Promise<BlockEigenResult>;
	/** tᵢᵀHᵢtᵢ/‖tᵢ‖² per sample for per-sample directions (`batch·dim` values, back to back); 0 for a zero tᵢ. */
	along(directions: Float32Array, signal?: CancelSignal): Promise<number[]>;
	/** Releases tensors. Idempotent. */
	dispose(): void;
}

/** Rows per backward pass when forming Gauss–Newton factors (bounds memory: rows·d floats). */
const MAX_ROWS_PER_PASS = 1024;

/**
 * Forms the curvature of a batch.
 * @param inputs `batch·dim` values (NHWC items back to back)
 * @param labels the class each input's loss is taken against (only the hvp path depends on it)
 */
export async function batchCurvature(model: LogitModel, inputs: Float32Array, labels: Int32Array, signal?: CancelSignal): Promise<BatchCurvature> {
	const dim = model.inputShape.reduce((a, c) => a * c, 1);
	const batch = inputs.length / dim;
	if (!Number.isInteger(batch) || batch < 1 || labels.length !== batch) {
		throw new Error(`batchCurvature: ${inputs.length} input values and ${labels.length} labels do not make a batch of [${model.inputShape.join(', ')}] items`);
	}
	await cancelPoint(signal, 'forming the input curvature', 0);
	const x = tf.tensor(inputs, [batch, ...model.inputShape]);
	if (model.piecewiseLinear) {
		let f: GaussNewtonFactors;
		try {
			f = await gaussNewtonFactors(model, x, { maxRowsPerPass: MAX_ROWS_PER_PASS });
		} finally {
			x.dispose();
		}
		const C = f.numClasses;
		return {
			method: 'gn',
			batch,
			dim,
			topK: (k, maxIter, sig) => lanczos(meanGaussNewtonOperator(f), { k, maxIter: maxIter === undefined ? undefined : Math.min(maxIter, dim), tol: 1e-6, seed: 1, signal: sig }),
			perSample: (sig) => cancelPoint(sig, 'per-sample curvature', 0).then(() => perSampleGaussNewtonEigen(f)),
			along: async (dirs, sig) => {
				await cancelPoint(sig, 'curvature along the trigger', 0);
				// tᵀ G_i t = ‖F_i t‖² with G_i = F_iᵀF_i.
				const out: number[] = [];
				for (let i = 0; i < batch; i++) {
					let tt = 0;
					for (let j = 0; j < dim; j++) {
						tt += dirs[i * dim + j] * dirs[i * dim + j];
					}
					let q = 0;
					for (let c = 0; c < C; c++) {
						const o = (i * C + c) * dim;
						let s = 0;
						for (let j = 0; j < dim; j++) {
							s += f.F[o + j] * dirs[i * dim + j];
						}
						q += s * s;
					}
					out.push(tt > 0 ? q / tt : 0);
				}
				return out;
			},
			dispose: () => undefined,
		};
	}
	const mean = new InputHessianOperator(model, x, labels, 'mean');
	const per = new InputHessianOperator(model, x, labels, 'perSample');
	x.dispose();
	return {
		method: 'hvp',
		batch,
		dim,
		topK: (k, maxIter, sig) => lanczos(mean, { k, maxIter: maxIter === undefined ? undefined : Math.min(maxIter, dim), tol: 1e-4, seed: 1, signal: sig }),
		perSample: (sig) => blockPowerIteration(per, { maxIter: 20, tol: 1e-3, seed: 1, signal: sig }),
		along: async (dirs, sig) => {
			await cancelPoint(sig, 'curvature along the trigger', 0);
			const hv = await per.matvec(Float64Array.from(dirs));
			const out: number[] = [];
			for (let i = 0; i < batch; i++) {
				let tt = 0;
				let q = 0;
				for (let j = 0; j < dim; j++) {
					tt += dirs[i * dim + j] * dirs[i * dim + j];
					q += dirs[i * dim + j] * hv[i * dim + j];
				}
				out.push(tt > 0 ? q / tt : 0);
			}
			return out;
		},
		dispose: () => {
			mean.dispose();
			per.dispose();
		},
	};
}
