/**
 * Second-order gradient fixes for TensorFlow.js 4.22 (docs/numerics.md §1).
 *
 * Stock tfjs computes several gradients from the kernel's saved forward *output*. That output is
 * not connected on the tape, so every second-order term through it is silently dropped (input
 * HVPs of a softmax cross-entropy come out exactly 0 or ~100 % wrong, with no error). Each fix
 * below recomputes the forward value from the saved *inputs* so that a second `tf.grad` sees it.
 * It also adds the missing `MaxPoolGrad` gradient (so max-pool nets can be double-backpropagated)
 * and a Conv2D gradient whose filter part uses only ops the wasm backend has.
 *
 * Load order matters only in that the fixes must be installed before a gradient is *taken*;
 * `registerGradient` is global for every backend, so calling this once per process is enough.
 */
import * as tf from '@tensorflow/tfjs';
import { installDilatedConvLayerFix } from './layerFixes';
import { installWasmTrainingKernels } from './wasmKernels';

type GradConfig = Parameters<typeof tf.registerGradient>[0];
type AttrMap = Parameters<GradConfig['gradFunc']>[2];

let installed = false;

/**
 * Comparison kernels: piecewise constant, so their derivative is zero wherever it exists. Stock tfjs registers
 * no gradient for them, so a second derivative through a gradient built with `where(greater(x, 0), …)` (SELU,
 * LeakyReLU, hard sigmoid, clipByValue) threw `gradient function not found for Greater`.
 */
const COMPARISON_KERNELS = ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual'] as const;

/** Names of the kernels whose gradients {@link installGradientFixes} replaces or adds. */
export const FIXED_GRADIENT_KERNELS: readonly string[] = Object.freeze([
	'Exp',
	'Sigmoid',
	'Tanh',
	'Softmax',
	'Elu',
	'Pow',
	'Max',
	'Min',
	'MaxPool',
	'MaxPoolGrad',
	'AvgPool',
	'DepthwiseConv2dNative',
	'Conv2D',
	'BatchMatMul',
	'Tile',
	...COMPARISON_KERNELS,
]);

/**
 * Installs every gradient fix. Idempotent: the second and later calls do nothing and return.
 *
 * After this call, inside twice-differentiated code still write the loss as
 * `-sum(y * log(softmax(z)))`: `tf.logSoftmax`, `tf.logSigmoid` and `tf.losses.*` are customGrad
 * ops whose gradients cannot be differentiated again.
 */
export function installGradientFixes(): void {
	if (installed) {
		return;
	}
	for (const config of gradientFixes()) {
		tf.registerGradient(config);
	}
	installWasmTrainingKernels();
	installDilatedConvLayerFix();
	installed = true;
}

/** True once {@link installGradientFixes} has run in this process. */
export function gradientFixesInstalled(): boolean {
	return installed;
}

function single(dy: tf.Tensor | tf.Tensor[]): tf.Tensor {
	if (Array.isArray(dy)) {
		throw new Error(`gradient fix: expected a single dy tensor, got ${dy.length}`);
	}
	return dy;
}

function pair(value: unknown, name: string): [number, number] {
	if (typeof value === 'number') {
		return [value, value];
	}
	if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number') {
		return [value[0], value[1]];
	}
	throw new Error(`gradient fix: attribute ${name} must be a number or a pair, got ${JSON.stringify(value)}`);
}

function reductionAxes(attrs: AttrMap, rank: number): number[] {
	// Max calls the attribute reductionIndices, Min calls it axis.
	const raw = attrs.reductionIndices ?? attrs.axis;
	const list = typeof raw === 'number' ? [raw] : Array.isArray(raw) ? raw : [];
	const axes: number[] = [];
	for (const a of list) {
		if (typeof a !== 'number') {
			throw new Error(`gradient fix: reductionIndices must be numbers, got ${JSON.stringify(raw)}`);
		}
		axes.push(a < 0 ? a + rank : a);
	}
	return axes;
}

