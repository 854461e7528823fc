/**
 * The chart builders: for each dashboard chart, its datasets, options and annotations from the state. Pure apart
 * from Chart.js types, so the same builders draw the dashboard and the figures rendered headless.
 */

import type { ChartDataset, ChartOptions, ScaleOptionsByType, TooltipItem } from 'chart.js';
import type { AnalysisPoint, ChartId, RunView } from '../../src/protocol/webview';
import {
	BLIND_STATE_LABELS,
	accuracyMetric,
	checkpointPoints,
	checkpointX,
	fmt,
	fmtSignedLag,
	lagCurve,
	lossMetric,
	runLabel,
	safetyGroups,
	seriesPoints,
	signalLabel,
	signalShortLabel,
	signalValue,
	stepToAxis,
	suspicionSeries,
	validationAccuracyMetric,
	verdictText,
	withAlpha,
	xAxisTitle,
	type LagPoint,
	type SuspicionPoint,
	type XY,
} from '../derive';
import type { BlindState } from '../../src/protocol/analysisRecord';
import { comparedRuns, primaryRun, type State, type XAxis, type ZoomRange } from '../state';
import { runColours, type Palette } from '../theme';
import type { Annotations, Marker } from './annotations';

type Dataset = ChartDataset<'line', XY[]>;

/** Charts that draw on a canvas (the eigenvector images are separate). */
export type CanvasChartId = ChartId;

/** What a chart's "is empty" check returns: null when it has something to draw, else the message. */
export type EmptyReason = string | null;

export interface Built {
	datasets: Dataset[];
	options: ChartOptions<'line'>;
	annotations: Annotations;
	empty: EmptyReason;
}

/** Theme chart lines are drawn at half strength for the grid, full strength in high contrast. */
function softGrid(p: Palette): string {
	return p.highContrast ? p.grid : withAlpha(p.grid, 0.45);
}

function linearScale(title: string, p: Palette, extra: Partial<ScaleOptionsByType<'linear'>> = {}): ScaleOptionsByType<'linear'> {
	return {
		type: 'linear',
		title: { display: true, text: title, color: p.muted },
		grid: { color: softGrid(p) },
		ticks: { color: p.fg },
		border: { color: p.grid },
		...extra,
	} as ScaleOptionsByType<'linear'>;
}

function yScale(title: string, p: Palette, log: boolean, extra: Record<string, unknown> = {}): ScaleOptionsByType<'linear'> {
	return {
		type: log ? 'logarithmic' : 'linear',
		// An axis no drawn dataset uses (blind mode has no ASR) is hidden rather than left empty.
		display: 'auto',
		title: { display: true, text: title, color: p.muted },
		grid: { color: softGrid(p) },
		ticks: { color: p.fg },
		border: { color: p.grid },
		...extra,
	} as unknown as ScaleOptionsByType<'linear'>;
}

function baseOptions(p: Palette, zoom: ZoomRange | undefined, xTitle: string): ChartOptions<'line'> {
	return {
		animation: false,
		parsing: false,
		responsive: true,
		maintainAspectRatio: false,
		interaction: { mode: 'nearest', axis: 'x', intersect: false },
		plugins: {
			legend: { position: 'bottom', labels: { color: p.fg, boxWidth: 14, boxHeight: 2, usePointStyle: false, font: { family: p.font, size: p.fontSize - 1 } } },
			tooltip: {
				callbacks: {
					label: (item: TooltipItem<'line'>) => `${item.dataset.label ?? ''}: ${fmt(item.parsed.y, 4)}`,
					title: (items: TooltipItem<'line'>[]) => (items[0] === undefined ? '' : `${xTitle} ${fmt(items[0].parsed.x, 5)}`),
				},
			},
		},
		scales: { x: linearScale(xTitle, p, zoom === undefined ? {} : { min: zoom.min, max: zoom.max }) },
	};
}

