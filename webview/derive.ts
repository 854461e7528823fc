/**
 * Pure derivations for the dashboard: smoothing, picking series, the lag curve, the safety–efficacy
 * points, the plain-language verdict, colour and image helpers. No DOM, no Chart.js: unit-tested in Node.
 */

import type { BlindState, BlindSummary, ImageRecord, Verdict } from '../src/protocol/analysisRecord';
import { verdictHeadline } from '../src/ci/verdictText';
import type { AnalysisPoint, BlindPoint, MetricSeries, RunInfo, RunView, Series } from '../src/protocol/webview';
import { SPECTRAL_SIGNALS, type SpectralSignal, type XAxis } from './state';

/** A chart point. */
export interface XY {
	readonly x: number;
	readonly y: number;
}

/**
 * Exponential moving average with TensorBoard's de-biasing: the first points are not pulled
 * towards zero, and a constant series stays constant (tensorboard #786).
 * @param values the raw values
 * @param weight the EMA weight in [0, 1); 0 returns a copy of the input
 */
export function ema(values: readonly number[], weight: number): number[] {
	if (!(weight > 0)) {
		return [...values];
	}
	const w = Math.min(weight, 0.999);
	let last = 0;
	let debias = 1;
	return values.map((v) => {
		last = last * w + (1 - w) * v;
		debias *= w;
		return last / (1 - debias);
	});
}

/** The x coordinate of point i of a series along the chosen axis. */
export function seriesX(s: Series, i: number, axis: XAxis): number {
	return axis === 'step' ? s.step[i] : axis === 'epoch' ? s.epoch[i] : s.time[i];
}

/** A series as chart points along the chosen axis, optionally EMA-smoothed. */
export function seriesPoints(s: Series, axis: XAxis, smoothing = 0): XY[] {
	const ys = smoothing > 0 ? ema(s.value, smoothing) : s.value;
	return ys.map((y, i) => ({ x: seriesX(s, i, axis), y }));
}

/** The x coordinate of a checkpoint along the chosen axis. */
export function checkpointX(cp: AnalysisPoint, axis: XAxis): number {
	return axis === 'step' ? cp.step : axis === 'epoch' ? cp.epoch : cp.time;
}

/** Axis title for the chosen x-axis. */
export function xAxisTitle(axis: XAxis): string {
	return axis === 'step' ? 'step' : axis === 'epoch' ? 'epoch' : 'wall time (s since start)';
}

const LOSS_NAMES = ['loss'];
const ACC_NAMES = ['acc', 'accuracy', 'categoricalAccuracy', 'categorical_accuracy', 'sparseCategoricalAccuracy'];

/**
 * Finds a training metric: the batch-level series if there is one (it is the live one), else the epoch-level.
 * @param names accepted names, in order of preference
 */
export function findMetric(run: RunView, names: readonly string[], level?: 'batch' | 'epoch'): MetricSeries | null {
	for (const lv of level === undefined ? (['batch', 'epoch'] as const) : [level]) {
		for (const n of names) {
			const m = run.metrics.find((s) => s.level === lv && s.name === n);
			if (m !== undefined && m.series.step.length > 0) {
				return m;
			}
		}
	}
	return null;
}

/** The training loss series, if logged. */
export function lossMetric(run: RunView): MetricSeries | null {
	return findMetric(run, LOSS_NAMES);
}

/** The training accuracy series, if logged. */
export function accuracyMetric(run: RunView): MetricSeries | null {
	return findMetric(run, ACC_NAMES);
}

/** The validation accuracy series (epoch level), if logged. */
export function validationAccuracyMetric(run: RunView): MetricSeries | null {
	return findMetric(
		run,
		ACC_NAMES.map((n) => `val_${n}`),
		'epoch',
	);
}

