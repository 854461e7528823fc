import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runFromPalette } from '../runs/ui.mjs';
import { dashboardFrame } from '../dashboard/ui.mjs';

/**
 * Replays the real run fixture `id` (in the workspace's .poison-lens/runs) as if it were training: its events are
 * written up to the first checkpoint with times moved to now, "Analyse poisoning" is run on it, and the rest is
 * appended one checkpoint at a time once the analyser has scanned the newest one (the analyser runs for real: the
 * bundled analyser process, live blind scans every epoch). Returns when the end event has been written.
 */
async function replayLive(page, folder, id) {
	const runDir = path.join(folder, '.poison-lens/runs', id);
	const events = path.join(runDir, 'events.jsonl');
	const analysis = path.join(runDir, 'analysis.jsonl');
	if (existsSync(analysis)) {
		throw new Error(`the fixture ${id} must start unanalysed`);
	}
	const lines = readFileSync(events, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
	const cps = lines.map((e, i) => (e.type === 'checkpoint-written' ? i : -1)).filter((i) => i >= 0);
	const now = (e) => JSON.stringify({ ...e, time: new Date().toISOString() });
	writeFileSync(events, lines.slice(0, cps[0] + 1).map(now).join('\n') + '\n');
	let written = cps[0] + 1;
	const growth = [];
	// The extension notices the new live run (status bar, panels): let that settle before opening a quick pick, which
	// closes when something else takes the focus; and open it again if it closed anyway.
	await page.locator('.statusbar-item', { hasText: `analyser fixture ${id} training` }).first().waitFor({ timeout: 20_000 }).catch(() => undefined);
	await page.waitForTimeout(1000);
	for (let attempt = 1; ; attempt++) {
		await runFromPalette(page, 'Poison Lens: Analyse poisoning');
		const row = page.locator('.quick-input-list .monaco-list-row', { hasText: `analyser fixture ${id}` }).first();
		try {
			await row.waitFor({ state: 'visible', timeout: 15_000 });
			await row.click();
			break;
		} catch (err) {
			if (attempt >= 3) {
				throw err;
			}
			console.log(`    ${id}: the run picker closed before the run could be picked (try ${attempt}); opening it again`);
		}
	}
	// Default settings: one scan per epoch from epoch 1 on. The fixtures' checkpoints sit at epochs 0, 1, 2, 3, so
	// step 0 gets its light record only and every later checkpoint a live blind scan.
	const stepsOf = (kind) => (existsSync(analysis) ? readFileSync(analysis, 'utf8').split('\n').filter((l) => l.includes(`"kind":"${kind}"`)).map((l) => JSON.parse(l).step) : []);
	for (let k = 0; k < cps.length; k++) {
		const step = lines[cps[k]].step;
		const kind = k === 0 ? 'checkpoint' : 'blind';
		const deadline = Date.now() + 90_000;
		while (!stepsOf(kind).includes(step)) {
			if (Date.now() > deadline) {
				throw new Error(`${id}: no ${kind} line for step ${step} within 90 s (blind lines so far: ${stepsOf('blind').join(', ')})`);
			}
			await page.waitForTimeout(200);
		}
		if (kind === 'blind') {
			// The suspicion chart grows one point per live scan, while the run trains.
			growth.push(await suspicionPoints(page, k));
		}
		const next = k + 1 < cps.length ? cps[k + 1] + 1 : lines.length;
		appendFileSync(events, lines.slice(written, next).map(now).join('\n') + '\n');
		written = next;
	}
	console.log(`    ${id}: suspicion chart points after each live scan: ${growth.join(', ')}`);
	if (growth.some((n, i) => n !== i + 1)) {
		throw new Error(`${id}: the suspicion chart did not grow one point per live scan while the run trained: ${growth.join(', ')}`);
	}
	return { runDir, analysis, lines, cps };
}

/** Suspicion-chart points in whichever frame holds the dashboard (-1 when none does), once it holds `want` (≤ 10 s). */
async function suspicionPoints(page, want) {
	const deadline = Date.now() + 10_000;
	for (;;) {
		const n = await suspicionPointsNow(page);
		if (n === want || Date.now() > deadline) {
			return n;
		}
		await page.waitForTimeout(200);
	}
}

/** The dashboard's frame, or null when no frame holds it (within 2 s). */
const dashboardOrNull = (page) => dashboardFrame(page, 2_000).catch(() => null);

/** The dashboard's "problems reading this run" text, if it shows one. */
async function readProblems(page) {
	const f = await dashboardOrNull(page);
	const text = f === null ? '' : await f.evaluate(() => document.body.innerText);
	const m = /(\d+) problems? reading this run[\s\S]*?(?=\n\n|$)/.exec(text);
	return m === null ? [] : [m[0].replace(/\s+/g, ' ').slice(0, 400)];
}

/** Suspicion-chart points on the dashboard (-1 when it is not open). */
async function suspicionPointsNow(page) {
	const f = await dashboardOrNull(page);
	return f === null ? -1 : f.evaluate(() => window.poisonLens.pointCounts('suspicion')['suspicion score'] ?? 0);
}

export const tests = {
	async '"Analyse poisoning" runs the analyser process on a real run, reports the verdict and fills the dashboard'(page, { screenshot, folder }) {
		const runDir = path.join(folder, '.poison-lens/runs/cross');
		const analysis = path.join(runDir, 'analysis.jsonl');
		if (existsSync(analysis)) {
			throw new Error('the fixture must start unanalysed');
		}
		await runFromPalette(page, 'Poison Lens: Analyse poisoning');
		const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'analyser fixture cross' });
		await row.first().waitFor({ timeout: 20_000 });
		await row.first().click();
		// The verdict notification names the run and says what the verdict means in words.
		const toast = page.locator('.notification-toast', { hasText: 'Poison Lens: analyser fixture cross is' });
		await toast.waitFor({ state: 'visible', timeout: 180_000 });
		const text = (await toast.innerText()).replace(/\s+/g, ' ');
		console.log(`    notification: ${text.slice(0, 300)}`);
		if (!/checkpoints? analysed on /.test(text) || !toast.getByRole('button', { name: 'Open dashboard' })) {
			throw new Error(`unexpected verdict notification: ${text}`);
		}
		// What the notification reports is what the analyser wrote to the run folder.
		const lines = readFileSync(analysis, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
		const summary = lines.filter((l) => l.kind === 'summary').at(-1);
		const checkpoints = new Set(lines.filter((l) => l.kind === 'checkpoint').map((l) => l.step));
		if (!summary || !text.includes(` is ${summary.verdict}:`) || checkpoints.size !== 4) {
			throw new Error(`analysis.jsonl (${checkpoints.size} checkpoints, verdict ${summary?.verdict}) does not match the notification`);
		}
		const frame = page.frames().find((f) => f.url().includes('active-frame') || f.name() === 'active-frame');
		const webview = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
		await webview.locator('body').waitFor({ timeout: 20_000 });
		void frame;
		await screenshot('verdict');
	},

	async '"Analyse poisoning" on a training run without a declared attack follows it live: blind scans, one alarm notification, the suspicion chart'(page, { screenshot, folder }) {
		// The real undeclared-attack fixture replayed as if it were training (see replayLive).
		const { analysis, lines, cps } = await replayLive(page, folder, 'undeclared');
		// Following ends with the run's end event and the final scan over every row; then the status bar leaves
		// "analysing" for the run's blind state (a finished run: no "training" either).
		await page.locator('.statusbar-item', { hasText: 'Poison Lens: analyser fixture undeclared · blind:' }).first().waitFor({ timeout: 180_000 });
		// The end-of-analysis notification, if there is one, comes right after: give it time to appear.
		await page.waitForTimeout(5000);
		const blind = readFileSync(analysis, 'utf8').split('\n').filter((l) => l.includes('"kind":"blind"')).map((l) => JSON.parse(l));
		console.log(`    live blind scans: ${blind.map((b) => `${b.step} ${b.test.state}`).join(', ')}`);
		const alarms = blind.filter((b) => b.test.state === 'alarm').length;
		const finalState = blind.at(-1)?.test.state;
		await page.locator('.statusbar-item', { hasText: 'Poison Lens: analyser fixture undeclared · blind: ALARM' }).first().waitFor({ timeout: 20_000 });
		// The dashboard opened by "Analyse poisoning" drew one suspicion point per live scan.
		const points = await suspicionPoints(page, blind.length);
		const problems = await readProblems(page);
		if (problems.length > 0) {
			throw new Error(`the dashboard could not read the live run: ${problems.join(' | ')}`);
		}
		console.log(`    suspicion chart points: ${points}`);
		if (points !== blind.length) {
			throw new Error(`the suspicion chart holds ${points} points for ${blind.length} live scans`);
		}
		await runFromPalette(page, 'Notifications: Show Notifications');
		await page.locator('.notifications-center').waitFor({ state: 'visible', timeout: 10_000 });
		const notes = await page.locator('.notifications-center .notification-list-item', { hasText: 'possible backdoor forming in analyser fixture undeclared' }).count();
		// The end-of-analysis notification speaks in the blind test's words (no attack declared).
		const ends = page.locator('.notifications-center .notification-list-item', { hasText: 'Poison Lens: analyser fixture undeclared — blind test' });
		const endTexts = (await ends.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
		const endAlarms = endTexts.filter((t) => t.includes('blind test ALARM')).length;
		console.log(`    alarm notifications: ${notes} live + ${endAlarms} at the end (for ${alarms} alarming scans; final state ${finalState}); end notifications: ${JSON.stringify(endTexts.map((t) => t.slice(0, 200)))}`);
		await screenshot('live-blind');
		await page.keyboard.press('Escape');
		const want = cps.slice(1).map((i) => lines[i].step);
		if (blind.map((b) => b.step).join(',') !== want.join(',')) {
			throw new Error(`expected one live blind scan per epoch at steps ${want.join(', ')}, got ${blind.map((b) => b.step).join(', ')}`);
		}
		// One blind alarm, one notification: the live first alarm, or (when the first alarm came with the final scan) the
		// end notification with the alarm's actions; never both.
		if (alarms > 0 ? notes + endAlarms !== 1 : notes + endAlarms !== 0) {
			throw new Error(`${alarms} alarming scans gave ${notes} live and ${endAlarms} end-of-analysis alarm notifications (expected ${alarms > 0 ? 1 : 0} in all)`);
		}
		if (finalState !== 'alarm' && alarms > 0 && !endTexts.some((t) => t.includes('does not confirm'))) {
			throw new Error(`the final scan says ${finalState} after a live alarm, but no notification says the alarm is not confirmed`);
		}
		if (finalState === 'alarm' && notes === 1 && endTexts.length !== 0) {
			throw new Error(`the live alarm was shown, yet the end of the analysis repeated it: ${endTexts.join(' | ')}`);
		}
		if (alarms === 0) {
			throw new Error('the replayed poisoned run raised no alarm: the live scan missed the backdoor blind mode finds on this fixture');
		}
	},
	async '"Analyse poisoning" on a clean training run followed live: blind scans every epoch, no alarm, no alarm notification'(page, { screenshot, folder }) {
		// The clean control of the test above: the same tiny CNN and task, trained by the SDK with no poisoned row
		// (test/fixtures/runs-analyser/clean), replayed live the same way through the real analyser process.
		const { analysis, lines, cps } = await replayLive(page, folder, 'clean');
		await page.locator('.statusbar-item', { hasText: 'Poison Lens: analyser fixture clean · blind:' }).first().waitFor({ timeout: 180_000 });
		await page.waitForTimeout(5000);
		const blind = readFileSync(analysis, 'utf8').split('\n').filter((l) => l.includes('"kind":"blind"')).map((l) => JSON.parse(l));
		console.log(`    live blind scans (clean run): ${blind.map((b) => `${b.step} ${b.test.state}`).join(', ')}`);
		const want = cps.slice(1).map((i) => lines[i].step);
		if (blind.map((b) => b.step).join(',') !== want.join(',')) {
			throw new Error(`expected one live blind scan per epoch at steps ${want.join(', ')}, got ${blind.map((b) => b.step).join(', ')}`);
		}
		const alarms = blind.filter((b) => b.test.state === 'alarm');
		if (alarms.length > 0) {
			throw new Error(`a clean run alarmed at step(s) ${alarms.map((b) => b.step).join(', ')}: ${alarms[0].test.reason}`);
		}
		const status = await page.locator('.statusbar-item', { hasText: 'Poison Lens: analyser fixture clean · blind:' }).first().innerText();
		if (status.includes('ALARM')) {
			throw new Error(`the status bar says ${status} for a run whose scans never alarmed`);
		}
		const points = await suspicionPoints(page, blind.length);
		const problems = await readProblems(page);
		if (problems.length > 0) {
			throw new Error(`the dashboard could not read the live run: ${problems.join(' | ')}`);
		}
		console.log(`    status bar: ${status.replace(/\s+/g, ' ')}; suspicion chart points: ${points}`);
		if (points !== blind.length) {
			throw new Error(`the suspicion chart holds ${points} points for ${blind.length} live scans`);
		}
		await runFromPalette(page, 'Notifications: Show Notifications');
		await page.locator('.notifications-center').waitFor({ state: 'visible', timeout: 10_000 });
		const notes = await page.locator('.notifications-center .notification-list-item', { hasText: 'possible backdoor forming in analyser fixture clean' }).count();
		const ends = (await page.locator('.notifications-center .notification-list-item', { hasText: 'Poison Lens: analyser fixture clean — blind test' }).allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
		console.log(`    clean run: ${notes} live alarm notifications; end notifications: ${JSON.stringify(ends.map((t) => t.slice(0, 200)))}`);
		await screenshot('live-blind-clean');
		await page.keyboard.press('Escape');
		if (notes !== 0 || ends.some((t) => t.includes('blind test ALARM'))) {
			throw new Error(`a clean live run raised an alarm notification: ${notes} live, end: ${ends.join(' | ')}`);
		}
	},
};
