import { runFromPalette } from '../runs/ui.mjs';

export const tests = {
	async 'opening structure.csv fills the Problems panel with its structure problems'(page, { screenshot }) {
		await page.keyboard.press('Escape');
		await page.keyboard.press('Control+P');
		const input = page.locator('.quick-input-widget .quick-input-box input');
		await input.waitFor({ state: 'visible', timeout: 15_000 });
		await input.fill('structure.csv');
		await page.locator('.quick-input-list .monaco-list-row', { hasText: 'structure.csv' }).first().waitFor({ timeout: 15_000 });
		await page.keyboard.press('Enter');
		await page.locator('.tabs-container .tab', { hasText: 'structure.csv' }).waitFor({ timeout: 15_000 });
		await runFromPalette(page, 'View: Focus Problems (Errors, Warnings, Infos)');
		const rows = page.locator('.markers-panel .monaco-list-row');
		const deadline = Date.now() + 60_000;
		let texts = [];
		while (Date.now() < deadline) {
			texts = await rows.allInnerTexts();
			if (texts.some((t) => t.includes('ragged-row')) && texts.some((t) => t.includes('bad-quote'))) {
				break;
			}
			await page.waitForTimeout(250);
		}
		const codes = ['ragged-row', 'non-numeric', 'missing-value', 'missing-label', 'non-finite', 'unknown-label', 'bad-quote'];
		const missing = codes.filter((c) => !texts.some((t) => t.includes(c)));
		if (missing.length > 0) {
			throw new Error(`the Problems panel lacks ${missing.join(', ')}; it shows ${JSON.stringify(texts.slice(0, 12))}`);
		}
		await screenshot('problems-panel');
	},
};
