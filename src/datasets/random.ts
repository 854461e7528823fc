/** Seeded pseudo-random numbers, so every scan of the same file gives the same findings. Pure module. */

/** The project's one seeded generator (mulberry32), shared with the run format. */
export { mulberry32 } from '../protocol/trigger';

/** Standard normal draws (Box-Muller) from a uniform generator. */
export function gaussian(uniform: () => number): () => number {
	return () => {
		const u = Math.max(uniform(), 1e-300);
		return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
	};
}

/** `count` distinct indices from [0, n), in random order (partial Fisher-Yates). */
export function sampleIndices(n: number, count: number, uniform: () => number): Int32Array {
	const k = Math.min(n, count);
	const perm = new Int32Array(n);
	for (let i = 0; i < n; i++) {
		perm[i] = i;
	}
	for (let i = 0; i < k; i++) {
		const j = i + Math.floor(uniform() * (n - i));
		const t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	return perm.slice(0, k);
}
