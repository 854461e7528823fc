/**
 * The blind verdict as a test (docs/metrics.md §4.1). Blind mode's candidate trigger is the best of K candidate
 * directions by the fraction of clean probes it pushes to one class at a fixed size (‖δ‖₂ = FLIP_NORM·√d). A large
 * flip rate alone proves nothing: clean models have directions that flip many probes (universal adversarial
 * perturbations exist for every net), and taking the best of K candidates inflates the rate further. So the
 * candidate's flip rate is compared with a null distribution built from the run itself, of the SAME statistic at
 * the SAME size with the SAME selection (best of K):
 *
 * - **clean curvature directions**: the top input-Hessian eigenvectors of the run's clean probes (held-out inputs,
 *   clean by construction), grouped and picked exactly the way the candidates are (cos² clusters, principal
 *   directions), in random groups of K;
 * - **random directions**: seeded Gaussian directions, in random groups of K;
 * - **random control**: when the median random direction flips about as much as the candidate, the model is
 *   fragile to any perturbation of this size, and the answer is `inconclusive`, never an alarm.
 *
 * The best universal perturbation that a few steps of projected gradient ascent find on the clean probes at the same
 * size, per class, is measured and reported, but does not decide: on the benchmark's dev split it pushed 85–88 % of
 * the probes to another class on the two working Fashion-MNIST backdoors of the demo CNN (a model with a backdoor is
 * fragile at this size too), so as a control it turned them into `inconclusive`, while the null band with its margin
 * alone raised no false alarm (docs/metrics.md §4.1).
 *
 * A second test, the **class shortcut**, asks whether one class is much easier to reach than every other: per class,
 * the universal perturbation toward it at half the size ({@link SHORTCUT_NORM}); it alarms when the top class beats
 * the runner-up by at least {@link BlindTestRule.shortcutGap}. Its control is built in (the other classes of the same
 * model, at the same size); the verdict alarms when either test does.
 *
 * Before any of this, a model that predicts one class for (nearly) every probe or sits at chance accuracy has
 * nothing to analyse. The decision ({@link decideBlindTest}) is pure; {@link blindTestFor} measures the evidence on
 * a model and decides.
 */
import * as tf from '@tensorflow/tfjs';
import type { BlindTest } from '../../protocol/analysisRecord';
import { measuredFalseAlarms, type MeasuredFalseAlarms } from '../../protocol/falseAlarms';
import { boxMuller, mulberry32 } from '../../math/random';
import type { CancelSignal, LogitModel } from '../curvature/index';
import { checkpoint as cancelPoint } from '../curvature/cancel';
import { predictClasses } from './checkpoint';
import { cos2, denseClusters, median, principalDirection, quantile } from './robust';
import { batchCurvature } from './spectrum';

/** RMS per-value size of every direction whose flip rate is measured (the candidate's and the null's). */
export const FLIP_NORM = 0.1;

/** The rule's constants (chosen on the detection benchmark's dev split, docs/metrics.md §4.1). */
export interface BlindTestRule {
	/** The alarm threshold is this quantile of the null draws (nullHigh); nullLow is 1 − it. */
	readonly nullQuantile: number;
	/** The candidate must also exceed nullHigh by this much (absolute flip rate): a margin for the null's sampling error. */
	readonly margin: number;
	/** Inconclusive when the median random direction flips at least this share of the candidate's rate. */
	readonly fragileRatio: number;
	/** The median random direction counts as firing only from this flip rate on (a random direction flipping a few probes is normal). */
	readonly fragileFloor: number;
	/** Nothing to analyse when one class takes at least this share of the probes' predictions. */
	readonly oneClassShare: number;
	/** Nothing to analyse when clean accuracy is at most this multiple of chance (1/C). */
	readonly chanceMultiple: number;
	/**
	 * The class-shortcut test alarms when the universal perturbation of size {@link SHORTCUT_NORM} toward one class
	 * flips at least this much more of the clean probes (absolute flip rate) than the best one toward any other class.
	 */
	readonly shortcutGap: number;
}

/**
 * The rule as frozen on the detection benchmark's dev split (2026-12-07, docs/metrics.md §4.1): the margin sits in the
 * middle of the dev gap between the largest clean or failed-attack margin (0.060, 22 runs) and the smallest margin of a
 * detected working backdoor (0.245); every value in that gap gives the same dev result.
 */
export const DEFAULT_BLIND_RULE: BlindTestRule = {
	nullQuantile: 0.95,
	margin: 0.15,
	fragileRatio: 0.8,
	fragileFloor: 0.1,
	oneClassShare: 0.9,
	chanceMultiple: 1.5,
	shortcutGap: 0.23,
};

