import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runFromPalette } from '../runs/ui.mjs';

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
		// The real undeclared-attack fixture replayed as if it were training: its events are written up to the first
		// checkpoint with times moved to now, then appended one checkpoint at a time once the analyser has scanned the
		// newest one (the analyser runs for real: the bundled analyser process, live blind scans every checkpoint).
		const runDir = path.join(folder, '.poison-lens/runs/undeclared');
		const events = path.join(runDir, 'events.jsonl');
		const analysis = path.join(runDir, 'analysis.jsonl');
		const lines = readFileSync(events, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
		const cps = lines.map((e, i) => (e.type === 'checkpoint-written' ? i : -1)).filter((i) => i >= 0);
		const now = (e) => JSON.stringify({ ...e, time: new Date().toISOString() });
		writeFileSync(events, lines.slice(0, cps[0] + 1).map(now).join('\n') + '\n');
		let written = cps[0] + 1;
		await runFromPalette(page, 'Poison Lens: Analyse poisoning');
		const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'analyser fixture undeclared' });
		await row.first().waitFor({ timeout: 20_000 });
		await row.first().click();
		// Default settings: one scan per epoch from epoch 1 on. The fixture's checkpoints sit at epochs 0, 1, 2, 3, so
		// step 0 gets its light record only and every later checkpoint a live blind scan.
		const stepsOf = (kind) => (existsSync(analysis) ? readFileSync(analysis, 'utf8').split('\n').filter((l) => l.includes(`"kind":"${kind}"`)).map((l) => JSON.parse(l).step) : []);
		for (let k = 0; k < cps.length; k++) {
			const step = lines[cps[k]].step;
			const kind = k === 0 ? 'checkpoint' : 'blind';
			const deadline = Date.now() + 90_000;
			while (!stepsOf(kind).includes(step)) {
				if (Date.now() > deadline) {
					throw new Error(`no ${kind} line for step ${step} within 90 s (blind lines so far: ${stepsOf('blind').join(', ')})`);
				}
				await page.waitForTimeout(200);
			}
			const next = k + 1 < cps.length ? cps[k + 1] + 1 : lines.length;
			appendFileSync(events, lines.slice(written, next).map(now).join('\n') + '\n');
			written = next;
		}
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
		let points = -1;
		for (const f of page.frames()) {
			const n = await f.evaluate(() => (typeof window.poisonLens === 'object' ? (window.poisonLens.pointCounts('suspicion')['suspicion score'] ?? 0) : null)).catch(() => null);
			if (n !== null) {
				points = n;
			}
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
};