function lineWidth(p: Palette, strong: boolean): number {
	return p.highContrast ? (strong ? 3 : 1.5) : strong ? 2 : 1;
}

/** A faint raw series and its EMA, the way TensorBoard shows them. */
function rawAndSmoothed(label: string, raw: XY[], smoothed: XY[] | null, colour: string, p: Palette, yAxisID: string): Dataset[] {
	const faint = withAlpha(colour, p.highContrast ? 0.55 : 0.3);
	const out: Dataset[] = [];
	if (smoothed !== null) {
		out.push({ label: `${label} (raw)`, data: raw, borderColor: faint, backgroundColor: faint, borderWidth: lineWidth(p, false), pointRadius: 0, yAxisID, ...(p.highContrast ? { borderDash: [2, 2] } : {}) });
		out.push({ label, data: smoothed, borderColor: colour, backgroundColor: colour, borderWidth: lineWidth(p, true), pointRadius: 0, yAxisID });
	} else {
		out.push({ label, data: raw, borderColor: colour, backgroundColor: colour, borderWidth: lineWidth(p, true), pointRadius: 0, yAxisID });
	}
	return out;
}

function annotationBase(p: Palette): Annotations {
	return { background: p.bg, font: p.font, fontSize: p.fontSize - 1 };
}

function buildTraining(state: State, p: Palette): Built {
	const run = primaryRun(state);
	const axis = state.settings.xAxis;
	const opts = baseOptions(p, state.settings.zoom.training, xAxisTitle(axis));
	const empty: Built = { datasets: [], options: opts, annotations: annotationBase(p), empty: null };
	if (run === null) {
		return { ...empty, empty: 'No run selected.' };
	}
	const loss = lossMetric(run);
	const acc = accuracyMetric(run);
	const val = validationAccuracyMetric(run);
	const cleanAcc = checkpointPoints(run.checkpoints, axis, (c) => c.cleanAccuracy);
	if (loss === null && acc === null && cleanAcc.length === 0) {
		return { ...empty, empty: 'No training events yet. The SDK writes loss and accuracy to events.jsonl as the model trains; this chart follows them live.' };
	}
	const s = state.settings.smoothing;
	const datasets: Dataset[] = [];
	if (loss !== null) {
		datasets.push(...rawAndSmoothed(`loss (${loss.level})`, seriesPoints(loss.series, axis), s > 0 ? seriesPoints(loss.series, axis, s) : null, p.blue, p, 'y'));
	}
	if (acc !== null) {
		datasets.push(...rawAndSmoothed(`accuracy (${acc.level})`, seriesPoints(acc.series, axis), s > 0 ? seriesPoints(acc.series, axis, s) : null, p.green, p, 'y1'));
	}
	if (val !== null) {
		datasets.push({ label: 'validation accuracy', data: seriesPoints(val.series, axis), borderColor: p.yellow, backgroundColor: p.yellow, borderWidth: lineWidth(p, false), borderDash: [6, 3], pointRadius: 3, yAxisID: 'y1' });
	}
	if (cleanAcc.length > 0) {
		datasets.push({ label: 'clean accuracy (probes)', data: cleanAcc, borderColor: p.purple, backgroundColor: p.purple, showLine: false, pointRadius: p.highContrast ? 5 : 4, pointStyle: 'rectRot', yAxisID: 'y1' });
	}
	opts.scales = {
		...opts.scales,
		y: yScale('loss', p, state.settings.logY, { position: 'left' }),
		y1: yScale('accuracy', p, false, { position: 'right', min: 0, max: 1, grid: { drawOnChartArea: false, color: softGrid(p) } }),
	};
	return { datasets, options: opts, annotations: annotationBase(p), empty: null };
}

function failedCheckpoints(cps: readonly AnalysisPoint[]): AnalysisPoint[] {
	return cps.filter((c) => c.error !== null);
}