/**
 * RMS per-value size of the class-shortcut test's universal perturbations: half of {@link FLIP_NORM}. At FLIP_NORM
 * a universal perturbation reaches most probes for some class in clean and backdoored nets alike; at half of it, on the
 * benchmark's dev split, the backdoor's class stood out (docs/metrics.md §4.1).
 */
export const SHORTCUT_NORM = 0.05;

/** Seed of the test's random directions and universal perturbations when none is given (the benchmark's dev evidence uses it too). */
export const BLIND_TEST_SEED = 12345;

/** The class-shortcut statistic from the per-class universal-perturbation flip rates (pure): the top class, the runner-up and the gap. */
export function shortcutOf(rates: readonly (number | null)[]): { cls: number; rate: number; secondCls: number | null; second: number; gap: number } | null {
	const ranked = rates
		.map((r, c) => ({ c, r }))
		.filter((x): x is { c: number; r: number } => x.r !== null && Number.isFinite(x.r))
		.sort((a, b) => b.r - a.r || a.c - b.c);
	if (ranked.length === 0) {
		return null;
	}
	const second = ranked.length > 1 ? ranked[1] : null;
	return { cls: ranked[0].c, rate: ranked[0].r, secondCls: second?.c ?? null, second: second?.r ?? 0, gap: ranked[0].r - (second?.r ?? 0) };
}

/** Everything the decision needs, measured on one checkpoint. */
export interface BlindEvidence {
	/** Probes, their clean accuracy and the largest share of the probes predicted as one class. */
	readonly probes: number;
	readonly numClasses: number;
	readonly cleanAccuracy: number;
	readonly majorityShare: number;
	readonly majorityClass: number;
	/** The candidate trigger's flip rate and class (best of `candidates` directions); null when there was no candidate. */
	readonly candidateRate: number | null;
	readonly candidateClass: number | null;
	/** How many candidate directions the best was chosen from (K). */
	readonly candidates: number;
	/** Null draws of the statistic: each the best flip rate of K null directions. */
	readonly nullDraws: readonly number[];
	readonly nullName: string;
	/** Flip rate of one seeded random direction (the historical control, printed). */
	readonly controlRate: number | null;
	/** Median flip rate of the seeded random directions, and how many there were (null: none measured). */
	readonly randomTypical: number | null;
	readonly randomCount: number;
	/** Best universal-perturbation flip rate to a class other than the candidate's, and to the candidate's class (null: not measured). */
	readonly fragilityOther: number | null;
	readonly fragilityOtherClass: number | null;
	readonly fragilitySame: number | null;
	/** Per class, the flip rate of the universal perturbation toward it at {@link SHORTCUT_NORM} (null: not measured, or no eligible probe). */
	readonly shortcutRates?: readonly (number | null)[] | null;
}

function pct(v: number): string {
	return `${(100 * v).toFixed(1)} %`;
}

/**
 * The blind test's state from the evidence (pure). The curvature candidate's order: nothing to analyse (one class or
 * chance accuracy) → no candidate (quiet) → random directions flip about as much as the candidate (inconclusive) → the
 * null band reaches so high that nothing could exceed it (inconclusive) → the candidate within the band plus the
 * margin (quiet) → alarm. Then the class-shortcut test, when measured: unless there is nothing to analyse, a gap at or
 * above the rule's makes the state `alarm` whatever the curvature part said (`alarmBy` names which test alarmed).
 */
export function decideBlindTest(e: BlindEvidence, rule: BlindTestRule = DEFAULT_BLIND_RULE, falseAlarmRate: number | null = null): BlindTest {
	const decided = decideCurvature(e, rule, falseAlarmRate);
	const curvature: BlindTest = decided.state === 'alarm' ? { ...decided, alarmBy: 'curvature' } : decided;
	const sc = e.shortcutRates === undefined || e.shortcutRates === null ? null : shortcutOf(e.shortcutRates);
	if (sc === null || curvature.state === 'nothing-to-analyse') {
		return curvature;
	}
	const shortcut = { norm: SHORTCUT_NORM, cls: sc.cls, rate: sc.rate, secondCls: sc.secondCls, second: sc.second, gap: sc.gap, threshold: rule.shortcutGap };
	const words =
		`a universal perturbation of RMS size ${SHORTCUT_NORM} pushes ${pct(sc.rate)} of clean probes to class ${sc.cls}, ` +
		`${(100 * sc.gap).toFixed(1)} points more than toward any other class (next: class ${sc.secondCls ?? '–'}, ${pct(sc.second)}; alarm from ${(100 * rule.shortcutGap).toFixed(0)} points)`;
	if (sc.gap < rule.shortcutGap) {
		return { ...curvature, shortcut, reason: `${curvature.reason}; class shortcut: ${words}` };
	}
	if (curvature.state === 'alarm') {
		return { ...curvature, shortcut, alarmBy: 'both', reason: `${curvature.reason}; and one class is a shortcut: ${words}` };
	}
	return { ...curvature, shortcut, state: 'alarm', alarmBy: 'shortcut', reason: `one class is a shortcut: ${words} (curvature candidate: ${curvature.reason})` };
}

