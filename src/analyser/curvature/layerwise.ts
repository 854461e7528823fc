/**
 * Per-sample input Jacobians J_i = ∂z_i/∂x_i of a piecewise-linear layer chain, formed layer by
 * layer: one forward pass over the b samples records the ReLU and max-pool masks, then the C
 * cotangents e_1..e_C of every sample are pushed backwards together as b·C rows.
 *
 * This is the same linear algebra tfjs autodiff performs on a C-times replicated batch, with two
 * savings: the forward pass and every mask are computed once per sample instead of once per
 * (sample, class), and the conv input gradient runs on the fast Conv2D kernel. Supported layers:
 * Dense, Conv2D (stride 1, any dilation, 'valid'/'same'), MaxPooling2D (non-overlapping),
 * Flatten, Reshape, ReLU / Activation('relu' | 'linear'), Dropout (inference), with activations
 * 'linear' or 'relu' (and 'softmax' on the final Dense, which produces the logits). Anything else
 * returns a reason from {@link layerwiseUnsupportedReason} and the caller uses autodiff instead.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dInputGradient, dilateFilter, poolArgmaxMask, unpool } from '../../tfjs/gradients';
import { activationName, classifyLayer } from './layers';

function cfg(layer: tf.layers.Layer): Record<string, unknown> {
	return layer.getConfig();
}

/**
 * Null when {@link layerwiseJacobian} supports the chain, else why not (layer named). The decision is
 * the layer table's (`layers.ts`, route `structured`); a Dense softmax head at the end is evaluated
 * linearly (its softmax belongs to the loss).
 */
export function layerwiseUnsupportedReason(chain: readonly tf.layers.Layer[]): string | null {
	for (let i = 0; i < chain.length; i++) {
		const layer = chain[i];
		const head = i === chain.length - 1 && layer.getClassName() === 'Dense' && activationName(layer) === 'softmax';
		const e = classifyLayer(layer, head);
		if (e.route !== 'structured' || (e.head && layer.getClassName() !== 'Dense')) {
			return e.reason ?? `layer '${layer.name}' (${e.className})`;
		}
	}
	return null;
}

/** One primitive of the backward pass: a per-sample mask (applied to every class row) or a linear map. */
type BackStep = { readonly mask: tf.Tensor } | { readonly op: (g: tf.Tensor) => tf.Tensor };

/** Multiplies rows [b·C, ...s] by a per-sample mask [b, ...s] (broadcast over the C classes). */
function maskRows(g: tf.Tensor, mask: tf.Tensor, b: number, C: number): tf.Tensor {
	const s = mask.shape.slice(1);
	const g5 = tf.reshape(g, [b, C, ...s]);
	return tf.reshape(tf.mul(g5, tf.expandDims(mask, 1)), [b * C, ...s]);
}

/**
 * The forward pass through the chain, recording for each layer the backward step its Jacobian-transpose
 * product needs (a weight product, an unpool or a reshape) and its ReLU / max-pool masks. Call inside tf.tidy.
 * @returns the chain's output [b, C] and the steps in forward order
 */
