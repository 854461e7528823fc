import { TheoryError, checkNumber, checkPoint, formatValue } from './errors';
import { type Kernel } from './kernels';
import { type KrrModel, type TermRange, checkInputs, fitKrr, krrInputGradient, krrPredict, resolveRidge } from './krr';

/** Options for {@link scalarGain}. */
export interface ScalarGainOptions {
	/** m ≥ 0, the number of dirty-label clones. */
	readonly cloneCount: number;
	/** c = nλ > 0 (or ≥ 0 when m > 0). */
	readonly ridge: number;
	/** k_ζ = k(ζ, ζ) (1 for RBF). */
	readonly triggerKernel: number;
}

/**
 * The scalar gain S(m; λ) = m / (c + k_ζ m) of docs/science.md §2.2: the coefficient each clone gets per
 * unit target, α_P = y_t S/m, when the clones are decoupled from the clean data.
 * @throws TheoryError for negative or non-finite arguments or a zero denominator
 */
export function scalarGain(options: ScalarGainOptions): number {
	const { cloneCount: m, ridge: c, triggerKernel: kz } = options;
	checkNumber('scalarGain', 'options.cloneCount', m, 'nonNegative');
	checkNumber('scalarGain', 'options.ridge', c, 'nonNegative');
	checkNumber('scalarGain', 'options.triggerKernel', kz, 'nonNegative');
	const denominator = c + kz * m;
	if (!(denominator > 0)) {
		throw new TheoryError(`scalarGain: c + k_ζ·m = ${formatValue(denominator)} must be positive (ridge ${formatValue(c)}, triggerKernel ${formatValue(kz)}, cloneCount ${formatValue(m)})`);
	}
	return m / denominator;
}

/** Options shared by the closed-form predictions of Theorems 3.3 and 3.4. */
export interface PoisonGeometry {
	readonly kernel: Kernel;
	/** ζ, where the m clones sit. */
	readonly trigger: Float64Array;
	/** x0, the triggered test point. */
	readonly testPoint: Float64Array;
	/** y_t, the clones' (dirty) label. */
	readonly targetLabel: number;
	/** m. */
	readonly cloneCount: number;
	/** c = nλ with n counting clean points and clones. */
	readonly ridge: number;
}

/** The closed-form predictions of Theorems 3.3/3.4 at one test point. Read-only. */
export interface TheoremPrediction {
	/** S(m; λ). */
	readonly gain: number;
	/** k0 = k(x0, ζ). */
	readonly kernelAtTest: number;
	/** Theorem 3.3: Δf(x0) = k0 y_t S. */
	readonly shift: number;
	/** R_k(x0, ζ) = ‖∇_x k(x0, ζ)‖² / k0². Infinite when k0 = 0 (no efficacy, the ratio is undefined). */
	readonly spikeRatio: number;
	/** Theorem 3.4: Λ_GN = R_k (Δf)² = y_t² S² ‖∇_x k(x0, ζ)‖² (the product form, finite even when k0 = 0). */
	readonly spike: number;
	/** The spike's eigenvector ∇_x k(x0, ζ)/‖∇_x k(x0, ζ)‖ (zero vector when the gradient vanishes). Shape (d). */
	readonly direction: Float64Array;
}

/**
 * R_k(x0, ζ) = ‖∇_x k(x0, ζ)‖² / k(x0, ζ)² (docs/science.md §2.4). Linear kernel: ‖ζ‖²/(x0ᵀζ)²;
 * RBF: r²/ℓ⁴ with r = ‖x0 − ζ‖.
 * @returns Infinity when k(x0, ζ) = 0
 */
export function spikeRatio(kernel: Kernel, testPoint: Float64Array, trigger: Float64Array): number {
	checkPoint('spikeRatio', 'trigger', trigger, trigger.length);
	checkPoint('spikeRatio', 'testPoint', testPoint, trigger.length);
	const g = new Float64Array(trigger.length);
	const k0 = kernel.addGradient(testPoint, trigger, 1, g);
	let gg = 0;
	for (const v of g) {
		gg += v * v;
	}
	return gg / (k0 * k0);
}