/** Human label for a spectral signal. */
export function signalLabel(signal: SpectralSignal): string {
	switch (signal) {
		case 'triggerCurvature':
			return 'tᵀHt/‖t‖² (curvature along the trigger)';
		case 'lambda1':
			return 'λ1 on triggered probes';
		case 'triggerOverlap':
			return 'cos²(top eigenvector, trigger)';
		case 'perSampleOverlap':
			return 'mean per-sample cos²';
	}
}

/** Every spectral signal with its label, in menu order. */
export const SPECTRAL_SIGNALS_LABELS: readonly { id: SpectralSignal; label: string }[] = SPECTRAL_SIGNALS.map((id) => ({ id, label: signalLabel(id) }));

/** Short label for a spectral signal (legends, menus). */
export function signalShortLabel(signal: SpectralSignal): string {
	switch (signal) {
		case 'triggerCurvature':
			return 'tᵀHt';
		case 'lambda1':
			return 'λ1 (triggered)';
		case 'triggerOverlap':
			return 'cos²';
		case 'perSampleOverlap':
			return 'per-sample cos²';
	}
}

/** The value of a spectral signal at a checkpoint, or null where it was not computed. */
export function signalValue(cp: AnalysisPoint, signal: SpectralSignal): number | null {
	switch (signal) {
		case 'triggerCurvature':
			return cp.triggerCurvature;
		case 'lambda1':
			return cp.topEigenvalues?.[0] ?? null;
		case 'triggerOverlap':
			return cp.triggerOverlap;
		case 'perSampleOverlap':
			return cp.perSample?.overlap ?? null;
	}
}

/** Checkpoints that are usable (no error), with a value for `pick`, as chart points. */
export function checkpointPoints(cps: readonly AnalysisPoint[], axis: XAxis, pick: (cp: AnalysisPoint) => number | null): XY[] {
	const out: XY[] = [];
	for (const cp of cps) {
		const y = pick(cp);
		if (y !== null && Number.isFinite(y)) {
			out.push({ x: checkpointX(cp, axis), y });
		}
	}
	return out;
}

/** A point of the lag curve; `step` and `epoch` feed the tooltip. */
export interface LagPoint extends XY {
	readonly step: number;
	readonly epoch: number;
	/** The signal rescaled to [0, 1] over the run (0 = its smallest value, 1 = its largest). */
	readonly norm: number;
}

/**
 * The lag curve: one point per analysed checkpoint, in time order, x = excess ASR, y = the spectral
 * signal's raw value. A spectrum that leads makes the curve climb first and then run right (it
 * rises while the excess ASR is still low: upper left); one that lags runs right first and climbs
 * late (lower right). Raw values, not rescaled ones, so a flat control run stays a small blob
 * instead of having its noise stretched to full height.
 */
export function lagCurve(cps: readonly AnalysisPoint[], signal: SpectralSignal): LagPoint[] {
	const rows = cps
		.map((cp) => ({ cp, v: signalValue(cp, signal), a: cp.excessAsr }))
		.filter((r): r is { cp: AnalysisPoint; v: number; a: number } => r.v !== null && r.a !== null && Number.isFinite(r.v) && Number.isFinite(r.a))
		.sort((p, q) => p.cp.step - q.cp.step);
	let lo = Infinity;
	let hi = -Infinity;
	for (const r of rows) {
		lo = Math.min(lo, r.v);
		hi = Math.max(hi, r.v);
	}
	const span = hi - lo;
	return rows.map((r) => ({ x: r.a, y: r.v, step: r.cp.step, epoch: r.cp.epoch, norm: span > 0 ? (r.v - lo) / span : 0 }));
}

/**
 * Where the lag curve sits relative to the diagonal of its own range: the mean of
 * (norm − excessAsr / max excessAsr). Positive: the spectrum rose first (leads); negative: the attack
 * worked first (lags). Null when the excess ASR never rose.
 */
export function lagCurveBend(points: readonly LagPoint[]): number | null {
	const xmax = Math.max(0, ...points.map((p) => p.x));
	if (points.length < 2 || !(xmax > 0.05)) {
		return null;
	}
	let sum = 0;
	for (const p of points) {
		sum += p.norm - Math.max(0, p.x) / xmax;
	}
	return sum / points.length;
}

