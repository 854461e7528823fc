/**
 * Renders Chart.js configs to PNG in headless Chromium (playwright-core, the system's
 * /usr/bin/chromium), with Chart.js's own UMD bundle from node_modules: the figures are drawn by
 * the same library and in the same style as the dashboard's charts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import type { ConfigFigure, DashboardFigure, FigureSpec } from './charts';
import { REPO_ROOT } from './io';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** The Chromium binary: $CHROMIUM_PATH, else /usr/bin/chromium. */
export function chromiumPath(): string {
	return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** In-page setup: a white background plugin and a legend filter that hides band datasets ('_' labels). */
const PAGE_SETUP = `
window.renderChart = (config, width, height) => {
	document.body.innerHTML = '';
	const canvas = document.createElement('canvas');
	canvas.width = width;
	canvas.height = height;
	canvas.style.width = width + 'px';
	canvas.style.height = height + 'px';
	document.body.appendChild(canvas);
	const background = {
		id: 'whiteBackground',
		beforeDraw(chart) {
			const ctx = chart.ctx;
			ctx.save();
			ctx.fillStyle = '#ffffff';
			ctx.fillRect(0, 0, chart.width, chart.height);
			ctx.restore();
		},
	};
	config.plugins = [background];
	const legend = config.options.plugins.legend;
	legend.labels.filter = (item) => !String(item.text).startsWith('_');
	// Log axes: label only 1, 2 and 5 times a power of ten, compactly (Chart.js's default prints
	// every minor tick at full precision).
	const logTick = (v, _i, ticks) => {
		if (!(v > 0)) { return ''; }
		const e = Math.floor(Math.log10(v) + 1e-9);
		const ratio = v / Math.pow(10, e);
		const m = Math.round(ratio);
		if (Math.abs(ratio - m) > 1e-6 || (m !== 1 && m !== 2 && m !== 5)) { return ''; }
		const vals = ticks.map((t) => t.value).filter((t) => t > 0);
		const span = Math.log10(Math.max(...vals) / Math.min(...vals));
		if (span > 3.5 && m !== 1) { return ''; }
		if (e >= 4 || e <= -3) { return m + 'e' + e; }
		return String(Number(v.toPrecision(2)));
	};
	for (const s of Object.values(config.options.scales || {})) {
		if (s.type === 'logarithmic') {
			s.ticks = Object.assign({}, s.ticks, { callback: logTick, autoSkip: false, maxRotation: 0 });
		}
	}
	Chart.defaults.font.family = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
	Chart.defaults.font.size = 12;
	const chart = new Chart(canvas.getContext('2d'), config);
	chart.draw();
	return true;
};
`;

/**
 * Renders each figure to `<dir>/<name>.png`.
 * @returns the written file paths
 * @throws Error when Chromium cannot start (the message names the binary) or a chart throws
 */
export async function renderFigures(figures: readonly FigureSpec[], dir: string, log: (m: string) => void): Promise<string[]> {
	if (figures.length === 0) {
		return [];
	}
	const exe = chromiumPath();
	if (!fs.existsSync(exe)) {
		throw new Error(`renderFigures: no Chromium at ${exe} (set CHROMIUM_PATH)`);
	}
	// Imported here: a worker run with --no-figures needs no browser driver.
	const { chromium } = await import('playwright-core');
	const browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, headless: true });
	const written: string[] = [];
	const configFigures = figures.filter((f): f is ConfigFigure => 'config' in f);
	const dashboardFigures = figures.filter((f): f is DashboardFigure => 'dashboard' in f);
	try {
		const page = await browser.newPage({ deviceScaleFactor: 1.25 });
		await page.setContent('<!doctype html><html><body style="margin:0;background:#fff"></body></html>');
		await page.addScriptTag({ path: path.join(REPO_ROOT, 'node_modules', 'chart.js', 'dist', 'chart.umd.js') });
		await page.addScriptTag({ content: PAGE_SETUP });
		for (const f of configFigures) {
			await page.setViewportSize({ width: f.width, height: f.height });
			await page.evaluate(({ config, width, height }) => {
				const w = globalThis as unknown as { renderChart: (c: unknown, w: number, h: number) => boolean };
				return w.renderChart(config, width, height);
			}, { config: f.config, width: f.width, height: f.height });
			const file = path.join(dir, `${f.name}.png`);
			const canvas = page.locator('canvas');
			await canvas.screenshot({ path: file, type: 'png' });
			written.push(file);
			log(`figure ${path.relative(REPO_ROOT, file)} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
		}
		if (dashboardFigures.length > 0) {
			// The dashboard's own code (webview/charts/, webview/state.ts), bundled for the page as the extension bundles it.
			const bundle = esbuild.buildSync({
				entryPoints: [path.join(REPO_ROOT, 'webview', 'figurePage.ts')],
				bundle: true,
				format: 'iife',
				platform: 'browser',
				target: 'es2022',
				write: false,
				logLevel: 'warning',
			});
			const dash = await browser.newPage({ deviceScaleFactor: 1.25 });
			await dash.setContent('<!doctype html><html><body></body></html>');
			await dash.addScriptTag({ content: bundle.outputFiles[0].text });
			for (const f of dashboardFigures) {
				await dash.setViewportSize({ width: f.width, height: f.height });
				await dash.evaluate(({ runs, chart, width, height }) => {
					const w = globalThis as unknown as { renderDashboardChart: (r: unknown, c: string, w: number, h: number) => string | null };
					return w.renderDashboardChart(runs, chart, width, height);
				}, { runs: f.dashboard.runs, chart: f.dashboard.chart, width: f.width, height: f.height });
				const file = path.join(dir, `${f.name}.png`);
				await dash.locator('canvas').screenshot({ path: file, type: 'png' });
				written.push(file);
				log(`figure ${path.relative(REPO_ROOT, file)} (dashboard '${f.dashboard.chart}' chart, ${Math.round(fs.statSync(file).size / 1024)} KB)`);
			}
		}
	} finally {
		await browser.close();
	}
	return written;
}
