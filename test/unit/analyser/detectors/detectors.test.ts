import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spectralSignatures } from '../../../../src/analyser/detectors/spectralSignatures';
import { activationClustering, pcaReduce, silhouette, twoMeans } from '../../../../src/analyser/detectors/activationClustering';
import { crossEntropyRows, lossIsolation } from '../../../../src/analyser/detectors/lossIsolation';
import { entropyRows, strip, stripBoundary } from '../../../../src/analyser/detectors/strip';
import { centredRows } from '../../../../src/analyser/detectors/common';
import { mulberry32 as seededRandom } from '../../../../src/math/random';

/** numpy float64 reference values (test/reference/detectors_reference.py). */
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../fixtures/detectors/reference.json'), 'utf8')) as {
	spectral: { reps: number[]; labels: number[]; n: number; d: number; scores: number[]; gaps: number[] };
	cluster: { x: number[]; m: number; d: number; k: number; abs_z: number[]; assign: number[]; silhouette: number };
	probs: { p: number[]; n: number; classes: number; labels: number[]; entropy: number[]; ce: number[] };
};

function close(a: number, b: number, tol: number, what: string): void {
	assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

function gaussian(rand: () => number): number {
	return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** n rows of dimension d per class; `planted` rows of class `target` shifted by `shift` along the last axis. */
function planted(perClass: number, classes: number, d: number, target: number, plantedRows: number, shift: number, seed: number): { x: Float64Array; labels: Int32Array; poison: Set<number> } {
	const rand = seededRandom(seed);
	const n = perClass * classes;
	const x = new Float64Array(n * d);
	const labels = new Int32Array(n);
	const poison = new Set<number>();
	for (let i = 0; i < n; i++) {
		labels[i] = Math.floor(i / perClass);
		for (let j = 0; j < d; j++) {
			x[i * d + j] = gaussian(rand) + (j === labels[i] % d ? 3 : 0);
		}
	}
	for (let k = 0; k < plantedRows; k++) {
		const i = target * perClass + k;
		x[i * d + d - 1] += shift;
		poison.add(i);
	}
	return { x, labels, poison };
}

describe('Spectral Signatures (Tran et al. 2018)', () => {
	test('squared projections and σ1²/σ2² match numpy SVD', () => {
		const r = spectralSignatures(ref.spectral.reps, ref.spectral.n, ref.spectral.d, ref.spectral.labels, { minClass: 2 });
		ref.spectral.scores.forEach((s, i) => close(r.rowScores[i], s, 2e-5, `score ${i}`));
		close(r.runScore, Math.max(...ref.spectral.gaps), 2e-5, 'run score');
	});
	test('removes 1.5·ε·n_c rows per label, and they are the planted ones', () => {
		const { x, labels, poison } = planted(200, 3, 6, 1, 6, 12, 3);
		const r = spectralSignatures(x, 600, 6, labels, { epsilon: 0.02 });
		assert.equal(r.flagged.length, 3 * Math.floor(1.5 * 0.02 * 200));
		const top = [...r.flagged].sort((a, b) => r.rowScores[b] - r.rowScores[a]).slice(0, 6);
		assert.deepEqual(new Set(top), poison);
		assert.ok(r.alarm, 'a planted direction makes σ1²/σ2² large');
	});
	test('refuses mismatched sizes', () => {
		assert.throws(() => spectralSignatures(new Float64Array(10), 3, 4, [0, 0, 0]), /10 values/);
	});
});

describe('Activation Clustering (Chen et al. 2018)', () => {
	test('PCA projections (up to sign) and the silhouette match numpy', () => {
		const { m, d, k } = ref.cluster;
		const { z, k: kk } = pcaReduce(centredRows(ref.cluster.x, d, Array.from({ length: m }, (_, i) => i)), m, d, k);
		assert.equal(kk, k);
		// topDirections stops at ‖Δv‖ < 1e-6 (signature.ts); with a small gap after the 3rd component the error grows to ~1e-5.
		ref.cluster.abs_z.forEach((v, i) => close(Math.abs(z[i]), v, 1e-4, `|z| ${i}`));
		close(silhouette(z, m, k, Uint8Array.from(ref.cluster.assign)), ref.cluster.silhouette, 1e-5, 'silhouette');
	});
	test('2-means splits two separated groups exactly', () => {
		const { m, d, k } = ref.cluster;
		const { z } = pcaReduce(centredRows(ref.cluster.x, d, Array.from({ length: m }, (_, i) => i)), m, d, k);
		const { assign } = twoMeans(z, m, k, seededRandom(5));
		const same = assign.every((a, i) => a === ref.cluster.assign[i]) || assign.every((a, i) => a !== ref.cluster.assign[i]);
		assert.ok(same, 'assignment equals the planted split up to swapping the cluster names');
	});
	test('flags the small cluster of the poisoned label, not of the clean ones, and alarms', () => {
		const { x, labels, poison } = planted(150, 3, 12, 2, 20, 14, 9);
		const r = activationClustering(x, 450, 12, labels);
		for (const i of poison) {
			assert.ok(r.flagged.includes(i), `planted row ${i} flagged`);
		}
		const cls = r.classes.find((c) => c.label === 2);
		close(cls?.relativeSize ?? NaN, 20 / 150, 1e-12, 'relative size');
		assert.ok(r.alarm);
		assert.ok(r.runScore > 0.3, `run score ${r.runScore}`);
	});
	test('a single Gaussian blob per label does not alarm', () => {
		const { x, labels } = planted(150, 3, 12, 0, 0, 0, 4);
		const r = activationClustering(x, 450, 12, labels);
		assert.equal(r.alarm, false, JSON.stringify(r.classes));
	});
});

describe('loss isolation (ABL, Li et al. 2021)', () => {
	test('per-row cross-entropy matches numpy', () => {
		const ce = crossEntropyRows(ref.probs.p, ref.probs.n, ref.probs.classes, ref.probs.labels);
		ref.probs.ce.forEach((v, i) => close(ce[i], v, 1e-12, `ce ${i}`));
	});
	test('isolates the lowest-loss 1 %, averaged over checkpoints, and measures label concentration', () => {
		const n = 400;
		const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
		const l1 = Float64Array.from({ length: n }, (_, i) => 1 + (i % 7) / 10);
		const l2 = Float64Array.from(l1);
		// Rows 0, 4, 8, 12 (label 0) have the lowest mean loss.
		for (const i of [0, 4, 8, 12]) {
			l1[i] = 0.01;
			l2[i] = 0.03;
		}
		const r = lossIsolation([l1, l2], labels);
		assert.deepEqual([...r.flagged].sort((a, b) => a - b), [0, 4, 8, 12]);
		close(r.rowScores[0], -0.02, 1e-12, 'row score');
		close(r.runScore, 1 - 0.25, 1e-12, 'concentration: all isolated rows in label 0 (share 0.25)');
		assert.ok(r.alarm);
	});
});

describe('STRIP (Gao et al. 2019)', () => {
	test('entropies match numpy', () => {
		const h = entropyRows(ref.probs.p, ref.probs.n, ref.probs.classes);
		ref.probs.entropy.forEach((v, i) => close(h[i], v, 1e-12, `entropy ${i}`));
	});
	test('the boundary is μ − 2.326σ of the clean entropies (sample σ)', () => {
		close(stripBoundary([1, 2, 3, 4]), 2.5 - 2.3263478740408408 * Math.sqrt(5 / 3), 1e-12, 'boundary');
	});
	test('flags low-entropy rows and alarms when one label has many', () => {
		const clean = Array.from({ length: 100 }, (_, i) => 1.5 + ((i % 10) - 4.5) / 20);
		const rows = Float64Array.from({ length: 200 }, (_, i) => (i < 20 ? 0.05 : 1.5));
		const labels = Int32Array.from({ length: 200 }, (_, i) => (i < 40 ? 0 : 1 + (i % 3)));
		const r = strip(rows, clean, labels);
		assert.deepEqual([...r.flagged].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
		close(r.runScore, 0.5, 1e-12, 'half of label 0 below the boundary');
		assert.ok(r.alarm);
		const quiet = strip(Float64Array.from({ length: 200 }, () => 1.5), clean, labels);
		assert.equal(quiet.alarm, false);
	});
});