/** Formats a number for people: up to `digits` significant digits, no trailing zeros, a real minus sign. */
export function fmt(v: number | null | undefined, digits = 3): string {
	if (v === null || v === undefined || !Number.isFinite(v)) {
		return '–';
	}
	if (v === 0) {
		return '0';
	}
	const a = Math.abs(v);
	let s: string;
	if (a >= 1e5 || a < 1e-3) {
		s = v.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, 'e');
	} else {
		s = String(Number(v.toPrecision(digits)));
	}
	return s.replace('-', '−');
}

function plural(n: number, one: string, many: string): string {
	return Math.abs(n) === 1 ? one : many;
}

/** "0.7 epochs", "1 epoch", "110 steps". */
export function fmtDuration(lagSteps: number | null, lagEpochs: number | null): string {
	if (lagEpochs !== null && Number.isFinite(lagEpochs)) {
		const a = Math.abs(lagEpochs);
		const s = fmt(a, 2);
		return `${s} ${plural(Number(s), 'epoch', 'epochs')}${lagSteps !== null ? ` (${fmt(Math.abs(lagSteps), 4)} steps)` : ''}`;
	}
	if (lagSteps !== null && Number.isFinite(lagSteps)) {
		const a = Math.abs(lagSteps);
		return `${fmt(a, 4)} ${plural(a, 'step', 'steps')}`;
	}
	return 'an unknown time';
}

/** The signed lag as a label: "lag −110 steps (−0.7 epoch)". */
export function fmtSignedLag(lagSteps: number | null, lagEpochs: number | null): string {
	if (lagSteps === null && lagEpochs === null) {
		return 'lag: –';
	}
	const sign = (v: number): string => (v > 0 ? '+' : v < 0 ? '−' : '±');
	const steps = lagSteps === null ? '' : `${sign(lagSteps)}${fmt(Math.abs(lagSteps), 4)} steps`;
	const epochs = lagEpochs === null ? '' : `${sign(lagEpochs)}${fmt(Math.abs(lagEpochs), 2)} epochs`;
	return `lag ${steps}${steps !== '' && epochs !== '' ? ` (${epochs})` : epochs}`;
}

/** How alarming a verdict is; selects the banner's colour class. */
export type Severity = 'neutral' | 'ok' | 'warning' | 'danger';

/** The verdict in plain language. */
export interface VerdictText {
	readonly severity: Severity;
	/** A short tag (the verdict's name in words). */
	readonly tag: string;
	/** One plain-language line. */
	readonly line: string;
	/** What to do next, when there is something to do. */
	readonly advice: string | null;
}

const VERDICT_TAGS: Record<Verdict, string> = {
	clean: 'clean',
	'early-warning': 'early warning',
	visible: 'visible',
	lagging: 'lagging',
	invisible: 'invisible',
};

const BLIND_TAGS: Record<BlindState, string> = {
	alarm: 'backdoor suspected',
	quiet: 'no backdoor found',
	inconclusive: 'inconclusive',
	'nothing-to-analyse': 'nothing to analyse yet',
};

/**
 * Blind mode's reading (no attack declared): the headline names the test that alarmed or the state of a quiet test
 * (the same words as the CLI and CI texts), then the suspects as counted against their cut, never "suspects found"
 * when none scored above it.
 */