/**
 * Runs `fn` on `inputs` as one taped node whose gradient is zero. Masks (ties of max/min, argmax
 * windows) are built this way so that the comparison ops inside, which have no gradient in tfjs
 * (`Equal`, `Less`), never appear on the tape of a second derivative.
 */
function constantOf(fn: (...inputs: tf.Tensor[]) => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor {
	return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
		const tensors = args.slice(0, inputs.length) as tf.Tensor[];
		return {
			value: fn(...tensors),
			gradFunc: () => tensors.map((t) => tf.zerosLike(t)),
		};
	})(...inputs);
}

/**
 * The argmax mask of non-overlapping pooling windows: 1 at the first maximal cell of each window
 * (row-major), 0 elsewhere, i.e. the tie-breaking of tfjs cpu and PyTorch.
 *
 * Why not a kernel: the wasm MaxPoolGrad kernel puts the gradient of a window whose max is <= 0
 * on flat index 0 of the image (its running max starts at FLT_MIN, not -FLT_MAX). Why rank 5:
 * the webgpu backend generated invalid WGSL for a rank-6 transpose here, which poisons the whole
 * submission, and wasm's StridedSlice and Tile are slow (hundreds of ms per HVP on MNIST).
 * Ties: each maximal cell gets a distinct weight fh·fw − (a·fw + b); the largest weight wins.
 * NaN inputs give an all-zero window (no gradient), where the stock kernels are undefined too.
 */
export function poolArgmaxMask(x: tf.Tensor4D, fh: number, fw: number): tf.Tensor4D {
	const [n, h, w, c] = x.shape;
	const oh = Math.floor(h / fh);
	const ow = Math.floor(w / fw);
	const exact = oh * fh === h && ow * fw === w;
	const cropped = (exact ? x : tf.slice(x, [0, 0, 0, 0], [n, oh * fh, ow * fw, c]));
	// Window maxima from the maxPool kernel (fast everywhere) rather than a max over axes [1, 3],
	// which needs a slow rank-5 transpose on wasm.
	const windowMax = (t: tf.Tensor4D): tf.Tensor => tf.reshape(tf.maxPool(t, [fh, fw], [fh, fw], 'valid'), [n * oh, 1, ow, 1, c]);
	const win = tf.reshape(cropped, [n * oh, fh, ow, fw, c]);
	const rank = tf.tensor5d(
		Array.from({ length: fh * fw }, (_, k) => fh * fw - k),
		[1, fh, 1, fw, 1],
	);
	// x == max ⇔ step(max − x) == 0 (step(0) = 0): broadcast Sub + Step instead of a broadcast
	// Equal, which is ~50× slower on wasm.
	const isMax = tf.sub(1, tf.step(tf.sub(windowMax(cropped), win)));
	const score = tf.mul(isMax, rank);
	const best = windowMax(tf.reshape<tf.Rank.R4>(score, [n, oh * fh, ow * fw, c]));
	const mask = tf.reshape<tf.Rank.R4>(tf.sub(1, tf.step(tf.sub(best, score))), [n, oh * fh, ow * fw, c]);
	return exact ? mask : tf.pad(mask, [[0, 0], [0, h - oh * fh], [0, w - ow * fw], [0, 0]]);
}

/** Spreads each pooled value over its (non-overlapping) window; zero-fills cropped edges. */
export function unpool(dy: tf.Tensor4D, fh: number, fw: number, h: number, w: number): tf.Tensor4D {
	const [n, oh, ow, c] = dy.shape;
	// A rank-5 broadcast multiply (differentiable, fast on every backend) instead of Tile.
	const spread = tf.mul(tf.reshape(dy, [n * oh, 1, ow, 1, c]), tf.ones([1, fh, 1, fw, 1]));
	const up = tf.reshape<tf.Rank.R4>(spread, [n, oh * fh, ow * fw, c]);
	return oh * fh === h && ow * fw === w ? up : tf.pad(up, [[0, 0], [0, h - oh * fh], [0, w - ow * fw], [0, 0]]);
}

