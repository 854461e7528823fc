/**
 * `poison-lens report` as a user runs it: the bundled CLI analyses and reports a copy of the small real fixture run,
 * then Debian's Chromium (playwright-core, the integration layer's flags) opens the HTML from disk with every
 * request recorded. Build first: `node esbuild.mjs`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-report-'));
const artifacts = path.join(root, '.test-artifacts/e2e');
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
// The integration layer's Chromium flags (scripts/integration.mjs CHROMIUM_ARGS).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
	assert.ok(fs.existsSync(cli), `${cli} is missing: run "node esbuild.mjs" first`);
	const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 180_000, cwd: tmpRoot });
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Opens a file in Chromium and returns every request the page made besides the file itself and data: URLs. */
async function openOffline(file: string, screenshot?: string): Promise<{ requests: string[]; text: string; images: { src: string; loaded: boolean }[]; svgs: number }> {
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
	try {
		const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
		const url = pathToFileURL(file).href;
		const requests: string[] = [];
		page.on('request', (r) => {
			if (r.url() !== url && !r.url().startsWith('data:')) {
				requests.push(r.url());
			}
		});
		await page.goto(url, { waitUntil: 'load' });
		const text = await page.innerText('body');
		const images = await page.$$eval('img', (imgs) =>
			imgs.map((i) => {
				const img = i as unknown as { src: string; complete: boolean; naturalWidth: number };
				return { src: img.src.slice(0, 30), loaded: img.complete && img.naturalWidth > 0 };
			}),
		);
		const svgs = await page.$$eval('svg', (s) => s.length);
		if (screenshot !== undefined) {
			fs.mkdirSync(path.dirname(screenshot), { recursive: true });
			await page.screenshot({ path: screenshot, fullPage: true });
		}
		return { requests, text, images, svgs };
	} finally {
		await browser.close();
	}
}

describe('poison-lens report (bundled CLI, headless Chromium)', { timeout: 300_000 }, () => {
	test('the request listener sees a fetch (control)', async () => {
		const f = path.join(tmpRoot, 'control.html');
		fs.writeFileSync(f, '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>');
		const { requests } = await openOffline(f);
		assert.deepEqual(requests, ['http://127.0.0.1:9/x.png']);
	});

	test('an analysed run: one self-contained file, verdict in words, charts, images, settings; no network request', async () => {
		const dir = path.join(tmpRoot, 'cross');
		fs.cpSync(path.join(root, 'test/fixtures/runs-analyser/cross'), dir, { recursive: true });
		const a = run(['analyse', 'cross', '--backend', 'wasm', '--json', 'cross.json']);
		assert.equal(a.code, 0, a.stderr);
		const verdict = (JSON.parse(fs.readFileSync(path.join(tmpRoot, 'cross.json'), 'utf8')) as { verdict: string }).verdict;
		const r = run(['report', 'cross', '--out=cross-report.html']);
		assert.equal(r.code, 0, r.stderr);
		const file = path.join(tmpRoot, 'cross-report.html');
		const html = fs.readFileSync(file, 'utf8');
		assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external reference');
		const page = await openOffline(file, path.join(artifacts, 'report-cross.png'));
		assert.deepEqual(page.requests, []);
		assert.match(page.text, new RegExp(`verdict ${verdict}`));
		assert.match(page.text, /Settings of the run/);
		assert.match(page.text, /declared attack\s+cross/);
		assert.ok(page.svgs >= 3, `${page.svgs} charts`);
		assert.ok(page.images.length >= 1 && page.images.every((i) => i.loaded && i.src.startsWith('data:image/png;base64,')), JSON.stringify(page.images));
	});

	test('a run that was never analysed still reports, saying so; a folder without a manifest is an error', () => {
		const dir = path.join(tmpRoot, 'fresh');
		fs.cpSync(path.join(root, 'test/fixtures/runs-analyser/undeclared'), dir, { recursive: true });
		fs.rmSync(path.join(dir, 'analysis.jsonl'), { force: true });
		const r = run(['report', 'fresh', '-o', '-']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /Not analysed yet/);
		fs.mkdirSync(path.join(tmpRoot, 'empty'));
		const bad = run(['report', 'empty']);
		assert.equal(bad.code, 1);
		assert.match(bad.stderr, /not a Poison Lens run folder \(no manifest\.json\)/);
	});
});
