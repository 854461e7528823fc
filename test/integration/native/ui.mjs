// 'Feel native' UI scenarios in the real workbench (code-server + Chromium): the Get Started walkthrough, the Runs
// view (welcome buttons when empty, then live while a run trains), the one-click instrumentation of tfjs-examples'
// mnist-node/main.js (which then trains and writes a valid run), and image hovers on a pixel-column CSV.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFromPalette } from '../runs/ui.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

async function until(what, probe, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await probe();
		if (v !== undefined && v !== null && v !== false) {
			return v;
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
}

async function openFile(page, name) {
	await page.keyboard.press('Escape');
	await page.keyboard.press('Control+P');
	const input = page.locator('.quick-input-widget .quick-input-box input');
	await input.waitFor({ state: 'visible', timeout: 15_000 });
	await input.fill(name);
	await page.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(name) }).first().waitFor({ timeout: 15_000 });
	await page.keyboard.press('Enter');
	await page.locator('.tabs-container .tab', { hasText: path.basename(name) }).waitFor({ timeout: 15_000 });
}

async function goToLine(page, line) {
	// Focus the editor, go to the line, and check the status bar says so (retrying while the editor settles).
	await until(`the cursor on line ${line}`, async () => {
		await page.keyboard.press('Escape');
		await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click({ position: { x: 5, y: 5 } });
		await page.keyboard.press('Control+G');
		const input = page.locator('.quick-input-widget .quick-input-box input');
		await input.waitFor({ state: 'visible', timeout: 10_000 });
		await input.fill(`:${line}`);
		await page.keyboard.press('Enter');
		return page
			.locator('.statusbar-item', { hasText: `Ln ${line},` })
			.first()
			.waitFor({ state: 'visible', timeout: 3_000 })
			.then(() => true, () => undefined);
	}, 30_000);
}

const sidebar = (page) => page.locator('.part.sidebar');
const runRows = (page) => sidebar(page).locator('.monaco-list-row');

