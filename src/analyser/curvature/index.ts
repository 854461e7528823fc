/**
 * Public API of the curvature core (documented in docs/numerics.md).
 *
 * High level: {@link topEigenpairs}, {@link perSampleTopEigen}, {@link curvatureAlong},
 * {@link meanCurvatureTrace}. Building blocks: the operators (double-backprop input Hessian,
 * factored Gauss–Newton), the algorithms (Lanczos, batched power iteration, Hutchinson) and the
 * float64 symmetric eigensolvers. Importing this module installs the tfjs gradient fixes.
 */
import { installGradientFixes } from '../../tfjs/gradients';

installGradientFixes();

export * from './types';
export { logitModelFromLayers, logitModelFromFunction, type LogitModel } from './model';
export {
	InputHessianOperator,
	gaussNewtonFactors,
	perSampleGaussNewtonOperator,
	meanGaussNewtonOperator,
	lambdaOperator,
	denseOperator,
	crossEntropySum,
	oneHotLabels,
	validateLabels,
	type GaussNewtonFactors,
	type FactorOptions,
	type Labels,
} from './operators';
export { lanczos, type LanczosOptions } from './lanczos';
export { blockPowerIteration, type PowerOptions } from './power';
export { hutchinsonTrace, type TraceOptions } from './hutchinson';
export { perSampleGaussNewtonEigen, meanGaussNewtonEigenGram } from './gaussNewtonEigen';
export {
	topEigenpairs,
	perSampleTopEigen,
	curvatureAlong,
	meanCurvatureTrace,
	gaussNewtonMeanTrace,
	type CurvatureMethod,
	type CurvatureModel,
	type CurvatureOptions,
	type TopEigenOptions,
	type PerSampleOptions,
	type MethodInfo,
} from './api';