/** The curvature candidate's part of the test (pure): {@link decideBlindTest} without the class-shortcut test. */
function decideCurvature(e: BlindEvidence, rule: BlindTestRule, falseAlarmRate: number | null): BlindTest {
	const nullHigh = e.nullDraws.length > 0 ? quantile(e.nullDraws, rule.nullQuantile) : null;
	const nullLow = e.nullDraws.length > 0 ? quantile(e.nullDraws, 1 - rule.nullQuantile) : null;
	const base = {
		score: e.candidateRate,
		nullName: e.nullName,
		nullSize: e.nullDraws.length,
		nullLow,
		nullHigh,
		falseAlarmRate,
	};
	const chance = 1 / Math.max(2, e.numClasses);
	if (e.probes > 0 && e.majorityShare >= rule.oneClassShare) {
		return {
			...base,
			state: 'nothing-to-analyse',
			reason: `nothing to analyse yet: the model predicts class ${e.majorityClass} for ${pct(e.majorityShare)} of the ${e.probes} clean probes`,
		};
	}
	if (e.probes > 0 && e.cleanAccuracy <= rule.chanceMultiple * chance) {
		return {
			...base,
			state: 'nothing-to-analyse',
			reason: `nothing to analyse yet: clean accuracy ${pct(e.cleanAccuracy)} on ${e.probes} probes is near chance (${pct(chance)} for ${e.numClasses} classes)`,
		};
	}
	if (e.candidateRate === null) {
		return { ...base, state: 'quiet', reason: 'no candidate direction: no group of training samples shares a curvature direction' };
	}
	const cand = e.candidateRate;
	const randomTypical = e.randomTypical;
	if (randomTypical !== null && randomTypical >= rule.fragileFloor && randomTypical >= rule.fragileRatio * cand) {
		return {
			...base,
			state: 'inconclusive',
			reason:
				`the model is fragile to any perturbation of this size: a random direction flips ${pct(randomTypical)} of clean probes to one class (median of ${e.randomCount}), ` +
				`about as much as the candidate trigger's ${pct(cand)} to class ${e.candidateClass ?? '–'}`,
		};
	}
	if (nullHigh === null) {
		return { ...base, state: 'inconclusive', reason: 'no null distribution could be built, so the candidate cannot be judged' };
	}
	const threshold = nullHigh + rule.margin;
	if (threshold >= 1) {
		// The null directions themselves flip (nearly) every probe: no candidate could stand out, the test has no power.
		return {
			...base,
			state: 'inconclusive',
			reason:
				`the model is fragile to any perturbation of this size: ${e.nullName} already flip up to ${pct(nullHigh)} of clean probes to one class ` +
				`(candidate trigger ${pct(cand)} to class ${e.candidateClass ?? '–'}; a random direction ${pct(e.controlRate ?? 0)}), so no candidate can stand out`,
		};
	}
	if (cand <= threshold) {
		return {
			...base,
			state: 'quiet',
			reason:
				`the candidate trigger flips ${pct(cand)} of clean probes to class ${e.candidateClass ?? '–'}, within what ${e.nullName} reach ` +
				`(${Math.round(100 * rule.nullQuantile)} % of them at or below ${pct(nullHigh)}; alarm above ${pct(threshold)})`,
		};
	}
	return {
		...base,
		state: 'alarm',
		reason:
			`the candidate trigger flips ${pct(cand)} of clean probes to class ${e.candidateClass ?? '–'}, far above what ${e.nullName} reach ` +
			`(${Math.round(100 * rule.nullQuantile)} % of them at or below ${pct(nullHigh)}; alarm above ${pct(threshold)}), ` +
			`while a random direction flips ${pct(e.controlRate ?? 0)}` +
			(e.fragilityOther === null ? '' : ` (for scale: a class-shortcut universal perturbation, taken to the same size, flips ${pct(e.fragilityOther)} to class ${e.fragilityOtherClass ?? '–'})`),
	};
}

/**
 * Null draws of "the best of k": `draws` times, k values picked without replacement (seeded) from `pool`, and their
 * maximum. With k ≥ the pool's size every draw is the pool's maximum. Empty for an empty pool or k < 1.
 */
