import { type DenseMatrix, cholesky, choleskySolve, symmetricEigen, zeroMatrix } from '../math/linalg';
import { TheoryError, checkNumber, formatValue } from './errors';
import { type Kernel } from './kernels';
import { type KrrModel, checkInputs, kernelMatrix, resolveRidge } from './krr';

/**
 * The raw gradient Gram matrix Ĝ = Σ_l J_lᵀ J_l (n×n), where J_l is the d×n matrix whose column i
 * is ∇_x k(z_l, x_i), the gradient of the kernel in its first argument at penalty point z_l.
 *
 * For f = Σ α_i k(·, x_i), J_l α = ∇_x f(z_l), so αᵀĜα = Σ_l ‖∇_x f(z_l)‖²: the input-gradient
 * energy summed (not averaged) over the penalty points. Ĝ is symmetric PSD.
 *
 * @param inputs the training points x_i (columns of J_l)
 * @param penaltyPoints the points z_l where ∇_x f is penalised; default the training points
 *   (pass augmented copies to model "gradient regularisation + augmentation")
 * @returns n×n matrix
 */
export function rawGradientGram(kernel: Kernel, inputs: ReadonlyArray<Float64Array>, penaltyPoints: ReadonlyArray<Float64Array> = inputs): DenseMatrix {
	const d = checkInputs('rawGradientGram', inputs);
	if (penaltyPoints !== inputs) {
		const dp = checkInputs('rawGradientGram', penaltyPoints, 'penaltyPoints');
		if (dp !== d) {
			throw new TheoryError(`rawGradientGram: penaltyPoints have dimension ${dp}, inputs ${d}`);
		}
	}
	const n = inputs.length;
	const g = zeroMatrix(n, n);
	const jl = new Float64Array(n * d);
	const scratch = new Float64Array(d);
	for (const z of penaltyPoints) {
		for (let i = 0; i < n; i++) {
			scratch.fill(0);
			kernel.addGradient(z, inputs[i], 1, scratch);
			jl.set(scratch, i * d);
		}
		for (let i = 0; i < n; i++) {
			for (let j = 0; j <= i; j++) {
				let s = 0;
				for (let a = 0; a < d; a++) {
					s += jl[i * d + a] * jl[j * d + a];
				}
				g.data[i * n + j] += s;
			}
		}
	}
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < i; j++) {
			g.data[j * n + i] = g.data[i * n + j];
		}
	}
	return g;
}

/** Options for {@link capacityCurve}. Give exactly one of `lambda` and `ridge`. */
export interface CapacityCurveOptions {
	readonly kernel: Kernel;
	readonly inputs: ReadonlyArray<Float64Array>;
	readonly targets: ArrayLike<number>;
	/** κ values (≥ 0) to evaluate, in any order. */
	readonly kappas: ArrayLike<number>;
	/**
	 * Points z_l where ∇_x f is penalised. Default the training inputs. The gradient of a clone
	 * cluster's own bump vanishes at ζ (∇_x k(ζ, ζ) = 0 for RBF), so with the default a penalty
	 * cannot see a decoupled clone cluster; augmented copies around the training points can.
	 */
	readonly penaltyPoints?: ReadonlyArray<Float64Array>;
	/** λ: c = nλ. */
	readonly lambda?: number;
	/** c itself. */
	readonly ridge?: number;
	/**
	 * Eigenvalues of K at or below `rangeTolerance · λ_max(K)` are treated as exact zeros (duplicate
	 * points such as clones make K singular; f does not depend on α's component in K's null space).
	 * Default 1e-10. G = K^{-1/2} Ĝ K^{-1/2} amplifies rounding in Ĝ by 1/λ_min kept, so do not lower
	 * this much further for smooth, ill-conditioned Gram matrices.
	 */
	readonly rangeTolerance?: number;
}

