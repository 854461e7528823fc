/**
 * Plain-array sweeps of the KRR theory (docs/science.md §7.9), for a `reproduce` script or a chart:
 * Δf and Λ_GN vs m, vs r/ℓ, linear vs RBF, df and residual vs κ. Every function is deterministic
 * (seeded data) and returns numbers only.
 */
import { capacityCurve, modelFromAlpha } from './capacity';
import { krrInputGradient, krrPredict } from './krr';
import { TheoryError, checkNumber, checkPoint, formatValue } from './errors';
import { type Kernel, linearKernel, rbfKernel } from './kernels';
import { addClonedPoisons, measurePoisonEffect } from './poison';
import { seededRandom } from '../math/random';

/** Options for {@link gaussianCleanSet}. Defaults are docs/science.md §7.9's. */
export interface GaussianCleanSetOptions {
	/** Generator seed. Default 20260131. */
	readonly seed?: number;
	/** Number of points. Default 200. */
	readonly count?: number;
	/** Dimension d. Default 5. */
	readonly dimension?: number;
	/** Per-coordinate mean. Default 10 (far from a trigger at the origin, so the clones are decoupled). */
	readonly mean?: number;
	/** Per-coordinate standard deviation. Default 3. */
	readonly standardDeviation?: number;
	/**
	 * Project every point onto the orthogonal complement of this vector. Needed for the linear
	 * kernel, whose clones at ζ are decoupled only from points with xᵀζ = 0.
	 */
	readonly orthogonalTo?: Float64Array;
}

/** A labelled point set. */
export interface LabelledSet {
	readonly inputs: ReadonlyArray<Float64Array>;
	/** ±1 labels. Shape (n). */
	readonly targets: Float64Array;
}

/**
 * Clean training data as in docs/science.md §7.9: i.i.d. N(mean, sd²) coordinates and uniform
 * random ±1 labels from a seeded generator.
 */
export function gaussianCleanSet(options: GaussianCleanSetOptions = {}): LabelledSet {
	const where = 'gaussianCleanSet';
	const count = options.count ?? 200;
	const d = options.dimension ?? 5;
	if (!Number.isInteger(count) || count < 1) {
		throw new TheoryError(`${where}: options.count must be a positive integer, got ${formatValue(count)}`);
	}
	if (!Number.isInteger(d) || d < 1) {
		throw new TheoryError(`${where}: options.dimension must be a positive integer, got ${formatValue(d)}`);
	}
	const mean = options.mean ?? 10;
	const sd = options.standardDeviation ?? 3;
	checkNumber(where, 'options.mean', mean);
	checkNumber(where, 'options.standardDeviation', sd, 'nonNegative');
	const rng = seededRandom(options.seed ?? 20260131);
	const direction = options.orthogonalTo;
	let unit: Float64Array | undefined;
	if (direction !== undefined) {
		checkPoint(where, 'options.orthogonalTo', direction, d);
		const norm = Math.hypot(...direction);
		if (norm === 0) {
			throw new TheoryError(`${where}: options.orthogonalTo must be non-zero`);
		}
		unit = direction.map((v) => v / norm);
	}
	const inputs: Float64Array[] = [];
	const targets = new Float64Array(count);
	for (let i = 0; i < count; i++) {
		const x = new Float64Array(d);
		for (let j = 0; j < d; j++) {
			x[j] = mean + sd * rng.normal();
		}
		if (unit !== undefined) {
			let p = 0;
			for (let j = 0; j < d; j++) {
				p += x[j] * unit[j];
			}
			for (let j = 0; j < d; j++) {
				x[j] -= p * unit[j];
			}
		}
		inputs.push(x);
		targets[i] = rng.uniform() < 0.5 ? -1 : 1;
	}
	return { inputs, targets };
}

/** Shared setup of the poison sweeps. Give exactly one of `lambda` and `ridge`. */
export interface PoisonSweepBase {
	readonly kernel: Kernel;
	readonly clean: LabelledSet;
	/** ζ. */
	readonly trigger: Float64Array;
	/** y_t. */
	readonly targetLabel: number;
	/** λ: c = (n_clean + m)·λ. */
	readonly lambda?: number;
	readonly ridge?: number;
}

