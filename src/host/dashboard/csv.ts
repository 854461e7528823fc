/**
 * CSV export of the data behind a chart, at full resolution (not the decimated series the webview
 * draws). Pure: no `vscode`. Written with papaparse's `unparse` (the library that reads the datasets), so quoting
 * follows RFC 4180: a field with a comma, a quote or a line break is quoted, inner quotes doubled.
 */

import Papa from 'papaparse';
import type { ChartId, AnalysisPoint, BlindPoint, RunInfo, Series } from '../../protocol/webview';

type Cell = string | number | null | undefined;

/** Empty for null, undefined, NaN and ±Infinity; the text otherwise. */
function cellText(v: Cell): string {
	return v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);
}

/** One field as it appears in the file (quoted when it holds a comma, a quote or a line break). */
export function csvField(v: Cell): string {
	return Papa.unparse([[cellText(v)]], { newline: '\n', header: false });
}

/** Rows to CSV text with a trailing newline. */
function toCsv(rows: readonly Cell[][]): string {
	return `${Papa.unparse(rows.map((r) => r.map(cellText)), { newline: '\n', header: false })}\n`;
}

function row(fields: Cell[]): Cell[] {
	return fields;
}

/** One run's full training metrics. */
export interface MetricsSource {
	readonly runId: string;
	readonly metrics: readonly { name: string; level: 'batch' | 'epoch'; series: Series }[];
}

/** Long format: one row per (run, level, metric, point). */
export function metricsCsv(runs: readonly MetricsSource[]): string {
	const lines = [row(['run', 'level', 'metric', 'step', 'epoch', 'time_s', 'value'])];
	for (const r of runs) {
		for (const m of r.metrics) {
			const s = m.series;
			for (let i = 0; i < s.step.length; i++) {
				lines.push(row([r.runId, m.level, m.name, s.step[i], s.epoch[i], s.time[i], s.value[i]]));
			}
		}
	}
	return toCsv(lines);
}

/** One run's analysed checkpoints. */
export interface AnalysisSource {
	readonly info: RunInfo;
	readonly checkpoints: readonly AnalysisPoint[];
}

/** Wide format: one row per analysed checkpoint, with θ and κ for grouping. */
export function analysisCsv(runs: readonly AnalysisSource[]): string {
	const k = Math.max(0, ...runs.flatMap((r) => r.checkpoints.map((c) => c.topEigenvalues?.length ?? 0)));
	const lambdas = Array.from({ length: k }, (_, i) => `lambda${i + 1}`);
	const lines = [
		row([
			'run',
			'theta',
			'kappa',
			'step',
			'epoch',
			'time_s',
			'pass',
			'cleanAccuracy',
			'asr',
			'p0',
			'excessAsr',
			...lambdas,
			'spectralGap',
			'triggerOverlap',
			'triggerCurvature',
			'perSampleMedian',
			'perSampleP90',
			'perSampleOverlap',
			'cleanLambda1',
			'cleanTriggerOverlap',
			'error',
		]),
	];
	for (const r of runs) {
		for (const c of r.checkpoints) {
			lines.push(
				row([
					r.info.id,
					r.info.theta,
					r.info.kappa,
					c.step,
					c.epoch,
					c.time,
					c.pass,
					c.cleanAccuracy,
					c.asr,
					c.p0,
					c.excessAsr,
					...lambdas.map((_, i) => c.topEigenvalues?.[i] ?? null),
					c.spectralGap,
					c.triggerOverlap,
					c.triggerCurvature,
					c.perSample?.median,
					c.perSample?.p90,
					c.perSample?.overlap,
					c.clean?.topEigenvalues?.[0] ?? null,
					c.clean?.triggerOverlap ?? null,
					c.error,
				]),
			);
		}
	}
	return toCsv(lines);
}

/** One CSV row per live blind scan (the suspicion chart's data). */
export function blindCsv(runs: readonly { info: RunInfo; blind: readonly BlindPoint[] }[]): string {
	const lines: Cell[][] = [
		row(['run', 'step', 'epoch', 'time_s', 'state', 'score', 'nullLow', 'nullHigh', 'nullName', 'nullSize', 'falseAlarmRate', 'flipRate', 'controlFlipRate', 'suspects', 'scoredRows', 'totalRows', 'analysisMs', 'reason']),
	];
	for (const r of runs) {
		for (const b of r.blind) {
			const t = b.test;
			lines.push(row([r.info.id, b.step, b.epoch, b.time, t.state, t.score, t.nullLow, t.nullHigh, t.nullName, t.nullSize, t.falseAlarmRate, b.flipRate, b.controlFlipRate, b.suspects, b.scoredRows, b.totalRows, b.analysisMs, t.reason]));
		}
	}
	return toCsv(lines);
}

/** Which export a chart gets: its training metrics, its live blind scans, or its analysis rows. */
export function csvKind(chart: ChartId): 'metrics' | 'blind' | 'analysis' {
	return chart === 'training' ? 'metrics' : chart === 'suspicion' ? 'blind' : 'analysis';
}
