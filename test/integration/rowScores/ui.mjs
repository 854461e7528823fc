import { runFromPalette } from '../runs/ui.mjs';

export const tests = {
	async 'opening data/train.csv shows the spectral-signature findings in the Problems panel'(page, { screenshot }) {
		await page.keyboard.press('Escape');
		await page.keyboard.press('Control+P');
		const input = page.locator('.quick-input-widget .quick-input-box input');
		await input.waitFor({ state: 'visible', timeout: 15_000 });
		await input.fill('train.csv');
		await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.csv' }).first().waitFor({ timeout: 15_000 });
		await page.keyboard.press('Enter');
		await page.locator('.tabs-container .tab', { hasText: 'train.csv' }).waitFor({ timeout: 15_000 });
		await runFromPalette(page, 'View: Focus Problems (Errors, Warnings, Infos)');
		const rows = page.locator('.markers-panel .monaco-list-row');
		const deadline = Date.now() + 150_000;
		let texts = [];
		while (Date.now() < deadline) {
			texts = await rows.allInnerTexts();
			if (texts.some((t) => t.includes('spectral-signature'))) {
				break;
			}
			await page.waitForTimeout(500);
		}
		if (!texts.some((t) => t.includes('spectral-signature'))) {
			throw new Error(`no spectral-signature finding in the Problems panel; it shows ${JSON.stringify(texts.slice(0, 8))}`);
		}
		await screenshot('problems-panel');
	},
};