/** df(κ), the training residual and their companions at one κ. Read-only. */
export interface CapacityPoint {
	readonly kappa: number;
	/** df(κ) = tr[K (K + cI + κG)⁻¹] = tr of the smoother y ↦ ŷ. */
	readonly degreesOfFreedom: number;
	/** ‖y − ŷ‖², ŷ_i = f(x_i). */
	readonly trainingResidual: number;
	/** Σ_l ‖∇_x f(x_l)‖² = αᵀĜα at the optimum. */
	readonly gradientEnergy: number;
	/** ½‖y − ŷ‖² + (c/2)‖f‖²_H, the ridge-penalised data fit at the optimum (n × the paper's E[L] + (λ/2)‖f‖²). */
	readonly penalisedFit: number;
	/** The minimum-norm coefficients (in the range of K) of the gradient-regularised fit. Shape (n). */
	readonly alpha: Float64Array;
	/** ŷ. Shape (n). */
	readonly fitted: Float64Array;
}

/** Result of {@link capacityCurve}: one point per κ, in the order given. */
export interface CapacityCurve {
	readonly ridge: number;
	/** Number of K's eigenvalues kept (n minus the numerical null space). */
	readonly rank: number;
	readonly points: ReadonlyArray<CapacityPoint>;
}

/**
 * Gradient-regularised KRR and its capacity, for the safety–efficacy trade-off (docs/science.md §2.8,
 * Theorem 3.9).
 *
 * Definition used here (ours; the paper's G is not in our sources). Minimise over f in the span of
 * the training sections k(·, x_i):
 *
 *     (1/n) Σ_i ½(f(x_i) − y_i)² + (λ/2)‖f‖²_H + (κ/2)(1/n) Σ_l ‖∇_x f(z_l)‖²,
 *
 * i.e. the paper's J = E[L] + (κ/2) E‖∇_x ·‖² with the penalty on ∇_x f rather than ∇_x L (the
 * latter is not quadratic in α, see docs/science.md §5). The penalty points z_l are the training
 * inputs unless `penaltyPoints` says otherwise. With f = Σ α_i k(·, x_i) the normal
 * equations are (K² + cK + κĜ) α = K y, c = nλ, Ĝ from {@link rawGradientGram}. In whitened
 * coordinates β = K^{1/2} α this is (K + cI + κG) β = K^{1/2} y with the symmetric PSD
 *
 *     G := K^{-1/2} Ĝ K^{-1/2}        (pseudo-inverse square root on the range of K),
 *
 * so ŷ = K^{1/2}(K + cI + κG)⁻¹K^{1/2} y and df(κ) = tr[K (K + cI + κG)⁻¹] exactly as the paper
 * writes it; κ = 0 gives plain KRR. df is strictly decreasing in κ whenever Ĝ ≠ 0, and the
 * penalised fit is non-decreasing. The plain residual ‖y − ŷ‖² is increasing when c → 0 or when K
 * and G commute, but NOT for every K, G, y with c > 0 (docs/theory.md gives a counterexample).
 *
 * @returns one {@link CapacityPoint} per κ
 * @throws TheoryError for negative κ or a bad ridge; LinalgError if K + cI + κG is not numerically
 *   positive definite (c = 0 with a rank-deficient K and κ = 0)
 */
export function capacityCurve(options: CapacityCurveOptions): CapacityCurve {
	const where = 'capacityCurve';
	checkInputs(where, options.inputs, 'options.inputs');
	const n = options.inputs.length;
	if (options.targets.length !== n) {
		throw new TheoryError(`${where}: options.targets has length ${options.targets.length}, expected ${n}`);
	}
	const y = Float64Array.from(options.targets);
	for (let i = 0; i < n; i++) {
		checkNumber(where, `options.targets[${i}]`, y[i]);
	}
	for (let i = 0; i < options.kappas.length; i++) {
		checkNumber(where, `options.kappas[${i}]`, options.kappas[i], 'nonNegative');
	}
	const rangeTolerance = options.rangeTolerance ?? 1e-10;
	checkNumber(where, 'options.rangeTolerance', rangeTolerance, 'nonNegative');
	const c = resolveRidge(where, n, options.lambda, options.ridge);
	const k = kernelMatrix(options.kernel, options.inputs);
	const gHat = rawGradientGram(options.kernel, options.inputs, options.penaltyPoints);
	return capacityCurveFromMatrices({ kernelMatrix: k, rawGradientGram: gHat, targets: y, ridge: c, kappas: options.kappas, rangeTolerance });
}