/** The window of a pooling kernel if it is non-overlapping with pad 'valid' (or 'same' on divisible sizes); else null. */
function nonOverlappingPool(attrs: AttrMap, shape: readonly number[]): [number, number] | null {
	const filterSize = pair(attrs.filterSize, 'filterSize');
	const strides = pair(attrs.strides, 'strides');
	if (filterSize[0] !== strides[0] || filterSize[1] !== strides[1]) {
		return null;
	}
	const [, h, w] = shape;
	const divisible = h % filterSize[0] === 0 && w % filterSize[1] === 0;
	if (attrs.pad === 'valid' || (attrs.pad === 'same' && divisible)) {
		return filterSize;
	}
	return null;
}

/** Elementwise activations whose stock gradients are not differentiable twice, or wrong there. */
function activationGradients(): GradConfig[] {
	return [
		{
			kernelName: 'Exp',
			inputsToSave: ['x'],
			gradFunc: (dy, saved) => {
				const [x] = saved;
				return { x: () => tf.mul(single(dy), tf.exp(x)) };
			},
		},
		{
			kernelName: 'Sigmoid',
			inputsToSave: ['x'],
			gradFunc: (dy, saved) => {
				const [x] = saved;
				return {
					x: () => {
						const s = tf.sigmoid(x);
						return tf.mul(single(dy), tf.mul(s, tf.sub(1, s)));
					},
				};
			},
		},
		{
			kernelName: 'Tanh',
			inputsToSave: ['x'],
			gradFunc: (dy, saved) => {
				const [x] = saved;
				return {
					x: () => {
						const t = tf.tanh(x);
						return tf.mul(single(dy), tf.sub(1, tf.square(t)));
					},
				};
			},
		},
		{
			kernelName: 'Softmax',
			inputsToSave: ['logits'],
			gradFunc: (dy, saved, attrs) => {
				const [logits] = saved;
				const dim = typeof attrs.dim === 'number' ? attrs.dim : -1;
				return {
					logits: () => {
						const y = tf.softmax(logits, dim);
						const dyy = tf.mul(single(dy), y);
						return tf.sub(dyy, tf.mul(tf.sum(dyy, [dim], true), y));
					},
				};
			},
		},
		{
			// elu'(x) = 1 for x > 0, exp(x) otherwise. Written with `step` (zero gradient,
			// registered) and exp(-relu(-x)) = exp(min(x, 0)) so no comparison op is taped.
			kernelName: 'Elu',
			inputsToSave: ['x'],
			gradFunc: (dy, saved) => {
				const [x] = saved;
				return {
					x: () => {
						const pos = tf.step(x);
						const negPart = tf.exp(tf.neg(tf.relu(tf.neg(x))));
						const deriv = tf.add(pos, tf.mul(tf.sub(1, pos), negPart));
						return tf.mul(single(dy), deriv);
					},
				};
			},
		},
	];
}

/** Pow, with broadcasting reduced explicitly. */
function powGradient(): GradConfig[] {
	return [
		{
			kernelName: 'Pow',
			inputsToSave: ['a', 'b'],
			gradFunc: (dy, saved) => {
				const [a, b] = saved;
				const g = single(dy);
				const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
				const reduceTo = (t: tf.Tensor, shape: number[]): tf.Tensor => {
					const axes = tf.broadcast_util.getReductionAxes(shape, outShape);
					return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, shape);
				};
				return {
					a: () => {
						const bf = tf.cast(b, 'float32');
						return reduceTo(tf.mul(g, tf.mul(bf, tf.pow(a, tf.sub(bf, 1)))), a.shape);
					},
					b: () => {
						// log(a) where a > 0, else 0; the mask is a constant for differentiation.
						const positive = constantOf((t) => tf.step(t), a);
						const safeA = tf.add(tf.mul(a, positive), tf.sub(1, positive));
						const y = tf.pow(a, b);
						return reduceTo(tf.mul(g, tf.mul(y, tf.log(safeA))), b.shape);
					},
				};
			},
		},
	];
}

