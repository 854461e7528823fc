import { existsSync, readFileSync } from 'node:fs';
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
};