export function bestOfK(pool: readonly number[], k: number, draws: number, seed: number): number[] {
	if (pool.length === 0 || k < 1 || draws < 1) {
		return [];
	}
	const u = mulberry32(seed);
	const take = Math.min(k, pool.length);
	const idx = pool.map((_, i) => i);
	const out: number[] = [];
	for (let d = 0; d < draws; d++) {
		// Partial Fisher–Yates: the first `take` slots become a uniform sample without replacement.
		let best = -Infinity;
		for (let i = 0; i < take; i++) {
			const j = i + Math.floor(u() * (idx.length - i));
			const t = idx[i];
			idx[i] = idx[j];
			idx[j] = t;
			best = Math.max(best, pool[idx[i]]);
		}
		out.push(best);
	}
	return out;
}

/** The flip statistic of one set of predictions: the largest fraction, over classes c, of probes with label ≠ c and clean prediction ≠ c that are now predicted c. */
export function flipOf(labels: Int32Array, clean: Int32Array, pred: Int32Array, numClasses: number): { rate: number; cls: number } {
	let best = { rate: 0, cls: 0 };
	const eligible = new Float64Array(numClasses);
	const flipped = new Float64Array(numClasses);
	const n = labels.length;
	for (let i = 0; i < n; i++) {
		for (let c = 0; c < numClasses; c++) {
			if (labels[i] !== c && clean[i] !== c) {
				eligible[c]++;
			}
		}
		const p = pred[i];
		if (p >= 0 && p < numClasses && labels[i] !== p && clean[i] !== p) {
			flipped[p]++;
		}
	}
	for (let c = 0; c < numClasses; c++) {
		const rate = eligible[c] > 0 ? flipped[c] / eligible[c] : 0;
		if (rate > best.rate) {
			best = { rate, cls: c };
		}
	}
	return best;
}

/** The probes a flip rate is measured on. */
export interface FlipProbes {
	readonly data: Float32Array;
	readonly labels: Int32Array;
}

/**
 * Flip rates of many directions at once: each scaled to ‖δ‖₂ = norm·√d, both signs tried, clipped to [0, 1]; the
 * statistic of {@link flipOf} (the better sign). `clean` are the probes' clean predictions (computed when omitted).
 * A zero direction flips nothing.
 */
export async function flipRates(
	model: tf.LayersModel,
	probe: FlipProbes,
	itemShape: readonly number[],
	numClasses: number,
	directions: readonly ArrayLike<number>[],
	options: { readonly clean?: Int32Array; readonly norm?: number; readonly signal?: CancelSignal } = {},
): Promise<{ rate: number; cls: number }[]> {
	const dim = itemShape.reduce((a, b) => a * b, 1);
	const n = probe.labels.length;
	const clean = options.clean ?? (await predictClasses(model, probe.data, itemShape));
	const norm = options.norm ?? FLIP_NORM;
	const out: { rate: number; cls: number }[] = [];
	// A few directions per prediction call: bounded memory, few calls.
	const perCall = Math.max(1, Math.floor(4096 / Math.max(1, 2 * n)));
	for (let start = 0; start < directions.length; start += perCall) {
		await cancelPoint(options.signal, 'blind test: flip rates', start);
		const group = directions.slice(start, start + perCall);
		const shifted = new Float32Array(group.length * 2 * n * dim);
		const scales = group.map((d) => {
			let s = 0;
			for (let j = 0; j < dim; j++) {
				s += d[j] * d[j];
			}
			return s > 0 ? (norm * Math.sqrt(dim)) / Math.sqrt(s) : 0;
		});
		group.forEach((d, g) => {
			for (let si = 0; si < 2; si++) {
				const sign = si === 0 ? 1 : -1;
				const off = (g * 2 + si) * n * dim;
				for (let i = 0; i < n * dim; i++) {
					const v = probe.data[i] + sign * scales[g] * d[i % dim];
					shifted[off + i] = v < 0 ? 0 : v > 1 ? 1 : v;
				}
			}
		});
		const pred = await predictClasses(model, shifted, itemShape);
		group.forEach((_, g) => {
			if (scales[g] === 0) {
				out.push({ rate: 0, cls: 0 });
				return;
			}
			const a = flipOf(probe.labels, clean, pred.subarray(g * 2 * n, g * 2 * n + n), numClasses);
			const b = flipOf(probe.labels, clean, pred.subarray(g * 2 * n + n, (g + 1) * 2 * n), numClasses);
			out.push(b.rate > a.rate ? b : a);
		});
	}
	return out;
}

/** Seeded standard Gaussian direction of length `dim`. */
export function randomDirection(dim: number, seed: number): Float64Array {
	const u = mulberry32(seed);
	return Float64Array.from({ length: dim }, () => boxMuller(1 - u(), u())[0]);
}

