/**
 * The paper's exact model in float64: kernel ridge regression with m dirty-label clones at a
 * trigger ζ (docs/science.md §2, §7.9). Efficacy Δf, gain S(m;λ), R_k, input gradients and
 * Hessians of f and of the squared loss, the Gauss–Newton spike Λ_GN, and the capacity df(κ) of
 * input-gradient-regularised KRR. See docs/theory.md.
 */
export { TheoryError } from './errors';
export { type Kernel, type RbfKernelOptions, linearKernel, rbfKernel } from './kernels';
export {
	type KrrFitOptions,
	type KrrModel,
	type LossCurvature,
	type TermRange,
	fitKrr,
	kernelMatrix,
	krrInputGradient,
	krrInputHessian,
	krrPredict,
	lossCurvature,
} from './krr';
export {
	type ClonedPoisonOptions,
	type MeasurePoisonOptions,
	type PoisonEffect,
	type PoisonGeometry,
	type PoisonedTrainingSet,
	type ScalarGainOptions,
	type TheoremPrediction,
	addClonedPoisons,
	measurePoisonEffect,
	predictPoisonEffect,
	scalarGain,
	spikeRatio,
} from './poison';
export {
	type CapacityCurve,
	type CapacityCurveOptions,
	type CapacityMatrices,
	type CapacityPoint,
	capacityCurve,
	capacityCurveFromMatrices,
	modelFromAlpha,
	rawGradientGram,
} from './capacity';
export { type SeededRandom, seededRandom } from '../math/random';
export {
	type AppendixARow,
	type CapacitySweep,
	type CapacitySweepOptions,
	type CloneCountSweepOptions,
	type GaussianCleanSetOptions,
	type KernelComparison,
	type KernelComparisonOptions,
	type LabelledSet,
	type NearCloneSweepOptions,
	type PoisonSweep,
	type PoisonSweepBase,
	type RegularisedPoisonSweep,
	type RegularisedPoisonSweepOptions,
	appendixATable,
	capacitySweep,
	cloneCountSweep,
	gaussianCleanSet,
	kernelComparison,
	logLogSlope,
	nearCloneSweep,
	regularisedPoisonSweep,
} from './sweeps';
