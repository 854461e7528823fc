/** Seeded random numbers for start vectors and probes (every draw in this module is seeded). */

/** mulberry32: small, fast, 32-bit state; plenty for start vectors. Returns a [0, 1) generator. */
export function uniformGenerator(seed: number): () => number {
	if (!Number.isFinite(seed)) {
		throw new Error(`seed must be a finite number, got ${seed}`);
	}
	let s = Math.floor(seed) >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Standard normal vector (Box–Muller) of length n. */
export function gaussianVector(n: number, seed: number): Float64Array {
	const u = uniformGenerator(seed);
	const out = new Float64Array(n);
	for (let i = 0; i < n; i += 2) {
		const r = Math.sqrt(-2 * Math.log(1 - u()));
		const t = 2 * Math.PI * u();
		out[i] = r * Math.cos(t);
		if (i + 1 < n) {
			out[i + 1] = r * Math.sin(t);
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