/** One column per quantity, one row per sweep value. */
export interface PoisonSweep {
	/** The swept value (m, or r/ℓ). */
	readonly parameter: number[];
	readonly gain: number[];
	/** Measured Δf = f_poisoned(x0) − f_clean(x0). */
	readonly measuredShift: number[];
	/** Theorem 3.3: k0 y_t S. */
	readonly predictedShift: number[];
	/** Measured Λ_GN: the poison part's ‖∇f(x0)‖². */
	readonly measuredSpike: number[];
	/** Theorem 3.4: R_k (Δf)². */
	readonly predictedSpike: number[];
	/** R_k(x0, ζ). */
	readonly spikeRatio: number[];
	/** ‖∇f_clean(x0)‖², the clean Gauss–Newton eigenvalue the spike must beat (Remark 3.5). */
	readonly cleanGaussNewton: number[];
}

function emptySweep(): PoisonSweep {
	return { parameter: [], gain: [], measuredShift: [], predictedShift: [], measuredSpike: [], predictedSpike: [], spikeRatio: [], cleanGaussNewton: [] };
}

function record(sweep: PoisonSweep, parameter: number, base: PoisonSweepBase, testPoint: Float64Array, cloneCount: number): void {
	const e = measurePoisonEffect({
		kernel: base.kernel,
		cleanInputs: base.clean.inputs,
		cleanTargets: base.clean.targets,
		trigger: base.trigger,
		testPoint,
		targetLabel: base.targetLabel,
		cloneCount,
		lambda: base.lambda,
		ridge: base.ridge,
	});
	sweep.parameter.push(parameter);
	sweep.gain.push(e.predicted.gain);
	sweep.measuredShift.push(e.measuredShift);
	sweep.predictedShift.push(e.predicted.shift);
	sweep.measuredSpike.push(e.poisonPartSpike);
	sweep.predictedSpike.push(e.predicted.spike);
	sweep.spikeRatio.push(e.predicted.spikeRatio);
	sweep.cleanGaussNewton.push(e.cleanGaussNewton);
}

/** Options for {@link cloneCountSweep}. */
export interface CloneCountSweepOptions extends PoisonSweepBase {
	readonly testPoint: Float64Array;
	/** m values (non-negative integers). */
	readonly cloneCounts: ReadonlyArray<number>;
}

/** Δf and Λ_GN vs the number of clones m at a fixed test point (Λ_GN ∝ Δf² with slope R_k). */
export function cloneCountSweep(options: CloneCountSweepOptions): PoisonSweep {
	const sweep = emptySweep();
	for (const m of options.cloneCounts) {
		record(sweep, m, options, options.testPoint, m);
	}
	return sweep;
}

/** Options for {@link nearCloneSweep}. */
export interface NearCloneSweepOptions extends PoisonSweepBase {
	readonly cloneCount: number;
	/** Values of r/ℓ; the test point is x0 = ζ + r·u. ℓ is `kernel.lengthScale` (1 for a kernel without one). */
	readonly relativeRadii: ReadonlyArray<number>;
	/** Unit direction u of the offset. Default e1. */
	readonly direction?: Float64Array;
}

/** Δf and Λ_GN vs r/ℓ at fixed m: the near-clone regime (Δf flat, Λ ∝ r²/ℓ⁴). */
export function nearCloneSweep(options: NearCloneSweepOptions): PoisonSweep {
	const d = options.trigger.length;
	const u = options.direction ?? Float64Array.from({ length: d }, (_, i) => (i === 0 ? 1 : 0));
	checkPoint('nearCloneSweep', 'options.direction', u, d);
	const ell = options.kernel.lengthScale ?? 1;
	const sweep = emptySweep();
	for (const rho of options.relativeRadii) {
		checkNumber('nearCloneSweep', 'options.relativeRadii[]', rho, 'nonNegative');
		const x0 = options.trigger.map((z, i) => z + rho * ell * u[i]);
		record(sweep, rho, options, x0, options.cloneCount);
	}
	return sweep;
}

