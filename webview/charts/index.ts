/**
 * The dashboard's Chart.js charts. Each chart is rebuilt from the state on every render (datasets are small: the
 * host decimates), with animation and parsing off. Builders: ./builders.ts; text on charts: ./annotations.ts;
 * zoom and pan: ./zoomPan.ts.
 */
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Title, Tooltip } from 'chart.js';
import type { XY } from '../derive';
import type { State } from '../state';
import type { Palette } from '../theme';
import { annotationPlugin, annotationsByChart } from './annotations';
import { BUILDERS, type CanvasChartId, type EmptyReason } from './builders';
import { attachZoomPan, type ChartCallbacks } from './zoomPan';

export type { CanvasChartId, EmptyReason } from './builders';
export type { ChartCallbacks } from './zoomPan';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Filler, Title, Tooltip, Legend);

type LineChart = Chart<'line', XY[]>;

/** The canvas-based charts of the dashboard. */
export class DashboardCharts {
	private readonly charts = new Map<CanvasChartId, LineChart>();

	constructor(
		canvases: Record<CanvasChartId, HTMLCanvasElement>,
		private readonly cb: ChartCallbacks,
	) {
		for (const id of Object.keys(canvases) as CanvasChartId[]) {
			const chart: LineChart = new Chart<'line', XY[]>(canvases[id], { type: 'line', data: { datasets: [] }, options: { animation: false, parsing: false }, plugins: [annotationPlugin] });
			attachZoomPan(chart, id, this.cb);
			this.charts.set(id, chart);
		}
	}

	/**
	 * Rebuilds every chart from the state.
	 * @returns per chart, null when it drew something, else the empty-state message
	 */
	render(state: State, palette: Palette): Record<CanvasChartId, EmptyReason> {
		Chart.defaults.font.family = palette.font;
		Chart.defaults.font.size = palette.fontSize - 1;
		Chart.defaults.color = palette.fg;
		Chart.defaults.borderColor = palette.grid;
		const out = {} as Record<CanvasChartId, EmptyReason>;
		for (const [id, chart] of this.charts) {
			const built = BUILDERS[id](state, palette);
			chart.data.datasets = built.datasets;
			chart.options = built.options;
			annotationsByChart.set(chart, built.annotations);
			chart.update('none');
			out[id] = built.empty;
		}
		return out;
	}

	/** Number of points each dataset of a chart holds (read by the integration test). */
	pointCounts(id: CanvasChartId): Record<string, number> {
		const chart = this.charts.get(id);
		const out: Record<string, number> = {};
		for (const ds of chart?.data.datasets ?? []) {
			out[ds.label ?? '?'] = ds.data.length;
		}
		return out;
	}

	/** A PNG of one chart, as a data URL. */
	toPng(id: CanvasChartId): string | null {
		const chart = this.charts.get(id);
		return chart === undefined ? null : chart.canvas.toDataURL('image/png');
	}
}
