import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { consensusDirection, cos2, denseClusters, median, principalDirection, quantile, robustOutliers, scaledMad } from '../../../../src/analyser/analysis/robust';

describe('median, quantile, MAD', () => {
	test('median of odd and even counts', () => {
		assert.equal(median([3, 1, 2]), 2);
		assert.equal(median([4, 1, 3, 2]), 2.5);
		assert.ok(Number.isNaN(median([])));
	});

	test('quantile interpolates between order statistics (type 7)', () => {
		// numpy.quantile([1, 2, 3, 4, 10], 0.9) = 4 + 0.6 * (10 - 4) = 7.6
		assert.ok(Math.abs(quantile([10, 1, 3, 2, 4], 0.9) - 7.6) < 1e-12);
		assert.equal(quantile([5], 0.5), 5);
		assert.throws(() => quantile([1], 1.5), /q=1.5/);
	});

	test('scaled MAD of a symmetric set', () => {
		// |x − 3| = 2, 1, 0, 1, 2 → median 1 → 1.4826
		assert.ok(Math.abs(scaledMad([1, 2, 3, 4, 5]) - 1.4826) < 1e-12);
	});
});

describe('robustOutliers', () => {
	test('finds a planted high outlier within its own group only', () => {
		// Group 0 has values around 1, group 1 around 100; 5 is an outlier in group 0 but not a global one.
		const values = [1, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01, 5, 100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1];
		const groups = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
		const r = robustOutliers(values, groups, { logScale: false });
		assert.deepEqual(r.outliers, [8]);
		// Hand-computed: group 0 median 1.01, |x − 1.01| sorted → median 0.04 → MAD 0.059304; z = 3.99/0.059304.
		assert.ok(Math.abs((r.z[8]) - 3.99 / 0.059304) < 1e-9);
		assert.equal(r.groups.get(0)?.count, 9);
	});

	test('groups smaller than minGroup are not scored', () => {
		const r = robustOutliers([1, 2, 100], [0, 0, 0], { minGroup: 8 });
		assert.deepEqual(r.outliers, []);
		assert.ok(Number.isNaN(r.z[2]));
	});

	test('identical values never divide by zero', () => {
		const r = robustOutliers(new Array(10).fill(2).concat([3]), new Array(11).fill(0), { logScale: false });
		assert.deepEqual(r.outliers, [10]);
	});

	test('rejects mismatched lengths, naming both', () => {
		assert.throws(() => robustOutliers([1, 2], [0]), /2 values but 1 group labels/);
	});
});

describe('consensusDirection', () => {
	test('recovers a shared direction up to sign among noise, ignoring sign flips', () => {
		const d = 16;
		const trigger = Float64Array.from({ length: d }, (_, i) => (i === 3 || i === 7 ? 1 : 0));
		let s = 7;
		const rand = (): number => {
			s = (s * 1103515245 + 12345) % 2147483648;
			return s / 2147483648 - 0.5;
		};
		const vectors: Float64Array[] = [];
		for (let i = 0; i < 6; i++) {
			const sign = i % 2 === 0 ? 1 : -1;
			vectors.push(Float64Array.from(trigger, (t) => sign * t + 0.05 * rand()));
		}
		for (let i = 0; i < 4; i++) {
			vectors.push(Float64Array.from({ length: d }, () => rand()));
		}
		const r = consensusDirection(vectors);
		assert.ok(r !== null);
		assert.deepEqual([...r.members].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
		assert.ok(cos2(r.direction, trigger) > 0.98, `cos² ${cos2(r.direction, trigger)}`);
		assert.ok(r.coherence > 0.95 && r.coherence <= 1 + 1e-12);
		// Sign convention: the largest entry is positive.
		const maxIdx = r.direction.reduce((best, v, i, a) => (Math.abs(v) > Math.abs(a[best]) ? i : best), 0);
		assert.ok((r.direction[maxIdx]) > 0);
	});

	test('no consensus below minCluster', () => {
		assert.equal(consensusDirection([[1, 0], [0, 1]]), null);
		assert.equal(consensusDirection([]), null);
	});

	test('cos2 is sign-invariant and 0 for a zero vector', () => {
		assert.equal(cos2([1, 0], [-2, 0]), 1);
		assert.equal(cos2([0, 0], [1, 1]), 0);
		assert.ok(Math.abs(cos2([1, 1], [1, 0]) - 0.5) < 1e-15);
	});
});

describe('denseClusters and principalDirection', () => {
	test('greedy disjoint clusters, largest first, ties to the lowest index', () => {
		// Nodes 0-3 form a clique, 4-6 another, 7 is alone.
		const n = 8;
		const adj = new Uint8Array(n * n);
		const link = (group: number[]): void => group.forEach((i) => group.forEach((j) => (adj[i * n + j] = 1)));
		link([0, 1, 2, 3]);
		link([4, 5, 6]);
		adj[7 * n + 7] = 1;
		assert.deepEqual(denseClusters(adj, n), [[0, 1, 2, 3], [4, 5, 6]]);
		assert.deepEqual(denseClusters(adj, n, { minCluster: 4 }), [[0, 1, 2, 3]]);
		assert.deepEqual(denseClusters(adj, n, { maxClusters: 1 }), [[0, 1, 2, 3]]);
		assert.throws(() => denseClusters(adj, 7), /64 entries, expected 7×7/);
	});

	test('principal direction of ±copies of one vector is that vector, positive at its largest entry', () => {
		const r = principalDirection([[0, -2, 1], [0, 4, -2], [0, -1, 0.5]]);
		const expected = [0, 2 / Math.sqrt(5), -1 / Math.sqrt(5)];
		r.direction.forEach((v, i) => assert.ok(Math.abs(v - (expected[i])) < 1e-12));
		assert.ok(Math.abs(r.coherence - 1) < 1e-12);
	});
});