/**
 * Closed-form efficacy and spike of the cloned-poison model (Theorems 3.3 and 3.4, docs/science.md
 * §2.3–2.4), exact when the clones are decoupled from the clean data.
 */
export function predictPoisonEffect(geometry: PoisonGeometry): TheoremPrediction {
	const where = 'predictPoisonEffect';
	const { kernel, trigger, testPoint, targetLabel, cloneCount, ridge } = geometry;
	checkPoint(where, 'trigger', trigger, trigger.length);
	checkPoint(where, 'testPoint', testPoint, trigger.length);
	checkNumber(where, 'targetLabel', targetLabel);
	const gain = scalarGain({ cloneCount, ridge, triggerKernel: kernel.value(trigger, trigger) });
	const g = new Float64Array(trigger.length);
	const k0 = kernel.addGradient(testPoint, trigger, 1, g);
	let gg = 0;
	for (const v of g) {
		gg += v * v;
	}
	const norm = Math.sqrt(gg);
	const shift = k0 * targetLabel * gain;
	return Object.freeze({
		gain,
		kernelAtTest: k0,
		shift,
		spikeRatio: gg / (k0 * k0),
		spike: targetLabel * targetLabel * gain * gain * gg,
		direction: norm > 0 ? g.map((v) => v / norm) : g,
	});
}

/** Options for {@link addClonedPoisons}. */
export interface ClonedPoisonOptions {
	readonly inputs: ReadonlyArray<Float64Array>;
	readonly targets: ArrayLike<number>;
	/** ζ. */
	readonly trigger: Float64Array;
	/** m ≥ 0 (integer). */
	readonly cloneCount: number;
	/** y_t. */
	readonly targetLabel: number;
}

/** A training set with m clones appended; `poisonRange` selects them. */
export interface PoisonedTrainingSet {
	readonly inputs: ReadonlyArray<Float64Array>;
	readonly targets: Float64Array;
	readonly poisonRange: TermRange;
}

/**
 * Appends m dirty-label copies of ζ, all labelled y_t (the cloned-poison model of docs/science.md §2.2).
 * @throws TheoryError for a non-integer m or a trigger of the wrong dimension
 */
export function addClonedPoisons(options: ClonedPoisonOptions): PoisonedTrainingSet {
	const where = 'addClonedPoisons';
	const d = checkInputs(where, options.inputs, 'options.inputs');
	checkPoint(where, 'options.trigger', options.trigger, d);
	const m = options.cloneCount;
	if (!Number.isInteger(m) || m < 0) {
		throw new TheoryError(`${where}: options.cloneCount must be a non-negative integer, got ${formatValue(m)}`);
	}
	checkNumber(where, 'options.targetLabel', options.targetLabel);
	if (options.targets.length !== options.inputs.length) {
		throw new TheoryError(`${where}: options.targets has length ${options.targets.length}, expected ${options.inputs.length}`);
	}
	const n = options.inputs.length;
	const inputs = options.inputs.slice();
	const targets = new Float64Array(n + m);
	targets.set(Array.from(options.targets));
	for (let i = 0; i < m; i++) {
		inputs.push(options.trigger);
		targets[n + i] = options.targetLabel;
	}
	return { inputs, targets, poisonRange: { start: n, end: n + m } };
}

/** Options for {@link measurePoisonEffect}. Give exactly one of `lambda` and `ridge`. */
export interface MeasurePoisonOptions {
	readonly kernel: Kernel;
	readonly cleanInputs: ReadonlyArray<Float64Array>;
	readonly cleanTargets: ArrayLike<number>;
	readonly trigger: Float64Array;
	readonly testPoint: Float64Array;
	readonly targetLabel: number;
	readonly cloneCount: number;
	/** λ: c = (n_clean + m)·λ, used for both fits. */
	readonly lambda?: number;
	/** c itself, used for both fits. */
	readonly ridge?: number;
}