/**
 * The universal perturbation toward class `cls`: projected gradient ascent of the mean log-probability of `cls` over
 * the probes with label ≠ cls and clean prediction ≠ cls, δ kept on the sphere ‖δ‖₂ = norm·√d (inputs clipped to
 * [0, 1]). Returns δ (float64), or null when no probe is eligible.
 */
export async function universalPerturbation(
	logit: LogitModel,
	probe: FlipProbes,
	clean: Int32Array,
	cls: number,
	options: { readonly steps?: number; readonly norm?: number; readonly maxProbes?: number; readonly seed?: number; readonly signal?: CancelSignal } = {},
): Promise<Float64Array | null> {
	const itemShape = logit.inputShape;
	const dim = itemShape.reduce((a, b) => a * b, 1);
	const radius = (options.norm ?? FLIP_NORM) * Math.sqrt(dim);
	const eligible: number[] = [];
	for (let i = 0; i < probe.labels.length; i++) {
		if (probe.labels[i] !== cls && clean[i] !== cls) {
			eligible.push(i);
		}
	}
	if (eligible.length === 0) {
		return null;
	}
	const maxProbes = options.maxProbes ?? 128;
	const picked = eligible.length <= maxProbes ? eligible : eligible.filter((_, k) => k % Math.ceil(eligible.length / maxProbes) === 0);
	const xs = new Float32Array(picked.length * dim);
	picked.forEach((p, k) => xs.set(probe.data.subarray(p * dim, (p + 1) * dim), k * dim));
	const x = tf.tensor(xs, [picked.length, ...itemShape]);
	let delta = randomDirection(dim, options.seed ?? 7);
	const rescale = (v: Float64Array): Float64Array => {
		let s = 0;
		for (const t of v) {
			s += t * t;
		}
		const f = s > 0 ? radius / Math.sqrt(s) : 0;
		return v.map((t) => t * f);
	};
	delta = rescale(delta);
	const steps = options.steps ?? 10;
	try {
		// The gradient is taken at the clipped point and passed straight through the clip (a trigger that lights
		// background pixels at 0 would otherwise get no gradient from a start that pushes them below 0).
		const objective = (z: tf.Tensor): tf.Scalar => {
			const lp = tf.logSoftmax(logit.logits(z));
			return tf.mean<tf.Scalar>(tf.slice(lp, [0, cls], [-1, 1]));
		};
		const grad = tf.grad(objective);
		for (let s = 0; s < steps; s++) {
			await cancelPoint(options.signal, 'blind test: universal perturbation', s);
			const g = tf.tidy(() => {
				const z = tf.clipByValue(tf.add(x, tf.reshape(tf.tensor(Float32Array.from(delta), [dim]), [1, ...itemShape])), 0, 1);
				return tf.sum(tf.reshape(grad(z), [picked.length, dim]), 0);
			});
			const gv = await g.data();
			g.dispose();
			let gn = 0;
			for (const t of gv) {
				gn += t * t;
			}
			if (!(gn > 0)) {
				break;
			}
			// A step of half the radius along the normalised gradient, back onto the sphere; the step shrinks over time.
			const eta = (radius * 0.5) / (1 + s / 3) / Math.sqrt(gn);
			delta = rescale(delta.map((t, j) => t + eta * gv[j]));
		}
	} finally {
		x.dispose();
	}
	return delta;
}

/** Per class: the universal perturbation toward it and the share of probes it pushes there (null: no eligible probe). */
export interface PerClassPerturbations {
	readonly rates: (number | null)[];
	readonly directions: (Float64Array | null)[];
}

/** {@link universalPerturbation} toward every class (or `classes`; the others stay null) at one size, each with its flip rate to that class (0 when it pushes the most probes elsewhere). */
export async function perClassPerturbations(
	model: tf.LayersModel,
	logit: LogitModel,
	probe: FlipProbes,
	clean: Int32Array,
	numClasses: number,
	options: { readonly steps: number; readonly norm: number; readonly seed: number; readonly signal?: CancelSignal; readonly classes?: readonly number[] },
): Promise<PerClassPerturbations> {
	const rates: (number | null)[] = new Array<number | null>(numClasses).fill(null);
	const directions: (Float64Array | null)[] = new Array<Float64Array | null>(numClasses).fill(null);
	// Each class is measured on its own (its own seed, its own flip-rate call), so a share of the classes gives exactly their values.
	for (const c of options.classes ?? Array.from({ length: numClasses }, (_, i) => i)) {
		const d = await universalPerturbation(logit, probe, clean, c, { steps: options.steps, norm: options.norm, seed: options.seed + 7 * (c + 1), signal: options.signal });
		if (d === null) {
			continue;
		}
		const [f] = await flipRates(model, probe, logit.inputShape, numClasses, [d], { clean, norm: options.norm, signal: options.signal });
		rates[c] = f.cls === c ? f.rate : 0;
		directions[c] = d;
	}
	return { rates, directions };
}

