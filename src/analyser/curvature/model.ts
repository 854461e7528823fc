/**
 * The model seam of the curvature core: a function from inputs to *logits* plus the facts the
 * method choice needs (class count, whether the net is piecewise linear).
 *
 * Why logits: the input Gauss–Newton term Jᵀ(diag p − ppᵀ)J needs J = ∂z/∂x of the logits, and
 * the loss must be written as −Σ y·log softmax(z) (stock `tf.logSoftmax` / `tf.losses.*` are
 * customGrad ops whose second derivative tfjs silently drops; toolchain.md §2.4).
 */
import * as tf from '@tensorflow/tfjs';

/** A classifier seen as inputs → logits. */
export interface LogitModel {
	/** Shape of one input, e.g. [28, 28, 1]. */
	readonly inputShape: readonly number[];
	/** Number of classes C (width of the logits). */
	readonly numClasses: number;
	/**
	 * True when every activation is piecewise linear (ReLU, max-pool, linear): then the input
	 * Hessian of the cross-entropy equals Jᵀ(diag p − ppᵀ)J almost everywhere (science.md §7.6)
	 * and the structured Gauss–Newton path is exact.
	 */
	readonly piecewiseLinear: boolean;
	/** Human-readable description for records and errors. */
	readonly label: string;
	/**
	 * The layer chain when the model came from a tfjs layers model (final softmax, if any, already
	 * dropped from `layers`): lets the structured path form Jacobians layer by layer.
	 */
	readonly chain?: readonly tf.layers.Layer[];
	/** Logits [batch, C] for inputs [batch, ...inputShape]. Must be twice differentiable in tfjs. */
	logits(x: tf.Tensor): tf.Tensor2D;
	/** Releases tensors the adapter owns (weight copies). Safe to call twice. */
	dispose(): void;
}

const PIECEWISE_LINEAR_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu', 'leakyReLU']);
const LINEAR_LAYERS = new Set([
	'Dense',
	'Conv2D',
	'Conv1D',
	'DepthwiseConv2D',
	'SeparableConv2D',
	'MaxPooling2D',
	'MaxPooling1D',
	'AveragePooling2D',
	'AveragePooling1D',
	'Flatten',
	'Reshape',
	'Permute',
	'Dropout',
	'SpatialDropout1D',
	'ZeroPadding2D',
	'Cropping2D',
	'InputLayer',
	'ReLU',
	'LeakyReLU',
	'Activation',
	'BatchNormalization',
]);

function configOf(layer: tf.layers.Layer): Record<string, unknown> {
	return layer.getConfig();
}

function activationOf(layer: tf.layers.Layer): string | null {
	const a = configOf(layer).activation;
	return typeof a === 'string' ? a : null;
}

/**
 * Refuses layers whose tfjs gradients are known to be wrong or missing (toolchain.md §2.9), with
 * the layer named, instead of returning silently wrong curvature.
 */
function checkSupported(layer: tf.layers.Layer, where: string): void {
	const cls = layer.getClassName();
	const cfg = configOf(layer);
	const dil = cfg.dilation_rate ?? cfg.dilationRate;
	if (cls.startsWith('Conv') && Array.isArray(dil) && dil.some((d) => d !== 1)) {
		throw new Error(`${where}: layer '${layer.name}' (${cls}, dilation ${JSON.stringify(dil)}) is unsupported: tfjs has no dilated conv gradient`);
	}
}

/**
 * Wraps a tfjs layers model whose layers form a single chain (every `tf.sequential`, and
 * functional models without branches) as a {@link LogitModel}. A final softmax (a Dense layer's
 * activation or a trailing Activation layer) is removed so `logits()` returns pre-softmax values;
 * a Dense head is re-created with a linear activation and a copy of the weights.
 *
 * @param where names the source (checkpoint file) in error messages.
 */
