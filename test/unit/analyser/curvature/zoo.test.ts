/**
 * The model zoo against the PyTorch float64 referee: every model of test/fixtures/zoo (made by
 * test/reference/zoo/makeZoo.ts, refereed by test/reference/zoo/make_zoo_fixtures.py) is loaded exactly as
 * the analyser loads a checkpoint, and on cpu and wasm:
 * - per-sample Hessian-vector products along fixed directions match the referee (relative L2);
 * - the top-5 eigenvalues of the batch-mean input Hessian (double-backprop HVPs + Lanczos) match;
 * - the analyser's default method (structured Gauss–Newton on piecewise-linear nets) gives the same top-5
 *   (Gauss–Newton = Hessian there: the referee's ‖G − H‖/‖H‖ is at rounding level), and on smooth nets the
 *   Gauss–Newton spectrum matches the referee's Gauss–Newton spectrum;
 * - the layer table's piecewise-linear flag agrees with the referee's.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { installGradientFixes } from '../../../../src/tfjs/gradients';
import { InputHessianOperator, logitModelFromLayers, topEigenpairs } from '../../../../src/analyser/curvature/index';
import { autoCurvatureMethod } from '../../../../src/analyser/curvature/api';
import { relErr, useBackend, type TestBackend } from '../../tfjs/backendHarness';

installGradientFixes();

const ZOO = path.join(__dirname, '..', '..', '..', 'fixtures', 'zoo');
/** Budgets (relative L2 against float64). */
const TOL = { hvp: 1e-5, eig: 1e-5 };

interface Reference {
	piecewiseLinear: boolean;
	hvp: number[];
	meanTop5: { eigenvalues: number[] };
	gnMeanTop5Eigenvalues: number[];
	gnVsHessianRelErr: number;
}

interface Meta {
	itemShape: number[];
	numClasses: number;
	probes: number;
	labels: number[];
}

async function load(dir: string): Promise<tf.LayersModel> {
	const spec = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
	const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
	const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
	return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: spec.modelTopology, weightSpecs: spec.weightsManifest[0].weights, weightData }));
}

function directions(rows: number, cols: number, phase: number): Float64Array {
	return Float64Array.from({ length: rows * cols }, (_, k) => Math.fround(Math.sin(phase + 0.37 * k)));
}

const names = fs.existsSync(ZOO) ? fs.readdirSync(ZOO).filter((n) => fs.existsSync(path.join(ZOO, n, 'reference.json'))).sort() : [];

for (const backend of ['cpu', 'wasm'] as TestBackend[]) {
	describe(`model zoo vs float64 referee on ${backend}`, () => {
		before(() => useBackend(backend));
		test('the zoo is there', () => assert.ok(names.length >= 11, `only ${names.length} zoo models with reference.json`));
		for (const name of names) {
			test(name, async () => {
				const dir = path.join(ZOO, name);
				const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
				const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as Meta;
				const model = await load(dir);
				const lm = logitModelFromLayers(model, name);
				assert.equal(lm.piecewiseLinear, ref.piecewiseLinear, 'piecewise-linear flag differs from the referee');
				if (ref.piecewiseLinear) {
					assert.ok(ref.gnVsHessianRelErr < 1e-10, `referee GN vs H ${ref.gnVsHessianRelErr}`);
				}
				const d = meta.itemShape.reduce((a, c) => a * c, 1);
				const raw = fs.readFileSync(path.join(dir, 'probes.bin'));
				const xs = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
				const x = tf.tensor(xs, [meta.probes, ...meta.itemShape]);
				const before = tf.memory().numTensors;
				const per = new InputHessianOperator(lm, x, meta.labels, 'perSample');
				const hv = await per.matvec(directions(meta.probes, d, 0.5));
				per.dispose();
				const hvpErr = relErr(hv, ref.hvp);
				const exact = await topEigenpairs(lm, x, meta.labels, { k: 5, method: 'hvp', tol: 1e-7 });
				const eigErr = relErr(exact.eigenvalues, ref.meanTop5.eigenvalues);
				// auto resolves to hvp on smooth nets: then it is the run above (same code path), not run twice.
				const auto = autoCurvatureMethod(lm) === 'hvp' ? exact : await topEigenpairs(lm, x, meta.labels, { k: 5, tol: 1e-8 });
				const autoRef = auto.method === 'hvp' || ref.piecewiseLinear ? ref.meanTop5.eigenvalues : ref.gnMeanTop5Eigenvalues;
				const autoErr = relErr(auto.eigenvalues, autoRef);
				const gn = await topEigenpairs(lm, x, meta.labels, { k: 5, method: 'gn', tol: 1e-8 });
				const gnErr = relErr(gn.eigenvalues, ref.gnMeanTop5Eigenvalues);
				assert.equal(tf.memory().numTensors, before, 'leaked tensors');
				process.stdout.write(
					`# zoo ${backend} ${name}: HVP ${hvpErr.toExponential(2)}, top-5 hvp ${eigErr.toExponential(2)} (${exact.iterations} steps), ${auto.method} ${autoErr.toExponential(2)}, gn ${gnErr.toExponential(2)}\n`,
				);
				tf.dispose(x);
				lm.dispose();
				model.dispose();
				assert.ok(hvpErr <= TOL.hvp, `HVP relErr ${hvpErr}`);
				assert.ok(eigErr <= TOL.eig, `top-5 (hvp) relErr ${eigErr}: ${exact.eigenvalues.join(', ')} vs ${ref.meanTop5.eigenvalues.join(', ')}`);
				assert.ok(autoErr <= TOL.eig, `top-5 (${auto.method}) relErr ${autoErr}`);
				assert.ok(gnErr <= TOL.eig, `Gauss–Newton top-5 relErr ${gnErr}`);
			});
		}
	});
}