export const tests = {
	async 'the Get Started walkthrough opens with its five steps'(page, { screenshot }) {
		await runFromPalette(page, 'Welcome: Open Walkthrough...');
		const item = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with Poison Lens' });
		await item.first().waitFor({ state: 'visible', timeout: 20_000 });
		await item.first().click();
		const body = page.locator('.gettingStartedContainer');
		await body.locator('text=Get started with Poison Lens').first().waitFor({ timeout: 20_000 });
		const text = await body.innerText();
		const steps = ['Run the demo', 'Open the dashboard', 'Record your own training script', 'Scan a dataset', 'Read a verdict'];
		const missing = steps.filter((s) => !text.includes(s));
		if (missing.length > 0) {
			throw new Error(`walkthrough lacks ${missing.join(', ')}: ${text.slice(0, 400)}`);
		}
		await screenshot('walkthrough');
		await page.keyboard.press('Control+K');
		await page.keyboard.press('W');
	},

	async 'the Runs view is in the activity bar; empty, it shows the welcome buttons'(page, { screenshot }) {
		const icon = page.locator('.activitybar .action-item a[aria-label^="Poison Lens"]').first();
		await icon.waitFor({ state: 'visible', timeout: 30_000 });
		await icon.click();
		const welcome = sidebar(page).locator('.welcome-view-content');
		await welcome.waitFor({ state: 'visible', timeout: 20_000 });
		for (const b of ['Run the demo', 'Instrument a training script', 'Open documentation']) {
			await welcome.locator('.monaco-button', { hasText: b }).first().waitFor({ timeout: 10_000 });
		}
		await screenshot('runs-view-welcome');
	},

	async 'CodeLens instruments mnist-node/main.js in one undoable edit'(page, { screenshot, folder }) {
		const file = path.join(folder, 'mnist-node/main.js');
		const original = readFileSync(file, 'utf8');
		await openFile(page, 'mnist-node/main.js');
		const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Record this training with Poison Lens' }).first();
		await lens.waitFor({ state: 'visible', timeout: 60_000 });
		await screenshot('instrument-codelens');
		await lens.click();
		await page.locator('.monaco-editor .view-line', { hasText: 'const lens = await PoisonLens.start({' }).first().waitFor({ timeout: 20_000 });
		await screenshot('instrument-edited');
		// One undo reverts the whole edit; redo brings it back.
		await page.keyboard.press('Control+Z');
		await page.keyboard.press('Control+S');
		await until('the undone file on disk', () => readFileSync(file, 'utf8') === original, 20_000);
		await page.keyboard.press('Control+Shift+Z');
		await page.keyboard.press('Control+S');
		const edited = await until('the instrumented file on disk', () => {
			const t = readFileSync(file, 'utf8');
			return t.includes('await lens.end();') ? t : undefined;
		}, 20_000);
		for (const want of ["const { PoisonLens } = require('poison-lens/sdk');", 'const lens = await PoisonLens.start({', 'callbacks: [lens.callback(), new tf.CustomCallback({', 'await lens.end();']) {
			if (!edited.includes(want)) {
				throw new Error(`the edited main.js lacks ${JSON.stringify(want)}`);
			}
		}
		if (!edited.startsWith(original.slice(0, original.indexOf('*/') + 2))) {
			throw new Error('the licence header changed');
		}
	},

	async 'the edited script trains; the Runs view follows it live and the run is valid'(page, { screenshot, folder }) {
		const child = spawn(process.execPath, ['mnist-node/main.js', '--epochs', '5'], { cwd: folder, env: { ...process.env, NODE_PATH: path.join(folder, 'shims') }, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.stderr.on('data', (d) => (out += d));
		const exited = new Promise((r) => child.on('close', r));
		try {
			const row = runRows(page).filter({ hasText: 'main' }).first();
			await row.waitFor({ state: 'visible', timeout: 120_000 });
			const seen = [];
			const record = async () => {
				const t = (await row.innerText().catch(() => '')).replace(/\s+/g, ' ');
				if (t !== '' && seen[seen.length - 1] !== t) {
					seen.push(t);
				}
			};
			await until('the run row to show an epoch', async () => {
				await record();
				return seen.some((t) => /epoch \d/.test(t));
			}, 120_000);
			await screenshot('runs-tree-training');
			const code = await Promise.race([exited, (async () => {
				for (;;) {
					await record();
					await new Promise((r) => setTimeout(r, 300));
				}
			})()]);
			if (code !== 0) {
				throw new Error(`the instrumented script exited ${code}: ${out.slice(-1500)}`);
			}
			await until('the row to show the finished run (epoch 5.0)', async () => {
				await record();
				return seen[seen.length - 1].includes('epoch 5.0');
			}, 60_000);
			console.log(`    Runs view row over time: ${JSON.stringify(seen)}`);
			if (new Set(seen).size < 2) {
				throw new Error(`the row never changed while the run trained: ${JSON.stringify(seen)}`);
			}
			await row.click();
			await page.keyboard.press('ArrowRight');
			await sidebar(page).locator('.monaco-list-row', { hasText: 'Checkpoints' }).first().waitFor({ timeout: 20_000 });
			await screenshot('runs-tree-ended');
		} finally {
			child.kill();
		}
		const runs = path.join(folder, '.poison-lens/runs');
		const dirs = readdirSync(runs).filter((d) => existsSync(path.join(runs, d, 'manifest.json')));
		if (dirs.length !== 1) {
			throw new Error(`expected one run folder, got ${JSON.stringify(dirs)}`);
		}
		const run = path.join(runs, dirs[0]);
		const events = readFileSync(path.join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
		const cps = events.filter((e) => e.type === 'checkpoint-written').length;
		const end = events.at(-1);
		if (end.type !== 'end' || end.status !== 'completed' || cps < 3) {
			throw new Error(`run events: ${cps} checkpoints, last ${JSON.stringify(end)}`);
		}
		// The bundled analyser reads it as a valid run (manifest schema, checkpoints, probe set).
		const a = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'analyse', run, '--backend', 'wasm', '--no-blind', '--json', '-'], { encoding: 'utf8', timeout: 180_000 });
		if (a.status !== 0) {
			throw new Error(`poison-lens analyse on the run exited ${a.status}: ${a.stderr.slice(-1500)}`);
		}
		const j = JSON.parse(a.stdout);
		if (j.checkpoints.length !== cps || j.checkpoints.some((c) => c.error !== null)) {
			throw new Error(`analysis: ${JSON.stringify(j.checkpoints.map((c) => [c.step, c.error]))}`);
		}
		console.log(`    run ${dirs[0]}: ${cps} checkpoints, analysed: verdict ${j.verdict}, clean accuracy ${j.checkpoints.at(-1).cleanAccuracy}`);
	},

	async '"Export run report" writes the self-contained HTML report of the run'(page, { screenshot, folder }) {
		await runFromPalette(page, 'Poison Lens: Export run report');
		const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'main' }).first();
		await pick.waitFor({ state: 'visible', timeout: 20_000 });
		await page.keyboard.press('Enter');
		// The save dialog (code-server's simple file dialog) proposes <run>/report.html; accept it.
		const input = page.locator('.quick-input-widget .quick-input-box input');
		await until('the save dialog to propose report.html', async () => ((await input.inputValue().catch(() => '')).endsWith('report.html') ? true : undefined), 20_000);
		await screenshot('export-report-dialog');
		await page.keyboard.press('Enter');
		await page.locator('.notifications-toasts', { hasText: 'report written to' }).first().waitFor({ timeout: 30_000 });
		const runs = path.join(folder, '.poison-lens/runs');
		const report = path.join(runs, readdirSync(runs)[0], 'report.html');
		const html = readFileSync(report, 'utf8');
		for (const want of ['Poison Lens report: main', 'Settings of the run', "default-src 'none'"]) {
			if (!html.includes(want)) {
				throw new Error(`the report lacks ${JSON.stringify(want)}`);
			}
		}
		await screenshot('export-report-done');
	},

	async 'hovering a pixel-column row shows its image; a dirty-label duplicate shows both rows'(page, { screenshot }) {
		await openFile(page, 'pixels.csv');
		const hoverImgs = page.locator('.monaco-hover img[src^="data:image/png;base64,"]');
		const hoverAt = async (line) => {
			await page.keyboard.press('Escape');
			await goToLine(page, line);
			await runFromPalette(page, 'Show or Focus Hover');
			await hoverImgs.first().waitFor({ state: 'visible', timeout: 20_000 });
			return hoverImgs.count();
		};
		const one = await hoverAt(10);
		if (one !== 1) {
			throw new Error(`a plain row's hover shows ${one} images`);
		}
		await screenshot('hover-pixel-row');
		// Line 42 copies line 5 with another label: once the scan has flagged it, its hover shows both images.
		await until('the side-by-side hover of the duplicate', async () => ((await hoverAt(42)) >= 2 ? true : undefined), 90_000);
		const size = await hoverImgs.first().evaluate((img) => [img.naturalWidth, img.naturalHeight]);
		if (size[0] < 28 || size[0] !== size[1]) {
			throw new Error(`hover image is ${size.join('×')}`);
		}
		await screenshot('hover-duplicate-pair');
		await page.keyboard.press('Escape');
	},
};