function buildSignals(state: State, p: Palette): Built {
	const run = primaryRun(state);
	const axis = state.settings.xAxis;
	const opts = baseOptions(p, state.settings.zoom.signals, xAxisTitle(axis));
	const annotations = annotationBase(p);
	const none: Built = { datasets: [], options: opts, annotations, empty: null };
	if (run === null) {
		return { ...none, empty: 'No run selected.' };
	}
	const cps = run.checkpoints;
	if (cps.length === 0) {
		return { ...none, empty: 'No analysed checkpoints yet. Run "Poison Lens: Analyse poisoning" on this run; checkpoints written while the panel is open appear here as they are analysed.' };
	}
	if (cps.every((c) => c.error !== null)) {
		return { ...none, empty: `All ${cps.length} analysed checkpoints failed; the problems are listed above.` };
	}
	const ok = cps.filter((c) => c.error === null);
	const datasets: Dataset[] = [];
	const w = lineWidth(p, true);
	const declared = run.info.attackDeclared;
	if (declared) {
		datasets.push({ label: 'excess ASR (ASR − p0)', data: checkpointPoints(ok, axis, (c) => c.excessAsr), borderColor: p.red, backgroundColor: p.red, borderWidth: w, pointRadius: 3, yAxisID: 'frac' });
		const faint = withAlpha(p.red, p.highContrast ? 0.55 : 0.3);
		datasets.push({ label: 'raw ASR', data: checkpointPoints(ok, axis, (c) => c.asr), borderColor: faint, backgroundColor: faint, borderWidth: lineWidth(p, false), borderDash: [3, 3], pointRadius: 0, yAxisID: 'frac' });
		datasets.push({ label: 'cos²(top eigenvector, trigger)', data: checkpointPoints(ok, axis, (c) => c.triggerOverlap), borderColor: p.purple, backgroundColor: p.purple, borderWidth: w, borderDash: [6, 3], pointRadius: 2, yAxisID: 'frac' });
	}
	datasets.push({ label: declared ? 'λ1 (triggered probes)' : 'λ1 (probes)', data: checkpointPoints(ok, axis, (c) => c.topEigenvalues?.[0] ?? null), borderColor: p.blue, backgroundColor: p.blue, borderWidth: w, pointRadius: 3, yAxisID: 'curv' });
	if (declared) {
		datasets.push({ label: 'tᵀHt/‖t‖²', data: checkpointPoints(ok, axis, (c) => c.triggerCurvature), borderColor: p.orange, backgroundColor: p.orange, borderWidth: w, pointRadius: 3, pointStyle: 'triangle', yAxisID: 'curv' });
	}
	const cleanBand = withAlpha(p.fg, p.highContrast ? 0.35 : 0.14);
	datasets.push({ label: 'λ1 clean probes (baseline)', data: checkpointPoints(ok, axis, (c) => c.clean?.topEigenvalues?.[0] ?? null), borderColor: withAlpha(p.fg, 0.5), backgroundColor: cleanBand, borderWidth: 1, pointRadius: 0, fill: 'start', yAxisID: 'curv' });
	// Lanczos stopped before its tolerance (light passes stop at 20 steps): a hollow ring around λ1.
	const unconverged = ok.filter((c) => c.convergence?.triggered?.converged === false && c.topEigenvalues?.[0] !== undefined);
	if (unconverged.length > 0) {
		datasets.push({
			label: 'λ1 not converged (Lanczos)',
			data: checkpointPoints(unconverged, axis, (c) => c.topEigenvalues?.[0] ?? null),
			borderColor: p.blue,
			backgroundColor: 'transparent',
			showLine: false,
			pointRadius: 7,
			pointStyle: 'circle',
			borderWidth: 1.5,
			yAxisID: 'curv',
		});
	}
	const failed = failedCheckpoints(cps);
	if (failed.length > 0) {
		datasets.push({ label: 'failed checkpoint', data: failed.map((c) => ({ x: checkpointX(c, axis), y: 0 })), borderColor: p.red, backgroundColor: p.red, showLine: false, pointRadius: 7, pointStyle: 'crossRot', borderWidth: 2, yAxisID: 'frac' });
	}
	opts.scales = {
		...opts.scales,
		frac: yScale(declared ? 'excess ASR, cos² (fraction)' : 'fraction', p, false, { position: 'left', suggestedMin: 0, suggestedMax: 1 }),
		curv: yScale(declared ? 'curvature (λ1, tᵀHt)' : 'curvature (λ1)', p, state.settings.logY, { position: 'right', grid: { drawOnChartArea: false, color: softGrid(p) } }),
	};
	const tooltip = opts.plugins?.tooltip;
	if (tooltip !== undefined) {
		tooltip.callbacks = {
			...tooltip.callbacks,
			label: (item: TooltipItem<'line'>) => {
				if (item.dataset.label === 'failed checkpoint') {
					const c = failed[item.dataIndex];
					return c === undefined ? 'failed' : `failed: ${c.error ?? ''}`;
				}
				return `${item.dataset.label ?? ''}: ${fmt(item.parsed.y, 4)}`;
			},
		};
	}
	return { datasets, options: opts, annotations: { ...annotations, markers: lagMarkers(run, axis, p) }, empty: null };
}