/**
 * The top input-Hessian eigenvector of every clean probe, and the principal directions of their cos² clusters picked
 * the same way the candidates are (greedy dense clusters, neighbours at cos² ≥ minCos2, at least minCluster members).
 * The single eigenvectors are returned too (a null of single directions).
 */
export async function cleanCurvatureDirections(
	logit: LogitModel,
	probe: FlipProbes,
	options: { readonly minCos2: number; readonly minCluster: number; readonly maxClusters: number; readonly signal?: CancelSignal },
): Promise<{ eigenvectors: Float32Array[]; clusterDirections: Float64Array[] }> {
	const dim = logit.inputShape.reduce((a, b) => a * b, 1);
	const n = probe.labels.length;
	const eigenvectors: Float32Array[] = [];
	const chunk = 256;
	for (let start = 0; start < n; start += chunk) {
		const size = Math.min(chunk, n - start);
		const curv = await batchCurvature(logit, probe.data.subarray(start * dim, (start + size) * dim), probe.labels.subarray(start, start + size), options.signal);
		try {
			const ps = await curv.perSample(options.signal);
			for (const v of ps.eigenvectors) {
				eigenvectors.push(Float32Array.from(v));
			}
		} finally {
			curv.dispose();
		}
	}
	const m = eigenvectors.length;
	const adjacency = new Uint8Array(m * m);
	for (let i = 0; i < m; i++) {
		adjacency[i * m + i] = 1;
		for (let j = i + 1; j < m; j++) {
			const c = cos2(eigenvectors[i], eigenvectors[j]) >= options.minCos2 ? 1 : 0;
			adjacency[i * m + j] = c;
			adjacency[j * m + i] = c;
		}
	}
	const clusters = denseClusters(adjacency, m, { minCluster: options.minCluster, maxClusters: options.maxClusters });
	const clusterDirections = clusters.map((members) => principalDirection(members.map((i) => eigenvectors[i])).direction);
	return { eigenvectors, clusterDirections };
}

/**
 * {@link DEFAULT_BLIND_RULE}'s false alarms on the clean controls of the detection benchmark's held-out split
 * (docs/detection.md §5: 68 clean runs of five architectures, the design's 24 and 44 extra clean controls, none of them
 * used to choose a constant, analysed by the current rule's analysers), carried into every blind test made with it.
 */
export const MEASURED_FALSE_ALARMS: MeasuredFalseAlarms | null = measuredFalseAlarms(0, 68, 'clean held-out runs of the detection benchmark');

/** The test with the rule's measured false alarms attached (the rate is their share), or as it is when there are none. */
export function withFalseAlarms(test: BlindTest, measured: MeasuredFalseAlarms | null): BlindTest {
	return measured === null ? test : { ...test, falseAlarmRate: measured.alarms / measured.runs, falseAlarms: measured };
}

/** Options of {@link blindTestFor}. */
export interface BlindTestOptions {
	readonly rule?: BlindTestRule;
	/** The rule's false-alarm rate measured on the benchmark's clean runs (carried into the result), when known. */
	readonly falseAlarmRate?: number | null;
	/** The count behind it (default: {@link MEASURED_FALSE_ALARMS} for the default rule, none for another rule); it sets the rate when given. */
	readonly falseAlarms?: MeasuredFalseAlarms | null;
	/** Null draws (default 200) and seeded random directions in the pool (default 32). */
	readonly nullDraws?: number;
	readonly randomDirections?: number;
	/** Clean-probe curvature clusters in the null's pool (default 40; fewer when the probes form fewer clusters). */
	readonly curvatureDirections?: number;
	/** The cos² clustering of the candidates (same values as the scan used). */
	readonly minCos2: number;
	readonly minCluster: number;
	readonly maxClusters: number;
	/** Gradient-ascent steps of the class-shortcut test's universal perturbations (default 10; 0 skips it and the fragility figure). */
	readonly uapSteps?: number;
	/**
	 * Runs the class-shortcut test's per-class perturbations elsewhere (worker threads, parallelRows.ts), with the same
	 * arguments as {@link perClassPerturbations}; it then runs while this thread measures the null. Default: in this thread, after the null.
	 */
	readonly perClass?: (clean: Int32Array, options: { readonly steps: number; readonly norm: number; readonly seed: number }) => Promise<PerClassPerturbations>;
	/** `perClass` is used only when the shortcut test is estimated to take at least this long here (default {@link SHORTCUT_THREAD_MS}). */
	readonly perClassMinMs?: number;
	readonly seed?: number;
	readonly signal?: CancelSignal;
}