/** Options for {@link kernelComparison}. */
export interface KernelComparisonOptions {
	/** m values. */
	readonly cloneCounts: ReadonlyArray<number>;
	/** RBF length scale ℓ. Default 1. */
	readonly lengthScale?: number;
	/** r/ℓ of the test point x0 = ζ + r e1. Default 0.1. */
	readonly relativeRadius?: number;
	/** ζ. Default 2·e1 (non-zero: the linear kernel is identically zero at ζ = 0). */
	readonly trigger?: Float64Array;
	/** λ. Default 1e-2. */
	readonly lambda?: number;
	/** Clean-set generator options; `orthogonalTo` is forced to ζ so that both kernels are decoupled. */
	readonly clean?: GaussianCleanSetOptions;
}

/** Linear vs RBF sweeps over m on the same geometry. */
export interface KernelComparison {
	readonly linear: PoisonSweep;
	readonly rbf: PoisonSweep;
}

/**
 * Linear vs RBF kernel (docs/science.md §2.5): for the linear kernel R_k = ‖ζ‖²/(x0ᵀζ)² stays
 * bounded away from 0, so Λ_GN tracks efficacy (no lag); for the RBF kernel R_k = r²/ℓ⁴ is tiny
 * near ζ (lag). Clean points sit in ζ's orthogonal complement, around mean 10.
 */
export function kernelComparison(options: KernelComparisonOptions): KernelComparison {
	const d = options.clean?.dimension ?? 5;
	const trigger = options.trigger ?? Float64Array.from({ length: d }, (_, i) => (i === 0 ? 2 : 0));
	checkPoint('kernelComparison', 'options.trigger', trigger, d);
	const ell = options.lengthScale ?? 1;
	const rho = options.relativeRadius ?? 0.1;
	checkNumber('kernelComparison', 'options.relativeRadius', rho, 'nonNegative');
	const clean = gaussianCleanSet({ ...options.clean, dimension: d, orthogonalTo: trigger });
	const testPoint = trigger.map((z, i) => (i === 0 ? z + rho * ell : z));
	const lambda = options.lambda ?? 1e-2;
	const base = { clean, trigger, targetLabel: 1, lambda, testPoint, cloneCounts: options.cloneCounts };
	return {
		linear: cloneCountSweep({ ...base, kernel: linearKernel() }),
		rbf: cloneCountSweep({ ...base, kernel: rbfKernel({ lengthScale: ell }) }),
	};
}

/** Options for {@link capacitySweep}. */
export interface CapacitySweepOptions {
	readonly kernel: Kernel;
	readonly data: LabelledSet;
	readonly kappas: ReadonlyArray<number>;
	readonly lambda?: number;
	readonly ridge?: number;
}

/** df(κ), the training residual, the penalised fit and the gradient energy vs κ, as columns. */
export interface CapacitySweep {
	readonly kappa: number[];
	readonly degreesOfFreedom: number[];
	readonly trainingResidual: number[];
	readonly penalisedFit: number[];
	readonly gradientEnergy: number[];
}

/** Theorem 3.9's curves under the definition of G documented on {@link capacityCurve}. */
export function capacitySweep(options: CapacitySweepOptions): CapacitySweep {
	const curve = capacityCurve({
		kernel: options.kernel,
		inputs: options.data.inputs,
		targets: options.data.targets,
		kappas: options.kappas,
		lambda: options.lambda,
		ridge: options.ridge,
	});
	return {
		kappa: curve.points.map((p) => p.kappa),
		degreesOfFreedom: curve.points.map((p) => p.degreesOfFreedom),
		trainingResidual: curve.points.map((p) => p.trainingResidual),
		penalisedFit: curve.points.map((p) => p.penalisedFit),
		gradientEnergy: curve.points.map((p) => p.gradientEnergy),
	};
}

