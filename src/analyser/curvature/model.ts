/**
 * The model seam of the curvature core: a function from inputs to *logits* plus the facts the
 * method choice needs (class count, whether the net is piecewise linear).
 *
 * Why logits: the input Gauss–Newton term Jᵀ(diag p − ppᵀ)J needs J = ∂z/∂x of the logits, and
 * the loss must be written as −Σ y·log softmax(z) (stock `tf.logSoftmax` / `tf.losses.*` are
 * customGrad ops whose second derivative tfjs silently drops; docs/numerics.md §1).
 */
import * as tf from '@tensorflow/tfjs';
import { planModel, type ModelPlan, type OutputConvention } from './layers';

/** A classifier seen as inputs → logits. */
export interface LogitModel {
	/** Shape of one input, e.g. [28, 28, 1]. */
	readonly inputShape: readonly number[];
	/** Number of classes C (width of the logits). */
	readonly numClasses: number;
	/**
	 * True when every activation is piecewise linear (ReLU, max-pool, linear): then the input
	 * Hessian of the cross-entropy equals Jᵀ(diag p − ppᵀ)J almost everywhere (docs/science.md §7.6)
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
	/** How the model's outputs are read (layers models only). */
	readonly output?: OutputConvention;
	/** The layer table's plan (layers models only). */
	readonly plan?: ModelPlan;
	/** Logits [batch, C] for inputs [batch, ...inputShape]. Must be twice differentiable in tfjs. */
	logits(x: tf.Tensor): tf.Tensor2D;
	/** Releases tensors the adapter owns (weight copies). Safe to call twice. */
	dispose(): void;
}

/**
 * Thrown by {@link logitModelFromLayers} for a model the layer table refuses (layer named, what is
 * supported); callers report it as a schema mismatch, never as an internal error.
 */
export class UnsupportedModelError extends Error {
	constructor(
		message: string,
		readonly plan: ModelPlan,
	) {
		super(message);
		this.name = 'UnsupportedModelError';
	}
}

/** Logits [b, 2] = [0, s] from a single sigmoid pre-activation s [b, 1]: softmax gives [1 − σ(s), σ(s)]. */
function binaryLogits(s: tf.Tensor): tf.Tensor2D {
	const s2 = tf.reshape<tf.Rank.R2>(s, [s.shape[0], 1]);
	return tf.concat([tf.zerosLike(s2), s2], 1);
}

/**
 * Wraps a tfjs layers model as a {@link LogitModel}, following the layer table (`layers.ts`): a final
 * softmax (a Dense layer's activation, or a separate Activation / Softmax layer) is removed so
 * `logits()` returns pre-softmax values; a single sigmoid unit becomes the two-class logits [0, s];
 * a last layer without activation is taken as logits. Chains (every `tf.sequential`) run layer by
 * layer (and expose `chain` for the structured path when every layer takes it); functional graphs
 * (residual Add / Concatenate / Multiply) run as a sub-model up to the head.
 *
 * @param where names the source (checkpoint file) in error messages.
 * @throws UnsupportedModelError when the table refuses the model (layer named)
 */
export function logitModelFromLayers(model: tf.LayersModel, where = model.name): LogitModel {
	const plan = planModel(model, where);
	if (plan.refusal !== null || plan.numClasses === null) {
		throw new UnsupportedModelError(plan.refusal ?? `${where}: unsupported model`, plan);
	}
	const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
	const inputShape = model.inputs[0].shape.slice(1) as number[];
	const last = layers[layers.length - 1];
	const headEntry = plan.layers[plan.layers.length - 1];
	const owned: tf.Tensor[] = [];
	// The head: a separate activation layer is dropped; a Dense head is re-created as plain matMul + bias on
	// copies of the weights (a cloned Dense layer would use the fused-matMul customGrad, whose gradient
	// tfjs computes with transposed-operand kernels, slow on wasm, and which the gradient fixes cannot reach).
	let headFn: ((x: tf.Tensor) => tf.Tensor) | null = null;
	let bodyLayers = layers;
	if (headEntry.head) {
		bodyLayers = layers.slice(0, -1);
		const cls = last.getClassName();
		if (cls === 'Dense') {
			const [kernel, bias] = last.getWeights();
			const W = tf.keep(tf.clone(kernel)) as tf.Tensor2D;
			const b0 = last.getConfig().useBias === false || bias === undefined ? null : tf.keep(tf.clone(bias));
			owned.push(W);
			if (b0 !== null) {
				owned.push(b0);
			}
			headFn = (x) => {
				const flat = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape<tf.Rank.R2>(x, [x.shape[0], -1]);
				const z = tf.matMul(flat, W);
				return b0 === null ? z : tf.add(z, b0);
			};
		} else if (cls === 'Activation' || cls === 'Softmax') {
			headFn = (x) => x;
		} else {
			throw new UnsupportedModelError(
				`${where}: final layer '${last.name}' (${cls}) applies ${plan.output}; only Dense heads or a separate Activation / Softmax layer are supported`,
				plan,
			);
		}
	}
	const finish = (z: tf.Tensor): tf.Tensor2D => (plan.output === 'sigmoid' ? binaryLogits(z) : (z as tf.Tensor2D));
	let body: (x: tf.Tensor) => tf.Tensor;
	if (plan.topology === 'chain') {
		body = (x) => {
			let h = x;
			for (const layer of bodyLayers) {
				h = layer.apply(h) as tf.Tensor;
			}
			return h;
		};
	} else {
		const headInput = headEntry.head ? last.input : model.outputs[0];
		if (Array.isArray(headInput)) {
			throw new UnsupportedModelError(`${where}: final layer '${last.name}' has several inputs`, plan);
		}
		const m = headEntry.head ? tf.model({ inputs: model.inputs, outputs: headInput }) : model;
		body = (x) => m.apply(x) as tf.Tensor;
	}
	const label = `${model.name} (${plan.topology === 'chain' ? layers.map((l) => l.getClassName()).join('→') : `graph of ${layers.length} layers`}; ${plan.output})`;
	let disposed = false;
	return Object.freeze({
		inputShape: Object.freeze(inputShape),
		numClasses: plan.numClasses,
		piecewiseLinear: plan.piecewiseLinear,
		label,
		output: plan.output,
		plan,
		// The layerwise path needs the chain with a Dense head kept (it evaluates it linearly).
		chain: plan.topology === 'chain' && plan.output !== 'sigmoid' ? Object.freeze(headEntry.head && last.getClassName() !== 'Dense' ? bodyLayers : layers) : undefined,
		logits(x: tf.Tensor): tf.Tensor2D {
			const h = body(x);
			return finish(headFn === null ? h : headFn(h));
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
