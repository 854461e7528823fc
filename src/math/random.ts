/**
 * Seeded random numbers for the whole project (SDK, analyser, datasets, theory, benches). Pure; `Math.random` is
 * never used, so every run, scan and experiment is reproducible across machines.
 *
 * Two generators, on purpose:
 * - {@link mulberry32}: 32-bit state, 32-bit uniforms. The run format relies on it (attack row choices, trigger
 *   seeds, probe subsets), so its stream must never change.
 * - {@link seededRandom}: SplitMix32 words joined into 53-bit uniforms, so that `log(u)` in Box–Muller never sees
 *   the coarse 2⁻³² grid; the theory module's Monte-Carlo sets use it (and its published figures depend on it).
 * One Box–Muller transform ({@link boxMuller}) serves both.
 */

/**
 * Seeded 32-bit PRNG (mulberry32). Deterministic across platforms, which the run format relies on.
 * @returns a function giving uniform numbers in [0, 1)
 */
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

/** Mixes a seed and an index into a new 32-bit seed, so item i's draws do not depend on batch boundaries. */
export function mixSeed(seed: number, index: number): number {
	let h = (seed ^ Math.imul(index + 0x9e3779b9, 0x85ebca6b)) >>> 0;
	h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
	h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
	return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The Box–Muller transform: two independent standard normals from two uniforms.
 * @param u in (0, 1] (the radius uses log u)
 * @param v in [0, 1) (the angle)
 * @returns [√(−2 ln u)·cos 2πv, √(−2 ln u)·sin 2πv]
 */
export function boxMuller(u: number, v: number): [number, number] {
	const r = Math.sqrt(-2 * Math.log(u));
	const t = 2 * Math.PI * v;
	return [r * Math.cos(t), r * Math.sin(t)];
}

/** Standard normal draws from a uniform generator (one Box–Muller pair per draw, the cosine half kept). */
export function gaussian(uniform: () => number): () => number {
	return () => boxMuller(Math.max(uniform(), 1e-300), uniform())[0];
}

/** mulberry32 from a finite seed (floored): the generator for start vectors and probes. Returns a [0, 1) generator. */
export function uniformGenerator(seed: number): () => number {
	if (!Number.isFinite(seed)) {
		throw new Error(`seed must be a finite number, got ${seed}`);
	}
	return mulberry32(Math.floor(seed));
}

/** Standard normal vector of length n (both halves of each Box–Muller pair used). */
export function gaussianVector(n: number, seed: number): Float64Array {
	const u = uniformGenerator(seed);
	const out = new Float64Array(n);
	for (let i = 0; i < n; i += 2) {
		const [a, b] = boxMuller(1 - u(), u());
		out[i] = a;
		if (i + 1 < n) {
			out[i + 1] = b;
		}
	}
	return out;
}

/** Rademacher (±1) vector of length n. */
export function rademacherVector(n: number, u: () => number): Float64Array {
	const out = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		out[i] = u() < 0.5 ? -1 : 1;
	}
	return out;
}

/** `count` distinct indices from [0, n), in random order (partial Fisher–Yates). */
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

/** A seeded stream of uniform and normal float64 draws. */
export interface SeededRandom {
	/** Uniform on [0, 1), 53 random bits. */
	uniform(): number;
	/** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
	normal(): number;
}

/**
 * SplitMix32 words joined into 53-bit uniforms, with Box–Muller normals. Not cryptographic.
 * @param seed a non-negative safe integer
 * @throws RangeError for a non-integer or negative seed
 */
export function seededRandom(seed: number): SeededRandom {
	if (!Number.isSafeInteger(seed) || seed < 0) {
		throw new RangeError(`seededRandom: seed must be a non-negative safe integer, got ${String(seed)}`);
	}
	let state = (seed ^ 0x9e3779b9) >>> 0;
	const next32 = (): number => {
		state = (state + 0x9e3779b9) >>> 0;
		let z = state;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
		return (z ^ (z >>> 16)) >>> 0;
	};
	const uniform = (): number => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
	let spare: number | undefined;
	const normal = (): number => {
		if (spare !== undefined) {
			const s = spare;
			spare = undefined;
			return s;
		}
		let u = uniform();
		while (u === 0) {
			u = uniform();
		}
		const [c, s] = boxMuller(u, uniform());
		spare = s;
		return c;
	};
	return { uniform, normal };
}