/** Max/min reductions and pooling, depthwise convolution. */
function poolingGradients(): GradConfig[] {
	return [
		minMaxGrad('Max'),
		minMaxGrad('Min'),
		{
			// Non-overlapping windows: dx = unpool(dy) ⊙ mask with a constant argmax mask. Every op
			// here has a gradient, so the second derivative needs no MaxPoolGrad gradient, and cpu,
			// wasm and webgpu break ties the same way (first cell of the window, as PyTorch does).
			kernelName: 'MaxPool',
			inputsToSave: ['x'],
			gradFunc: (dy, saved, attrs) => {
				const x = saved[0] as tf.Tensor4D;
				const g = single(dy) as tf.Tensor4D;
				const window = nonOverlappingPool(attrs, x.shape);
				if (window === null) {
					// Overlapping windows: the stock first-order kernel (its gradient below throws).
					return {
						x: () => {
							const y = tf.engine().runKernel<tf.Tensor>('MaxPool', { x }, attrs);
							return tf.engine().runKernel<tf.Tensor>('MaxPoolGrad', { dy: g, input: x, output: y }, attrs);
						},
					};
				}
				const [fh, fw] = window;
				return {
					x: () => {
						const mask = constantOf((t) => poolArgmaxMask(t as tf.Tensor4D, fh, fw), x);
						return tf.mul(unpool(g, fh, fw, x.shape[1], x.shape[2]), mask);
					},
				};
			},
		},
		{
			// For code that runs the MaxPoolGrad kernel directly: d/d dy is "read ddx at the argmax
			// of each window"; the derivatives with respect to input and output are zero almost
			// everywhere.
			kernelName: 'MaxPoolGrad',
			inputsToSave: ['input', 'output'],
			gradFunc: (ddx, saved, attrs) => {
				const [input, output] = saved;
				const window = nonOverlappingPool(attrs, input.shape);
				if (window === null) {
					throw new Error(
						`2nd-order maxPool only implemented for strides == filterSize with pad 'valid' (or 'same' on divisible sizes); got filterSize ${JSON.stringify(attrs.filterSize)}, strides ${JSON.stringify(attrs.strides)}, pad ${JSON.stringify(attrs.pad)}, input ${input.shape.join('x')}`,
					);
				}
				const [fh, fw] = window;
				const [, h, w] = input.shape;
				return {
					dy: () => {
						const mask = constantOf((t) => poolArgmaxMask(t as tf.Tensor4D, fh, fw), input);
						const picked = tf.mul<tf.Tensor4D>(single(ddx), mask);
						const cropped = tf.slice(picked, [0, 0, 0, 0], [-1, Math.floor(h / fh) * fh, Math.floor(w / fw) * fw, -1]);
						return tf.mul(tf.avgPool(cropped, [fh, fw], [fh, fw], 'valid'), fh * fw);
					},
					input: () => tf.zerosLike(input),
					output: () => tf.zerosLike(output),
				};
			},
		},
		avgPoolGrad(),
		depthwiseConv2dGrad(),
	];
}

/** Comparison kernels (zero gradients), Conv2D and BatchMatMul with explicit transposes. */
function linearAlgebraGradients(): GradConfig[] {
	return [
		...COMPARISON_KERNELS.map(
			(kernelName): GradConfig => ({
				kernelName,
				inputsToSave: ['a', 'b'],
				gradFunc: (_dy, saved) => {
					const [a, b] = saved;
					return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
				},
			}),
		),
		conv2dGrad(),
		{
			// Same products as the stock gradient, with the transposes made explicit: the wasm
			// BatchMatMul kernel is ~10× slower with transposeA/transposeB set than on a
			// pre-transposed operand (640x256 · (784x256)ᵀ: 640 ms vs 70 ms measured).
			kernelName: 'BatchMatMul',
			inputsToSave: ['a', 'b'],
			gradFunc: (dy, saved, attrs) => {
				const [a, b] = saved;
				const g = single(dy);
				const tA = attrs.transposeA === true;
				const tB = attrs.transposeB === true;
				return {
					a: () => (tA ? matMulT(b, g, tB, true) : matMulT(g, b, false, !tB)),
					b: () => (tB ? matMulT(g, a, true, tA) : matMulT(a, g, !tA, false)),
				};
			},
		},
	];
}