/** The signed lag's two events as vertical markers: where the spectrum appears and where the attack works. */
function lagMarkers(run: RunView, axis: XAxis, p: Palette): Marker[] {
	const lag = run.summary?.lag;
	const markers: Marker[] = [];
	if (lag !== undefined) {
		const asrX = lag.asrStep === null ? null : stepToAxis(run, lag.asrStep, axis);
		const specX = lag.spectralStep === null ? null : stepToAxis(run, lag.spectralStep, axis);
		if (specX !== null) {
			markers.push({ x: specX, label: 'spectrum appears', colour: p.blue });
		}
		if (asrX !== null) {
			markers.push({ x: asrX, label: 'attack works (½ of final excess ASR)', colour: p.red });
		}
	}
	return markers;
}

/** The colour of each blind state on the suspicion chart. */
export function blindStateColour(state: BlindState, p: Palette): string {
	return state === 'alarm' ? p.red : state === 'quiet' ? p.green : state === 'inconclusive' ? p.orange : p.muted;
}

function buildSuspicion(state: State, p: Palette): Built {
	const run = primaryRun(state);
	const axis = state.settings.xAxis;
	const opts = baseOptions(p, state.settings.zoom.suspicion, xAxisTitle(axis));
	const annotations = annotationBase(p);
	const none: Built = { datasets: [], options: opts, annotations, empty: null };
	if (run === null) {
		return { ...none, empty: 'No run selected.' };
	}
	const s = suspicionSeries(run.blind, axis);
	if (s === null) {
		return { ...none, empty: 'No live blind scans yet: they run once per epoch while a run without a declared attack trains and Poison Lens follows it.' };
	}
	const band = withAlpha(p.fg, p.highContrast ? 0.3 : 0.12);
	const edge = withAlpha(p.fg, p.highContrast ? 0.7 : 0.35);
	const datasets: Dataset[] = [
		// Filled down to the next dataset (the band's low edge): the null band.
		{ label: 'null band (high: alarm threshold)', data: s.nullHigh, borderColor: edge, backgroundColor: band, borderWidth: 1, borderDash: [4, 3], pointRadius: 0, fill: '+1', yAxisID: 'y' },
		{ label: 'null band (low)', data: s.nullLow, borderColor: edge, backgroundColor: band, borderWidth: 1, pointRadius: 0, fill: false, yAxisID: 'y' },
		{ label: 'suspicion score', data: s.score, borderColor: p.blue, backgroundColor: p.blue, borderWidth: lineWidth(p, true), pointRadius: 0, yAxisID: 'y' },
	];
	if (s.shortcutGap.length > 0 && s.shortcutThreshold !== null) {
		// The class-shortcut test: its gap and its threshold, on the same 0–1 scale (an alarm from it sits above the dashed line).
		const threshold = s.shortcutThreshold;
		datasets.push(
			{ label: 'class-shortcut gap', data: s.shortcutGap, borderColor: p.purple, backgroundColor: p.purple, borderWidth: lineWidth(p, false), pointRadius: 0, yAxisID: 'y' },
			{ label: 'class-shortcut alarm threshold', data: s.shortcutGap.map((g) => ({ x: g.x, y: threshold })), borderColor: p.purple, backgroundColor: p.purple, borderWidth: 1, borderDash: [2, 3], pointRadius: 0, yAxisID: 'y' },
		);
	}
	const states: BlindState[] = ['alarm', 'inconclusive', 'quiet', 'nothing-to-analyse'];
	for (const st of states) {
		const pts = s.byState[st];
		if (pts.length > 0) {
			const c = blindStateColour(st, p);
			datasets.push({ label: BLIND_STATE_LABELS[st], data: pts, borderColor: c, backgroundColor: c, showLine: false, pointRadius: p.highContrast ? 6 : 5, pointStyle: st === 'alarm' ? 'triangle' : st === 'nothing-to-analyse' ? 'rect' : 'circle', yAxisID: 'y' });
		}
	}
	opts.scales = { ...opts.scales, y: yScale('score (higher = more suspicious)', p, false, { position: 'left', suggestedMin: 0, suggestedMax: 1 }) };
	// The band's two edges explain themselves through the shading; the legend keeps the score and the states.
	opts.plugins = { ...opts.plugins, legend: { ...opts.plugins?.legend, labels: { ...opts.plugins?.legend?.labels, filter: (item) => item.text !== 'null band (low)' } } };
	const tooltip = opts.plugins.tooltip;
	if (tooltip !== undefined) {
		tooltip.callbacks = {
			...tooltip.callbacks,
			label: (item: TooltipItem<'line'>) => {
				const raw = item.raw as Partial<SuspicionPoint>;
				if (raw.state === undefined) {
					return `${item.dataset.label ?? ''}: ${fmt(item.parsed.y, 3)}`;
				}
				const rows = raw.scoredRows === null || raw.scoredRows === undefined ? '' : `, scored ${raw.scoredRows}${raw.totalRows === null || raw.totalRows === undefined ? '' : ` of ${raw.totalRows}`} rows`;
				const gap = raw.shortcutGap === null || raw.shortcutGap === undefined ? '' : `, class-shortcut gap ${fmt(raw.shortcutGap, 3)}`;
				return [`${BLIND_STATE_LABELS[raw.state]} at step ${String(raw.step)}: score ${fmt(raw.y ?? null, 3)}, null band ${fmt(raw.nullLow, 3)}–${fmt(raw.nullHigh, 3)}${gap}${rows}`, raw.reason ?? ''];
			},
		};
	}
	const markers: Marker[] = s.firstAlarm === null ? [] : [{ x: s.firstAlarm.x, label: `first alarm (step ${s.firstAlarm.step}, epoch ${fmt(s.firstAlarm.epoch, 3)})`, colour: p.red }];
	return { datasets, options: opts, annotations: { ...annotations, markers }, empty: null };
}