/**
 * Least-squares slope of log y against log x: the exponent p in y ∝ x^p.
 * @throws TheoryError when fewer than two points, or a non-positive value
 */
export function logLogSlope(x: ReadonlyArray<number>, y: ReadonlyArray<number>): number {
	if (x.length !== y.length || x.length < 2) {
		throw new TheoryError(`logLogSlope: need two equal-length arrays of at least 2 values, got ${x.length} and ${y.length}`);
	}
	let sx = 0;
	let sy = 0;
	for (let i = 0; i < x.length; i++) {
		if (!(x[i] > 0) || !(y[i] > 0)) {
			throw new TheoryError(`logLogSlope: values must be positive, got x[${i}] = ${formatValue(x[i])}, y[${i}] = ${formatValue(y[i])}`);
		}
		sx += Math.log(x[i]);
		sy += Math.log(y[i]);
	}
	const mx = sx / x.length;
	const my = sy / x.length;
	let sxy = 0;
	let sxx = 0;
	for (let i = 0; i < x.length; i++) {
		const dx = Math.log(x[i]) - mx;
		sxy += dx * (Math.log(y[i]) - my);
		sxx += dx * dx;
	}
	if (sxx === 0) {
		throw new TheoryError('logLogSlope: all x values are equal');
	}
	return sxy / sxx;
}

/** Options for {@link regularisedPoisonSweep}. */
export interface RegularisedPoisonSweepOptions extends PoisonSweepBase {
	readonly testPoint: Float64Array;
	readonly cloneCount: number;
	readonly kappas: ReadonlyArray<number>;
	/**
	 * Jittered copies per training point added as penalty points (augmentation), each coordinate
	 * offset by N(0, augmentationScale²). Default 0: the penalty is taken at the training points only.
	 */
	readonly augmentationCopies?: number;
	/** Standard deviation of the augmentation jitter. Default 0.1 × the kernel's ℓ (or 0.1). */
	readonly augmentationScale?: number;
	/** Seed of the augmentation jitter. Default 1. */
	readonly augmentationSeed?: number;
}

/** Efficacy and spike of the gradient-regularised fit vs κ, next to its capacity. */
export interface RegularisedPoisonSweep {
	readonly kappa: number[];
	/** f_poisoned(x0) − f_clean(x0), both fitted with the same c and κ. */
	readonly shift: number[];
	/** ‖∇_x of the clones' part of f_poisoned at x0‖². */
	readonly spike: number[];
	/** df(κ) of the poisoned fit. */
	readonly degreesOfFreedom: number[];
}

/**
 * How input-gradient regularisation changes the poison's efficacy and spike (the measurable side of
 * docs/science.md §2.8, which we do not reduce to an ℓ_eff formula; see docs/theory.md). Both the
 * clean and the poisoned sets are fitted with {@link capacityCurve} at the same c and κ.
 */
