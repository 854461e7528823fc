import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runFromPalette } from '../runs/ui.mjs';

const RUN = 'synthetic-cross-theta1';
const CHARTS = ['training', 'signals', 'lag', 'compare', 'safety'];

/** The dashboard webview's inner frame (the one that runs webview/main.ts and exposes window.poisonLens). */
export async function dashboardFrame(page, timeoutMs = 30_000) {
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

// ---------------------------------------------------------------------------------------------
// Live blind monitoring, UI half: a SYNTHETIC blind-line producer stands in for the analyser (the analyser's own live
// scans are tested on a replayed real run in test/e2e/liveBlind.test.ts). A live run is a copy of the synthetic-blind
// fixture whose event times are moved to now and whose end event is dropped, so every reader sees it training.

const BLIND_SRC = 'synthetic-blind';

function readLines(file) {
	return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** Creates a training run folder `id` from the synthetic-blind fixture; returns its folder and a `tick` that appends a fresh event. */
function makeLiveRun(folder, id, name) {
	const src = path.join(folder, '.poison-lens/runs', BLIND_SRC);
	const dir = path.join(folder, '.poison-lens/runs', id);
	mkdirSync(dir, { recursive: true });
	const manifest = JSON.parse(readFileSync(path.join(src, 'manifest.json'), 'utf8'));
	writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, runId: id, name, createdAt: new Date().toISOString() }, null, 2));
	const events = readLines(path.join(src, 'events.jsonl')).map((l) => JSON.parse(l)).filter((e) => e.type !== 'end');
	const lastMs = Date.parse(events.at(-1).time);
	const shift = Date.now() - 1000 - lastMs;
	writeFileSync(path.join(dir, 'events.jsonl'), events.map((e) => JSON.stringify({ ...e, time: new Date(Date.parse(e.time) + shift).toISOString() })).join('\n') + '\n');
	const analysis = readLines(path.join(src, 'analysis.jsonl')).map((l) => JSON.parse(l));
	writeFileSync(path.join(dir, 'analysis.jsonl'), analysis.filter((r) => r.kind === 'checkpoint').map((r) => JSON.stringify(r)).join('\n') + '\n');
	const last = events.at(-1);
	let step = last.step;
	return {
		dir,
		summary: analysis.find((r) => r.kind === 'summary'),
		checkpoints: events.filter((e) => e.type === 'checkpoint-written').map((e) => ({ step: e.step, epoch: e.fractionalEpoch ?? e.epoch })),
		tick() {
			step++;
			appendFileSync(path.join(dir, 'events.jsonl'), JSON.stringify({ type: 'batch', time: new Date().toISOString(), step, epoch: last.epoch, batch: step, loss: 0.05, metrics: { acc: 0.98 } }) + '\n');
		},
	};
}

/** One synthetic `kind: "blind"` line (the analysis.jsonl contract). */
function blindLine(cp, state, score, low, high, reason) {
	// The class-shortcut test's gap follows the state (above its 0.23 threshold on an alarm), so the chart shows both series.
	const gap = state === 'alarm' ? 0.5 + score / 10 : state === 'quiet' ? 0.05 : null;
	const shortcut = gap === null ? {} : { shortcut: { norm: 0.05, cls: 0, rate: 0.1 + gap, secondCls: 3, second: 0.1, gap, threshold: 0.23 } };
	return { kind: 'blind', step: cp.step, epoch: cp.epoch, test: { state, score, nullName: 'SYNTHETIC test producer', nullSize: 1, nullLow: low, nullHigh: high, falseAlarmRate: null, reason, ...shortcut }, flipRate: score, controlFlipRate: low, suspects: state === 'alarm' ? 5 : 0, scoredRows: 1024, totalRows: 20000, analysisMs: 4000 };
}

const suspicionScore = (f) => f.evaluate(() => window.poisonLens.pointCounts('suspicion')['suspicion score'] ?? 0);

/** Scans drawn on the suspicion chart: the points of the per-state datasets (every scan has one). */
const STATE_LABELS = ['ALARM', 'quiet', 'inconclusive (control fires)', 'nothing to analyse yet'];

/** Appends the lines one scan at a time and waits until each reaches the suspicion chart (the chart grows). */
async function feed(run, lines, counts) {
	for (const line of lines) {
		run.tick();
		appendFileSync(path.join(run.dir, 'analysis.jsonl'), JSON.stringify(line) + '\n');
		const want = counts.length + 1;
		await frame.waitForFunction(
			([n, labels]) => {
				const c = window.poisonLens.pointCounts('suspicion');
				return labels.reduce((a, l) => a + (c[l] ?? 0), 0) >= n;
			},
			[want, STATE_LABELS],
			{ timeout: 15_000, polling: 50 },
		);
		counts.push(await suspicionScore(frame));
	}
}

