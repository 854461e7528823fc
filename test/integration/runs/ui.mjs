// UI scenarios driven through the real workbench (Chromium + playwright-core) after the extension-host suite ran.
// Each export is one test: async (page, { screenshot }) => void; a throw fails it.

/**
 * Runs a command from the palette by its full title. The extension host may still be starting when the window
 * opens, so it retries (with a deadline) until the palette lists the command.
 */
export async function runFromPalette(page, title, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	const input = page.locator('.quick-input-widget .quick-input-box input');
	const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
	for (;;) {
		await page.keyboard.press('Escape');
		await page.keyboard.press('F1');
		await input.waitFor({ state: 'visible', timeout: 15_000 });
		await input.fill(`>${title}`);
		try {
			await row.waitFor({ state: 'visible', timeout: 2_000 });
			break;
		} catch (err) {
			if (Date.now() > deadline) {
				throw new Error(`the palette never listed "${title}": ${err.message.split('\n')[0]}`);
			}
		}
	}
	await page.keyboard.press('Enter');
}

export const tests = {
	async 'palette "Poison Lens: Analyse poisoning" lists both runs with date and status'(page, { screenshot }) {
		await runFromPalette(page, 'Poison Lens: Analyse poisoning');
		const title = page.locator('.quick-input-widget .quick-input-title', { hasText: 'Poison Lens: Analyse poisoning' });
		await title.waitFor({ state: 'visible', timeout: 20_000 });
		const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
		await rows.nth(1).waitFor({ state: 'visible', timeout: 20_000 });
		const texts = await rows.allInnerTexts();
		if (texts.length !== 2) {
			throw new Error(`expected 2 runs in the picker, got ${texts.length}: ${JSON.stringify(texts)}`);
		}
		const [first, second] = texts;
		for (const [text, name, status] of [[first, 'cnn-cross-theta-1pct', 'interrupted'], [second, 'cnn-clean-baseline', 'finished']]) {
			if (!text.includes(name) || !text.includes(status) || !/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(text)) {
				throw new Error(`picker row should show ${name}, a date and "${status}", got ${JSON.stringify(text)}`);
			}
		}
		await screenshot('analyse-poisoning-picker');
		await page.keyboard.press('Escape');
	},

	async 'the status bar shows the newest run; a click opens its dashboard'(page, { screenshot }) {
		const item = page.locator('.statusbar-item', { hasText: 'Poison Lens: cnn-cross-theta-1pct' });
		await item.waitFor({ state: 'visible', timeout: 30_000 });
		await item.click();
		const tab = page.locator('.tabs-container .tab', { hasText: 'Poison Lens' });
		await tab.waitFor({ state: 'visible', timeout: 20_000 });
		const body = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame').locator('body');
		// The panel opened on the run the status bar named (its run selector shows it).
		await body.locator('select', { has: page.locator('option:checked', { hasText: 'cnn-cross-theta-1pct' }) }).first().waitFor({ timeout: 20_000 });
		console.log(`    dashboard text: ${(await body.innerText()).slice(0, 300).replace(/\s+/g, ' ')}`);
		await screenshot('status-bar-dashboard');
	},
};
