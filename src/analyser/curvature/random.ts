/** Seeded random numbers for start vectors and probes (every draw in this module is seeded). */
import { mulberry32 } from '../../protocol/trigger';

/** mulberry32 (the project's one seeded generator): small, fast, 32-bit state; plenty for start vectors. Returns a [0, 1) generator. */
export function uniformGenerator(seed: number): () => number {
	if (!Number.isFinite(seed)) {
		throw new Error(`seed must be a finite number, got ${seed}`);
	}
	return mulberry32(Math.floor(seed));
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