function buildLag(state: State, p: Palette): Built {
	const run = primaryRun(state);
	const signal = state.settings.signal;
	const opts = baseOptions(p, state.settings.zoom.lag, 'excess ASR (ASR − p0)');
	const annotations = annotationBase(p);
	const none: Built = { datasets: [], options: opts, annotations, empty: null };
	if (run === null) {
		return { ...none, empty: 'No run selected.' };
	}
	if (!run.info.attackDeclared) {
		return { ...none, empty: 'The lag curve needs a declared attack: the excess ASR is measured with a trigger. This run has none (blind mode); see the candidate trigger beside.' };
	}
	const pts = lagCurve(run.checkpoints, signal);
	if (pts.length === 0) {
		return { ...none, empty: `No checkpoint has both an excess ASR and ${signalShortLabel(signal)} yet.` };
	}
	const n = pts.length;
	// Later checkpoints are drawn stronger, so the direction of time is visible without arrows.
	const pointColours = pts.map((_, i) => withAlpha(p.blue, 0.35 + (0.65 * (i + 1)) / n));
	const datasets: Dataset[] = [
		{
			label: `${signalShortLabel(signal)} vs excess ASR, in time order`,
			data: pts,
			borderColor: withAlpha(p.blue, 0.8),
			backgroundColor: pointColours,
			pointBackgroundColor: pointColours,
			pointBorderColor: p.blue,
			borderWidth: lineWidth(p, true),
			pointRadius: pts.map((_, i) => (i === 0 || i === n - 1 ? 6 : 4)),
			yAxisID: 'y',
		},
	];
	opts.interaction = { mode: 'nearest', intersect: true };
	// Headroom above the curve keeps the corner label off the points.
	opts.scales = { ...opts.scales, y: yScale(signalLabel(signal), p, state.settings.logY, { position: 'left', grace: '12%' }) };
	const tooltip = opts.plugins?.tooltip;
	if (tooltip !== undefined) {
		tooltip.callbacks = {
			title: (items: TooltipItem<'line'>[]) => {
				const raw = items[0]?.raw as LagPoint | undefined;
				return raw === undefined ? '' : `step ${raw.step} (epoch ${fmt(raw.epoch, 3)})`;
			},
			label: (item: TooltipItem<'line'>) => `excess ASR ${fmt(item.parsed.x, 3)}, ${signalShortLabel(signal)} ${fmt(item.parsed.y, 4)}`,
		};
	}
	const s = run.summary;
	const v = verdictText(run);
	const severityColour = v.severity === 'ok' ? p.green : v.severity === 'warning' ? p.orange : v.severity === 'danger' ? p.red : p.fg;
	opts.plugins = {
		...opts.plugins,
		title: {
			display: true,
			align: 'start',
			text: s === null ? 'no verdict yet' : `${fmtSignedLag(s.lag.lagSteps, s.lag.lagEpochs)} · ${v.tag}`,
			color: s === null ? p.muted : severityColour,
			font: { family: p.font, size: p.fontSize + 1, weight: 'bold' },
			padding: { top: 0, bottom: 6 },
		},
	};
	const first = pts[0];
	const last = pts[n - 1];
	return {
		datasets,
		options: opts,
		annotations: {
			...annotations,
			corners: { upperLeft: '↖ spectrum first: it leads (early warning)', lowerRight: 'attack first: the spectrum lags ↘', colour: p.muted },
			diagonal: { label: 'together', colour: p.muted },
			pointLabels: [
				{ x: first.x, y: first.y, text: `start (epoch ${fmt(first.epoch, 2)})`, colour: p.muted },
				...(n > 1 ? [{ x: last.x, y: last.y, text: `now (epoch ${fmt(last.epoch, 2)})`, colour: p.fg }] : []),
			],
		},
		empty: null,
	};
}

