/**
 * Each second-order fix of src/tfjs/gradients.ts against a float64 closed form, on cpu and wasm.
 * References are computed here in float64 JS from the formulas in the comments; float32 inputs
 * are read back first so both sides see identical values.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes, gradientFixesInstalled } from '../../../src/tfjs/gradients';
import { HVP_REL_TOL, relErr, seeded, useBackend, type TestBackend } from './backendHarness';

installGradientFixes();
installGradientFixes(); // idempotent

function hvp(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, v: tf.Tensor): Float32Array {
	return tf.tidy(() => {
		const g = tf.grad(f);
		const h = tf.grad((xx: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(g(xx), v)))(x);
		return h.dataSync() as Float32Array;
	});
}

function randTensor(shape: number[], seed: number, lo: number, hi: number): tf.Tensor {
	const r = seeded(seed);
	const n = shape.reduce((a, b) => a * b, 1);
	const data = new Float32Array(n);
	for (let i = 0; i < n; i++) {
		data[i] = lo + (hi - lo) * r();
	}
	return tf.tensor(data, shape);
}

function elementwiseCase(name: string, f: (x: tf.Tensor) => tf.Tensor, d2: (x: number) => number, lo = -2, hi = 2): void {
	test(`${name}: Hv = f''(x)·v`, () => {
		const x = randTensor([3, 5], 11, lo, hi);
		const v = randTensor([3, 5], 12, -1, 1);
		const got = hvp((t) => tf.sum<tf.Scalar>(f(t)), x, v);
		const xs = x.dataSync();
		const vs = v.dataSync();
		const want = Array.from(xs, (xi, i) => d2(xi) * vs[i]);
		tf.dispose([x, v]);
		assert.ok(relErr(got, want) <= tol, `relErr ${relErr(got, want)}`);
	});
}

let tol = 1e-5;

for (const backend of ['cpu', 'wasm'] as TestBackend[]) {
	describe(`second-order gradient fixes on ${backend}`, () => {
		before(async () => {
			await useBackend(backend);
			tol = HVP_REL_TOL[backend];
			assert.ok(gradientFixesInstalled());
		});

		// d²/dx² exp(x) = exp(x)
		elementwiseCase('Exp', (x) => tf.exp(x), (x) => Math.exp(x));
		// s = σ(x): σ'' = s(1−s)(1−2s)
		elementwiseCase('Sigmoid', (x) => tf.sigmoid(x), (x) => {
			const s = 1 / (1 + Math.exp(-x));
			return s * (1 - s) * (1 - 2 * s);
		});
		// t = tanh(x): tanh'' = −2t(1−t²)
		elementwiseCase('Tanh', (x) => tf.tanh(x), (x) => {
			const t = Math.tanh(x);
			return -2 * t * (1 - t * t);
		});
		// elu(x) = x (x>0), exp(x)−1 (x≤0): second derivative 0 / exp(x)
		elementwiseCase('Elu', (x) => tf.elu(x), (x) => (x > 0 ? 0 : Math.exp(x)));
		// pow(c, x) with constant c: c^x · ln(c)²  (the exponent path used the saved output)
		test('Pow (exponent path): Hv = c^x ln(c)² v', () => {
			const x = randTensor([2, 4], 21, -1, 1);
			const c = randTensor([2, 4], 22, 0.5, 3);
			const v = randTensor([2, 4], 23, -1, 1);
			const got = hvp((t) => tf.sum<tf.Scalar>(tf.pow(c, t)), x, v);
			const xs = x.dataSync();
			const cs = c.dataSync();
			const vs = v.dataSync();
			const want = Array.from(xs, (xi, i) => cs[i] ** xi * Math.log(cs[i]) ** 2 * vs[i]);
			tf.dispose([x, c, v]);
			assert.ok(relErr(got, want) <= tol, `relErr ${relErr(got, want)}`);
		});
		// pow(x, 3): 6x (the base path)
		elementwiseCase('Pow (base path)', (x) => tf.pow(x, tf.scalar(3)), (x) => 6 * x, 0.2, 2);

		test('Softmax cross-entropy −Σ y·log softmax(z): Hv = (diag p − ppᵀ) v per row', () => {
			const z = randTensor([4, 6], 31, -3, 3);
			const v = randTensor([4, 6], 32, -1, 1);
			const y = tf.oneHot([1, 0, 5, 2], 6).toFloat();
			const got = hvp((t) => tf.neg(tf.sum<tf.Scalar>(tf.mul(y, tf.log(tf.softmax(t))))), z, v);
			const zs = z.dataSync();
			const vs = v.dataSync();
			const want: number[] = [];
			for (let r = 0; r < 4; r++) {
				const row = Array.from(zs.slice(r * 6, r * 6 + 6));
				const m = Math.max(...row);
				const e = row.map((q) => Math.exp(q - m));
				const s = e.reduce((a, b) => a + b, 0);
				const p = e.map((q) => q / s);
				const vr = Array.from(vs.slice(r * 6, r * 6 + 6));
				const pv = p.reduce((a, pi, i) => a + pi * vr[i], 0);
				for (let i = 0; i < 6; i++) {
					want.push(p[i] * vr[i] - p[i] * pv);
				}
			}
			tf.dispose([z, v, y]);
			assert.ok(relErr(got, want) <= tol, `relErr ${relErr(got, want)}`);
		});

		test('Max over an axis: Hv of Σ max(x)² is 2·e_k e_kᵀ v per row', () => {
			const x = randTensor([3, 5], 41, -2, 2);
			const v = randTensor([3, 5], 42, -1, 1);
			const got = hvp((t) => tf.sum<tf.Scalar>(tf.square(tf.max(t, 1))), x, v);
			const xs = x.dataSync();
			const vs = v.dataSync();
			const want = new Array<number>(15).fill(0);
			for (let r = 0; r < 3; r++) {
				let k = 0;
				for (let j = 1; j < 5; j++) {
					if (xs[r * 5 + j] > xs[r * 5 + k]) {
						k = j;
					}
				}
				want[r * 5 + k] = 2 * vs[r * 5 + k];
			}
			tf.dispose([x, v]);
			assert.ok(relErr(got, want) <= tol, `relErr ${relErr(got, want)}`);
		});

		test('MaxPoolGrad (2x2/2): Hv of ½Σ maxPool(x)² is mask ⊙ v', () => {
			// Distinct (jittered) values: no ties, so the argmax mask is unambiguous on every backend.
			const x = randTensor([2, 4, 6, 3], 51, -1, 1) as tf.Tensor4D;
			const v = randTensor([2, 4, 6, 3], 52, -1, 1);
			const got = hvp((t) => tf.mul<tf.Scalar>(0.5, tf.sum(tf.square(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))), x, v);
			const xs = x.dataSync();
			const vs = v.dataSync();
			const want = new Array<number>(xs.length).fill(0);
			const idx = (n: number, i: number, j: number, c: number): number => ((n * 4 + i) * 6 + j) * 3 + c;
			for (let n = 0; n < 2; n++) {
				for (let bi = 0; bi < 2; bi++) {
					for (let bj = 0; bj < 3; bj++) {
						for (let c = 0; c < 3; c++) {
							let best = idx(n, 2 * bi, 2 * bj, c);
							for (const [di, dj] of [[0, 1], [1, 0], [1, 1]]) {
								const k = idx(n, 2 * bi + di, 2 * bj + dj, c);
								if (xs[k] > xs[best]) {
									best = k;
								}
							}
							want[best] = vs[best];
						}
					}
				}
			}
			tf.dispose([x, v]);
			assert.ok(relErr(got, want) <= tol, `relErr ${relErr(got, want)}`);
		});

		test('MaxPool first-order gradient: windows with max <= 0 and exact ties go to the first maximal cell', () => {
			// Stock wasm MaxPoolGrad sends the gradient of an all-negative window to flat index 0;
			// ties (MNIST's zero background) must break to the first cell, as tfjs cpu and PyTorch do.
			const x = tf.tensor4d([-0.5, -0.2, 0, 0, -3, -1, 0, 0, -1, -2, 5, 5, -7, -0.7, 5, 1], [1, 2, 8, 1]);
			const got = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(x).dataSync());
			x.dispose();
			// windows (row-major cells): [-0.5,-0.2,-1,-2] → cell 1; [0,0,5,5] → cell 2 (first 5);
			// [-3,-1,-7,-0.7] → cell 3; [0,0,5,1] → cell 2.
			const want = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0];
			assert.deepEqual(Array.from(got), want);
		});

		test('MaxPoolGrad kernel gradient w.r.t. dy: ddx read at each window argmax', () => {
			// y = MaxPoolGrad(dy; X) scatters dy to the argmax cells, so d Σ(R ⊙ y) / d dy = R at the argmax.
			const X = randTensor([1, 4, 4, 2], 91, -1, 1) as tf.Tensor4D;
			const Y = tf.maxPool(X, 2, 2, 'valid');
			const dy = randTensor([1, 2, 2, 2], 92, -1, 1);
			const R = randTensor([1, 4, 4, 2], 93, -1, 1);
			const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };
			const got = tf.tidy(() =>
				tf.grad((d: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(tf.engine().runKernel<tf.Tensor>('MaxPoolGrad', { dy: d, input: X, output: Y }, attrs), R)))(dy).dataSync(),
			);
			const xs = X.dataSync();
			const rs = R.dataSync();
			const want: number[] = [];
			for (let bi = 0; bi < 2; bi++) {
				for (let bj = 0; bj < 2; bj++) {
					for (let c = 0; c < 2; c++) {
						let best = -1;
						for (const [di, dj] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
							const k = ((2 * bi + di) * 4 + 2 * bj + dj) * 2 + c;
							if (best < 0 || xs[k] > xs[best]) {
								best = k;
							}
						}
						want.push(rs[best]);
					}
				}
			}
			tf.dispose([X, Y, dy, R]);
			assert.ok(relErr(got, want) <= tol, `relErr ${relErr(got, want)}`);
		});

		test('Min over an axis: Hv of Σ min(x)² is 2·e_k e_kᵀ v per row', () => {
			const x = randTensor([3, 5], 44, -2, 2);
			const v = randTensor([3, 5], 45, -1, 1);
			const got = hvp((t) => tf.sum<tf.Scalar>(tf.square(tf.min(t, 1))), x, v);
			const xs = x.dataSync();
			const vs = v.dataSync();
			const want = new Array<number>(15).fill(0);
			for (let r = 0; r < 3; r++) {
				let k = 0;
				for (let j = 1; j < 5; j++) {
					if (xs[r * 5 + j] < xs[r * 5 + k]) {
						k = j;
					}
				}
				want[r * 5 + k] = 2 * vs[r * 5 + k];
			}
			tf.dispose([x, v]);
			assert.ok(relErr(got, want) <= tol, `relErr ${relErr(got, want)}`);
		});

		test('MaxPoolGrad refuses overlapping windows with a clear message', () => {
			const x = randTensor([1, 5, 5, 1], 53, -1, 1) as tf.Tensor4D;
			assert.throws(
				() => hvp((t) => tf.sum<tf.Scalar>(tf.square(tf.maxPool(t as tf.Tensor4D, 3, 1, 'valid'))), x, tf.onesLike(x)),
				/strides == filterSize/,
			);
			x.dispose();
		});

		for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
			test(`BatchMatMul gradient (transposeA ${tA}, transposeB ${tB}) vs explicit sums`, () => {
				// L = Σ R ⊙ op(A)·op(B): dL/dop(A) = R·op(B)ᵀ, dL/dop(B) = op(A)ᵀ·R, transposed back.
				const [m, k, n] = [3, 4, 2];
				const A = randTensor(tA ? [k, m] : [m, k], 71, -1, 1) as tf.Tensor2D;
				const B = randTensor(tB ? [n, k] : [k, n], 72, -1, 1) as tf.Tensor2D;
				const R = randTensor([m, n], 73, -1, 1);
				const [gA, gB] = tf.tidy(() =>
					tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB), R)))([A, B]).map((t) => t.dataSync()),
				);
				const as = A.dataSync();
				const bs = B.dataSync();
				const rs = R.dataSync();
				const opA = (i: number, l: number): number => (tA ? as[l * m + i] : as[i * k + l]);
				const opB = (l: number, j: number): number => (tB ? bs[j * k + l] : bs[l * n + j]);
				const wantA = new Array<number>(m * k).fill(0);
				const wantB = new Array<number>(k * n).fill(0);
				for (let i = 0; i < m; i++) {
					for (let j = 0; j < n; j++) {
						for (let l = 0; l < k; l++) {
							wantA[tA ? l * m + i : i * k + l] += rs[i * n + j] * opB(l, j);
							wantB[tB ? j * k + l : l * n + j] += rs[i * n + j] * opA(i, l);
						}
					}
				}
				tf.dispose([A, B, R]);
				assert.ok(relErr(gA, wantA) <= tol, `dA relErr ${relErr(gA, wantA)}`);
				assert.ok(relErr(gB, wantB) <= tol, `dB relErr ${relErr(gB, wantB)}`);
			});
		}

		test('Conv2D stride 2 (outside the override): stock kernels on cpu, the composed Conv2DBackpropFilter on wasm', () => {
			const x = randTensor([2, 7, 7, 2], 81, -1, 1) as tf.Tensor4D;
			const f = randTensor([3, 3, 2, 3], 82, -1, 1) as tf.Tensor4D;
			const r = randTensor([2, 3, 3, 3], 83, -1, 1);
			const run = (): Float32Array[] =>
				tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'valid'), r)))([x, f]).map((t) => t.dataSync() as Float32Array));
			const [dx, df] = run();
			const xs = x.dataSync();
			const fs = f.dataSync();
			const rs = r.dataSync();
			const wantX = new Array<number>(xs.length).fill(0);
			const wantF = new Array<number>(fs.length).fill(0);
			for (let b = 0; b < 2; b++) {
				for (let i = 0; i < 3; i++) {
					for (let j = 0; j < 3; j++) {
						for (let o = 0; o < 3; o++) {
							const rv = rs[((b * 3 + i) * 3 + j) * 3 + o];
							for (let a = 0; a < 3; a++) {
								for (let c = 0; c < 3; c++) {
									for (let k = 0; k < 2; k++) {
										const xi = ((b * 7 + 2 * i + a) * 7 + 2 * j + c) * 2 + k;
										const fi = ((a * 3 + c) * 2 + k) * 3 + o;
										wantF[fi] += rv * xs[xi];
										wantX[xi] += rv * fs[fi];
									}
								}
							}
						}
					}
				}
			}
			tf.dispose([x, f, r]);
			assert.ok(relErr(dx, wantX) <= tol && relErr(df, wantF) <= tol);
		});

		for (const [pad, dil] of [
			['valid', [1, 1]],
			['same', [1, 1]],
			['valid', [2, 3]],
			['same', [2, 3]],
			['same', [3, 1]],
		] as Array<['valid' | 'same', [number, number]]>) {
			test(`Conv2D gradient (pad ${pad}, dilation ${dil.join('x')}): filter and input gradients vs explicit correlation, second order again a convolution`, () => {
				const [n, h, w, ci, co, kh, kw] = [2, 8, 9, 2, 3, 3, 3];
				const [dh, dw] = dil;
				const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
				const x = randTensor([n, h, w, ci], 61, -1, 1) as tf.Tensor4D;
				const f = randTensor([kh, kw, ci, co], 62, -1, 1) as tf.Tensor4D;
				const oh = pad === 'valid' ? h - eh + 1 : h;
				const ow = pad === 'valid' ? w - ew + 1 : w;
				const r = randTensor([n, oh, ow, co], 63, -1, 1);
				const { dx, df } = tf.tidy(() => {
					const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad, 'NHWC', dil), r)));
					const [gx, gf] = g([x, f]);
					return { dx: gx.dataSync(), df: gf.dataSync() };
				});
				const xs = x.dataSync();
				const fs = f.dataSync();
				const rs = r.dataSync();
				const top = pad === 'same' ? Math.floor((eh - 1) / 2) : 0;
				const left = pad === 'same' ? Math.floor((ew - 1) / 2) : 0;
				const wantF = new Array<number>(fs.length).fill(0);
				const wantX = new Array<number>(xs.length).fill(0);
				// L = Σ_{b,i,j,o} R[b,i,j,o] Σ_{a,c,k} x[b, i + a·dh − top, j + c·dw − left, k] f[a,c,k,o]
				for (let b = 0; b < n; b++) {
					for (let i = 0; i < oh; i++) {
						for (let j = 0; j < ow; j++) {
							for (let o = 0; o < co; o++) {
								const rv = rs[((b * oh + i) * ow + j) * co + o];
								for (let a = 0; a < kh; a++) {
									for (let c = 0; c < kw; c++) {
										const yi = i + a * dh - top;
										const xj = j + c * dw - left;
										if (yi < 0 || yi >= h || xj < 0 || xj >= w) {
											continue;
										}
										for (let k = 0; k < ci; k++) {
											const xi = ((b * h + yi) * w + xj) * ci + k;
											const fi = ((a * kw + c) * ci + k) * co + o;
											wantF[fi] += rv * xs[xi];
											wantX[xi] += rv * fs[fi];
										}
									}
								}
							}
						}
					}
				}
				// Second order: L2 = Σ (conv(x, f))² / 2 has ∇²_x L2 = AᵀA with A the convolution, so Hv = Aᵀ(A v):
				// compared with the first-order input gradient of Σ R ⊙ conv(x, f) at R = conv(v, f).
				const v = randTensor([n, h, w, ci], 64, -1, 1) as tf.Tensor4D;
				const hv = hvp((a) => tf.mul(0.5, tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, f, 1, pad, 'NHWC', dil)))), x, v);
				const want2 = tf.tidy(() => {
					const av = tf.conv2d(v, f, 1, pad, 'NHWC', dil);
					return tf.grad((a: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(tf.conv2d(a as tf.Tensor4D, f, 1, pad, 'NHWC', dil), av)))(x).dataSync();
				});
				tf.dispose([x, f, r, v]);
				assert.ok(relErr(df, wantF) <= tol, `filter relErr ${relErr(df, wantF)}`);
				assert.ok(relErr(dx, wantX) <= tol, `input relErr ${relErr(dx, wantX)}`);
				assert.ok(relErr(hv, want2) <= tol, `Hv relErr ${relErr(hv, want2)}`);
			});
		}

		for (const pad of ['valid', 'same'] as const) {
			test(`DepthwiseConv2dNative gradient (pad ${pad}, dilation 2x3): filter and input gradients vs explicit correlation`, () => {
				const [n, h, w, c, M, kh, kw, dh, dw] = [2, 7, 9, 2, 2, 3, 2, 2, 3];
				const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
				const x = randTensor([n, h, w, c], 71, -1, 1) as tf.Tensor4D;
				const f = randTensor([kh, kw, c, M], 72, -1, 1) as tf.Tensor4D;
				const oh = pad === 'valid' ? h - eh + 1 : h;
				const ow = pad === 'valid' ? w - ew + 1 : w;
				const r = randTensor([n, oh, ow, c * M], 73, -1, 1);
				const { dx, df } = tf.tidy(() => {
					const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad, 'NHWC', [dh, dw]), r)));
					const [gx, gf] = g([x, f]);
					return { dx: gx.dataSync(), df: gf.dataSync() };
				});
				const xs = x.dataSync();
				const fs = f.dataSync();
				const rs = r.dataSync();
				const top = pad === 'same' ? Math.floor((eh - 1) / 2) : 0;
				const left = pad === 'same' ? Math.floor((ew - 1) / 2) : 0;
				const wantF = new Array<number>(fs.length).fill(0);
				const wantX = new Array<number>(xs.length).fill(0);
				// y[b, i, j, k·M + m] = Σ_{a,e} x[b, i + a·dh − top, j + e·dw − left, k] f[a, e, k, m]
				for (let b = 0; b < n; b++) {
					for (let i = 0; i < oh; i++) {
						for (let j = 0; j < ow; j++) {
							for (let k = 0; k < c; k++) {
								for (let m = 0; m < M; m++) {
									const rv = rs[((b * oh + i) * ow + j) * c * M + k * M + m];
									for (let a = 0; a < kh; a++) {
										for (let e = 0; e < kw; e++) {
											const yi = i + a * dh - top;
											const xj = j + e * dw - left;
											if (yi < 0 || yi >= h || xj < 0 || xj >= w) {
												continue;
											}
											const xi = ((b * h + yi) * w + xj) * c + k;
											const fi = ((a * kw + e) * c + k) * M + m;
											wantF[fi] += rv * xs[xi];
											wantX[xi] += rv * fs[fi];
										}
									}
								}
							}
						}
					}
				}
				tf.dispose([x, f, r]);
				assert.ok(relErr(df, wantF) <= tol, `filter relErr ${relErr(df, wantF)}`);
				assert.ok(relErr(dx, wantX) <= tol, `input relErr ${relErr(dx, wantX)}`);
			});
		}

		test('Tile gradient (reshape + sum per tiled axis): explicit sums over the copies, and second order through it', () => {
			const x = randTensor([2, 3, 1, 2], 95, -1, 1);
			const reps = [3, 1, 4, 2];
			const r = randTensor([6, 3, 4, 4], 96, -1, 1);
			const dx = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(tf.tile(a, reps), r)))(x).dataSync());
			const rs = r.dataSync();
			const want = new Array<number>(x.size).fill(0);
			// dx[i, j, k, l] = Σ over copies of r at (i + 2a, j, k + b, l + 2c)
			for (let i = 0; i < 6; i++) {
				for (let j = 0; j < 3; j++) {
					for (let k = 0; k < 4; k++) {
						for (let l = 0; l < 4; l++) {
							want[((i % 2) * 3 + j) * 2 + (l % 2)] += rs[((i * 3 + j) * 4 + k) * 4 + l];
						}
					}
				}
			}
			// Hv of Σ tile(x)³ / 3 is 2·(Σ over copies of tile(x))·v = 2·Π reps·x·v.
			const v = randTensor([2, 3, 1, 2], 97, -1, 1);
			const hv = hvp((a) => tf.div(tf.sum(tf.pow(tf.tile(a, reps), 3)), 3), x, v);
			const xs = x.dataSync();
			const vs = v.dataSync();
			const want2 = Array.from(xs, (xi, i) => 2 * 24 * xi * vs[i]);
			tf.dispose([x, r, v]);
			assert.ok(relErr(dx, want) <= tol, `dx relErr ${relErr(dx, want)}`);
			assert.ok(relErr(hv, want2) <= tol, `Hv relErr ${relErr(hv, want2)}`);
		});

		test('a dilated linear Conv2D layer (fused in tfjs, whose gradient asserts dilation 1) trains and differentiates twice', () => {
			const layer = tf.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: [2, 1], padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }), biasInitializer: 'ones' });
			const x = randTensor([2, 7, 6, 3], 91, -1, 1) as tf.Tensor4D;
			const v = randTensor([2, 7, 6, 3], 92, -1, 1) as tf.Tensor4D;
			const y = tf.tidy(() => layer.apply(x) as tf.Tensor);
			const [kernel, bias] = layer.getWeights();
			const want = tf.tidy(() => tf.add(tf.conv2d(x, kernel as tf.Tensor4D, 1, 'same', 'NHWC', [2, 1]), bias).dataSync());
			assert.ok(relErr(y.dataSync(), want) <= 1e-6, 'forward value');
			// Under a tape (as in model.fit and every analyser pass) the layer must give the conv2d gradients.
			const loss = (a: tf.Tensor): tf.Scalar => tf.mul(0.5, tf.sum(tf.square(layer.apply(a) as tf.Tensor)));
			const hv = hvp(loss, x, v);
			const want2 = tf.tidy(() => {
				const av = tf.conv2d(v, kernel as tf.Tensor4D, 1, 'same', 'NHWC', [2, 1]);
				return tf.grad((a: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(tf.conv2d(a as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same', 'NHWC', [2, 1]), av)))(x).dataSync();
			});
			const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(tf.square(layer.apply(x) as tf.Tensor)));
			assert.equal(Object.keys(grads).length, 2, 'kernel and bias gradients');
			tf.dispose([x, v, y, value, ...Object.values(grads)]);
			layer.dispose();
			assert.ok(relErr(hv, want2) <= tol, `Hv relErr ${relErr(hv, want2)}`);
		});
	});
}
