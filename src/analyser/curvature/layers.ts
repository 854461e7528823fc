/**
 * The layer table: the one place that decides how the analyser treats every tfjs-layers class it may
 * meet. Each layer gets one of three routes:
 *
 * - `structured`: the layerwise Gauss–Newton path (`layerwise.ts`) forms its Jacobian directly;
 * - `autodiff`: exact by tfjs autodiff with our gradient fixes (`src/tfjs/gradients.ts`): the
 *   Gauss–Newton Jacobian by first-order VJPs, or the Hessian by double-backprop HVPs;
 * - `refused`: the analyser cannot give exact curvature through it; the reason says what to do.
 *
 * A model is analysed by the structured path only when it is a chain of `structured` layers; by
 * autodiff when every layer is `structured` or `autodiff`; otherwise it is refused up front, naming
 * the first refused layer. The SDK consults the same table at `PoisonLens.start`, so a user learns
 * before training that a run cannot be analysed.
 *
 * Output conventions (the model's last layer, see {@link ModelPlan.output}):
 * - `softmax`: a softmax head (a Dense/Conv layer's `softmax` activation, or a separate
 *   `Activation('softmax')` / `Softmax` layer): the logits are the values before it;
 * - `logits`: the last layer has no activation (`linear`): its outputs are taken as logits, and the
 *   plan says so;
 * - `sigmoid`: a single sigmoid unit (binary cross-entropy): the logit s before the sigmoid becomes the
 *   two-class logit pair [0, s], whose softmax is [1 − σ(s), σ(s)], so the cross-entropy and its
 *   input Hessian are those of the binary cross-entropy.
 *
 * Pure: it reads only class names and configs (`getClassName`, `getConfig`) and the graph links.
 */
import type * as tf from '@tensorflow/tfjs';

/** How the curvature passes through one layer. */
export type LayerRoute = 'structured' | 'autodiff' | 'refused';

/** The table's verdict for one layer. */
export interface LayerEntry {
	readonly name: string;
	readonly className: string;
	readonly route: LayerRoute;
	/** True when the layer is piecewise linear in its input (so Gauss–Newton = Hessian through it). */
	readonly piecewiseLinear: boolean;
	/** For `refused`: why, and what the user can do. For `autodiff`: why the structured path does not take it. */
	readonly reason: string | null;
	/** True for the final softmax / sigmoid head that the logits are taken before. */
	readonly head: boolean;
}

/** How the model's outputs are read. */
export type OutputConvention = 'softmax' | 'logits' | 'sigmoid';

/** The table applied to a whole model. */
export interface ModelPlan {
	readonly layers: readonly LayerEntry[];
	readonly output: OutputConvention;
	/** One sentence saying how the outputs are read (shown to users). */
	readonly outputNote: string;
	/** `chain`: every layer follows the previous one (tf.sequential); `graph`: a functional model with branches. */
	readonly topology: 'chain' | 'graph';
	/** Null when the model can be analysed; else the message (layer named, what is supported). */
	readonly refusal: string | null;
	/** The refused layer, when one layer is to blame. */
	readonly refusedLayer: LayerEntry | null;
	/** True when the layerwise Gauss–Newton path takes the whole model. */
	readonly structured: boolean;
	/** True when every layer (head excluded) is piecewise linear: Gauss–Newton equals the Hessian almost everywhere. */
	readonly piecewiseLinear: boolean;
	/** Number of classes the analysis sees (2 for a single sigmoid unit). */
	readonly numClasses: number | null;
}

/** What the analyser supports, for refusal messages. */
export const SUPPORTED_SUMMARY =
	'Poison Lens analyses single-input, single-output image and tabular classifiers (Dense, Conv1D/2D, DepthwiseConv2D, SeparableConv2D, pooling, normalisation, dropout, reshaping layers and residual Add/Concatenate/Multiply graphs) with a softmax, logits or single-sigmoid output';

const PWL_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'hardSigmoid', 'hard_sigmoid']);
const SMOOTH_ACTIVATIONS = new Set(['elu', 'selu', 'sigmoid', 'tanh', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'gelu_new', 'softmax']);

