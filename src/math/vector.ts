/** The project's small vector helpers (float64 results, allocation-explicit). Pure. */

/** Σ a[i]·b[i] over [offset, offset + length); the caller guarantees the lengths. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>, offset = 0, length = a.length): number {
	let s = 0;
	for (let i = offset; i < offset + length; i++) {
		s += a[i] * b[i];
	}
	return s;
}

export function norm(a: ArrayLike<number>, offset = 0, length = a.length): number {
	return Math.sqrt(dot(a, a, offset, length));
}

/** y ← y + alpha·x (in place on y, which is returned). */
export function axpy(alpha: number, x: Float64Array, y: Float64Array): Float64Array {
	for (let i = 0; i < y.length; i++) {
		y[i] += alpha * x[i];
	}
	return y;
}

export function scaled(a: Float64Array, s: number): Float64Array {
	const out = new Float64Array(a.length);
	for (let i = 0; i < a.length; i++) {
		out[i] = a[i] * s;
	}
	return out;
}
