/**
 * Chart.js configurations for the result figures, as plain JSON (they cross into a headless
 * browser page), for the figures the dashboard has no chart for (theory, linear models, seed bands,
 * the defence sweep): animation and parsing off, {x, y} points, titled linear/log axes, the legend
 * at the bottom, and VS Code's light-theme chart colours on a white background, as the dashboard.
 * The CNN runs are also drawn by the dashboard itself ({@link DashboardFigure}).
 */

import type { RunView } from '../../src/protocol/webview';

/** A point. */
export interface XY {
	readonly x: number;
	readonly y: number;
}

/** VS Code light-theme chart colours (--vscode-charts-*), as the dashboard uses them. */
export const PALETTE = {
	fg: '#333333',
	muted: '#6c6c6c',
	grid: 'rgba(0, 0, 0, 0.12)',
	bg: '#ffffff',
	blue: '#1a85ff',
	red: '#e51400',
	green: '#388a34',
	yellow: '#bf8803',
	orange: '#d18616',
	purple: '#652d90',
	grey: '#8a8a8a',
} as const;

/** Colours for several series, in order (the dashboard's run order). */
export const SERIES_COLOURS: readonly string[] = [PALETTE.blue, PALETTE.orange, PALETTE.green, PALETTE.purple, PALETTE.red, PALETTE.yellow, PALETTE.grey];

/** One line (or scatter) series. */
export interface Series {
	readonly label: string;
	readonly points: readonly XY[];
	readonly colour: string;
	/** Dashed line. */
	readonly dash?: boolean;
	/** Markers only. */
	readonly scatter?: boolean;
	/** Second y axis (right). */
	readonly right?: boolean;
	/** A shaded band around the line (mean ± spread): lower and upper y per point, same x. */
	readonly band?: { readonly lower: readonly XY[]; readonly upper: readonly XY[] };
	readonly pointStyle?: 'circle' | 'triangle' | 'rectRot' | 'crossRot';
}

/** A line chart's description. */
export interface LineChartSpec {
	readonly title: string;
	readonly subtitle?: string;
	readonly xTitle: string;
	readonly yTitle: string;
	readonly xLog?: boolean;
	readonly yLog?: boolean;
	readonly yMin?: number;
	readonly yMax?: number;
	readonly rightTitle?: string;
	readonly rightLog?: boolean;
	readonly rightMin?: number;
	readonly rightMax?: number;
	readonly series: readonly Series[];
}

/** A figure to render: file stem, Chart.js config (JSON) and pixel size. */
export interface ConfigFigure {
	readonly name: string;
	readonly config: Record<string, unknown>;
	readonly width: number;
	readonly height: number;
}

/**
 * A figure the dashboard itself draws: its reducer and chart builders (webview/) run in the page on
 * these RunView objects (webview/figurePage.ts), so the PNG is exactly what the panel shows for such a run.
 */
export interface DashboardFigure {
	readonly name: string;
	readonly dashboard: { readonly runs: readonly RunView[]; readonly chart: 'signals' | 'lag' };
	readonly width: number;
	readonly height: number;
}

/** Any figure. */
export type FigureSpec = ConfigFigure | DashboardFigure;

function withAlpha(hex: string, alpha: number): string {
	const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
	if (m === null) {
		return hex;
	}
	return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})`;
}

function scale(title: string, log: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		type: log ? 'logarithmic' : 'linear',
		title: { display: true, text: title, color: PALETTE.muted },
		grid: { color: PALETTE.grid },
		ticks: { color: PALETTE.fg },
		border: { color: PALETTE.grid },
		...extra,
	};
}

/** Drops points that a log axis cannot show (y ≤ 0 or x ≤ 0), and non-finite ones. */
function clean(points: readonly XY[], xLog: boolean, yLog: boolean): XY[] {
	return points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!xLog || p.x > 0) && (!yLog || p.y > 0));
}

/**
 * Builds a Chart.js line-chart config. Band datasets get labels starting with '_' so the page's
 * legend filter hides them.
 */
export function lineChart(spec: LineChartSpec, name: string, width = 760, height = 440): FigureSpec {
	const datasets: Record<string, unknown>[] = [];
	for (const s of spec.series) {
		const yLog = s.right === true ? spec.rightLog === true : spec.yLog === true;
		const xLog = spec.xLog === true;
		const yAxisID = s.right === true ? 'y1' : 'y';
		if (s.band !== undefined) {
			const faint = withAlpha(s.colour, 0.16);
			datasets.push({ label: `_${s.label} lower`, data: clean(s.band.lower, xLog, yLog), borderColor: 'rgba(0,0,0,0)', backgroundColor: faint, pointRadius: 0, borderWidth: 0, fill: false, yAxisID });
			datasets.push({ label: `_${s.label} upper`, data: clean(s.band.upper, xLog, yLog), borderColor: 'rgba(0,0,0,0)', backgroundColor: faint, pointRadius: 0, borderWidth: 0, fill: '-1', yAxisID });
		}
		datasets.push({
			label: s.label,
			data: clean(s.points, xLog, yLog),
			borderColor: s.colour,
			backgroundColor: s.colour,
			borderWidth: 2,
			borderDash: s.dash === true ? [6, 3] : [],
			pointRadius: s.scatter === true ? 4 : 3,
			pointStyle: s.pointStyle ?? 'circle',
			showLine: s.scatter !== true,
			fill: false,
			yAxisID,
		});
	}
	const scales: Record<string, unknown> = {
		x: scale(spec.xTitle, spec.xLog === true),
		y: scale(spec.yTitle, spec.yLog === true, { position: 'left', ...(spec.yMin !== undefined ? { min: spec.yMin } : {}), ...(spec.yMax !== undefined ? { max: spec.yMax } : {}) }),
	};
	if (spec.series.some((s) => s.right === true)) {
		scales.y1 = scale(spec.rightTitle ?? '', spec.rightLog === true, {
			position: 'right',
			grid: { drawOnChartArea: false, color: PALETTE.grid },
			...(spec.rightMin !== undefined ? { min: spec.rightMin } : {}),
			...(spec.rightMax !== undefined ? { max: spec.rightMax } : {}),
		});
	}
	const config = {
		type: 'line',
		data: { datasets },
		options: {
			animation: false,
			parsing: false,
			responsive: false,
			maintainAspectRatio: false,
			plugins: {
				title: { display: true, text: spec.title, color: PALETTE.fg, font: { size: 15, weight: 'bold' } },
				subtitle: { display: spec.subtitle !== undefined, text: spec.subtitle ?? '', color: PALETTE.muted, font: { size: 12 }, padding: { bottom: 8 } },
				legend: { position: 'bottom', labels: { color: PALETTE.fg, boxWidth: 14, boxHeight: 2 } },
			},
			scales,
		},
	};
	return { name, config, width, height };
}

/** Mean line plus a min–max band from aggregated rows. */
export function meanBand(xs: readonly number[], means: readonly number[], mins: readonly number[], maxs: readonly number[]): { points: XY[]; band: { lower: XY[]; upper: XY[] } } {
	return {
		points: xs.map((x, i) => ({ x, y: means[i] })),
		band: { lower: xs.map((x, i) => ({ x, y: mins[i] })), upper: xs.map((x, i) => ({ x, y: maxs[i] })) },
	};
}
