/**
 * Browser entry for the reproduce figures drawn by the dashboard itself: bundled (esbuild, iife) and
 * injected into a headless Chromium page by bench/reproduce/render.ts (npm run reproduce). It feeds RunView objects (built from the
 * reproduce CSVs) through the dashboard's own reducer and `DashboardCharts`, so these PNGs are the
 * dashboard's chart configurations, not look-alikes. Light theme, VS Code's light chart colours.
 */
import type { RunView } from '../src/protocol/webview';
import { DashboardCharts, type CanvasChartId } from './charts';
import { initialState, reduce } from './state';
import { readPalette } from './theme';

/** VS Code light theme's chart variables (the defaults the dashboard falls back to differ slightly). */
const LIGHT_THEME: Record<string, string> = {
	'--vscode-editor-background': '#ffffff',
	'--vscode-editor-foreground': '#333333',
	'--vscode-descriptionForeground': '#717171',
	'--vscode-charts-lines': 'rgba(0, 0, 0, 0.15)',
	'--vscode-charts-blue': '#1a85ff',
	'--vscode-charts-red': '#e51400',
	'--vscode-charts-green': '#388a34',
	'--vscode-charts-yellow': '#bf8803',
	'--vscode-charts-orange': '#d18616',
	'--vscode-charts-purple': '#652d90',
	'--vscode-font-family': 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
	'--vscode-font-size': '13px',
};

declare global {
	interface Window {
		renderDashboardChart(runs: RunView[], chart: CanvasChartId, width: number, height: number): string | null;
	}
}

window.renderDashboardChart = (runs, chart, width, height) => {
	document.body.className = 'vscode-light';
	for (const [k, v] of Object.entries(LIGHT_THEME)) {
		document.body.style.setProperty(k, v);
	}
	document.body.style.margin = '0';
	document.body.style.background = '#ffffff';
	document.body.replaceChildren();
	const box = document.createElement('div');
	box.style.width = `${width}px`;
	box.style.height = `${height}px`;
	box.style.position = 'relative';
	const canvas = document.createElement('canvas');
	box.append(canvas);
	document.body.append(box);
	const charts = new DashboardCharts({ [chart]: canvas } as Record<CanvasChartId, HTMLCanvasElement>, { zoom: () => undefined });
	const state = reduce(initialState(), { type: 'snapshot', snapshot: { runs, primaryRunId: runs[0]?.info.id ?? null, runsRoot: null } });
	const empty = charts.render(state, readPalette(document));
	if (empty[chart] !== null) {
		throw new Error(`dashboard chart '${chart}' is empty: ${empty[chart] ?? ''}`);
	}
	return charts.toPng(chart);
};