function gradientFixes(): GradConfig[] {
	return [...activationGradients(), ...powGradient(), ...poolingGradients(), ...linearAlgebraGradients(), tileGrad()];
}

/**
 * Tile gradient as one reshape + sum per tiled axis. Stock tfjs 4.22 adds one slice of dy per tile
 * (Π reps slices): `LayerNormalization` tiles gamma and beta over batch × height × width, so one training step
 * of a LayerNormalization over 14×14 feature maps at batch 64 ran 2 × 12 544 slice + add kernels (≈ 6 s of
 * 7 s on wasm). Along axis i the tiled dy is [reps_i copies of size_i] (copy-major), so dx = the sum over the
 * copies; the ops have gradients again. Values are the same sums.
 */
function tileGrad(): GradConfig {
	return {
		kernelName: 'Tile',
		inputsToSave: ['x'],
		gradFunc: (dy, saved, attrs) => {
			const [x] = saved;
			const reps = attrs.reps as number[];
			return {
				x: () => {
					let g = single(dy);
					x.shape.forEach((size, axis) => {
						const r = reps[axis];
						if (r === 1) {
							return;
						}
						const before = g.shape.slice(0, axis).reduce((a, c) => a * c, 1);
						const after = g.shape.slice(axis + 1).reduce((a, c) => a * c, 1);
						const summed = tf.sum(tf.reshape(g, [before, r, size, after]), 1);
						g = tf.reshape(summed, [...g.shape.slice(0, axis), size, ...g.shape.slice(axis + 1)]);
					});
					return tf.reshape(g, x.shape);
				},
			};
		},
	};
}

/**
 * AvgPool gradient that is right at 'same' borders and differentiable again.
 *
 * Stock tfjs 4.22 (cpu, wasm and webgl sources alike) divides every window's gradient by the full
 * window size, while the forward pass averages only the in-bounds cells of a 'same' window: the
 * input gradient is too small at the borders (the Jacobian of an AveragePooling1D 'same' layer was
 * off by 0.35 on a 0.8 scale), and `AvgPoolGrad` has no gradient, so no second derivative exists.
 *
 * Here avgPool is seen per channel as a stride-s convolution with a ones filter divided by the
 * in-bounds cell count of each window (`counts`, from the same convolution of a ones image, so the
 * padding rule is tfjs's own); its adjoint is `conv2dTranspose(dy / counts, ones)`, and
 * Conv2DBackpropInput's gradient is a conv2d, so HVPs through average pooling work.
 */
function avgPoolGrad(): GradConfig {
	return {
		kernelName: 'AvgPool',
		inputsToSave: ['x'],
		gradFunc: (dy, saved, attrs) => {
			const x = saved[0] as tf.Tensor4D;
			const g = single(dy) as tf.Tensor4D;
			return { x: () => avgPoolInputGradient(g, x.shape, pair(attrs.filterSize, 'filterSize'), pair(attrs.strides, 'strides'), attrs.pad as 'valid' | 'same') };
		},
	};
}

/** The exact adjoint of `tf.avgPool(x, filter, strides, pad)` applied to `dy` (x of shape `xShape`, NHWC). */
export function avgPoolInputGradient(
	dy: tf.Tensor4D,
	xShape: readonly number[],
	filter: [number, number],
	strides: [number, number],
	pad: 'valid' | 'same',
): tf.Tensor4D {
	if (pad !== 'valid' && pad !== 'same') {
		throw new Error(`AvgPool gradient: pad ${JSON.stringify(pad)} is not supported (only 'valid' and 'same')`);
	}
	const [n, h, w, c] = xShape;
	const [, oh, ow] = dy.shape;
	const ones = tf.ones<tf.Rank.R4>([filter[0], filter[1], 1, 1]);
	const counts = constantOf(() => tf.conv2d(tf.ones<tf.Rank.R4>([1, h, w, 1]), ones, strides, pad), dy);
	const scaled = tf.div(dy, counts);
	const rows = tf.reshape<tf.Rank.R4>(tf.transpose(scaled, [0, 3, 1, 2]), [n * c, oh, ow, 1]);
	const back = tf.conv2dTranspose(rows, ones, [n * c, h, w, 1], strides, pad);
	return tf.transpose<tf.Tensor4D>(tf.reshape(back, [n, c, h, w]), [0, 2, 3, 1]);
}

