/** Thrown for invalid input to the KRR theory module; the message names the option and its value. */
export class TheoryError extends Error {
	override readonly name = 'TheoryError';
}

/** Formats a value for an error message. */
export function formatValue(value: unknown): string {
	if (typeof value === 'number') {
		return String(value);
	}
	if (typeof value === 'string') {
		return JSON.stringify(value);
	}
	if (value instanceof Float64Array) {
		return `Float64Array(${value.length})`;
	}
	if (Array.isArray(value)) {
		return `array(${value.length})`;
	}
	return typeof value;
}

/** Throws unless `value` is a finite number (optionally > 0 or ≥ 0). */
export function checkNumber(where: string, name: string, value: number, constraint: 'finite' | 'positive' | 'nonNegative' = 'finite'): void {
	const ok = Number.isFinite(value) && (constraint === 'finite' || (constraint === 'positive' ? value > 0 : value >= 0));
	if (!ok) {
		const what = constraint === 'finite' ? 'a finite number' : constraint === 'positive' ? 'a positive finite number' : 'a non-negative finite number';
		throw new TheoryError(`${where}: ${name} must be ${what}, got ${formatValue(value)}`);
	}
}

/** Throws unless `x` is a Float64Array of length d with finite entries. */
export function checkPoint(where: string, name: string, x: unknown, d: number): asserts x is Float64Array {
	if (!(x instanceof Float64Array)) {
		throw new TheoryError(`${where}: ${name} must be a Float64Array, got ${formatValue(x)}`);
	}
	if (x.length !== d) {
		throw new TheoryError(`${where}: ${name} has dimension ${x.length}, expected ${d}`);
	}
	for (let i = 0; i < d; i++) {
		if (!Number.isFinite(x[i])) {
			throw new TheoryError(`${where}: ${name}[${i}] = ${formatValue(x[i])} is not finite`);
		}
	}
}
