/**
 * Small dense float64 matrices for the analyser's exact (non-tfjs) numerics: kernel ridge
 * regression, tridiagonal eigenproblems from Lanczos, explicit d×d input Hessians.
 *
 * Storage is row-major in one `Float64Array`, so entry (i, j) sits at `data[i * cols + j]`.
 * Sizes here are at most a few thousand, so clarity beats blocking or SIMD.
 */

/** A row-major dense float64 matrix. */
export interface DenseMatrix {
	readonly rows: number;
	readonly cols: number;
	/** Row-major entries, length rows·cols. */
	readonly data: Float64Array;
}

/** Thrown for invalid input to the linear algebra routines; the message names the offending value. */
export class LinalgError extends Error {
	override readonly name = 'LinalgError';
}

/**
 * Formats a number for an error message: full precision, so a user can see how far off it is.
 * @param value the value to print
 */
export function formatValue(value: number): string {
	return String(value);
}

function checkDimension(where: string, name: string, value: number): void {
	if (!Number.isInteger(value) || value < 0) {
		throw new LinalgError(`${where}: ${name} must be a non-negative integer, got ${formatValue(value)}`);
	}
}

/**
 * Creates a zero matrix.
 * @param rows number of rows (non-negative integer)
 * @param cols number of columns (non-negative integer)
 */
export function zeroMatrix(rows: number, cols: number): DenseMatrix {
	checkDimension('zeroMatrix', 'rows', rows);
	checkDimension('zeroMatrix', 'cols', cols);
	return { rows, cols, data: new Float64Array(rows * cols) };
}

/**
 * Creates the n×n identity.
 * @param n size (non-negative integer)
 */
export function identityMatrix(n: number): DenseMatrix {
	const m = zeroMatrix(n, n);
	for (let i = 0; i < n; i++) {
		m.data[i * n + i] = 1;
	}
	return m;
}

/**
 * Builds a matrix from nested rows, e.g. `matrixFromRows([[2, 1], [1, 2]])`.
 * @param rows equal-length rows of finite numbers
 * @throws LinalgError naming the ragged row or the non-finite entry
 */
export function matrixFromRows(rows: ReadonlyArray<ReadonlyArray<number>>): DenseMatrix {
	const r = rows.length;
	const c = r === 0 ? 0 : rows[0].length;
	const m = zeroMatrix(r, c);
	for (let i = 0; i < r; i++) {
		const row = rows[i];
		if (row.length !== c) {
			throw new LinalgError(`matrixFromRows: row ${i} has length ${row.length}, expected ${c} (the length of row 0)`);
		}
		for (let j = 0; j < c; j++) {
			const v = row[j];
			if (!Number.isFinite(v)) {
				throw new LinalgError(`matrixFromRows: entry (${i}, ${j}) = ${formatValue(v)} is not finite`);
			}
			m.data[i * c + j] = v;
		}
	}
	return m;
}

/**
 * Builds the diagonal matrix diag(values).
 * @param values the diagonal
 */
export function diagonalMatrix(values: ArrayLike<number>): DenseMatrix {
	const n = values.length;
	const m = zeroMatrix(n, n);
	for (let i = 0; i < n; i++) {
		m.data[i * n + i] = values[i];
	}
	return m;
}

/** Returns entry (i, j); no bounds checks (hot paths index `data` directly anyway). */
export function entry(a: DenseMatrix, i: number, j: number): number {
	return a.data[i * a.cols + j];
}

/** Returns a copy of the matrix with its own storage. */
export function cloneMatrix(a: DenseMatrix): DenseMatrix {
	return { rows: a.rows, cols: a.cols, data: Float64Array.from(a.data) };
}

/** Returns Aᵀ. */
export function transpose(a: DenseMatrix): DenseMatrix {
	const t = zeroMatrix(a.cols, a.rows);
	for (let i = 0; i < a.rows; i++) {
		for (let j = 0; j < a.cols; j++) {
			t.data[j * a.rows + i] = a.data[i * a.cols + j];
		}
	}
	return t;
}

/**
 * Returns the product A·B.
 * @throws LinalgError when the inner dimensions differ
 */