export function regularisedPoisonSweep(options: RegularisedPoisonSweepOptions): RegularisedPoisonSweep {
	const poisoned = addClonedPoisons({
		inputs: options.clean.inputs,
		targets: options.clean.targets,
		trigger: options.trigger,
		cloneCount: options.cloneCount,
		targetLabel: options.targetLabel,
	});
	const n = poisoned.inputs.length;
	if ((options.lambda === undefined) === (options.ridge === undefined)) {
		throw new TheoryError(`regularisedPoisonSweep: give exactly one of options.lambda and options.ridge, got lambda = ${formatValue(options.lambda)}, ridge = ${formatValue(options.ridge)}`);
	}
	const ridge = options.ridge ?? n * (options.lambda as number);
	const copies = options.augmentationCopies ?? 0;
	if (!Number.isInteger(copies) || copies < 0) {
		throw new TheoryError(`regularisedPoisonSweep: options.augmentationCopies must be a non-negative integer, got ${formatValue(copies)}`);
	}
	const scale = options.augmentationScale ?? 0.1 * (options.kernel.lengthScale ?? 1);
	checkNumber('regularisedPoisonSweep', 'options.augmentationScale', scale, 'nonNegative');
	const augment = (points: ReadonlyArray<Float64Array>): ReadonlyArray<Float64Array> => {
		if (copies === 0) {
			return points;
		}
		// Same seed for both fits, so the clean points get identical jitter in both.
		const rng = seededRandom(options.augmentationSeed ?? 1);
		const out = points.slice();
		for (const x of points) {
			for (let c = 0; c < copies; c++) {
				out.push(x.map((v) => v + scale * rng.normal()));
			}
		}
		return out;
	};
	const poisonedCurve = capacityCurve({
		kernel: options.kernel,
		inputs: poisoned.inputs,
		targets: poisoned.targets,
		kappas: options.kappas,
		ridge,
		penaltyPoints: augment(poisoned.inputs),
	});
	const cleanCurve = capacityCurve({
		kernel: options.kernel,
		inputs: options.clean.inputs,
		targets: options.clean.targets,
		kappas: options.kappas,
		ridge,
		penaltyPoints: augment(options.clean.inputs),
	});
	const out: RegularisedPoisonSweep = { kappa: [], shift: [], spike: [], degreesOfFreedom: [] };
	for (let t = 0; t < poisonedCurve.points.length; t++) {
		const p = poisonedCurve.points[t];
		const pm = modelFromAlpha(options.kernel, poisoned.inputs, poisoned.targets, p.alpha, ridge);
		const cm = modelFromAlpha(options.kernel, options.clean.inputs, options.clean.targets, cleanCurve.points[t].alpha, ridge);
		const g = krrInputGradient(pm, options.testPoint, poisoned.poisonRange);
		out.kappa.push(p.kappa);
		out.shift.push(krrPredict(pm, options.testPoint) - krrPredict(cm, options.testPoint));
		out.spike.push(g.reduce((s, v) => s + v * v, 0));
		out.degreesOfFreedom.push(p.degreesOfFreedom);
	}
	return out;
}

/** One row of docs/science.md §7.9. */
export interface AppendixARow {
	readonly cloneCount: number;
	readonly radius: number;
	/** Δf measured (poisoned minus clean fit at x0). */
	readonly measuredShift: number;
	/** k0 · y_t · S. */
	readonly predictedShift: number;
	/** The poison part's ‖∇f(x0)‖². */
	readonly poisonPartSpike: number;
	/** (r²/ℓ⁴)(Δf measured)². */
	readonly spikeFromMeasuredShift: number;
}

/**
 * Rebuilds docs/science.md §7.9: RBF ℓ = 1, d = 5, 200 clean points (mean 10, sd 3, ±1 labels,
 * seeded), λ = 1e-2 with c = (200 + m)λ for both fits, ζ = 0, y_t = +1, x0 = ζ + r e1.
 *
 * @param rows (m, r) pairs; default the table's four rows
 * @param seed clean-set seed; default 20260131 (any seed gives the same printed digits, since the
 *   clean points are decoupled from ζ)
 */
export function appendixATable(
	rows: ReadonlyArray<readonly [number, number]> = [[1, 0.05], [5, 0.2], [20, 0.05], [100, 0.2]],
	seed = 20260131,
): AppendixARow[] {
	const clean = gaussianCleanSet({ seed, count: 200, dimension: 5, mean: 10, standardDeviation: 3 });
	const kernel = rbfKernel({ lengthScale: 1 });
	return rows.map(([m, r]) => {
		const eff = measurePoisonEffect({
			kernel,
			cleanInputs: clean.inputs,
			cleanTargets: clean.targets,
			trigger: new Float64Array(5),
			testPoint: Float64Array.of(r, 0, 0, 0, 0),
			targetLabel: 1,
			cloneCount: m,
			lambda: 1e-2,
		});
		return {
			cloneCount: m,
			radius: r,
			measuredShift: eff.measuredShift,
			predictedShift: eff.predicted.shift,
			poisonPartSpike: eff.poisonPartSpike,
			spikeFromMeasuredShift: eff.spikeFromMeasuredShift,
		};
	});
}