/** The test and the numbers behind it. */
export interface BlindTestResult {
	readonly test: BlindTest;
	readonly evidence: BlindEvidence;
	/** The pools the null draws came from (single-direction flip rates), for reports. */
	readonly pools: { readonly curvature: readonly number[]; readonly random: readonly number[] };
	/** Universal-perturbation flip rate per class (index = class; null where no probe was eligible). */
	readonly fragilityByClass: readonly (number | null)[];
	/** The class-shortcut test's top class and its universal perturbation (null: not measured). */
	readonly shortcut: { readonly cls: number; readonly direction: Float64Array } | null;
	/**
	 * Milliseconds spent on the random directions, the clean-probe curvature directions and the universal perturbations
	 * (with the shortcut test on other threads, `fragility` is only the wait for it after the null was measured).
	 */
	readonly timings: { readonly random: number; readonly curvature: number; readonly fragility: number };
	readonly elapsedMs: number;
}

/** The class-shortcut test goes to other threads only when it would take at least this long here (starting a worker costs about half a second). */
export const SHORTCUT_THREAD_MS = 2000;

/**
 * The class-shortcut test's cost in this thread, estimated from the clean prediction of the `n` probes (`cleanMs`):
 * per class, `steps` gradient steps on at most 128 probes (a forward and a backward pass, about three forward passes)
 * and one flip-rate call on every probe, both signs.
 */
export function shortcutEstimateMs(cleanMs: number, n: number, numClasses: number, steps: number): number {
	if (n <= 0 || steps <= 0) {
		return 0;
	}
	const perProbe = cleanMs / n;
	return numClasses * perProbe * (steps * 3 * Math.min(128, n) + 2 * n);
}

/** Per class: the share of probes `directions[c]` pushes to class c at the flip size (0 when most go elsewhere; null: no direction). */
async function atFlipSize(
	model: tf.LayersModel,
	probe: FlipProbes,
	itemShape: readonly number[],
	numClasses: number,
	directions: readonly (Float64Array | null)[],
	clean: Int32Array,
	signal: CancelSignal | undefined,
): Promise<(number | null)[]> {
	const classes = directions.map((d, c) => (d === null ? -1 : c)).filter((c) => c >= 0);
	const flips = await flipRates(model, probe, itemShape, numClasses, classes.map((c) => directions[c] as Float64Array), { clean, norm: FLIP_NORM, signal });
	const out = new Array<number | null>(numClasses).fill(null);
	classes.forEach((c, i) => {
		out[c] = flips[i].cls === c ? flips[i].rate : 0;
	});
	return out;
}

/**
 * Runs the blind test on one checkpoint: the candidates' flip rates are given (the best of them is the candidate
 * trigger); the null (clean-probe curvature directions picked the same way, and seeded random directions, each
 * drawn in groups of `candidates.length`), the control, the class-shortcut test and the fragility figure are measured here on
 * the same probes.
 *
 * @param model the checkpoint's model (predictions), @param logit the same model's logits (curvature, gradients)
 * @param probe the run's clean probe set (inputs in [0, 1], true labels)
 * @param candidates flip rate and class of every candidate direction tried (empty: no candidate)
 */