/**
 * DepthwiseConv2dNative gradient through the equivalent full convolution: a depthwise filter W [kh, kw, c, M]
 * is the block-diagonal conv filter Wf [kh, kw, c, c·M] (Wf[a, b, k, k·M + m] = W[a, b, k, m]). Why: stock wasm
 * has neither DepthwiseConv2dNativeBackpropInput nor ...Filter (DepthwiseConv2D / SeparableConv2D cannot train
 * or be analysed there); the full-conv kernels exist (Conv2DBackpropInput natively, Conv2DBackpropFilter from
 * wasmKernels.ts), and their gradients are convolutions again, so HVPs work on every backend. Costs c× the
 * depthwise arithmetic, which is small next to the rest of a separable net. Dilated (stride 1, as tfjs requires
 * for dilation): the same through {@link dilateFilter} and {@link conv2dFilterGradient} (stock tfjs asserts
 * dilation 1 here; a dilated SeparableConv2D reaches this kernel).
 */
function depthwiseConv2dGrad(): GradConfig {
	return {
		kernelName: 'DepthwiseConv2dNative',
		inputsToSave: ['x', 'filter'],
		gradFunc: (dy, saved, attrs) => {
			const x = saved[0] as tf.Tensor4D;
			const filter = saved[1] as tf.Tensor4D;
			const g = single(dy) as tf.Tensor4D;
			const strides = pair(attrs.strides, 'strides');
			const dilations = attrs.dilations === undefined || attrs.dilations === null ? ([1, 1] as [number, number]) : pair(attrs.dilations, 'dilations');
			const dilated = dilations[0] !== 1 || dilations[1] !== 1;
			const pad = attrs.pad as 'valid' | 'same';
			if (dilated && (strides[0] !== 1 || strides[1] !== 1 || (pad !== 'valid' && pad !== 'same'))) {
				throw new Error(`DepthwiseConv2dNative gradient: dilations ${dilations.join('x')} need strides 1 and pad 'valid' or 'same' (got strides ${strides.join('x')}, pad ${JSON.stringify(pad)})`);
			}
			const [kh, kw, c, M] = filter.shape;
			const eye = tf.reshape(tf.eye(c), [1, 1, c, c, 1]);
			const fullFilter = (): tf.Tensor4D => tf.reshape<tf.Rank.R4>(tf.mul(tf.reshape(filter, [kh, kw, c, 1, M]), eye), [kh, kw, c, c * M]);
			return {
				x: () => (dilated ? conv2dInputGradient(g, dilateFilter(fullFilter(), dilations), pad) : tf.conv2dTranspose(g, fullFilter(), x.shape, strides, pad)),
				filter: () => {
					const full = dilated
						? conv2dFilterGradient(x, g, [kh, kw, c, c * M], pad, dilations)
						: tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy: g }, { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], filterShape: [kh, kw, c, c * M] });
					return tf.sum(tf.mul(tf.reshape(full, [kh, kw, c, c, M]), eye), 3);
				},
			};
		},
	};
}

/** Swaps the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
	const perm = t.shape.map((_, i) => i);
	perm[perm.length - 2] = perm.length - 1;
	perm[perm.length - 1] = perm.length - 2;
	return tf.transpose(t, perm);
}

/** matMul(x, y, transposeA, transposeB) with the transposes done by Transpose, not by the kernel. */
function matMulT(x: tf.Tensor, y: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
	return tf.matMul(transposeA ? swapLast(x) : x, transposeB ? swapLast(y) : y);
}

