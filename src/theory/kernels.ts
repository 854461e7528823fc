import { TheoryError, formatValue } from './errors';

/**
 * A positive-(semi)definite kernel k(x, x′) on ℝ^d with derivatives in its first argument, which
 * is what input-space curvature of f(x) = Σ α_i k(x, x_i) needs.
 */
export interface Kernel {
	/** Short name for reports: `'linear'` or `'rbf'`. */
	readonly name: string;
	/** RBF length scale ℓ; undefined for the linear kernel. */
	readonly lengthScale?: number;
	/** k(x, x′). */
	value(x: Float64Array, xp: Float64Array): number;
	/**
	 * Adds `scale · ∇_x k(x, x′)` into `out` (length d) and returns k(x, x′); accumulating form so
	 * that ∇f = Σ α_i ∇_x k(x, x_i) needs no temporaries.
	 */
	addGradient(x: Float64Array, xp: Float64Array, scale: number, out: Float64Array): number;
	/** Adds `scale · ∇²_x k(x, x′)` into the row-major d×d `out` and returns k(x, x′). */
	addHessian(x: Float64Array, xp: Float64Array, scale: number, out: Float64Array): number;
}

/**
 * The linear kernel k(x, x′) = xᵀx′: ∇_x k = x′, ∇²_x k = 0. Its KRR predictor is ridge regression
 * without intercept, and its input Hessian of f is zero, so the loss Hessian is pure Gauss–Newton.
 */
export function linearKernel(): Kernel {
	return Object.freeze({
		name: 'linear',
		value(x: Float64Array, xp: Float64Array): number {
			let s = 0;
			for (let i = 0; i < x.length; i++) {
				s += x[i] * xp[i];
			}
			return s;
		},
		addGradient(x: Float64Array, xp: Float64Array, scale: number, out: Float64Array): number {
			let s = 0;
			for (let i = 0; i < x.length; i++) {
				s += x[i] * xp[i];
				out[i] += scale * xp[i];
			}
			return s;
		},
		addHessian(x: Float64Array, xp: Float64Array, _scale: number, _out: Float64Array): number {
			let s = 0;
			for (let i = 0; i < x.length; i++) {
				s += x[i] * xp[i];
			}
			return s;
		},
	});
}

/** Options for {@link rbfKernel}. */
export interface RbfKernelOptions {
	/** Length scale ℓ > 0. */
	readonly lengthScale: number;
}

/**
 * The RBF (Gaussian, "exponential") kernel k(x, x′) = exp(−‖x − x′‖² / (2ℓ²)), with
 * ∇_x k = −(x − x′) k / ℓ² and ∇²_x k = k [(x − x′)(x − x′)ᵀ / ℓ⁴ − I / ℓ²]. k(ζ, ζ) = 1.
 *
 * @throws TheoryError when ℓ is not a positive finite number
 */
export function rbfKernel(options: RbfKernelOptions): Kernel {
	const ell = options.lengthScale;
	if (!(Number.isFinite(ell) && ell > 0)) {
		throw new TheoryError(`rbfKernel: options.lengthScale must be a positive finite number, got ${formatValue(ell)}`);
	}
	const inv2 = 1 / (ell * ell);
	const sqDist = (x: Float64Array, xp: Float64Array): number => {
		let s = 0;
		for (let i = 0; i < x.length; i++) {
			const t = x[i] - xp[i];
			s += t * t;
		}
		return s;
	};
	return Object.freeze({
		name: 'rbf',
		lengthScale: ell,
		value(x: Float64Array, xp: Float64Array): number {
			return Math.exp(-0.5 * sqDist(x, xp) * inv2);
		},
		addGradient(x: Float64Array, xp: Float64Array, scale: number, out: Float64Array): number {
			const k = Math.exp(-0.5 * sqDist(x, xp) * inv2);
			const s = -scale * k * inv2;
			if (s !== 0) {
				for (let i = 0; i < x.length; i++) {
					out[i] += s * (x[i] - xp[i]);
				}
			}
			return k;
		},
		addHessian(x: Float64Array, xp: Float64Array, scale: number, out: Float64Array): number {
			const d = x.length;
			const k = Math.exp(-0.5 * sqDist(x, xp) * inv2);
			const sk = scale * k;
			if (sk !== 0) {
				const outer = sk * inv2 * inv2;
				for (let i = 0; i < d; i++) {
					const ui = x[i] - xp[i];
					for (let j = 0; j < d; j++) {
						out[i * d + j] += outer * ui * (x[j] - xp[j]);
					}
					out[i * d + i] -= sk * inv2;
				}
			}
			return k;
		},
	});
}
