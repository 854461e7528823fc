/**
 * The paper's defence for custom training loops: input-gradient regularisation (docs/science.md §2.8),
 * J = mean_i ℓ_i + (κ/2) · mean_i ‖∇ₓ ℓ_i‖².
 *
 * The penalty's gradient with respect to the weights needs second derivatives through the model, which stock tfjs
 * 4.22 gets silently wrong for softmax, tanh, sigmoid, exp and max-pool (docs/numerics.md §1): the gradient fixes are
 * installed on first use. Write per-sample losses as `-sum(y·log(p))` (see {@link crossEntropyPerSample}), never
 * with `tf.losses.*` or `tf.logSoftmax`, whose custom gradients cannot be differentiated again.
 */
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../tfjs/gradients';

/** The penalised objective and its parts (all scalars). */
export interface PenalisedLoss {
	readonly total: tf.Scalar;
	readonly loss: tf.Scalar;
	readonly penalty: tf.Scalar;
}

/**
 * Builds the penalised objective for one batch.
 * @param kappa κ ≥ 0; κ = 0 gives the plain mean loss (and skips the double backprop)
 * @returns `(perSampleLoss, x) => { total, loss, penalty }`, where `perSampleLoss(x)` returns a `[batch]` tensor of
 * per-sample losses. Call it inside `optimizer.minimize(() => penalised(...).total)`.
 * @example
 * const penalised = inputGradientPenalty(100);
 * optimizer.minimize(() => penalised((x) => crossEntropyPerSample(model.apply(x) as tf.Tensor, ys), xs).total);
 */
export function inputGradientPenalty(kappa: number): (perSampleLoss: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor) => PenalisedLoss {
	if (!(kappa >= 0) || !Number.isFinite(kappa)) {
		throw new Error(`inputGradientPenalty: kappa must be a finite number ≥ 0, got ${kappa}`);
	}
	installGradientFixes();
	return (perSampleLoss, x) => {
		const batch = x.shape[0] ?? 1;
		if (kappa === 0) {
			const loss = tf.mean<tf.Scalar>(perSampleLoss(x));
			return { total: loss, loss, penalty: tf.scalar(0) };
		}
		// Each sample's loss depends only on its own input, so the gradient of the summed loss holds every
		// per-sample input gradient at once.
		const gradOfSum = tf.grad((xx: tf.Tensor) => tf.sum(perSampleLoss(xx)));
		const g = gradOfSum(x);
		const sq = tf.sum(tf.square(g));
		const penalty = tf.mul<tf.Scalar>(tf.scalar(kappa / 2 / batch), sq);
		const loss = tf.mean<tf.Scalar>(perSampleLoss(x));
		return { total: tf.add<tf.Scalar>(loss, penalty), loss, penalty };
	};
}

/**
 * Per-sample cross-entropy from probabilities (a softmax output layer) and one-hot labels, in a form whose second
 * derivatives tfjs computes correctly once the gradient fixes are installed.
 * @param probs `[batch, classes]` probabilities
 * @param oneHot `[batch, classes]` one-hot labels
 */
export function crossEntropyPerSample(probs: tf.Tensor, oneHot: tf.Tensor): tf.Tensor1D {
	return tf.neg<tf.Tensor1D>(tf.sum<tf.Tensor1D>(tf.mul(oneHot, tf.log(tf.add(probs, 1e-7))), 1));
}

/**
 * Per-sample cross-entropy from logits, as `-sum(y·log(softmax(z)))` (not `tf.logSoftmax`, see the module note).
 */
export function crossEntropyFromLogits(logits: tf.Tensor, oneHot: tf.Tensor): tf.Tensor1D {
	return crossEntropyPerSample(tf.softmax(logits), oneHot);
}