/**
 * Max/Min gradients that recompute the reduction and take the tie mask through
 * {@link constantOf}, so a second derivative does not hit the gradient-less `Equal`.
 */
function minMaxGrad(kernelName: 'Max' | 'Min'): GradConfig {
	return {
		kernelName,
		inputsToSave: ['x'],
		gradFunc: (dy, saved, attrs) => {
			const [x] = saved;
			const axes = reductionAxes(attrs, x.rank);
			return {
				x: () => {
					const keepShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
					const y = kernelName === 'Max' ? tf.max(x, axes, true) : tf.min(x, axes, true);
					const mask = constantOf((xx, yy) => tf.cast(tf.equal(xx, yy), 'float32'), x, y);
					return tf.mul(tf.reshape(single(dy), keepShape), mask);
				},
			};
		},
	};
}

/**
 * The dilated filter of a dilated convolution: Wd[a·dh, b·dw] = W[a, b] and zeros between the taps, of size
 * ((kh − 1)·dh + 1) × ((kw − 1)·dw + 1). A conv2d with dilations d equals a plain conv2d with Wd (tfjs pads 'same'
 * by the same effective size), so every dilated gradient below is a plain stride-1 one. Built from reshape, a
 * broadcast multiply and a slice: differentiable, rank ≤ 5, fast on every backend. Returns `filter` when d = 1.
 */
export function dilateFilter(filter: tf.Tensor4D, dilations: readonly [number, number]): tf.Tensor4D {
	const [dh, dw] = dilations;
	if (dh === 1 && dw === 1) {
		return filter;
	}
	const [kh, kw, ci, co] = filter.shape;
	const tap = tf.tensor5d(
		Array.from({ length: dh * dw }, (_, k) => (k === 0 ? 1 : 0)),
		[1, dh, 1, dw, 1],
	);
	const spread = tf.mul(tf.reshape(filter, [kh, 1, kw, 1, ci * co]), tap);
	const full = tf.reshape<tf.Rank.R4>(spread, [kh * dh, kw * dw, ci, co]);
	return tf.slice(full, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]);
}

/**
 * Input gradient of a stride-1 NHWC conv2d, as a 'valid' conv2d of the padded dy with the
 * flipped, channel-swapped filter (identical values to conv2dTranspose, on the fast kernel).
 * For a dilated convolution pass the {@link dilateFilter dilated filter}.
 */
