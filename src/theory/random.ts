import { TheoryError, formatValue } from './errors';

/** A seeded stream of uniform and normal float64 draws. */
export interface SeededRandom {
	/** Uniform on [0, 1). */
	uniform(): number;
	/** Standard normal (Box–Muller). */
	normal(): number;
}

/**
 * A small seeded generator (SplitMix32 state update feeding Box–Muller) so that every synthetic
 * data set in the theory module is reproducible across machines; `Math.random` is never used.
 * Not cryptographic.
 *
 * @param seed a non-negative safe integer
 * @throws TheoryError for a non-integer or negative seed
 */
export function seededRandom(seed: number): SeededRandom {
	if (!Number.isSafeInteger(seed) || seed < 0) {
		throw new TheoryError(`seededRandom: seed must be a non-negative safe integer, got ${formatValue(seed)}`);
	}
	let state = (seed ^ 0x9e3779b9) >>> 0;
	const next32 = (): number => {
		state = (state + 0x9e3779b9) >>> 0;
		let z = state;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
		return (z ^ (z >>> 16)) >>> 0;
	};
	// 53-bit uniform from two 32-bit words, so log(u) in Box–Muller never sees a coarse grid.
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
		const v = uniform();
		const radius = Math.sqrt(-2 * Math.log(u));
		spare = radius * Math.sin(2 * Math.PI * v);
		return radius * Math.cos(2 * Math.PI * v);
	};
	return { uniform, normal };
}
