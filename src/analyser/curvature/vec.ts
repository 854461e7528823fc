/** Float64 vector helpers used by the algorithms (kept tiny and allocation-explicit). */

export function dot(a: Float64Array, b: Float64Array, offset = 0, length = a.length): number {
	let s = 0;
	for (let i = offset; i < offset + length; i++) {
		s += a[i] * b[i];
	}
	return s;
}

export function norm(a: Float64Array, offset = 0, length = a.length): number {
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