export function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, pad: 'valid' | 'same'): tf.Tensor4D {
	const [kh, kw] = filter.shape;
	const top = pad === 'same' ? Math.floor((kh - 1) / 2) : 0;
	const left = pad === 'same' ? Math.floor((kw - 1) / 2) : 0;
	const bottom = pad === 'same' ? kh - 1 - top : 0;
	const right = pad === 'same' ? kw - 1 - left : 0;
	const padded = tf.pad(dy, [
		[0, 0],
		[kh - 1 - top, kh - 1 - bottom],
		[kw - 1 - left, kw - 1 - right],
		[0, 0],
	]);
	const flipped = tf.transpose<tf.Tensor4D>(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
	return tf.conv2d(padded, flipped, 1, 'valid');
}

/**
 * Filter gradient of a stride-1 NHWC conv2d with dilations d (1 included), using only pad, transpose and
 * conv2d: dW[a, b, ci, co] = Σ_{n,i,j} xp[n, i + a·dh, j + b·dw, ci] · dy[n, i, j, co], i.e. a 'valid' conv2d of
 * xp transposed to [ci, H', W', n] with dy transposed to [oh, ow, n, co] as the filter and strides d (the
 * output is exactly kh × kw). xp is x padded as tfjs pads 'same' for the effective size (k − 1)·d + 1.
 */
export function conv2dFilterGradient(
	x: tf.Tensor4D,
	dy: tf.Tensor4D,
	filterShape: readonly number[],
	pad: 'valid' | 'same',
	dilations: readonly [number, number] = [1, 1],
): tf.Tensor4D {
	const [kh, kw] = filterShape;
	let xp: tf.Tensor4D = x;
	if (pad === 'same') {
		const th = (kh - 1) * dilations[0];
		const tw = (kw - 1) * dilations[1];
		xp = tf.pad(x, [
			[0, 0],
			[Math.floor(th / 2), th - Math.floor(th / 2)],
			[Math.floor(tw / 2), tw - Math.floor(tw / 2)],
			[0, 0],
		]);
	}
	const xT = tf.transpose(xp, [3, 1, 2, 0]);
	const dyT = tf.transpose(dy, [1, 2, 0, 3]);
	const r = tf.conv2d(xT, dyT, [dilations[0], dilations[1]], 'valid');
	return tf.transpose(r, [1, 2, 0, 3]);
}

/**
 * Conv2D gradient whose filter part uses only transpose + conv2d, which the wasm backend has
 * (stock wasm lacks `Conv2DBackpropFilter`, so it cannot train a CNN). Scope: stride 1, NHWC,
 * pad 'valid' or 'same', any dilation: stock tfjs 4.22 has no dilated conv2d gradient at all (it
 * asserts dilation 1), so dilated Conv2D / Conv1D layers could neither train nor be analysed; here a
 * dilated convolution is differentiated as the plain convolution with its {@link dilateFilter dilated
 * filter}, exactly, and the result is again conv2d, so HVPs work. Other configurations (strides > 1,
 * explicit padding, NCHW) use the stock kernels, which work on cpu/webgpu; on a backend without
 * `Conv2DBackpropFilter` they throw a clear message.
 */
function conv2dGrad(): GradConfig {
	return {
		kernelName: 'Conv2D',
		inputsToSave: ['x', 'filter'],
		gradFunc: (dy, saved, attrs) => {
			const x = saved[0] as tf.Tensor4D;
			const filter = saved[1] as tf.Tensor4D;
			const g = single(dy) as tf.Tensor4D;
			const strides = pair(attrs.strides, 'strides');
			const dilations = attrs.dilations === undefined || attrs.dilations === null ? ([1, 1] as [number, number]) : pair(attrs.dilations, 'dilations');
			const pad = attrs.pad;
			const dataFormat = attrs.dataFormat === undefined ? 'NHWC' : attrs.dataFormat;
			const dilated = dilations[0] !== 1 || dilations[1] !== 1;
			const simple = strides[0] === 1 && strides[1] === 1 && dataFormat === 'NHWC' && (pad === 'valid' || pad === 'same');
			if (!simple) {
				if (dilated) {
					throw new Error(
						`Conv2D gradient: dilations ${dilations.join('x')} are supported with strides 1, NHWC and pad 'valid' or 'same' (got strides ${strides.join('x')}, pad ${JSON.stringify(pad)}, ${JSON.stringify(dataFormat)})`,
					);
				}
				return {
					x: () => tf.engine().runKernel<tf.Tensor>('Conv2DBackpropInput', { dy: g, filter }, { ...attrs, inputShape: x.shape }),
					filter: () => {
						if (tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined) {
							throw new Error(
								`filter grad override: only stride 1, NHWC, valid/same on backend '${tf.getBackend()}' (got strides ${strides.join('x')}, pad ${JSON.stringify(pad)}, ${JSON.stringify(dataFormat)})`,
							);
						}
						return tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy: g }, { ...attrs, filterShape: filter.shape });
					},
				};
			}
			const padMode = pad as 'valid' | 'same';
			return {
				// Stride-1 input gradient as a 'valid' conv2d of the padded dy with the flipped,
				// channel-swapped (dilated) filter: same values as conv2dTranspose, but on the fast Conv2D
				// kernel (wasm's Conv2DBackpropInput took 74 ms of one MNIST HVP profile, all Conv2D
				// work under 30 ms), and its own gradient is again a Conv2D, so every order of
				// differentiation stays on the fast path.
				x: () => conv2dInputGradient(g, dilateFilter(filter, dilations), padMode),
				filter: () => conv2dFilterGradient(x, g, filter.shape, padMode, dilations),
			};
		},
	};
}
