import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runFromPalette } from '../runs/ui.mjs';

const RUN = 'synthetic-cross-theta1';
const CHARTS = ['training', 'signals', 'lag', 'compare', 'safety'];

/** The dashboard webview's inner frame (the one that runs webview/main.ts and exposes window.poisonLens). */
async function dashboardFrame(page, timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		for (const frame of page.frames()) {
			if (await frame.evaluate(() => typeof window.poisonLens === 'object').catch(() => false)) {
				return frame;
			}
		}
		if (Date.now() > deadline) {
			throw new Error('the dashboard webview never appeared');
		}
		await page.waitForTimeout(200);
	}
}

const pointCounts = (frame) => frame.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, window.poisonLens.pointCounts(id)])), CHARTS);

/** Expected counts, read independently from the fixture files (not from the dashboard's code). */
function expected(folder) {
	const dir = path.join(folder, '.poison-lens/runs', RUN);
	const lines = (f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
	const checkpoints = lines('analysis.jsonl').filter((r) => r.kind === 'checkpoint');
	const batches = lines('events.jsonl').filter((r) => r.type === 'batch');
	return { analysed: checkpoints.filter((r) => r.error === null).length, checkpoints: checkpoints.length, batches: Math.min(batches.length, 500), last: checkpoints.at(-1), dir };
}

/** Switches the colour theme through the workspace settings file, as a user's settings change would. */
async function setTheme(page, folder, theme) {
	mkdirSync(path.join(folder, '.vscode'), { recursive: true });
	writeFileSync(path.join(folder, '.vscode', 'settings.json'), JSON.stringify({ 'workbench.colorTheme': theme }));
	const cls = theme.includes('Dark') ? 'vs-dark' : 'vs';
	await page.waitForFunction((c) => document.querySelector('.monaco-workbench')?.classList.contains(c), cls, { timeout: 20_000 });
	await page.waitForTimeout(500); // the webview re-reads the theme variables and redraws its charts
}

let frame;

export const tests = {
	async '"Open training dashboard" + the run selector show a run; every chart holds the expected points'(page, { screenshot, folder }) {
		const want = expected(folder);
		// Reading runs needs no analyser: open the panel and switch to the run with its own run selector.
		await runFromPalette(page, 'Poison Lens: Open training dashboard');
		frame = await dashboardFrame(page);
		await frame.selectOption('select[aria-label="Run"]', RUN);
		let counts;
		const deadline = Date.now() + 20_000;
		do {
			counts = await pointCounts(frame);
		} while (!CHARTS.every((id) => Object.values(counts[id]).some((n) => n > 0)) && Date.now() < deadline && (await page.waitForTimeout(100), true));
		console.log(`    chart point counts: ${JSON.stringify(counts)}`);
		const max = (id) => Math.max(0, ...Object.values(counts[id]));
		const checks = [
			['training (batch loss, decimated to ≤ 500)', counts.training['loss (batch)'], want.batches],
			['signals (one point per analysed checkpoint)', counts.signals['excess ASR (ASR − p0)'], want.analysed],
			['signals (failed checkpoints marked)', counts.signals['failed checkpoint'] ?? 0, want.checkpoints - want.analysed],
			['lag curve (analysed checkpoints)', max('lag'), want.analysed],
		];
		for (const [what, got, exp] of checks) {
			if (got !== exp) {
				throw new Error(`${what}: expected ${exp} points, got ${got}`);
			}
		}
		if (max('compare') === 0 || max('safety') === 0) {
			throw new Error(`comparison charts are empty: ${JSON.stringify({ compare: counts.compare, safety: counts.safety })}`);
		}
		await setTheme(page, folder, 'Default Light Modern');
		await screenshot('dashboard-light');
		await setTheme(page, folder, 'Default Dark Modern');
		await screenshot('dashboard-dark');
	},

	async 'a checkpoint analysed while the panel is open reaches the charts within 1 s'(page, { screenshot, folder }) {
		const want = expected(folder);
		const next = { ...want.last, step: want.last.step + 78, checkpoint: `checkpoints/${want.last.step + 78}`, epoch: want.last.epoch + 0.5 };
		const before = Math.max(...Object.values((await pointCounts(frame)).lag));
		const t0 = Date.now();
		appendFileSync(path.join(want.dir, 'analysis.jsonl'), JSON.stringify(next) + '\n');
		await frame.waitForFunction((n) => Math.max(...Object.values(window.poisonLens.pointCounts('lag'))) > n, before, { timeout: 10_000, polling: 20 });
		const latency = Date.now() - t0;
		console.log(`    checkpoint-to-chart latency: ${latency} ms`);
		if (latency > 1000) {
			throw new Error(`the chart updated after ${latency} ms (budget 1000 ms)`);
		}
		await screenshot('dashboard-live');
	},
};