/** Options for {@link capacityCurveFromMatrices}. */
export interface CapacityMatrices {
	/** K, symmetric PSD n×n. */
	readonly kernelMatrix: DenseMatrix;
	/** Ĝ, symmetric PSD n×n with null(K) ⊆ null(Ĝ) (true for any kernel's gradient Gram). */
	readonly rawGradientGram: DenseMatrix;
	readonly targets: ArrayLike<number>;
	readonly ridge: number;
	readonly kappas: ArrayLike<number>;
	/** See {@link CapacityCurveOptions.rangeTolerance}. Default 1e-10. */
	readonly rangeTolerance?: number;
}

/** K and Ĝ in K's range: the eigenbasis U (n×n), the kept eigenvalues D_r, W = U_r D_r^{-1/2} and G_r = Wᵀ Ĝ W. */
interface RangeBasis {
	readonly n: number;
	readonly r: number;
	readonly u: Float64Array;
	readonly dr: Float64Array;
	readonly sqrtD: Float64Array;
	readonly w: Float64Array;
	readonly gr: Float64Array;
}

function rangeBasis(where: string, k: DenseMatrix, gHat: DenseMatrix, rangeTolerance: number): RangeBasis {
	const n = k.rows;
	const eig = symmetricEigen(k, { label: 'K', order: 'descending', residuals: false });
	const top = n > 0 ? eig.eigenvalues[0] : 0;
	let r = 0;
	while (r < n && eig.eigenvalues[r] > rangeTolerance * top) {
		r++;
	}
	if (r === 0) {
		throw new TheoryError(`${where}: K has no eigenvalue above rangeTolerance ${formatValue(rangeTolerance)} × λ_max (λ_max = ${formatValue(top)})`);
	}
	const u = eig.eigenvectors.data;
	const dr = eig.eigenvalues.subarray(0, r);
	const sqrtD = dr.map(Math.sqrt);
	// W = U_r D_r^{-1/2} (n×r): G_r = Wᵀ Ĝ W is G restricted to range(K) in K's eigenbasis.
	const w = new Float64Array(n * r);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < r; j++) {
			w[i * r + j] = u[i * n + j] / sqrtD[j];
		}
	}
	const gw = new Float64Array(n * r);
	for (let i = 0; i < n; i++) {
		for (let l = 0; l < n; l++) {
			const gil = gHat.data[i * n + l];
			if (gil === 0) {
				continue;
			}
			for (let j = 0; j < r; j++) {
				gw[i * r + j] += gil * w[l * r + j];
			}
		}
	}
	const gr = new Float64Array(r * r);
	for (let a = 0; a < r; a++) {
		for (let b = 0; b <= a; b++) {
			let s = 0;
			for (let i = 0; i < n; i++) {
				s += w[i * r + a] * gw[i * r + b];
			}
			gr[a * r + b] = s;
			gr[b * r + a] = s;
		}
	}
	return { n, r, u, dr, sqrtD, w, gr };
}

