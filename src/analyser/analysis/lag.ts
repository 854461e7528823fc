/**
 * Signed lag and verdict over a run's checkpoint records (docs/metrics.md §2–3). Pure: the
 * thresholds are constants here, justified in docs/metrics.md from docs/science.md §2.5 and §7.
 */
import type { BlindSummary, CheckpointAnalysis, SignedLag, Verdict } from '../../protocol/analysisRecord';
import { median, scaledMad } from './robust';

/** Thresholds of the lag and verdict rules (docs/metrics.md §2). */
export interface LagThresholds {
	/** The attack "works" when the final excess ASR reaches this (default 0.2). */
	readonly effectiveExcessAsr: number;
	/** Spike rule 1: cos²(top eigenvector, trigger) at least this … (default 0.3) */
	readonly overlap: number;
	/** … together with λ1/λ2 at least this (default 5). */
	readonly gap: number;
	/** Spike rule 2: the relative trigger curvature ρ = (tᵀHt/‖t‖²)/λ1 at least this many times its early baseline … (default 3) */
	readonly curvatureFactor: number;
	/** … and above median + this many robust σ of the baseline, on a log scale (default 3). */
	readonly curvatureSigmas: number;
	/** Baseline checkpoints must have an excess ASR below this (default 0.05). */
	readonly baselineExcessAsr: number;
}

/** The defaults documented in docs/metrics.md. */
export const DEFAULT_THRESHOLDS: LagThresholds = Object.freeze({
	effectiveExcessAsr: 0.2,
	overlap: 0.3,
	gap: 5,
	curvatureFactor: 3,
	curvatureSigmas: 3,
	baselineExcessAsr: 0.05,
});

/** Which rule put the spectral step where it is. */
export type SpectralSignal = 'overlap+gap' | 'relativeTriggerCurvature';

/** Everything the verdict was derived from (for the CLI table and the tests). */
export interface LagAnalysis {
	readonly lag: SignedLag;
	readonly verdict: Verdict;
	/** The rule that fired first at the spectral step; null when none fired. */
	readonly spectralSignal: SpectralSignal | null;
	/** Final excess ASR (last usable checkpoint), or null without a declared attack. */
	readonly finalExcessAsr: number | null;
	/** ρ = (tᵀHt/‖t‖²)/λ1 above which a checkpoint counts as a curvature spike; null when no baseline exists. */
	readonly curvatureThreshold: number | null;
	/** The first (persistent) step of each rule on its own, for the lag table. */
	readonly ruleSteps: { readonly overlapGap: number | null; readonly relativeCurvature: number | null };
	/** Steps of the baseline checkpoints. */
	readonly baselineSteps: readonly number[];
	/** |lag| at or below this (one checkpoint interval) reads as "together". */
	readonly toleranceSteps: number;
	readonly stepsPerEpoch: number | null;
	/** A recommended response, in words. */
	readonly recommendation: string | null;
}

/** The attack works, no spectral signal, and the declared trigger is a near-clone (a point plus a small radius): the cause is known. */
const RECOMMEND_INVISIBLE_NEAR_CLONE =
	'The attack works but leaves no input-curvature spike, and the declared trigger is a near-clone one (poisons are near copies of the inputs they hijack), ' +
	'the regime where the theory predicts the curvature vanishes. Spectral checks cannot see it; ' +
	'train with input-gradient regularisation (κ/2·E‖∇ₓL‖²) together with data augmentation, which the paper finds suppresses it, ' +
	'and run the dataset near-duplicate check (poison-lens scan).';
/** The attack works and the spectrum shows nothing, for any other trigger: say what was measured, not a cause. */
const RECOMMEND_INVISIBLE =
	'The attack works but there is no spectral signal: neither a trigger-aligned spike of the input Hessian nor a rise of the curvature along the trigger was measured. ' +
	'Do not rely on the spectrum for this run; inspect the training data (poison-lens scan) and retrain with input-gradient regularisation plus data augmentation.';
const RECOMMEND_FOUND =
	'A backdoor is forming. Inspect the suspects and the candidate trigger; retrain without them, or with input-gradient ' +
	'regularisation plus augmentation.';

function usable(records: readonly CheckpointAnalysis[]): CheckpointAnalysis[] {
	return records.filter((r) => r.error === null).sort((a, b) => a.step - b.step);
}

/** Median spacing between consecutive checkpoint steps (0 for fewer than two). */
export function checkpointInterval(steps: readonly number[]): number {
	const gaps: number[] = [];
	for (let i = 1; i < steps.length; i++) {
		gaps.push(steps[i] - steps[i - 1]);
	}
	return gaps.length === 0 ? 0 : median(gaps);
}

