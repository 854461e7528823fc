import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { bestSplit, inputGradients, spectralSignature, topDirections } from '../../../../src/analyser/analysis/signature';
import { spreadCheckpoints } from '../../../../src/analyser/analysis/rowScores';
import { symmetricEigen } from '../../../../src/math/linalg/symmetricEigen';
import { mulberry32 } from '../../../../src/math/random';

function gaussian(rand: () => number): number {
	return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

describe('spectral signature: linear algebra against explicit decompositions', () => {
	test('topDirections gives the top eigenpairs of CᵀC (explicit symmetric eigendecomposition)', () => {
		const rand = mulberry32(11);
		const rows = 40;
		const d = 7;
		const c = Float64Array.from({ length: rows * d }, () => gaussian(rand));
		// Spread the spectrum so the power iteration converges to a unique answer.
		for (let i = 0; i < rows; i++) {
			for (let j = 0; j < d; j++) {
				c[i * d + j] *= 1 + j;
			}
		}
		const ctc = new Float64Array(d * d);
		for (let i = 0; i < rows; i++) {
			for (let a = 0; a < d; a++) {
				for (let b = 0; b < d; b++) {
					ctc[a * d + b] += c[i * d + a] * c[i * d + b];
				}
			}
		}
		const ref = symmetricEigen({ rows: d, cols: d, data: ctc });
		const got = topDirections(c, rows, d, 3, 2000);
		assert.equal(got.length, 3);
		got.forEach(({ v, sigma2 }, q) => {
			assert.ok(Math.abs(sigma2 - ref.eigenvalues[q]) <= 1e-9 * ref.eigenvalues[0], `λ${q + 1}: ${sigma2} vs ${ref.eigenvalues[q]}`);
			let cos = 0;
			for (let j = 0; j < d; j++) {
				cos += v[j] * ref.eigenvectors.data[j * d + q];
			}
			assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-8, `direction ${q + 1}: |cos| = ${Math.abs(cos)}`);
		});
	});

	test('bestSplit finds the cut a brute-force search over all admissible cuts finds', () => {
		const rand = mulberry32(5);
		for (let trial = 0; trial < 20; trial++) {
			const n = 30 + Math.floor(rand() * 40);
			const xs = Array.from({ length: n }, () => gaussian(rand) + (rand() < 0.15 ? 4 : 0));
			const minGroup = 2 + (trial % 3);
			const maxFraction = 0.35;
			const sorted = [...xs].sort((a, b) => a - b);
			let want = { separation: 0, threshold: NaN };
			for (let k = 1; k < n; k++) {
				const small = Math.min(k, n - k);
				if (small < minGroup || small > Math.floor(maxFraction * n)) {
					continue;
				}
				const lo = sorted.slice(0, k);
				const hi = sorted.slice(k);
				const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
				const ml = mean(lo);
				const mh = mean(hi);
				const within = (lo.reduce((s, x) => s + (x - ml) ** 2, 0) + hi.reduce((s, x) => s + (x - mh) ** 2, 0)) / (n - 2);
				const sep = (mh - ml) ** 2 / within;
				if (sep > want.separation) {
					want = { separation: sep, threshold: (sorted[k - 1] + sorted[k]) / 2 };
				}
			}
			const got = bestSplit(xs, minGroup, maxFraction);
			assert.ok(Math.abs(got.separation - want.separation) <= 1e-9 * want.separation, `trial ${trial}: S ${got.separation} vs ${want.separation}`);
			assert.equal(got.threshold, want.threshold);
			assert.equal(got.low + got.high, n);
		}
	});

	test('bestSplit of constant or tiny inputs separates nothing', () => {
		assert.equal(bestSplit([1, 1, 1, 1, 1, 1], 1, 0.5).separation, 0);
		assert.equal(bestSplit([], 1, 0.5).separation, 0);
		assert.equal(bestSplit([0, 1, 2], 2, 0.35).separation, 0);
	});
});

/** n rows of isotropic noise per class; in `poisonClass`, the first `poisons` rows also get `amp`·u. */
function planted(opts: { classes: number; perClass: number; d: number; poisons: number; amp: number; poisonClass: number; seed: number }): { x: Float32Array; labels: Int32Array; truth: Set<number> } {
	const rand = mulberry32(opts.seed);
	const n = opts.classes * opts.perClass;
	const x = new Float32Array(n * opts.d);
	const labels = new Int32Array(n);
	const u = Float64Array.from({ length: opts.d }, () => gaussian(rand));
	const nu = Math.hypot(...u);
	const truth = new Set<number>();
	for (let i = 0; i < n; i++) {
		const cls = i % opts.classes;
		labels[i] = cls;
		for (let j = 0; j < opts.d; j++) {
			x[i * opts.d + j] = gaussian(rand) + (j === cls ? 3 : 0);
		}
		if (cls === opts.poisonClass && truth.size < opts.poisons) {
			truth.add(i);
			for (let j = 0; j < opts.d; j++) {
				x[i * opts.d + j] += (opts.amp * u[j]) / nu;
			}
		}
	}
	return { x, labels, truth };
}