/** Measured (fitted) against predicted (closed form) poison effect at x0. Read-only. */
export interface PoisonEffect {
	/** c used for both the clean and the poisoned fit. */
	readonly ridge: number;
	readonly poisonedModel: KrrModel;
	readonly cleanModel: KrrModel;
	/** Indices of the clones in `poisonedModel`. */
	readonly poisonRange: TermRange;
	/** The closed forms of Theorems 3.3/3.4. */
	readonly predicted: TheoremPrediction;
	/** Δf measured: f_poisoned(x0) − f_clean(x0). */
	readonly measuredShift: number;
	/** ∇_x of the poisoned fit's poison block Σ_{i∈P} α_i k(x0, x_i). Shape (d). */
	readonly poisonPartGradient: Float64Array;
	/** ‖poisonPartGradient‖²: the measured Λ_GN of Theorem 3.4 ("poison-part ‖∇f‖²" in Appendix A). */
	readonly poisonPartSpike: number;
	/** ∇_x f_poisoned(x0) − ∇_x f_clean(x0). Shape (d). */
	readonly shiftGradient: Float64Array;
	/** ‖shiftGradient‖². */
	readonly shiftSpike: number;
	/** R_k(x0, ζ)·(measured Δf)², the right-hand side of Theorem 3.4 with the measured efficacy. */
	readonly spikeFromMeasuredShift: number;
	/** ‖∇_x f_poisoned(x0)‖², the full model's Gauss–Newton eigenvalue at x0 (clean part included). */
	readonly poisonedGaussNewton: number;
	/** ‖∇_x f_clean(x0)‖², the clean model's Gauss–Newton eigenvalue at x0. */
	readonly cleanGaussNewton: number;
}

/**
 * Fits KRR on the clean data and on the clean data plus m clones at ζ (both with the same ridge c),
 * then measures the efficacy Δf(x0) and the poison-induced Gauss–Newton spike, next to the closed
 * forms of Theorems 3.3/3.4. This is the experiment of docs/science.md §7.9.
 *
 * @throws TheoryError / LinalgError on invalid input (messages name the option)
 */
export function measurePoisonEffect(options: MeasurePoisonOptions): PoisonEffect {
	const where = 'measurePoisonEffect';
	const d = checkInputs(where, options.cleanInputs, 'options.cleanInputs');
	checkPoint(where, 'options.testPoint', options.testPoint, d);
	const poisoned = addClonedPoisons({
		inputs: options.cleanInputs,
		targets: options.cleanTargets,
		trigger: options.trigger,
		cloneCount: options.cloneCount,
		targetLabel: options.targetLabel,
	});
	const c = resolveRidge(where, poisoned.inputs.length, options.lambda, options.ridge);
	const poisonedModel = fitKrr({ kernel: options.kernel, inputs: poisoned.inputs, targets: poisoned.targets, ridge: c });
	const cleanModel = fitKrr({ kernel: options.kernel, inputs: options.cleanInputs, targets: options.cleanTargets, ridge: c });
	const x0 = options.testPoint;
	const predicted = predictPoisonEffect({
		kernel: options.kernel,
		trigger: options.trigger,
		testPoint: x0,
		targetLabel: options.targetLabel,
		cloneCount: options.cloneCount,
		ridge: c,
	});
	const measuredShift = krrPredict(poisonedModel, x0) - krrPredict(cleanModel, x0);
	const poisonPartGradient = krrInputGradient(poisonedModel, x0, poisoned.poisonRange);
	const poisonedGradient = krrInputGradient(poisonedModel, x0);
	const cleanGradient = krrInputGradient(cleanModel, x0);
	const shiftGradient = poisonedGradient.map((g, i) => g - cleanGradient[i]);
	const sq = (v: Float64Array): number => v.reduce((s, x) => s + x * x, 0);
	return Object.freeze({
		ridge: c,
		poisonedModel,
		cleanModel,
		poisonRange: poisoned.poisonRange,
		predicted,
		measuredShift,
		poisonPartGradient,
		poisonPartSpike: sq(poisonPartGradient),
		shiftGradient,
		shiftSpike: sq(shiftGradient),
		spikeFromMeasuredShift: predicted.spikeRatio * measuredShift * measuredShift,
		poisonedGaussNewton: sq(poisonedGradient),
		cleanGaussNewton: sq(cleanGradient),
	});
}
