/**
 * Loads the committed float64 referee fixtures (test/fixtures/reference/<model>/, written by
 * test/reference/make_fixtures.py) and the tfjs models they were computed for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readMnist, toUnit } from '../../../reference/mnist';
import { readCheckpoint } from '../../../../src/protocol/runFormat';

export const REFERENCE_DIR = path.join(__dirname, '..', '..', '..', 'fixtures', 'reference');
export type ReferenceModelName = 'cnn' | 'mlp' | 'tanhMlp';

/** The JSON written by make_fixtures.py (numbers in float64). */
export interface ReferenceFixture {
	readonly model: string;
	readonly piecewiseLinear: boolean;
	readonly mnist: { split: 't10k'; start: number; count: number };
	readonly labels: number[];
	readonly directions: { phase: number; alongPhase: number };
	readonly loss: number;
	readonly perSampleLoss: number[];
	readonly inputGradient: number[];
	readonly hvp: number[];
	readonly perSampleTopEigenvalues: number[][];
	readonly meanTop5: { eigenvalues: number[]; eigenvectors: number[][] };
	readonly meanSpectrumNext: number[];
	readonly gnMeanTop5Eigenvalues: number[];
	readonly gnVsHessianRelErr: number;
	readonly curvatureAlong: number[];
	readonly meanTrace: number;
}

export function loadFixture(name: ReferenceModelName): ReferenceFixture {
	const file = path.join(REFERENCE_DIR, name, 'reference.json');
	return JSON.parse(fs.readFileSync(file, 'utf8')) as ReferenceFixture;
}

/** Loads test/fixtures/reference/<name>/ (model.json + weights.bin, the run format's checkpoint layout). */
export async function loadReferenceModel(name: ReferenceModelName): Promise<tf.LayersModel> {
	const a = await readCheckpoint(path.join(REFERENCE_DIR, name));
	return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology as object, weightSpecs: a.weightSpecs, weightData: a.weightData }));
}

/** The fixture's MNIST batch as a [n, 28, 28, 1] tensor (caller disposes). */
export function fixtureInputs(f: ReferenceFixture): tf.Tensor4D {
	const { pixels } = readMnist(f.mnist.split, f.mnist.start, f.mnist.count);
	return tf.tensor4d(toUnit(pixels), [f.mnist.count, 28, 28, 1]);
}

/** float32(sin(phase + 0.37 k)), k = 0..n−1, widened to float64: the referee's directions. */
export function directionVector(n: number, phase: number): Float64Array {
	const out = new Float64Array(n);
	for (let k = 0; k < n; k++) {
		out[k] = Math.fround(Math.sin(phase + 0.37 * k));
	}
	return out;
}