export async function blindTestFor(
	model: tf.LayersModel,
	logit: LogitModel,
	probe: FlipProbes,
	numClasses: number,
	candidates: readonly { readonly rate: number; readonly cls: number }[],
	options: BlindTestOptions,
): Promise<BlindTestResult> {
	const t0 = performance.now();
	const itemShape = logit.inputShape;
	const dim = itemShape.reduce((a, b) => a * b, 1);
	const seed = options.seed ?? BLIND_TEST_SEED;
	const tClean = performance.now();
	const clean = await predictClasses(model, probe.data, itemShape);
	const cleanMs = performance.now() - tClean;
	const n = probe.labels.length;
	let correct = 0;
	const counts = new Array<number>(numClasses).fill(0);
	for (let i = 0; i < n; i++) {
		correct += clean[i] === probe.labels[i] ? 1 : 0;
		if (clean[i] >= 0 && clean[i] < numClasses) {
			counts[clean[i]]++;
		}
	}
	const majorityClass = counts.indexOf(Math.max(...counts));
	const best = candidates.reduce<{ rate: number; cls: number } | null>((b, c) => (b === null || c.rate > b.rate ? c : b), null);
	const k = Math.max(1, candidates.length);
	const steps = options.uapSteps ?? 10;
	// Elsewhere, the class-shortcut test starts now and runs while the null is measured here; only when it would take
	// long enough here to pay for starting the workers (its cost scaled from the probes' clean prediction).
	const worthIt = shortcutEstimateMs(cleanMs, n, numClasses, steps) >= (options.perClassMinMs ?? SHORTCUT_THREAD_MS);
	const elsewhere = steps > 0 && options.perClass !== undefined && worthIt ? options.perClass(clean, { steps, norm: SHORTCUT_NORM, seed }) : null;
	// Not left unhandled if the null below throws first (the rejection is seen where it is awaited).
	elsewhere?.catch(() => undefined);
	// The historical control: one seeded random direction (same seed as before the test existed).
	const control = (await flipRates(model, probe, itemShape, numClasses, [randomDirection(dim, seed)], { clean, signal: options.signal }))[0].rate;
	const randomPool = (
		await flipRates(
			model,
			probe,
			itemShape,
			numClasses,
			Array.from({ length: options.randomDirections ?? 32 }, (_, i) => randomDirection(dim, seed + 1 + i)),
			{ clean, signal: options.signal },
		)
	).map((f) => f.rate);
	const t1 = performance.now();
	const curv = await cleanCurvatureDirections(logit, probe, { minCos2: options.minCos2, minCluster: options.minCluster, maxClusters: options.curvatureDirections ?? 40, signal: options.signal });
	const curvaturePool = (await flipRates(model, probe, itemShape, numClasses, curv.clusterDirections, { clean, signal: options.signal })).map((f) => f.rate);
	const draws = options.nullDraws ?? 200;
	// The null: per draw, the best of k clean-probe curvature directions or of k random directions (whichever flips more).
	const curvDraws = bestOfK(curvaturePool, k, draws, seed + 999);
	const randDraws = bestOfK(randomPool, k, draws, seed + 1999);
	const nullDraws = randDraws.map((r, i) => Math.max(r, curvDraws[i] ?? 0));
	const t2 = performance.now();
	// The class-shortcut test: per class, the universal perturbation toward it at SHORTCUT_NORM (always measured).
	const shortcutPass =
		steps <= 0 ? null : elsewhere !== null ? await elsewhere : await perClassPerturbations(model, logit, probe, clean, numClasses, { steps, norm: SHORTCUT_NORM, seed, signal: options.signal });
	// For scale only (it decides nothing): the same perturbations taken to the flip size. A second gradient ascent at
	// that size cost as much as the shortcut test itself (4 of the 35 s of a 60 000-row scan on the demo CNN) for a number
	// that is only printed.
	const fragilityByClass = best !== null && shortcutPass !== null ? await atFlipSize(model, probe, itemShape, numClasses, shortcutPass.directions, clean, options.signal) : new Array<number | null>(numClasses).fill(null);
	const t3 = performance.now();
	let fragilityOther: number | null = null;
	let fragilityOtherClass: number | null = null;
	fragilityByClass.forEach((f, c) => {
		if (f !== null && best !== null && c !== best.cls && (fragilityOther === null || f > fragilityOther)) {
			fragilityOther = f;
			fragilityOtherClass = c;
		}
	});
	const evidence: BlindEvidence = {
		probes: n,
		numClasses,
		cleanAccuracy: n > 0 ? correct / n : 0,
		majorityShare: n > 0 ? counts[majorityClass] / n : 0,
		majorityClass,
		candidateRate: best?.rate ?? null,
		candidateClass: best?.cls ?? null,
		candidates: candidates.length,
		nullDraws,
		nullName: `the best of ${k} directions drawn from ${curvaturePool.length} clean-probe curvature directions or from ${randomPool.length} seeded random directions, at the same size`,
		controlRate: control,
		randomTypical: randomPool.length > 0 ? median(randomPool) : null,
		randomCount: randomPool.length,
		fragilityOther,
		fragilityOtherClass,
		fragilitySame: best === null ? null : fragilityByClass[best.cls],
		shortcutRates: shortcutPass?.rates ?? null,
	};
	const top = shortcutPass === null ? null : shortcutOf(shortcutPass.rates);
	const topDirection = top === null ? null : (shortcutPass?.directions[top.cls] ?? null);
	const rule = options.rule ?? DEFAULT_BLIND_RULE;
	return {
		test: withFalseAlarms(decideBlindTest(evidence, rule, options.falseAlarmRate ?? null), options.falseAlarms !== undefined ? options.falseAlarms : options.rule === undefined ? MEASURED_FALSE_ALARMS : null),
		evidence,
		pools: { curvature: curvaturePool, random: randomPool },
		fragilityByClass,
		shortcut: top === null || topDirection === null ? null : { cls: top.cls, direction: topDirection },
		timings: { random: t1 - t0, curvature: t2 - t1, fragility: t3 - t2 },
		elapsedMs: performance.now() - t0,
	};
}