/** Steps per epoch from the records' (step, epoch) pairs: the last record with epoch > 0. */
export function stepsPerEpoch(records: readonly CheckpointAnalysis[]): number | null {
	for (let i = records.length - 1; i >= 0; i--) {
		const r = records[i];
		if (r.epoch > 0 && r.step > 0) {
			return r.step / r.epoch;
		}
	}
	return null;
}

/**
 * The step where the attack works: the first checkpoint whose excess ASR reaches half the final
 * excess ASR, provided the final one reaches `effectiveExcessAsr`. Null otherwise.
 */
export function asrStep(records: readonly CheckpointAnalysis[], t: LagThresholds = DEFAULT_THRESHOLDS): { step: number | null; finalExcess: number | null } {
	const withAsr = usable(records).filter((r) => r.excessAsr !== null);
	const last = withAsr[withAsr.length - 1];
	if (last === undefined || last.excessAsr === null) {
		return { step: null, finalExcess: null };
	}
	const finalExcess = last.excessAsr;
	if (finalExcess < t.effectiveExcessAsr) {
		return { step: null, finalExcess };
	}
	const half = finalExcess / 2;
	const first = withAsr.find((r) => (r.excessAsr ?? -Infinity) >= half);
	return { step: first?.step ?? null, finalExcess };
}

/**
 * The relative trigger curvature ρ = (tᵀHt/‖t‖²)/λ1 of a record: the trigger direction's Rayleigh
 * quotient as a fraction of the top eigenvalue (≤ 1 up to the per-probe clipping of the trigger).
 * Normalising by λ1 removes the overall sharpening of training, which moved the raw tᵀHt 2× on the
 * θ = 0 demo run (docs/metrics.md §2.2). Null when either is missing or λ1 ≤ 0.
 */
export function relativeTriggerCurvature(r: CheckpointAnalysis): number | null {
	const l1 = r.topEigenvalues?.[0];
	if (r.triggerCurvature === null || l1 === undefined || !(l1 > 0) || !(r.triggerCurvature > 0)) {
		return null;
	}
	return r.triggerCurvature / l1;
}

/**
 * The curvature band: the baseline is the run's first trained checkpoints (the initial one is
 * untrained) while their excess ASR is still below `baselineExcessAsr`, at most 3; when there is
 * none (the attack works from the first trained checkpoint), the initial checkpoint. A
 * checkpoint's relative trigger curvature ρ spikes when it exceeds both `curvatureFactor` × the
 * baseline median and median + `curvatureSigmas` robust σ, on a log scale.
 */
export function curvatureBand(records: readonly CheckpointAnalysis[], t: LagThresholds = DEFAULT_THRESHOLDS): { threshold: number | null; steps: number[] } {
	const rs = usable(records).filter((r) => relativeTriggerCurvature(r) !== null);
	const quiet = (r: CheckpointAnalysis): boolean => r.excessAsr === null || r.excessAsr < t.baselineExcessAsr;
	const base: CheckpointAnalysis[] = [];
	for (const r of rs.filter((x) => x.step > 0)) {
		if (base.length >= 3 || !quiet(r)) {
			break;
		}
		base.push(r);
	}
	// An attack that works from the first trained checkpoint on leaves only the initial one as a baseline.
	const initial = rs[0];
	if (base.length === 0 && initial !== undefined && initial.step === 0 && quiet(initial)) {
		base.push(initial);
	}
	if (base.length === 0) {
		return { threshold: null, steps: [] };
	}
	const logs = base.map((r) => Math.log(relativeTriggerCurvature(r) as number));
	const med = median(logs);
	const sigma = scaledMad(logs, med);
	const logThreshold = Math.max(med + Math.log(t.curvatureFactor), med + t.curvatureSigmas * sigma);
	return { threshold: Math.exp(logThreshold), steps: base.map((r) => r.step) };
}

/**
 * The step where the spectral signal appears: the earliest step at which either rule fires and
 * is still firing at the next checkpoint of that rule (or it is the last one), so one noisy
 * checkpoint is not a signal. Rules: cos² ≥ overlap with λ1/λ2 ≥ gap; or the relative trigger
 * curvature ρ above its band. Checkpoints in the baseline cannot fire the curvature rule.
 */