function blindVerdictText(verdict: Verdict, b: BlindSummary, recommendation: string | null): VerdictText {
	const t = b.test ?? null;
	const head = verdictHeadline(verdict, false, { blindTest: t });
	const line = `${head.charAt(0).toUpperCase()}${head.slice(1)}.`;
	if (verdict === 'clean') {
		const state = t?.state ?? 'quiet';
		return { severity: state === 'quiet' ? 'ok' : 'neutral', tag: BLIND_TAGS[state], line, advice: null };
	}
	const cut = b.rowScoreCut === null || b.rowScoreCut === undefined ? '' : ` ${fmt(b.rowScoreCut, 2)}`;
	const capped = b.scoredRows !== null && b.scoredRows !== undefined && b.totalRows !== null && b.totalRows !== undefined && b.scoredRows < b.totalRows ? ` (scored ${b.scoredRows} of ${b.totalRows} rows)` : '';
	const flip = t?.alarmBy !== 'shortcut' && b.flipRate !== null ? ` The candidate trigger pushes ${fmt(b.flipRate * 100, 2)}% of clean probes to ${b.flipClass !== null && b.flipClass !== undefined ? `class ${b.flipClass}` : 'one class'}.` : '';
	const n = b.suspects;
	const suspects =
		n === null
			? ''
			: n === 0
				? ` No training row scored at or above the suspect cut${cut}${capped}: look at the highest-scored rows and the candidate trigger.`
				: ` ${n} training ${plural(n, 'row scores', 'rows score')} at or above the suspect cut${cut}${capped}.`;
	return {
		severity: 'danger',
		tag: BLIND_TAGS.alarm,
		line: `${line}${flip}${suspects}`,
		advice: recommendation ?? (n !== null && n > 0 ? 'Review the suspect rows in the dataset diagnostics.' : null),
	};
}

/**
 * The one-line reading of a run's verdict ("the backdoor's curvature showed up 0.7 epochs before
 * it started working"). Never claims more than the record says.
 */
export function verdictText(run: RunView): VerdictText {
	const s = run.summary;
	const n = run.checkpoints.length;
	const failed = run.checkpoints.filter((c) => c.error !== null).length;
	if (s === null) {
		if (n === 0) {
			return { severity: 'neutral', tag: 'not analysed', line: 'Not analysed yet: no checkpoint of this run has been analysed.', advice: 'Run "Poison Lens: Analyse poisoning" on this run.' };
		}
		return {
			severity: 'neutral',
			tag: 'analysing',
			line: `No verdict yet: ${n} ${plural(n, 'checkpoint', 'checkpoints')} analysed${failed > 0 ? ` (${failed} failed)` : ''}.`,
			advice: null,
		};
	}
	const { lagSteps, lagEpochs } = s.lag;
	const d = fmtDuration(lagSteps, lagEpochs);
	const last = [...run.checkpoints].reverse().find((c) => c.excessAsr !== null);
	const finalAsr = last?.excessAsr ?? null;
	const blind = !run.info.attackDeclared;
	if (blind && s.blind !== null) {
		return blindVerdictText(s.verdict, s.blind, s.recommendation ?? null);
	}
	switch (s.verdict) {
		case 'clean':
			return {
				severity: 'ok',
				tag: VERDICT_TAGS.clean,
				line: blind
					? 'No backdoor found: no training sample stood out in curvature and no candidate trigger flipped the probes.'
					: `No working backdoor: the attack never took hold (final excess ASR ${fmt(finalAsr, 2)}) and no curvature spike appeared.`,
				advice: null,
			};
		case 'early-warning':
			return {
				severity: 'warning',
				tag: VERDICT_TAGS['early-warning'],
				line: `The backdoor's curvature showed up ${d} before it started working.`,
				advice: s.recommendation ?? 'Stop or audit the training data now: the spectrum warned before the attack succeeded.',
			};
		case 'visible':
			return {
				severity: 'danger',
				tag: VERDICT_TAGS.visible,
				line: lagSteps !== null && lagSteps !== 0 ? `The backdoor's curvature showed up as it started working (within ${d}).` : "The backdoor's curvature showed up at the moment it started working.",
				advice: s.recommendation ?? null,
			};
		case 'lagging':
			return {
				severity: 'danger',
				tag: VERDICT_TAGS.lagging,
				line: `The backdoor started working ${d} before its curvature showed up.`,
				advice: s.recommendation ?? null,
			};
		case 'invisible':
			return {
				severity: 'danger',
				tag: VERDICT_TAGS.invisible,
				line: `The backdoor works${finalAsr !== null ? ` (excess ASR ${fmt(finalAsr, 2)})` : ''} but left no curvature spike: no spectral signal, so the spectrum cannot see this attack.`,
				advice: s.recommendation ?? 'Check the dataset for near-duplicates; train with input-gradient regularisation plus augmentation.',
			};
	}
}

