/**
 * Kernels the tfjs 4.22 wasm backend lacks for training, registered as compositions of kernels it has.
 *
 * Stock wasm has no `Conv2DBackpropFilter`, so `model.fit` on any CNN fails (`Kernel
 * 'Conv2DBackpropFilter' not registered for backend 'wasm'`). The Conv2D gradient override in
 * `gradients.ts` covers plain conv2d calls, but a conv layer whose activation is fused (linear, as
 * in the common conv → BatchNormalization → relu block, or relu) goes through the fused conv op's
 * own customGrad, which calls `conv2DBackpropFilter` directly. Registering the kernel itself covers
 * every arrangement, and strided / 'same' convolutions too.
 *
 * The filter gradient is a convolution of the input with the output gradient:
 * dW[a, b, ci, co] = Σ_{n,i,j} xp[n, i·s + a, j·s + b, ci] · dy[n, i, j, co], i.e. a 'valid' Conv2D
 * of xp transposed to [ci, H, W, n] with dy transposed to [oh, ow, n, co] as the filter, with
 * dilation = the forward stride, cropped to the kernel size.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = ReturnType<tf.KernelConfig['kernelFunc']> extends infer R ? (R extends Array<infer T> ? T : R) : never;
type Backend = Parameters<tf.KernelConfig['kernelFunc']>[0]['backend'];

let installed = false;

/** Runs a registered wasm kernel on tensor infos (kernel-level composition, no tape). */
function run(backend: Backend, kernelName: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo {
	const k = tf.getKernel(kernelName, 'wasm');
	if (k === undefined) {
		throw new Error(`wasm training kernels: kernel '${kernelName}' is missing on wasm`);
	}
	const out = k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
	return (Array.isArray(out) ? out[0] : out);
}

function pair(v: unknown): [number, number] {
	if (typeof v === 'number') {
		return [v, v];
	}
	if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number') {
		return [v[0], v[1]];
	}
	return [1, 1];
}

/** Padding before each spatial axis for tfjs's 'same' / 'valid' / explicit padding. */
function padsBefore(pad: unknown, h: number, w: number, oh: number, ow: number, kh: number, kw: number, s: [number, number]): [number, number, number, number] {
	if (pad === 'valid') {
		return [0, 0, 0, 0];
	}
	if (pad === 'same') {
		const th = Math.max((oh - 1) * s[0] + kh - h, 0);
		const tw = Math.max((ow - 1) * s[1] + kw - w, 0);
		return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
	}
	if (Array.isArray(pad) && pad.length === 4) {
		const p = pad as number[][];
		return [p[1][0], p[1][1], p[2][0], p[2][1]];
	}
	throw new Error(`Conv2DBackpropFilter (wasm): padding ${JSON.stringify(pad)} is not supported`);
}

function conv2dBackpropFilter(args: Parameters<tf.KernelConfig['kernelFunc']>[0]): TensorInfo {
	const { inputs, backend, attrs } = args;
	const x = inputs.x as TensorInfo;
	const dy = inputs.dy as TensorInfo;
	const { filterShape, strides, pad, dataFormat, dilations } = attrs as Record<string, unknown>;
	if (dataFormat !== undefined && dataFormat !== 'NHWC') {
		throw new Error(`Conv2DBackpropFilter (wasm): dataFormat ${JSON.stringify(dataFormat)} is not supported (NHWC only)`);
	}
	const d = pair(dilations);
	if (d[0] !== 1 || d[1] !== 1) {
		throw new Error('Conv2DBackpropFilter (wasm): dilated convolutions are not supported');
	}
	const s = pair(strides);
	const [kh, kw] = filterShape as number[];
	const [, h, w] = x.shape;
	const [, oh, ow] = dy.shape;
	const [top, bottom, left, right] = padsBefore(pad, h, w, oh, ow, kh, kw, s);
	const temps: TensorInfo[] = [];
	let xp = x;
	if (top + bottom + left + right > 0) {
		xp = run(backend, 'PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
		temps.push(xp);
	}
	const xT = run(backend, 'Transpose', { x: xp }, { perm: [3, 1, 2, 0] });
	const dyT = run(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
	temps.push(xT, dyT);
	// [ci, H', W', co] with H' = H − (oh − 1)·s ≥ kh: the rows past kh belong to no filter tap.
	const r = run(backend, 'Conv2D', { x: xT, filter: dyT }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: s, dimRoundingMode: undefined });
	temps.push(r);
	let cropped = r;
	if (r.shape[1] !== kh || r.shape[2] !== kw) {
		cropped = run(backend, 'Slice', { x: r }, { begin: [0, 0, 0, 0], size: [r.shape[0], kh, kw, r.shape[3]] });
		temps.push(cropped);
	}
	const out = run(backend, 'Transpose', { x: cropped }, { perm: [1, 2, 0, 3] });
	const disposer = backend as { disposeData(dataId: object): boolean };
	for (const t of temps) {
		disposer.disposeData(t.dataId);
	}
	return out;
}

/**
 * Registers the missing wasm training kernels (idempotent; a kernel the backend already has is
 * left alone). Call before training on wasm; `installGradientFixes()` and `PoisonLens.start` call it.
 */
export function installWasmTrainingKernels(): void {
	if (installed) {
		return;
	}
	installed = true;
	if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
		tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter });
	}
}