describe('spectral signature: planted clusters', () => {
	test('flags exactly a planted shared direction in one class and nothing in the others', () => {
		const p = planted({ classes: 3, perClass: 300, d: 24, poisons: 20, amp: 12, poisonClass: 1, seed: 3 });
		const r = spectralSignature(p.x, 900, 24, p.labels, { normalise: false });
		assert.deepEqual([...r.flagged].sort((a, b) => a - b), [...p.truth].sort((a, b) => a - b));
		const byLabel = new Map(r.classes.map((c) => [c.label, c]));
		assert.equal(byLabel.get(1)?.flagged, 20);
		assert.equal(byLabel.get(0)?.flagged, 0);
		assert.equal(byLabel.get(2)?.flagged, 0);
		assert.ok((byLabel.get(1)?.separation ?? 0) >= r.minSeparation);
		for (const c of [byLabel.get(0), byLabel.get(2)]) {
			assert.ok((c?.separation ?? Infinity) < r.minSeparation, `clean class S ${c?.separation}`);
		}
		// Scores: every flagged row scores above every unflagged row of its class.
		const minFlag = Math.min(...r.flagged.map((i) => r.score[i]));
		for (let i = 0; i < 900; i++) {
			if (p.labels[i] === 1 && !p.truth.has(i)) {
				assert.ok(r.score[i] < minFlag);
			}
		}
	});

	test('a weak planted direction (below the separation threshold) flags nothing', () => {
		const p = planted({ classes: 2, perClass: 300, d: 24, poisons: 20, amp: 1, poisonClass: 0, seed: 4 });
		const r = spectralSignature(p.x, 600, 24, p.labels, { normalise: false });
		assert.equal(r.flagged.length, 0);
	});

	test('a cluster holding more than maxFraction of its class is not flagged', () => {
		const p = planted({ classes: 1, perClass: 100, d: 10, poisons: 45, amp: 12, poisonClass: 0, seed: 6 });
		assert.equal(spectralSignature(p.x, 100, 10, p.labels, { normalise: false }).flagged.length, 0);
		assert.equal(spectralSignature(p.x, 100, 10, p.labels, { normalise: false, maxFraction: 0.5 }).flagged.length, 45);
	});

	test('with normalise (the default), rescaling rows changes nothing', () => {
		const p = planted({ classes: 2, perClass: 200, d: 16, poisons: 15, amp: 20, poisonClass: 0, seed: 8 });
		const scaled = Float32Array.from(p.x, (v, k) => v * (1 + (Math.floor(k / 16) % 7)));
		const a = spectralSignature(p.x, 400, 16, p.labels);
		const b = spectralSignature(scaled, 400, 16, p.labels);
		assert.deepEqual(a.flagged, b.flagged);
		assert.ok(a.flagged.length > 0);
	});

	test('small classes are not scored; bad sizes are refused by name', () => {
		const r = spectralSignature(new Float32Array(5 * 3).map((_, i) => i % 4), 5, 3, [0, 0, 0, 1, 1]);
		assert.equal(r.flagged.length, 0);
		assert.ok(r.classes.every((c) => c.direction === -1));
		assert.throws(() => spectralSignature(new Float32Array(6), 3, 3, [0, 0, 0]), /6 values for 3 rows of 3/);
		assert.throws(() => spectralSignature(new Float32Array(9), 3, 3, [0, 0]), /3 rows but 2 labels/);
	});
});

describe('row scores: helpers', () => {
	test('inputGradients of a linear softmax model equal W(p − y) (closed form)', async () => {
		await tf.setBackend('cpu');
		const rand = mulberry32(2);
		const d = 5;
		const c = 3;
		const n = 7;
		const w = Float32Array.from({ length: d * c }, () => gaussian(rand));
		const x = Float32Array.from({ length: n * d }, () => gaussian(rand));
		const labels = Int32Array.from({ length: n }, (_, i) => i % c);
		const wt = tf.tensor2d(w, [d, c]);
		const g = await inputGradients((xi) => tf.matMul(xi.reshape([-1, d]), wt), x, labels, [d], c, 3);
		wt.dispose();
		for (let i = 0; i < n; i++) {
			const z = Array.from({ length: c }, (_, k) => x.slice(i * d, (i + 1) * d).reduce((s, v, j) => s + v * w[j * c + k], 0));
			const mz = Math.max(...z);
			const e = z.map((v) => Math.exp(v - mz));
			const se = e.reduce((a, b) => a + b, 0);
			const r = e.map((v, k) => v / se - (k === labels[i] ? 1 : 0));
			for (let j = 0; j < d; j++) {
				const want = r.reduce((s, rk, k) => s + w[j * c + k] * rk, 0);
				assert.ok(Math.abs(g[i * d + j] - want) < 1e-5, `row ${i} col ${j}: ${g[i * d + j]} vs ${want}`);
			}
		}
	});

	test('spreadCheckpoints keeps the newest, skips step 0 and caps the count', () => {
		assert.deepEqual(spreadCheckpoints([0], 8), [0]);
		assert.deepEqual(spreadCheckpoints([0, 50, 100], 8), [50, 100]);
		const steps = Array.from({ length: 22 }, (_, i) => i * 50);
		const s = spreadCheckpoints(steps, 8);
		assert.equal(s.length, 8);
		assert.equal(s[s.length - 1], 1050);
		assert.ok(!s.includes(0));
		assert.deepEqual(s, [...s].sort((a, b) => a - b));
	});
});