/** κ as people write it: 0, 10, 1e3, 1e4, 2.5e4. */
export function fmtKappa(k: number): string {
	if (k >= 1000) {
		const e = Math.floor(Math.log10(k));
		const m = Number((k / 10 ** e).toPrecision(2));
		return m === 1 ? `1e${e}` : `${m}e${e}`;
	}
	return fmt(k, 3);
}

/** A short label for a run in legends: its name and θ/κ when known. */
export function runLabel(info: RunInfo): string {
	const parts: string[] = [];
	if (info.theta !== null) {
		parts.push(`θ=${fmt(info.theta * 100, 3)}%`);
	}
	if (info.kappa !== null) {
		parts.push(`κ=${fmtKappa(info.kappa)}`);
	}
	return parts.length > 0 ? `${info.name} (${parts.join(', ')})` : info.name;
}

/** One point of the safety–efficacy view. */
export interface SafetyPoint extends XY {
	readonly runId: string;
	readonly label: string;
	readonly kappa: number | null;
}

/** Safety–efficacy points grouped by θ (one line per θ, points in κ order). */
export interface SafetyGroup {
	readonly theta: number | null;
	readonly points: readonly SafetyPoint[];
}

/**
 * The safety–efficacy view: per run, its last checkpoint with both values, x = excess ASR
 * (efficacy of the attack), y = clean accuracy (utility). Runs are grouped by θ, sorted by κ.
 */
export function safetyGroups(runs: readonly RunView[]): SafetyGroup[] {
	const groups = new Map<string, { theta: number | null; points: SafetyPoint[] }>();
	for (const run of runs) {
		const last = [...run.checkpoints].reverse().find((c) => c.excessAsr !== null && c.cleanAccuracy !== null);
		if (last === undefined) {
			continue;
		}
		const key = run.info.theta === null ? 'none' : String(run.info.theta);
		let g = groups.get(key);
		if (g === undefined) {
			g = { theta: run.info.theta, points: [] };
			groups.set(key, g);
		}
		g.points.push({
			x: last.excessAsr!,
			y: last.cleanAccuracy!,
			runId: run.info.id,
			label: run.info.kappa !== null ? `κ=${fmtKappa(run.info.kappa)}` : run.info.name,
			kappa: run.info.kappa,
		});
	}
	for (const g of groups.values()) {
		g.points.sort((a, b) => (a.kappa ?? -Infinity) - (b.kappa ?? -Infinity) || a.label.localeCompare(b.label));
	}
	return [...groups.values()].sort((a, b) => (a.theta ?? -1) - (b.theta ?? -1));
}

/** Linear interpolation of a step's position on another axis, using the checkpoints as anchors. */
export function stepToAxis(run: RunView, step: number, axis: XAxis): number | null {
	if (axis === 'step') {
		return step;
	}
	const anchors: { s: number; v: number }[] = run.checkpoints.map((c) => ({ s: c.step, v: axis === 'epoch' ? c.epoch : c.time }));
	const spe = run.info.stepsPerEpoch;
	if (axis === 'epoch' && spe !== null && spe > 0) {
		return step / spe;
	}
	if (anchors.length === 0) {
		return null;
	}
	if (anchors.length === 1) {
		return anchors[0].s === step ? anchors[0].v : null;
	}
	let i = 1;
	while (i < anchors.length - 1 && anchors[i].s < step) {
		i++;
	}
	const a = anchors[i - 1];
	const b = anchors[i];
	return b.s === a.s ? a.v : a.v + ((b.v - a.v) * (step - a.s)) / (b.s - a.s);
}