export function spectralStep(
	records: readonly CheckpointAnalysis[],
	t: LagThresholds = DEFAULT_THRESHOLDS,
): {
	step: number | null;
	signal: SpectralSignal | null;
	threshold: number | null;
	baselineSteps: number[];
	ruleSteps: { overlapGap: number | null; relativeCurvature: number | null };
} {
	const rs = usable(records);
	const band = curvatureBand(rs, t);
	const baseline = new Set(band.steps);
	const overlapGap = (r: CheckpointAnalysis): boolean =>
		r.triggerOverlap !== null && r.spectralGap !== null && r.triggerOverlap >= t.overlap && r.spectralGap >= t.gap;
	const curvature = (r: CheckpointAnalysis): boolean => {
		const rho = relativeTriggerCurvature(r);
		return band.threshold !== null && !baseline.has(r.step) && rho !== null && rho > band.threshold;
	};
	const firstPersistent = (fires: (r: CheckpointAnalysis) => boolean): number | null => {
		for (let i = 0; i < rs.length; i++) {
			const next = rs[i + 1];
			if (fires(rs[i]) && (next === undefined || fires(next))) {
				return rs[i].step;
			}
		}
		return null;
	};
	const og = firstPersistent(overlapGap);
	const rc = firstPersistent(curvature);
	let step: number | null = null;
	let signal: SpectralSignal | null = null;
	if (og !== null && (rc === null || og <= rc)) {
		step = og;
		signal = 'overlap+gap';
	} else if (rc !== null) {
		step = rc;
		signal = 'relativeTriggerCurvature';
	}
	return { step, signal, threshold: band.threshold, baselineSteps: band.steps, ruleSteps: { overlapGap: og, relativeCurvature: rc } };
}

/**
 * Signed lag and verdict of a run (docs/metrics.md §3).
 *
 * With a declared attack: `clean` when the attack never works and the spectrum never fires;
 * `early-warning` when the spectrum fires and the attack has not worked yet, or fired more than
 * one checkpoint interval before it did; `visible` within one interval; `lagging` when the attack
 * worked more than one interval first; `invisible` when it works with no spectral signal at all.
 * Without a declared attack (`asr` null everywhere) only blind mode can speak: `visible` when its test
 * raised an alarm (docs/metrics.md §4.1), anything else `clean` (an inconclusive test or one with nothing to
 * analyse is no finding; the texts say which it was). A blind summary without a test (older files) is no finding.
 * `declaredTrigger.nearClone`: the declared trigger is a near-clone one, so an `invisible` verdict may name that regime.
 */
export function analyseLag(
	records: readonly CheckpointAnalysis[],
	blind: BlindSummary | null = null,
	t: LagThresholds = DEFAULT_THRESHOLDS,
	declaredTrigger: { readonly nearClone: boolean } | null = null,
): LagAnalysis {
	const rs = usable(records);
	const interval = checkpointInterval(rs.map((r) => r.step));
	const spe = stepsPerEpoch(rs);
	const a = asrStep(rs, t);
	const s = spectralStep(rs, t);
	const declared = rs.some((r) => r.asr !== null);
	const lagSteps = a.step !== null && s.step !== null ? s.step - a.step : null;
	const lag: SignedLag = {
		asrStep: a.step,
		spectralStep: s.step,
		lagSteps,
		lagEpochs: lagSteps !== null && spe !== null && spe > 0 ? lagSteps / spe : null,
	};
	let verdict: Verdict;
	let recommendation: string | null;
	if (!declared) {
		const found = blind?.test?.state === 'alarm';
		verdict = found ? 'visible' : 'clean';
		recommendation = found ? RECOMMEND_FOUND : null;
	} else if (a.step === null) {
		// With the attack not working, only a trigger-aligned rank-one spike is evidence of poisons: the relative
		// curvature alone also rises with no attack (a θ = 0 near-clone control, a κ = 100 penalty run; docs/results.md).
		const warned = s.ruleSteps.overlapGap !== null;
		verdict = warned ? 'early-warning' : 'clean';
		recommendation = warned ? RECOMMEND_FOUND : null;
	} else if (s.step === null) {
		verdict = 'invisible';
		recommendation = declaredTrigger?.nearClone === true ? RECOMMEND_INVISIBLE_NEAR_CLONE : RECOMMEND_INVISIBLE;
	} else {
		const d = s.step - a.step;
		verdict = d < -interval ? 'early-warning' : d > interval ? 'lagging' : 'visible';
		recommendation = RECOMMEND_FOUND;
	}
	return {
		lag,
		verdict,
		spectralSignal: s.signal,
		finalExcessAsr: a.finalExcess,
		curvatureThreshold: s.threshold,
		ruleSteps: s.ruleSteps,
		baselineSteps: s.baselineSteps,
		toleranceSteps: interval,
		stepsPerEpoch: spe,
		recommendation,
	};
}