function buildCompare(state: State, p: Palette): Built {
	const axis = state.settings.xAxis;
	const signal = state.settings.signal;
	const opts = baseOptions(p, state.settings.zoom.compare, xAxisTitle(axis));
	const annotations = annotationBase(p);
	const runs = comparedRuns(state).filter((r) => r.checkpoints.length > 0);
	if (runs.length === 0) {
		return { datasets: [], options: opts, annotations, empty: 'No analysed runs selected. Tick runs below to overlay them; runs that differ in θ or κ compare best.' };
	}
	const colours = runColours(p);
	const datasets: Dataset[] = [];
	runs.forEach((run) => {
		// Colour by the run's place in the list, so a run keeps its colour when others are unticked.
		const c = colours[state.order.indexOf(run.info.id) % colours.length] ?? p.fg;
		const ok = run.checkpoints.filter((cp) => cp.error === null);
		if (run.info.attackDeclared) {
			datasets.push({ label: `${runLabel(run.info)}: excess ASR`, data: checkpointPoints(ok, axis, (cp) => cp.excessAsr), borderColor: c, backgroundColor: c, borderWidth: lineWidth(p, true), pointRadius: 2, yAxisID: 'frac' });
		}
		datasets.push({ label: `${runLabel(run.info)}: ${signalShortLabel(signal)}`, data: checkpointPoints(ok, axis, (cp) => signalValue(cp, signal)), borderColor: c, backgroundColor: c, borderWidth: lineWidth(p, false), borderDash: [6, 3], pointRadius: 0, yAxisID: 'sig' });
	});
	// The run list under the chart is the legend (its swatches use the same colour order).
	opts.plugins = { ...opts.plugins, legend: { display: false } };
	opts.scales = {
		...opts.scales,
		frac: yScale('excess ASR (solid)', p, false, { position: 'left', suggestedMin: 0, suggestedMax: 1 }),
		sig: yScale(`${signalShortLabel(signal)} (dashed)`, p, state.settings.logY, { position: 'right', grid: { drawOnChartArea: false, color: softGrid(p) } }),
	};
	return { datasets: datasets.filter((d) => d.data.length > 0), options: opts, annotations, empty: null };
}