/** How many notifications the notification centre holds whose text includes `text`. */
async function notificationsWith(page, text) {
	const items = page.locator('.notifications-center .notification-list-item', { hasText: text });
	return items.count();
}

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

	async 'live blind monitoring: the suspicion chart grows, the status bar says ALARM, exactly one alarm notification; a clean live run none'(page, { screenshot, folder }) {
		const alarmName = 'LIVE blind alarm';
		const run = makeLiveRun(folder, 'live-blind-alarm', alarmName);
		const option = frame.locator(`select[aria-label="Run"] option[value="live-blind-alarm"]`);
		await option.waitFor({ state: 'attached', timeout: 20_000 });
		await frame.selectOption('select[aria-label="Run"]', 'live-blind-alarm');
		await frame.waitForFunction(() => document.querySelector('section[data-chart="suspicion"]')?.classList.contains('is-hidden') === true, null, { timeout: 10_000 });
		const cps = run.checkpoints;
		const counts = [];
		await feed(
			run,
			[
				blindLine(cps[1], 'nothing-to-analyse', null, null, null, 'nothing to analyse yet: no candidate trigger'),
				blindLine(cps[3], 'quiet', 0.08, 0.03, 0.2, 'the candidate direction flips 8.0 % of clean probes'),
				blindLine(cps[5], 'alarm', 0.71, 0.03, 0.2, 'the candidate direction flips 71.0 % of clean probes to class 0'),
			],
			counts,
		);
		// The analyser appends a summary with the suspects and the candidate trigger after a scan.
		appendFileSync(path.join(run.dir, 'analysis.jsonl'), JSON.stringify(run.summary) + '\n');
		await feed(run, [blindLine(cps[7], 'alarm', 0.9, 0.04, 0.2, 'the candidate direction flips 90.0 % of clean probes to class 0'), blindLine(cps[9], 'alarm', 0.93, 0.03, 0.2, 'the candidate direction flips 93.0 % of clean probes to class 0')], counts);
		console.log(`    suspicion score points after each scan: ${counts.join(', ')}`);
		if (counts.join(',') !== '0,1,2,3,4') {
			throw new Error(`the suspicion chart did not grow one scored point per scan: ${counts.join(',')}`);
		}
		const visible = await frame.evaluate(() => !document.querySelector('section[data-chart="suspicion"]').classList.contains('is-hidden'));
		const stateLine = await frame.locator('.pl-suspicion-state').innerText();
		if (!visible || !/ALARM/.test(stateLine) || !new RegExp(`first alarm at step ${cps[5].step}`, 'i').test(stateLine)) {
			throw new Error(`suspicion card: visible ${visible}, state line "${stateLine}"`);
		}
		const toast = page.locator('.notification-toast', { hasText: `possible backdoor forming in ${alarmName}` });
		await toast.first().waitFor({ state: 'visible', timeout: 20_000 });
		const status = page.locator('.statusbar-item', { hasText: 'blind: ALARM' });
		await status.first().waitFor({ state: 'visible', timeout: 20_000 });
		await page.waitForTimeout(3000); // time for any second (wrong) notification to show
		await frame.locator('section[data-chart="suspicion"]').scrollIntoViewIfNeeded();
		await screenshot('suspicion-alarm');
		// Three alarming scans, one notification (the centre keeps every notification until it is acted on or closed).
		await runFromPalette(page, 'Notifications: Show Notifications');
		await page.locator('.notifications-center').waitFor({ state: 'visible', timeout: 10_000 });
		const alarms = await notificationsWith(page, `possible backdoor forming in ${alarmName}`);
		console.log(`    alarm notifications for ${alarmName} after ${counts.length} scans (3 alarming): ${alarms}`);
		if (alarms !== 1) {
			throw new Error(`expected exactly one alarm notification, got ${alarms}`);
		}
		// "Show candidate trigger" opens the dashboard at the candidate trigger's image.
		await page.locator('.notifications-center .notification-list-item', { hasText: `possible backdoor forming in ${alarmName}` }).first().getByRole('button', { name: 'Show candidate trigger' }).click();
		await frame.locator('figure[data-image="candidateTrigger"].is-revealed').waitFor({ timeout: 10_000 });
		await screenshot('suspicion-trigger');
		// The run goes on alarming after its notification was acted on: no second notification (VS Code folds identical
		// open notifications into one, so only a re-fire after the first was closed shows one notification was not enough).
		await feed(run, [blindLine(cps[11], 'alarm', 0.95, 0.03, 0.2, 'the candidate direction flips 95.0 % of clean probes to class 0')], counts);

		// A clean live run: quiet and inconclusive scans only.
		const cleanName = 'LIVE blind clean';
		const clean = makeLiveRun(folder, 'live-blind-clean', cleanName);
		await frame.locator(`select[aria-label="Run"] option[value="live-blind-clean"]`).waitFor({ state: 'attached', timeout: 20_000 });
		await frame.selectOption('select[aria-label="Run"]', 'live-blind-clean');
		const cleanCounts = [];
		await feed(
			clean,
			[
				blindLine(cps[1], 'quiet', 0.05, 0.03, 0.2, 'the candidate direction flips 5.0 % of clean probes'),
				blindLine(cps[3], 'inconclusive', 0.4, 0.35, 1, 'the control flips 35.0 %: the model is fragile to any perturbation of this size'),
				blindLine(cps[5], 'quiet', 0.1, 0.02, 0.2, 'the candidate direction flips 10.0 % of clean probes'),
			],
			cleanCounts,
		);
		// The newest training run now leads the status bar: its state is quiet.
		await page.locator('.statusbar-item', { hasText: 'blind: quiet' }).first().waitFor({ state: 'visible', timeout: 20_000 });
		await page.waitForTimeout(3000); // time for any late (wrong) notification to show
		await frame.locator('section[data-chart="suspicion"]').scrollIntoViewIfNeeded();
		await screenshot('suspicion-clean');
		await runFromPalette(page, 'Notifications: Show Notifications');
		await page.locator('.notifications-center').waitFor({ state: 'visible', timeout: 10_000 });
		const again = await notificationsWith(page, `possible backdoor forming in ${alarmName}`);
		const cleanAlarms = await notificationsWith(page, `possible backdoor forming in ${cleanName}`);
		console.log(`    alarm notifications now: ${alarmName} ${again} (its one was acted on), ${cleanName} ${cleanAlarms}`);
		if (again !== 0 || cleanAlarms !== 0) {
			throw new Error(`no further alarm notification expected: ${alarmName} ${again}, ${cleanName} ${cleanAlarms}`);
		}
		await page.keyboard.press('Escape');
	},
};