export function matMul(a: DenseMatrix, b: DenseMatrix): DenseMatrix {
	if (a.cols !== b.rows) {
		throw new LinalgError(`matMul: inner dimensions differ: A is ${a.rows}×${a.cols}, B is ${b.rows}×${b.cols}`);
	}
	const out = zeroMatrix(a.rows, b.cols);
	const n = b.cols;
	for (let i = 0; i < a.rows; i++) {
		const outRow = i * n;
		for (let k = 0; k < a.cols; k++) {
			const aik = a.data[i * a.cols + k];
			if (aik === 0) {
				continue;
			}
			const bRow = k * n;
			for (let j = 0; j < n; j++) {
				out.data[outRow + j] += aik * b.data[bRow + j];
			}
		}
	}
	return out;
}

/**
 * Returns the product A·x.
 * @throws LinalgError when x has the wrong length
 */
export function matVec(a: DenseMatrix, x: ArrayLike<number>): Float64Array {
	if (x.length !== a.cols) {
		throw new LinalgError(`matVec: vector length ${x.length} does not match the matrix's ${a.cols} columns`);
	}
	const out = new Float64Array(a.rows);
	for (let i = 0; i < a.rows; i++) {
		let s = 0;
		const row = i * a.cols;
		for (let j = 0; j < a.cols; j++) {
			s += a.data[row + j] * x[j];
		}
		out[i] = s;
	}
	return out;
}

/** Returns the Euclidean norm ‖x‖₂, scaled to avoid overflow and underflow. */
export function norm2(x: ArrayLike<number>): number {
	let scale = 0;
	for (let i = 0; i < x.length; i++) {
		scale = Math.max(scale, Math.abs(x[i]));
	}
	if (scale === 0 || !Number.isFinite(scale)) {
		return scale;
	}
	let s = 0;
	for (let i = 0; i < x.length; i++) {
		const v = x[i] / scale;
		s += v * v;
	}
	return scale * Math.sqrt(s);
}

/** Returns the Frobenius norm ‖A‖_F. */
export function frobeniusNorm(a: DenseMatrix): number {
	return norm2(a.data);
}

/** Returns tr(A) of a square matrix. */
export function trace(a: DenseMatrix): number {
	assertSquare('trace', a);
	let s = 0;
	for (let i = 0; i < a.rows; i++) {
		s += a.data[i * a.cols + i];
	}
	return s;
}

/**
 * Throws unless `a` is square.
 * @param where the calling function's name, for the message
 */
export function assertSquare(where: string, a: DenseMatrix, label = 'matrix'): void {
	if (a.rows !== a.cols) {
		throw new LinalgError(`${where}: ${label} must be square, got ${a.rows}×${a.cols}`);
	}
	if (a.data.length !== a.rows * a.cols) {
		throw new LinalgError(`${where}: ${label} has ${a.data.length} entries, expected ${a.rows}×${a.cols} = ${a.rows * a.cols}`);
	}
}

/**
 * Throws unless every entry of `a` is finite.
 * @param where the calling function's name, for the message
 */
export function assertFinite(where: string, a: DenseMatrix, label = 'matrix'): void {
	for (let k = 0; k < a.data.length; k++) {
		const v = a.data[k];
		if (!Number.isFinite(v)) {
			const i = Math.floor(k / a.cols);
			throw new LinalgError(`${where}: ${label} entry (${i}, ${k - i * a.cols}) = ${formatValue(v)} is not finite`);
		}
	}
}

/**
 * Throws unless the square matrix `a` is symmetric to a relative tolerance:
 * |a_ij − a_ji| ≤ tol · max|a|.
 * @param where the calling function's name, for the message
 */
export function assertSymmetric(where: string, a: DenseMatrix, tolerance: number, label = 'matrix'): void {
	const n = a.rows;
	let maxAbs = 0;
	for (let k = 0; k < a.data.length; k++) {
		maxAbs = Math.max(maxAbs, Math.abs(a.data[k]));
	}
	const bound = tolerance * maxAbs;
	for (let i = 0; i < n; i++) {
		for (let j = i + 1; j < n; j++) {
			const aij = a.data[i * n + j];
			const aji = a.data[j * n + i];
			if (Math.abs(aij - aji) > bound) {
				throw new LinalgError(
					`${where}: ${label} is not symmetric: entry (${i}, ${j}) = ${formatValue(aij)} but (${j}, ${i}) = ${formatValue(aji)} ` +
					`(allowed difference ${formatValue(bound)} = symmetryTolerance ${formatValue(tolerance)} × max|a|)`,
				);
			}
		}
	}
}