function buildSafety(state: State, p: Palette): Built {
	const opts = baseOptions(p, state.settings.zoom.safety, 'excess ASR at the last checkpoint (attack efficacy)');
	const annotations = annotationBase(p);
	const groups = safetyGroups(comparedRuns(state));
	if (groups.length === 0) {
		return { datasets: [], options: opts, annotations, empty: 'Needs runs with a declared attack and at least one analysed checkpoint.' };
	}
	const colours = runColours(p);
	const datasets: Dataset[] = groups.map((g, i) => {
		const c = colours[i % colours.length];
		return {
			label: g.theta === null ? 'θ unknown' : `θ = ${fmt(g.theta * 100, 3)}%`,
			data: g.points.map((pt) => ({ x: pt.x, y: pt.y })),
			borderColor: c,
			backgroundColor: c,
			borderWidth: lineWidth(p, false),
			pointRadius: p.highContrast ? 6 : 5,
			yAxisID: 'y',
		};
	});
	opts.interaction = { mode: 'nearest', intersect: true };
	opts.scales = {
		x: linearScale('excess ASR at the last checkpoint (attack efficacy)', p, { suggestedMin: 0, suggestedMax: 1, ...(state.settings.zoom.safety === undefined ? {} : state.settings.zoom.safety) }),
		y: yScale('clean accuracy (utility)', p, false, { position: 'left' }),
	};
	const tooltip = opts.plugins?.tooltip;
	if (tooltip !== undefined) {
		tooltip.callbacks = {
			title: (items: TooltipItem<'line'>[]) => {
				const it = items[0];
				const pt = it === undefined ? undefined : groups[it.datasetIndex]?.points[it.dataIndex];
				const run = pt === undefined ? undefined : state.runs[pt.runId];
				return run === undefined ? '' : runLabel(run.info);
			},
			label: (item: TooltipItem<'line'>) => `excess ASR ${fmt(item.parsed.x, 3)}, clean accuracy ${fmt(item.parsed.y, 4)}`,
		};
	}
	return {
		datasets,
		options: opts,
		annotations: { ...annotations, pointLabels: groups.flatMap((g) => g.points.map((pt) => ({ x: pt.x, y: pt.y, text: pt.label, colour: p.fg }))) },
		empty: null,
	};
}

export const BUILDERS: Record<CanvasChartId, (s: State, p: Palette) => Built> = {
	training: buildTraining,
	signals: buildSignals,
	suspicion: buildSuspicion,
	lag: buildLag,
	compare: buildCompare,
	safety: buildSafety,
};