/** An RGB colour. */
export interface Rgb {
	readonly r: number;
	readonly g: number;
	readonly b: number;
	readonly a: number;
}

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb() and rgba(); null for anything else (names, empty). */
export function parseColor(css: string): Rgb | null {
	const s = css.trim();
	let m = /^#([0-9a-f]{3,4})$/i.exec(s);
	if (m !== null) {
		const h = m[1];
		const c = (i: number): number => parseInt(h[i] + h[i], 16);
		return { r: c(0), g: c(1), b: c(2), a: h.length === 4 ? c(3) / 255 : 1 };
	}
	m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(s);
	if (m !== null) {
		const h = m[1];
		return { r: parseInt(h.slice(0, 2), 16), g: parseInt(h.slice(2, 4), 16), b: parseInt(h.slice(4, 6), 16), a: m[2] === undefined ? 1 : parseInt(m[2], 16) / 255 };
	}
	m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/i.exec(s);
	if (m !== null) {
		const alpha = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
		return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]), a: alpha };
	}
	return null;
}

/** The colour with its alpha multiplied by `alpha` (the faint raw series); unparseable colours come back unchanged. */
export function withAlpha(css: string, alpha: number): string {
	const c = parseColor(css);
	if (c === null) {
		return css;
	}
	return `rgba(${c.r}, ${c.g}, ${c.b}, ${Math.round(c.a * alpha * 1000) / 1000})`;
}

