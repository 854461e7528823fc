/**
 * `poison-lens/sdk`: record a TensorFlow.js training run for Poison Lens (docs/sdk.md).
 *
 * tfjs is a peer dependency: this package imports `@tensorflow/tfjs` and never bundles its own copy, so the
 * caller's tfjs (and its backends) is the one used.
 */
export { PoisonLens, defaultRunsDir, makeRunId, sampleRows, summariseModel } from './lens';
export type { CheckpointInfo, InputRows, LabelRows, PoisonLensOptions, ProbeOptions, TrainSampleOptions } from './lens';
export { crossEntropyFromLogits, crossEntropyPerSample, inputGradientPenalty } from './penalty';
export type { PenalisedLoss } from './penalty';
export {
	ATTACK_NAMES,
	badNetsAttack,
	blendAttack,
	choosePoisonRows,
	crossAttack,
	makeAttack,
	nearCloneAttack,
	warpAttack,
} from './attacks/index';
export type { AttackDeclaration, AttackName, AttackOptions, LabelledImages, Placement, PoisonedDataset } from './attacks/index';
export { applyTrigger } from '../protocol/trigger';
export { mulberry32 } from '../math/random';
export type { TriggerSpec } from '../protocol/trigger';
export { installGradientFixes } from '../tfjs/gradients';
export type { RunManifest, RunEvent } from '../protocol/runFormat';
