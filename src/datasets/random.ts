/** Seeded pseudo-random numbers, so every scan of the same file gives the same findings. Pure module. */

/** A mulberry32 generator: returns a function giving uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

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
