/**
 * A tfjs-layers fix: dilated `Conv2D` layers evaluated with the plain (unfused) conv2d op.
 *
 * tfjs-layers 4.22 computes a Conv2D layer whose activation is 'linear', 'relu' or 'elu' (and any other
 * activation, as 'linear' + the activation) with `tf.fused.conv2d`. Under a gradient tape with a linear
 * activation that op stays fused, and its gradient is a customGrad that asserts dilation 1 ("Error in
 * gradient of fused conv2D: dilation rates greater than 1 are not yet supported in gradients") and that
 * no registered gradient can replace. So a dilated linear Conv2D (the common conv → BatchNorm → relu
 * block) could neither train nor be analysed. For dilated layers only, `call` here computes the same
 * value as conv2d (the `Conv2D` kernel, whose gradient `gradients.ts` provides for every dilation) +
 * bias + the layer's activation. Undilated layers keep tfjs's own code.
 *
 * `Conv1D` needs no fix (tfjs computes it with the unfused conv1d op); `DepthwiseConv2D` ignores its
 * dilation rate in tfjs-layers 4.22 (the layer table refuses it); `SeparableConv2D` uses the unfused
 * separableConv2d op.
 */
import * as tf from '@tensorflow/tfjs';

/** The fields of a tfjs-layers Conv2D instance that `call` reads (tfjs-layers' BaseConv / Conv). */
interface ConvInternals {
	readonly rank: number;
	readonly strides: number[];
	readonly padding: string;
	readonly dataFormat: string;
	readonly dilationRate: number | number[];
	readonly kernel: { read(): tf.Tensor } | null;
	readonly bias: { read(): tf.Tensor } | null;
	readonly activation: { apply(x: tf.Tensor): tf.Tensor } | null;
}

type CallFn = (this: ConvInternals, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

let installed = false;

function dilationPair(d: number | number[]): [number, number] {
	return typeof d === 'number' ? [d, d] : [d[0] ?? 1, d[1] ?? d[0] ?? 1];
}

/**
 * Patches `Conv2D.prototype.call` of tfjs-layers so dilated 2-D convolutions run on the unfused conv2d op
 * (identical values, differentiable with the gradient fixes). Idempotent; `installGradientFixes()` calls it.
 */
export function installDilatedConvLayerFix(): void {
	if (installed) {
		return;
	}
	installed = true;
	// The class from the serialization registry (creating a probe layer would shift tfjs's automatic layer names).
	const entry = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D as [{ prototype: unknown }, unknown] | undefined;
	if (entry === undefined) {
		throw new Error('installDilatedConvLayerFix: tfjs-layers has no registered Conv2D class');
	}
	const proto = entry[0].prototype as { call: CallFn };
	const original = proto.call;
	const patched: CallFn = function (this: ConvInternals, inputs, kwargs) {
		const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : null) : inputs;
		const [dh, dw] = dilationPair(this.dilationRate);
		if ((dh === 1 && dw === 1) || x === null || x.rank !== 4 || this.rank !== 2 || this.dataFormat !== 'channelsLast' || this.kernel === null) {
			return original.call(this, inputs, kwargs);
		}
		const kernel = this.kernel;
		return tf.tidy(() => {
			const x4 = (x.dtype === 'float32' ? x : tf.cast(x, 'float32')) as tf.Tensor4D;
			const pad = this.padding === 'same' ? 'same' : 'valid';
			let y: tf.Tensor = tf.conv2d(x4, kernel.read() as tf.Tensor4D, [this.strides[0], this.strides[1]], pad, 'NHWC', [dh, dw]);
			if (this.bias !== null) {
				y = tf.add(y, this.bias.read());
			}
			return this.activation === null ? y : this.activation.apply(y);
		});
	};
	proto.call = patched;
}