function forwardRecording(chain: readonly tf.layers.Layer[], x: tf.Tensor, C: number): { readonly out: tf.Tensor; readonly steps: BackStep[] } {
	const b = x.shape[0];
	const steps: BackStep[] = [];
	let h: tf.Tensor = x;
	chain.forEach((layer) => {
		const cls = layer.getClassName();
		const c = cfg(layer);
		const act = typeof c.activation === 'string' ? c.activation : 'linear';
		const relu = act === 'relu';
		const inShape = h.shape.slice(1);
		if (cls === 'Dense') {
			const [W, bias] = layer.getWeights();
			if (h.rank !== 2) {
				throw new Error(`layerwiseJacobian: Dense '${layer.name}' on rank-${h.rank} input`);
			}
			let pre: tf.Tensor = tf.matMul(h, W);
			if (bias !== undefined && c.useBias !== false) {
				pre = tf.add(pre, bias);
			}
			const mask = relu ? tf.step(pre) : null;
			h = relu ? tf.relu(pre) : pre;
			// Pre-transposed once: wasm's matMul with transposeB is ~10× slower.
			const Wt = tf.transpose(W) as tf.Tensor2D;
			steps.push({ op: (g) => tf.matMul(g, Wt) });
			if (mask !== null) {
				steps.push({ mask });
			}
		} else if (cls === 'Conv2D') {
			const [W, bias] = layer.getWeights();
			const pad = c.padding as 'valid' | 'same';
			const rate = c.dilationRate;
			const dilations: [number, number] = typeof rate === 'number' ? [rate, rate] : Array.isArray(rate) ? [Number(rate[0]), Number(rate[1] ?? rate[0])] : [1, 1];
			let pre: tf.Tensor = tf.conv2d(h as tf.Tensor4D, W as tf.Tensor4D, 1, pad, 'NHWC', dilations);
			if (bias !== undefined && c.useBias !== false) {
				pre = tf.add(pre, bias);
			}
			const mask = relu ? tf.step(pre) : null;
			h = relu ? tf.relu(pre) : pre;
			// A dilated convolution is the plain one with the dilated filter (zeros between the taps).
			const Wd = dilateFilter(W as tf.Tensor4D, dilations);
			steps.push({ op: (g) => conv2dInputGradient(g as tf.Tensor4D, Wd, pad) });
			if (mask !== null) {
				steps.push({ mask });
			}
		} else if (cls === 'MaxPooling2D') {
			const [fh, fw] = c.poolSize as [number, number];
			const input = h as tf.Tensor4D;
			const mask = poolArgmaxMask(input, fh, fw);
			const [, ih, iw] = input.shape;
			h = tf.maxPool(input, [fh, fw], [fh, fw], 'valid');
			steps.push({ mask }, { op: (g) => unpool(g as tf.Tensor4D, fh, fw, ih, iw) });
		} else if (cls === 'Flatten' || cls === 'Reshape') {
			h = tf.reshape(h, [b, ...(layer.computeOutputShape([null, ...inShape]) as number[]).slice(1)]);
			steps.push({ op: (g) => tf.reshape(g, [b * C, ...inShape]) });
		} else if (cls === 'ReLU' || (cls === 'Activation' && act === 'relu')) {
			const mask = tf.step(h);
			h = tf.relu(h);
			steps.push({ mask });
		}
		// Activation('linear'), Dropout (inference) and InputLayer: identity.
	});
	return { out: h, steps };
}

/**
 * The backward pass: the recorded steps applied, last to first, to the one-hot cotangents of every logit of
 * every sample. Call inside tf.tidy.
 * @returns the rows [b·C, ...inputShape] of the Jacobian
 */
function backward(steps: readonly BackStep[], b: number, C: number): tf.Tensor {
	// Row i·C + c of the seed is e_c: the cotangent of logit c of sample i.
	let g: tf.Tensor = tf.tile(tf.eye(C), [b, 1]);
	// Adjacent masks (a max-pool's argmax mask and the ReLU mask before it) are multiplied
	// once per sample, so the b·C rows see a single mask multiply.
	let pending: tf.Tensor | null = null;
	for (let s = steps.length - 1; s >= 0; s--) {
		const step = steps[s];
		if ('mask' in step) {
			pending = pending === null ? step.mask : tf.mul(pending, step.mask);
			continue;
		}
		if (pending !== null) {
			g = maskRows(g, pending, b, C);
			pending = null;
		}
		g = step.op(g);
	}
	if (pending !== null) {
		g = maskRows(g, pending, b, C);
	}
	return g;
}

/**
 * J [b, C, d] (float32 tensor, caller disposes) for inputs x [b, ...inputShape].
 * Throws if {@link layerwiseUnsupportedReason} would return a reason.
 */
export function layerwiseJacobian(chain: readonly tf.layers.Layer[], x: tf.Tensor, numClasses: number): tf.Tensor3D {
	const reason = layerwiseUnsupportedReason(chain);
	if (reason !== null) {
		throw new Error(`layerwiseJacobian: unsupported ${reason}`);
	}
	const b = x.shape[0];
	const C = numClasses;
	const d = x.size / b;
	return tf.tidy(() => {
		const { out, steps } = forwardRecording(chain, x, C);
		if (out.rank !== 2 || out.shape[1] !== C) {
			throw new Error(`layerwiseJacobian: chain ends in shape ${JSON.stringify(out.shape)}, expected [${b}, ${C}]`);
		}
		return tf.reshape<tf.Rank.R3>(backward(steps, b, C), [b, C, d]);
	});
}
