import { runFromPalette } from '../runs/ui.mjs';

export const tests = {
	async 'with no runs, "Analyse poisoning" explains and its button opens the README section'(page, { screenshot }) {
		await runFromPalette(page, 'Poison Lens: Analyse poisoning');
		const toast = page.locator('.notification-toast', { hasText: 'No Poison Lens runs in this workspace yet' });
		await toast.waitFor({ state: 'visible', timeout: 20_000 });
		await screenshot('no-runs-message');
		await toast.getByRole('button', { name: 'How to instrument a training script' }).click();
		const tab = page.locator('.tabs-container .tab', { hasText: 'README.md' });
		await tab.waitFor({ state: 'visible', timeout: 20_000 });
		const label = await tab.getAttribute('aria-label');
		if (!label || !/Preview/.test(label)) {
			throw new Error(`expected a Markdown preview tab of README.md, got ${JSON.stringify(label)}`);
		}
		// The README is rendered in the Markdown preview's webview and scrolled to the section.
		const heading = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame').locator('h2', { hasText: 'Instrument a training script' });
		await heading.waitFor({ state: 'visible', timeout: 20_000 });
		await screenshot('instrumentation-help');
	},
};