/** Layers that are the identity at inference time. */
const INFERENCE_IDENTITY = new Set(['InputLayer', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);
/** Linear reshaping / padding / pooling layers taken by autodiff. */
const LINEAR_AUTODIFF = new Set([
	'Permute',
	'ZeroPadding2D',
	'Cropping2D',
	'UpSampling2D',
	'AveragePooling1D',
	'AveragePooling2D',
	'GlobalAveragePooling1D',
	'GlobalAveragePooling2D',
	'RepeatVector',
	'Rescaling',
	'Add',
	'Subtract',
	'Average',
	'Concatenate',
	'BatchNormalization',
]);
const PWL_AUTODIFF = new Set(['GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'Maximum', 'Minimum', 'ThresholdedReLU', 'LeakyReLU', 'PReLU']);
const SMOOTH_AUTODIFF = new Set(['LayerNormalization', 'Multiply', 'Dot', 'ELU']);
const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'ConvLSTM2D', 'ConvRNN2D', 'Bidirectional', 'TimeDistributed', 'LSTMCell', 'GRUCell', 'SimpleRNNCell', 'StackedRNNCells']);
const CONVS = new Set(['Conv1D', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose']);

function cfg(layer: tf.layers.Layer): Record<string, unknown> {
	return layer.getConfig();
}

/** The activation name of a layer's config, or null when it has none. */
export function activationName(layer: tf.layers.Layer): string | null {
	const a = cfg(layer).activation;
	return typeof a === 'string' ? a : null;
}

function allOnes(v: unknown): boolean {
	if (v === undefined || v === null) {
		return true;
	}
	return (Array.isArray(v) ? v : [v]).every((d) => d === 1);
}

function isPairOf(v: unknown, a: number, b: number): boolean {
	return Array.isArray(v) && v.length === 2 && v[0] === a && v[1] === b;
}

function entry(layer: tf.layers.Layer, route: LayerRoute, piecewiseLinear: boolean, why: string | null, head = false): LayerEntry {
	const reason = why === null ? null : `layer '${layer.name}' (${layer.getClassName()}): ${why}`;
	return Object.freeze({ name: layer.name, className: layer.getClassName(), route, piecewiseLinear, reason, head });
}

function refuse(layer: tf.layers.Layer, why: string): LayerEntry {
	return entry(layer, 'refused', false, why);
}

function activationVerdict(act: string | null): { ok: boolean; pwl: boolean; why: string | null } {
	if (act === null || PWL_ACTIVATIONS.has(act)) {
		return { ok: true, pwl: true, why: null };
	}
	if (SMOOTH_ACTIVATIONS.has(act)) {
		return { ok: true, pwl: false, why: null };
	}
	return { ok: false, pwl: false, why: `activation '${act}' is not in the layer table` };
}

/**
 * Classifies one layer. `isHead` marks the model's last layer when it is a softmax/sigmoid head
 * (then only the part before the head activation counts).
 */
export function classifyLayer(layer: tf.layers.Layer, isHead = false): LayerEntry {
	const cls = layer.getClassName();
	const c = cfg(layer);
	const actName = activationName(layer);
	const act = isHead && (actName === 'softmax' || actName === 'sigmoid') ? 'linear' : actName;
	if (isHead && (cls === 'Softmax' || (cls === 'Activation' && (actName === 'softmax' || actName === 'sigmoid')))) {
		return entry(layer, 'structured', true, null, true);
	}
	if (INFERENCE_IDENTITY.has(cls) || cls === 'Flatten' || cls === 'Reshape') {
		return entry(layer, 'structured', true, null, false);
	}
	if (cls === 'Embedding') {
		return refuse(
			layer,
			'integer token inputs have no input-space Hessian (the curvature is taken with respect to continuous inputs); analyse a model whose input is the embedding vectors, or a model without token inputs',
		);
	}
	if (RECURRENT.has(cls)) {
		return refuse(layer, 'recurrent layers are not supported (tfjs cannot differentiate their loops twice); use a convolutional or dense classifier');
	}
	const a = activationVerdict(act);
	if (!a.ok) {
		return refuse(layer, `${a.why ?? ''}; supported activations: ${[...PWL_ACTIVATIONS, ...SMOOTH_ACTIVATIONS].join(', ')}`);
	}
	if (CONVS.has(cls)) {
		if (cls === 'DepthwiseConv2D' && !allOnes(c.dilationRate)) {
			// tfjs-layers 4.22's DepthwiseConv2D passes no dilation to the op (and computes its output shape
			// without it): the model runs an undilated convolution whatever its config says, unlike Keras.
			return refuse(
				layer,
				`dilation ${JSON.stringify(c.dilationRate)}: tfjs-layers ignores the dilation rate of DepthwiseConv2D (it computes an undilated convolution, unlike Keras), so the model does not compute what its config says; use dilation 1, or a SeparableConv2D / Conv2D with dilation`,
			);
		}
		if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') {
			return refuse(layer, `dataFormat ${JSON.stringify(c.dataFormat)} is not supported; use channelsLast`);
		}
		if (cls === 'Conv2D' && isPairOf(c.strides, 1, 1) && (c.padding === 'valid' || c.padding === 'same') && (act === null || act === 'linear' || act === 'relu')) {
			return entry(layer, 'structured', true, null, isHead);
		}
		return entry(layer, 'autodiff', a.pwl, `${cls} with strides ${JSON.stringify(c.strides)}, activation '${act ?? 'linear'}'`, isHead);
	}
	if (cls === 'Dense') {
		if (act === null || act === 'linear' || act === 'relu') {
			return entry(layer, 'structured', true, null, isHead);
		}
		return entry(layer, 'autodiff', a.pwl, `activation '${act}'`, isHead);
	}
	if (cls === 'Activation') {
		if (act === 'relu' || act === 'linear') {
			return entry(layer, 'structured', true, null);
		}
		return entry(layer, 'autodiff', a.pwl, `activation '${act ?? 'linear'}'`);
	}
	if (cls === 'ReLU') {
		const capped = c.maxValue !== null && c.maxValue !== undefined;
		return entry(layer, capped ? 'autodiff' : 'structured', true, capped ? 'ReLU with maxValue' : null);
	}
	if (cls === 'MaxPooling2D' || cls === 'MaxPooling1D') {
		const ps = Array.isArray(c.poolSize) ? c.poolSize : [c.poolSize];
		const st = Array.isArray(c.strides) ? c.strides : [c.strides];
		const nonOverlapping = ps.every((p, i) => p === st[i]);
		if (cls === 'MaxPooling2D' && nonOverlapping && c.padding === 'valid') {
			return entry(layer, 'structured', true, null);
		}
		return entry(layer, 'autodiff', true, nonOverlapping ? `${cls} padding '${String(c.padding)}'` : `${cls} with overlapping windows (pool ${JSON.stringify(c.poolSize)}, strides ${JSON.stringify(c.strides)})`);
	}
	if (LINEAR_AUTODIFF.has(cls) || PWL_AUTODIFF.has(cls)) {
		return entry(layer, 'autodiff', true, cls);
	}
	if (SMOOTH_AUTODIFF.has(cls)) {
		return entry(layer, 'autodiff', false, cls);
	}
	if (cls === 'Softmax') {
		return entry(layer, 'autodiff', false, 'softmax inside the network');
	}
	return refuse(layer, `this layer class is not in Poison Lens's layer table, so its curvature is unverified. ${SUPPORTED_SUMMARY}`);
}

/** True when `layer` applies a softmax (its activation, or it is a Softmax layer). */
function softmaxHead(layer: tf.layers.Layer): boolean {
	return layer.getClassName() === 'Softmax' || activationName(layer) === 'softmax';
}

function inboundLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
	return layer.inboundNodes.flatMap((n) => n.inboundLayers);
}

/** True when every layer takes exactly the previous one as its only input (a sequential chain). */
function isChain(layers: readonly tf.layers.Layer[]): boolean {
	for (let i = 0; i < layers.length; i++) {
		const inbound = inboundLayers(layers[i]);
		const expected = i === 0 ? null : layers[i - 1];
		const okFirst = i === 0 && inbound.length === 1 && inbound[0].getClassName() === 'InputLayer';
		const okFirstSequential = i === 0 && inbound.length === 0;
		if (!(okFirst || okFirstSequential || (inbound.length === 1 && inbound[0] === expected)) || layers[i].inboundNodes.length > 1) {
			return false;
		}
	}
	return true;
}

/** The output convention read from the last layer, or the reason it is refused. */
type OutputReading = { output: OutputConvention; outputNote: string; numClasses: number; headIndex: number } | { refusal: string };

function readOutput(layers: readonly tf.layers.Layer[], outShape: readonly (number | null)[]): OutputReading {
	const last = layers[layers.length - 1];
	const width = outShape[outShape.length - 1];
	if (outShape.length !== 2 || typeof width !== 'number') {
		return { refusal: `output shape ${JSON.stringify(outShape)} is not [batch, classes]. ${SUPPORTED_SUMMARY}` };
	}
	const lastAct = activationName(last);
	if (softmaxHead(last)) {
		return { output: 'softmax', numClasses: width, headIndex: layers.length - 1, outputNote: `outputs are softmax probabilities ('${last.name}'); the logits are the values before the softmax` };
	}
	if (lastAct === 'sigmoid') {
		if (width !== 1) {
			return { refusal: `the last layer '${last.name}' has ${width} sigmoid outputs (multi-label); only single-label classifiers are supported: use softmax, or one sigmoid unit for two classes` };
		}
		return {
			output: 'sigmoid',
			numClasses: 2,
			headIndex: layers.length - 1,
			outputNote: `one sigmoid unit ('${last.name}'): a binary classifier read as class 1 = sigmoid(s) > 0.5, analysed with the binary cross-entropy (two-class logits [0, s])`,
		};
	}
	if (lastAct === null || lastAct === 'linear') {
		if (width === 1) {
			return { refusal: `the last layer '${last.name}' has one linear output: a regression model or a binary classifier without its sigmoid; add activation 'sigmoid' to a binary classifier` };
		}
		return { output: 'logits', numClasses: width, headIndex: -1, outputNote: `the last layer '${last.name}' has no activation: its ${width} outputs are taken as logits (softmax applied by the loss)` };
	}
	return { refusal: `the last layer '${last.name}' ends in activation '${lastAct}'; the output must be softmax probabilities, logits (no activation) or one sigmoid unit` };
}

/** Why the model's inputs rule it out, or null. */
function inputRefusal(model: tf.LayersModel, layers: readonly tf.layers.Layer[]): string | null {
	if (model.inputs.length !== 1 || model.outputs.length !== 1) {
		return `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; multi-input / multi-output models are not supported. ${SUPPORTED_SUMMARY}`;
	}
	if (layers.length === 0) {
		return 'the model has no layers';
	}
	if (model.inputs[0].shape.slice(1).some((d) => d === null)) {
		return `input shape ${JSON.stringify(model.inputs[0].shape)} must be fully defined`;
	}
	if (model.inputs[0].dtype === 'int32') {
		return `the model's input is int32 (token ids?): the input-space Hessian needs continuous inputs. ${SUPPORTED_SUMMARY}`;
	}
	return null;
}

/**
 * Applies the table to a whole model: topology, output convention, the route of every layer and,
 * when the model cannot be analysed, a refusal naming the layer (never throws for unsupported models).
 * @param where names the source (checkpoint file, or "the model passed to PoisonLens.start") in messages
 */
export function planModel(model: tf.LayersModel, where: string = model.name): ModelPlan {
	const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
	const fail = (refusal: string, refusedLayer: LayerEntry | null = null, entries: LayerEntry[] = []): ModelPlan =>
		Object.freeze({
			layers: Object.freeze(entries),
			output: 'logits',
			outputNote: '',
			topology: 'chain' as const,
			refusal: `${where}: ${refusal}`,
			refusedLayer,
			structured: false,
			piecewiseLinear: false,
			numClasses: null,
		});
	const badInput = inputRefusal(model, layers);
	if (badInput !== null) {
		return fail(badInput);
	}
	const chain = isChain(layers);
	const out = readOutput(layers, model.outputs[0].shape);
	if ('refusal' in out) {
		return fail(out.refusal);
	}
	const entries = layers.map((l, i) => classifyLayer(l, i === out.headIndex));
	const refused = entries.find((e) => e.route === 'refused');
	if (refused !== undefined) {
		return fail(`${refused.reason ?? ''}`, refused, entries);
	}
	const body = entries.filter((e) => !(e.head && (e.className === 'Softmax' || e.className === 'Activation')));
	const piecewiseLinear = body.every((e) => e.piecewiseLinear);
	// Overlapping max pooling has only a first-order gradient: fine for Gauss–Newton (piecewise-linear
	// nets), refused where the Hessian needs double backprop.
	const overlapping = entries.find((e) => e.route === 'autodiff' && e.reason?.includes('overlapping') === true);
	if (!piecewiseLinear && overlapping !== undefined) {
		return fail(
			`layer '${overlapping.name}' (${overlapping.className}): max pooling with overlapping windows cannot be differentiated twice in tfjs, and the net is not piecewise linear (a smooth activation or normalisation elsewhere); use pool size = strides`,
			overlapping,
			entries,
		);
	}
	return Object.freeze({
		layers: Object.freeze(entries),
		output: out.output,
		outputNote: out.outputNote,
		topology: chain ? 'chain' : 'graph',
		refusal: null,
		refusedLayer: null,
		structured: chain && out.output !== 'sigmoid' && entries.every((e) => e.route === 'structured'),
		piecewiseLinear,
		numClasses: out.numClasses,
	});
}
