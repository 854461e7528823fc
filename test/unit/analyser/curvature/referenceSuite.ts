/**
 * Shared body of reference.test.ts (cpu, wasm) and referenceGpu.test.ts: tfjs curvature vs the PyTorch float64 referee (test/fixtures/reference, make_fixtures.py) on
 * real MNIST, for a trained CNN (conv-relu-maxpool-dense), a ReLU MLP and a tanh MLP, on every
 * backend: cpu and wasm always; gpu (WebGPU) only when an adapter exists, announced when skipped.
 *
 * Budgets (float32 tfjs vs float64 reference, relative L2): HVP ≤ 1e-5 on cpu, ≤ 1e-4 on
 * wasm/gpu; eigenvalues ≤ 1e-4. Inputs are raw MNIST: pooling ties are broken
 * first-cell on every backend by the MaxPool gradient override, exactly like PyTorch.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
	InputHessianOperator,
	gaussNewtonFactors,
	type GaussNewtonFactors,
	curvatureAlong,
	logitModelFromLayers,
	perSampleTopEigen,
	topEigenpairs,
	crossEntropySum,
	oneHotLabels,
	type LogitModel,
} from '../../../../src/analyser/curvature';
import { HVP_REL_TOL, relErr, useBackend, type TestBackend } from '../../tfjs/backendHarness';
import { directionVector, fixtureInputs, loadFixture, loadReferenceModel, type ReferenceFixture, type ReferenceModelName } from './referenceFixtures';
import { absCos } from './matrices';

const EIG_TOL = 1e-4;
const MODELS: ReferenceModelName[] = ['cnn', 'mlp', 'tanhMlp'];

/** Registers the referee suite for one backend (skipped, with the reason, when `skipReason` is set). */
export function suite(backend: TestBackend, skipReason: string | null): void {
	describe(`float64 referee on ${backend}`, { skip: skipReason ?? false }, () => {
		const loaded = new Map<ReferenceModelName, { fx: ReferenceFixture; layers: tf.LayersModel; model: LogitModel; x: tf.Tensor4D }>();
		// One factor formation per model, shared by the per-sample and batch-mean checks.
		const factors = new Map<ReferenceModelName, GaussNewtonFactors>();
		const factorsOf = async (name: ReferenceModelName): Promise<GaussNewtonFactors> => {
			const { model, x } = get(name);
			const cached = factors.get(name) ?? (await gaussNewtonFactors(model, x));
			factors.set(name, cached);
			return cached;
		};
		before(async () => {
			await useBackend(backend);
			for (const name of MODELS) {
				const fx = loadFixture(name);
				const layers = await loadReferenceModel(name);
				loaded.set(name, { fx, layers, model: logitModelFromLayers(layers), x: fixtureInputs(fx) });
			}
		});
		after(() => {
			for (const { layers, model, x } of loaded.values()) {
				model.dispose();
				layers.dispose();
				x.dispose();
			}
		});
		const get = (name: ReferenceModelName): { fx: ReferenceFixture; model: LogitModel; x: tf.Tensor4D } => {
			const v = loaded.get(name);
			if (v === undefined) {
				throw new Error(`fixture ${name} not loaded`);
			}
			return v;
		};

		for (const name of MODELS) {
			test(`${name}: loss and input gradient`, async () => {
				const { fx, model, x } = get(name);
				// data(), not dataSync(): the webgpu backend cannot read synchronously in Node.
				const [lossT, gradT] = tf.tidy(() => {
					const y = oneHotLabels(fx.labels, fx.labels.length, model.numClasses, 'test');
					const f = (xx: tf.Tensor): tf.Scalar => crossEntropySum(model.logits(xx), y);
					return [f(x), tf.grad(f)(x)];
				});
				const loss = (await lossT.data())[0];
				const grad = await gradT.data();
				tf.dispose([lossT, gradT]);
				assert.ok(Math.abs(loss - fx.loss) <= 1e-5 * Math.abs(fx.loss), `loss ${loss} vs ${fx.loss}`);
				assert.ok(relErr(grad, fx.inputGradient) <= HVP_REL_TOL[backend], `grad relErr ${relErr(grad, fx.inputGradient)}`);
			});

			test(`${name}: per-sample HVP (double backprop) relErr ≤ ${HVP_REL_TOL[backend]}`, async () => {
				const { fx, model, x } = get(name);
				const op = new InputHessianOperator(model, x, fx.labels, 'perSample');
				const hv = await op.matvec(directionVector(op.size, fx.directions.phase));
				op.dispose();
				const e = relErr(hv, fx.hvp);
				process.stdout.write(`# ${backend} ${name} HVP relErr ${e.toExponential(2)}\n`);
				assert.ok(e <= HVP_REL_TOL[backend], `HVP relErr ${e}`);
			});

			test(`${name}: per-sample top eigenvalues (auto method) relErr ≤ ${EIG_TOL}`, async () => {
				const { fx, model, x } = get(name);
				// Power iteration: the Rayleigh quotient error is ~ (residual)²/gap, so a 1e-4 residual
				// tolerance already puts λ far inside the 1e-4 budget.
				const r = await perSampleTopEigen(model, x, fx.labels, { tol: 1e-4, maxIter: 200, seed: 1, factors: fx.piecewiseLinear ? await factorsOf(name) : undefined });
				assert.equal(r.method, fx.piecewiseLinear ? 'gn' : 'hvp');
				const want = fx.perSampleTopEigenvalues.map((row) => row[0]);
				const e = relErr(r.eigenvalues, want);
				process.stdout.write(`# ${backend} ${name} per-sample λ1 (${r.method}) relErr ${e.toExponential(2)}\n`);
				assert.ok(e <= EIG_TOL, `per-sample λ relErr ${e}`);
			});

			test(`${name}: batch-mean top-5 eigenpairs (auto method) vs eigh`, async () => {
				const { fx, model, x } = get(name);
				const r = await topEigenpairs(model, x, fx.labels, {
					k: 5,
					seed: 3,
					tol: 1e-6,
					maxIter: 60,
					explicitResiduals: true,
					factors: fx.piecewiseLinear ? await factorsOf(name) : undefined,
				});
				const e = relErr(r.eigenvalues, fx.meanTop5.eigenvalues);
				process.stdout.write(`# ${backend} ${name} mean top-5 (${r.method}) relErr ${e.toExponential(2)}, ${r.iterations} its\n`);
				assert.ok(e <= EIG_TOL, `top-5 relErr ${e}`);
				r.eigenvectors.forEach((v, i) => assert.ok(absCos(v, fx.meanTop5.eigenvectors[i]) >= 1 - 1e-3, `eigenvector ${i}: |cos| ${absCos(v, fx.meanTop5.eigenvectors[i])}`));
				assert.equal(r.equalsHessian, true);
			});

			test(`${name}: curvature along a fixed direction`, async () => {
				const { fx, model, x } = get(name);
				const r = await curvatureAlong(model, x, fx.labels, directionVector(784, fx.directions.alongPhase));
				assert.ok(relErr(r.perSample, fx.curvatureAlong) <= HVP_REL_TOL[backend], `relErr ${relErr(r.perSample, fx.curvatureAlong)}`);
			});
		}

		test('tanhMlp: the Gauss–Newton method returns the GN spectrum, flagged as not the Hessian', async () => {
			const { fx, model, x } = get('tanhMlp');
			const r = await topEigenpairs(model, x, fx.labels, { k: 5, method: 'gn', tol: 1e-8 });
			assert.ok(relErr(r.eigenvalues, fx.gnMeanTop5Eigenvalues) <= EIG_TOL);
			assert.equal(r.equalsHessian, false);
		});

		test('mlp: hvp Lanczos (the PyHessian-style path) agrees with the referee', { skip: backend === 'wasm' ? false : `${backend}: 20+ HVPs are too slow here (cpu: plain JS; gpu: software adapter); covered on wasm` }, async () => {
			const { fx, model, x } = get('mlp');
			const r = await topEigenpairs(model, x, fx.labels, { k: 5, method: 'hvp', tol: 1e-5, maxIter: 40 });
			assert.ok(relErr(r.eigenvalues, fx.meanTop5.eigenvalues) <= EIG_TOL, `relErr ${relErr(r.eigenvalues, fx.meanTop5.eigenvalues)}`);
		});
	});
}