export function logitModelFromLayers(model: tf.LayersModel, where = model.name): LogitModel {
	const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
	if (layers.length === 0) {
		throw new Error(`${where}: model has no layers`);
	}
	for (let i = 1; i < layers.length; i++) {
		const inbound = layers[i].inboundNodes.flatMap((n) => n.inboundLayers);
		if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) {
			throw new Error(`${where}: layer '${layers[i].name}' does not simply follow '${layers[i - 1].name}'; only chain (sequential) models are supported`);
		}
	}
	const inputShape = model.inputs[0].shape.slice(1);
	if (inputShape.some((d) => d === null)) {
		throw new Error(`${where}: input shape ${JSON.stringify(model.inputs[0].shape)} must be fully defined`);
	}
	const outShape = model.outputs[0].shape;
	const numClasses = outShape[outShape.length - 1];
	if (typeof numClasses !== 'number' || outShape.length !== 2) {
		throw new Error(`${where}: output shape ${JSON.stringify(outShape)} is not [batch, classes]`);
	}
	layers.forEach((l) => checkSupported(l, where));

	const chain: Array<(x: tf.Tensor) => tf.Tensor> = [];
	const chainLayers: tf.layers.Layer[] = [];
	const owned: tf.Tensor[] = [];
	let piecewiseLinear = true;
	layers.forEach((layer, i) => {
		const last = i === layers.length - 1;
		const cls = layer.getClassName();
		const act = activationOf(layer);
		if (last && (act === 'softmax' || cls === 'Softmax')) {
			// A separate Activation('softmax') or Softmax layer head: the logits are its input.
			if (cls === 'Activation' || cls === 'Softmax') {
				return;
			}
			chainLayers.push(layer);
			if (cls !== 'Dense') {
				throw new Error(`${where}: final layer '${layer.name}' (${cls}) applies softmax; only Dense or Activation heads are supported`);
			}
			// Logits as plain matMul + bias on copies of the weights: a cloned Dense layer would use
			// the fused-matMul customGrad, whose gradient tfjs computes with transposed-operand
			// kernels (slow on wasm) and which the gradient fixes cannot reach.
			const [kernel, bias] = layer.getWeights();
			const W = tf.keep(tf.clone(kernel)) as tf.Tensor2D;
			const b0 = configOf(layer).useBias === false || bias === undefined ? null : tf.keep(tf.clone(bias));
			owned.push(W);
			if (b0 !== null) {
				owned.push(b0);
			}
			chain.push((x) => {
				const flat = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape<tf.Rank.R2>(x, [x.shape[0], -1]);
				const z = tf.matMul(flat, W);
				return b0 === null ? z : tf.add(z, b0);
			});
			return;
		}
		if (!LINEAR_LAYERS.has(cls) || (act !== null && !PIECEWISE_LINEAR_ACTIVATIONS.has(act))) {
			piecewiseLinear = false;
		}
		chain.push((x) => layer.apply(x) as tf.Tensor);
		chainLayers.push(layer);
	});
	const label = `${model.name} (${layers.map((l) => l.getClassName()).join('→')})`;
	let disposed = false;
	return Object.freeze({
		inputShape: Object.freeze(inputShape as number[]),
		numClasses,
		piecewiseLinear,
		label,
		chain: Object.freeze(chainLayers),
		logits(x: tf.Tensor): tf.Tensor2D {
			let h = x;
			for (const f of chain) {
				h = f(h);
			}
			return h as tf.Tensor2D;
		},
		dispose(): void {
			if (!disposed) {
				tf.dispose(owned);
				disposed = true;
			}
		},
	});
}

/** A {@link LogitModel} from a plain function (tests, custom nets). */
export function logitModelFromFunction(
	fn: (x: tf.Tensor) => tf.Tensor2D,
	info: { inputShape: readonly number[]; numClasses: number; piecewiseLinear: boolean; label?: string },
): LogitModel {
	return Object.freeze({
		inputShape: Object.freeze([...info.inputShape]),
		numClasses: info.numClasses,
		piecewiseLinear: info.piecewiseLinear,
		label: info.label ?? 'function model',
		logits: fn,
		dispose: () => undefined,
	});
}