/** Relative luminance (WCAG), for choosing text over a colour. */
export function luminance(c: Rgb): number {
	const lin = (v: number): number => {
		const x = v / 255;
		return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
	};
	return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/**
 * Converts an image record to RGBA bytes (length width·height·4).
 *
 * Signed data (an eigenvector, whose sign is arbitrary) uses a diverging blue–white–red map centred
 * on 0 and scaled by max |v|; non-negative data is grey from black (0) to white (max). Three-channel
 * non-negative data is shown as RGB, each channel scaled by the common max. Signed three-channel data
 * is shown as per-pixel L2 norm (grey), because a signed colour is not a colour.
 */
export function imageToRgba(img: ImageRecord): { data: number[]; signed: boolean } {
	const { width, height, channels, data } = img;
	const n = width * height;
	let maxAbs = 0;
	let signed = false;
	for (const v of data) {
		maxAbs = Math.max(maxAbs, Math.abs(v));
		if (v < 0) {
			signed = true;
		}
	}
	const out = new Array<number>(n * 4);
	const scale = maxAbs > 0 ? 1 / maxAbs : 0;
	for (let p = 0; p < n; p++) {
		let r: number;
		let g: number;
		let b: number;
		if (channels === 1 && signed) {
			const t = data[p] * scale;
			// White at 0, saturating to red (+) or blue (−).
			if (t >= 0) {
				r = 255;
				g = 255 * (1 - t);
				b = 255 * (1 - t);
			} else {
				r = 255 * (1 + t);
				g = 255 * (1 + t);
				b = 255;
			}
		} else if (channels === 1) {
			r = g = b = 255 * data[p] * scale;
		} else if (!signed) {
			r = 255 * data[p * channels] * scale;
			g = 255 * data[p * channels + 1] * scale;
			b = 255 * data[p * channels + 2] * scale;
		} else {
			let s2 = 0;
			for (let c = 0; c < channels; c++) {
				s2 += data[p * channels + c] ** 2;
			}
			r = g = b = 255 * Math.sqrt(s2 / channels) * scale;
		}
		out[p * 4] = Math.round(r);
		out[p * 4 + 1] = Math.round(g);
		out[p * 4 + 2] = Math.round(b);
		out[p * 4 + 3] = 255;
	}
	return { data: out, signed: signed && channels === 1 };
}

// ---------------------------------------------------------------------------------------------
// Suspicion chart (live blind monitoring)

/** How each blind state reads on the chart and in the legend. */
export const BLIND_STATE_LABELS: Readonly<Record<BlindState, string>> = {
	alarm: 'ALARM',
	quiet: 'quiet',
	inconclusive: 'inconclusive (control fires)',
	'nothing-to-analyse': 'nothing to analyse yet',
};

/** One scan on the suspicion chart. */
export interface SuspicionPoint extends XY {
	readonly step: number;
	readonly epoch: number;
	readonly state: BlindState;
	readonly reason: string;
	readonly nullLow: number | null;
	readonly nullHigh: number | null;
	readonly scoredRows: number | null;
	readonly totalRows: number | null;
	readonly suspects: number | null;
	/** The class-shortcut test's gap at this scan (top class − runner-up), when the scan measured it. */
	readonly shortcutGap: number | null;
}

/** The suspicion chart's series: the score, the null band's edges, the scans by state, and the first alarm. */
export interface SuspicionSeries {
	/** Scans with a score, in step order (the line). */
	readonly score: SuspicionPoint[];
	/** The null band's low and high edges at the scans that have them (the shaded band). */
	readonly nullLow: XY[];
	readonly nullHigh: XY[];
	/** Every scan by state (scans without a score sit at 0, so "nothing to analyse" still shows). */
	readonly byState: Readonly<Record<BlindState, SuspicionPoint[]>>;
	/** The class-shortcut test's gap at the scans that measured it, and its alarm threshold (the newest scan's; null without any). */
	readonly shortcutGap: XY[];
	readonly shortcutThreshold: number | null;
	/** The first scan whose state is an alarm, or null. */
	readonly firstAlarm: SuspicionPoint | null;
	/** The newest scan, or null. */
	readonly latest: SuspicionPoint | null;
}

/** x of a blind scan on the chosen axis. */
export function blindX(b: BlindPoint, axis: XAxis): number {
	return axis === 'step' ? b.step : axis === 'epoch' ? b.epoch : b.time;
}

/**
 * Derives the suspicion chart from a run's live blind scans (already one per step, sorted by step).
 * @returns null when the run has no blind scans (the chart is then not shown)
 */
export function suspicionSeries(blind: readonly BlindPoint[] | undefined, axis: XAxis): SuspicionSeries | null {
	if (blind === undefined || blind.length === 0) {
		return null;
	}
	const byState: Record<BlindState, SuspicionPoint[]> = { alarm: [], quiet: [], inconclusive: [], 'nothing-to-analyse': [] };
	const score: SuspicionPoint[] = [];
	const nullLow: XY[] = [];
	const nullHigh: XY[] = [];
	const shortcutGap: XY[] = [];
	let shortcutThreshold: number | null = null;
	let firstAlarm: SuspicionPoint | null = null;
	let latest: SuspicionPoint | null = null;
	for (const b of [...blind].sort((p, q) => p.step - q.step)) {
		const x = blindX(b, axis);
		const t = b.test;
		const pt: SuspicionPoint = {
			x,
			y: t.score ?? 0,
			step: b.step,
			epoch: b.epoch,
			state: t.state,
			reason: t.reason,
			nullLow: t.nullLow,
			nullHigh: t.nullHigh,
			scoredRows: b.scoredRows,
			totalRows: b.totalRows,
			suspects: b.suspects,
			shortcutGap: t.shortcut?.gap ?? null,
		};
		if (t.score !== null) {
			score.push(pt);
		}
		if (t.shortcut !== undefined) {
			shortcutGap.push({ x, y: t.shortcut.gap });
			shortcutThreshold = t.shortcut.threshold;
		}
		if (t.nullLow !== null && t.nullHigh !== null) {
			nullLow.push({ x, y: t.nullLow });
			nullHigh.push({ x, y: t.nullHigh });
		}
		byState[t.state].push(pt);
		if (firstAlarm === null && t.state === 'alarm') {
			firstAlarm = pt;
		}
		latest = pt;
	}
	return { score, nullLow, nullHigh, shortcutGap, shortcutThreshold, byState, firstAlarm, latest };
}