/** One point of the curve: solve (D_r + cI + κG_r) β = z and read df, the fit, the residual and the gradient energy. */
function capacityPoint(basis: RangeBasis, z: Float64Array, y: Float64Array, c: number, kappa: number): CapacityPoint {
	const { n, r, u, dr, sqrtD, w, gr } = basis;
	const b = zeroMatrix(r, r);
	for (let i = 0; i < r; i++) {
		for (let j = 0; j < r; j++) {
			b.data[i * r + j] = kappa * gr[i * r + j];
		}
		b.data[i * r + i] += dr[i] + c;
	}
	const l = cholesky(b, { label: `K + cI + κG (κ = ${kappa})` });
	const beta = choleskySolve(l, z);
	// df = tr(D_r B⁻¹) needs only B⁻¹'s diagonal; r is small enough that the full inverse is cheap.
	const inv = choleskySolve(l, identity(r));
	let df = 0;
	for (let i = 0; i < r; i++) {
		df += dr[i] * inv.data[i * r + i];
	}
	const alpha = new Float64Array(n);
	const fitted = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		let sa = 0;
		let sf = 0;
		for (let j = 0; j < r; j++) {
			sa += w[i * r + j] * beta[j];
			sf += u[i * n + j] * sqrtD[j] * beta[j];
		}
		alpha[i] = sa;
		fitted[i] = sf;
	}
	let residual = 0;
	for (let i = 0; i < n; i++) {
		residual += (y[i] - fitted[i]) ** 2;
	}
	let betaSq = 0;
	let energy = 0;
	for (let i = 0; i < r; i++) {
		betaSq += beta[i] * beta[i];
		let s = 0;
		for (let j = 0; j < r; j++) {
			s += gr[i * r + j] * beta[j];
		}
		energy += beta[i] * s;
	}
	return Object.freeze({ kappa, degreesOfFreedom: df, trainingResidual: residual, gradientEnergy: energy, penalisedFit: 0.5 * residual + 0.5 * c * betaSq, alpha, fitted });
}

/**
 * {@link capacityCurve} on explicit K and Ĝ (same definitions), for tests and for Gram matrices
 * built elsewhere.
 */
export function capacityCurveFromMatrices(options: CapacityMatrices): CapacityCurve {
	const where = 'capacityCurveFromMatrices';
	const k = options.kernelMatrix;
	const gHat = options.rawGradientGram;
	const n = k.rows;
	if (gHat.rows !== n || gHat.cols !== n || k.cols !== n) {
		throw new TheoryError(`${where}: kernelMatrix is ${k.rows}×${k.cols} and rawGradientGram ${gHat.rows}×${gHat.cols}; both must be n×n with the same n`);
	}
	if (options.targets.length !== n) {
		throw new TheoryError(`${where}: targets has length ${options.targets.length}, expected ${n}`);
	}
	const c = options.ridge;
	checkNumber(where, 'ridge', c, 'nonNegative');
	const rangeTolerance = options.rangeTolerance ?? 1e-10;
	checkNumber(where, 'rangeTolerance', rangeTolerance, 'nonNegative');
	const y = Float64Array.from(options.targets);
	const basis = rangeBasis(where, k, gHat, rangeTolerance);
	// z = K^{1/2} y in range coordinates: D_r^{1/2} U_rᵀ y.
	const z = new Float64Array(basis.r);
	for (let j = 0; j < basis.r; j++) {
		let s = 0;
		for (let i = 0; i < n; i++) {
			s += basis.u[i * n + j] * y[i];
		}
		z[j] = basis.sqrtD[j] * s;
	}
	const points: CapacityPoint[] = [];
	for (let t = 0; t < options.kappas.length; t++) {
		const kappa = options.kappas[t];
		checkNumber(where, `kappas[${t}]`, kappa, 'nonNegative');
		points.push(capacityPoint(basis, z, y, c, kappa));
	}
	return Object.freeze({ ridge: c, rank: basis.r, points });
}

function identity(r: number): DenseMatrix {
	const m = zeroMatrix(r, r);
	for (let i = 0; i < r; i++) {
		m.data[i * r + i] = 1;
	}
	return m;
}

/**
 * Wraps coefficients from {@link capacityCurve} as a {@link KrrModel}, so the usual evaluators
 * (krrPredict, lossCurvature, …) give Δf and Λ_GN of the gradient-regularised fit.
 */
export function modelFromAlpha(kernel: Kernel, inputs: ReadonlyArray<Float64Array>, targets: ArrayLike<number>, alpha: Float64Array, ridge: number): KrrModel {
	const d = checkInputs('modelFromAlpha', inputs);
	if (alpha.length !== inputs.length || targets.length !== inputs.length) {
		throw new TheoryError(`modelFromAlpha: alpha (${alpha.length}) and targets (${targets.length}) must have one entry per input (${inputs.length})`);
	}
	return Object.freeze({ kernel, inputs, targets: Float64Array.from(targets), alpha, ridge, dimension: d });
}
