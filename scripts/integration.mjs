#!/usr/bin/env node
// Integration tests inside a real VS Code: code-server 4.100.3 (VS Code 1.100.3) on 127.0.0.1 with auth none, driven
// by Debian Chromium through playwright-core (docs/testing.md). For each folder test/integration/<ws>/ it
//   1. copies test/fixtures/workspaces/<ws> to a scratch folder (tests never touch the fixtures),
//   2. opens the workbench with the `payload` query (extensionDevelopmentPath = this repo, extensionTestsPath =
//      out/test/integration/index.js), so the extension loads unpackaged into the Node extension host and the mocha
//      suites of that folder run there; the result comes back through window.codeAutomationExit,
//   3. runs the folder's ui.mjs scenarios through the real UI (palette, quick pick, notifications),
//   4. saves screenshots under .test-artifacts/integration/.
// Prints `integration: {"passed":N,"failed":M}` as its last line. Usage: node scripts/integration.mjs [ws ...]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumBin, codeServerBin, ensureTools } from './tools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(root, '.test-artifacts', 'integration');
const SUITE_TIMEOUT_MS = 240_000;
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];
// Fixture files get an old, fixed modification time, so a run's status does not depend on when git checked it out.
const FIXTURE_MTIME = new Date('2026-01-01T00:00:00Z');

const log = (msg) => process.stderr.write(`[integration] ${msg}\n`);

async function freePort() {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

function touchTree(dir, when) {
	for (const name of readdirSync(dir)) {
		const full = path.join(dir, name);
		if (statSync(full).isDirectory()) {
			touchTree(full, when);
		}
		utimesSync(full, when, when);
	}
}

export async function startCodeServer({ port: wanted, persistent = false } = {}) {
	const port = wanted ?? (await freePort());
	// Tests start from a clean editor state each run; `npm run ide` keeps the user's state between sessions.
	const state = persistent ? path.join(root, '.tools', 'ide-state') : path.join(artifacts, 'code-server');
	if (!persistent) {
		rmSync(state, { recursive: true, force: true });
	}
	mkdirSync(state, { recursive: true });
	// Quiet, deterministic workbench: no git prompt about the parent repository, no welcome page.
	mkdirSync(path.join(state, 'user-data', 'User'), { recursive: true });
	writeFileSync(path.join(state, 'user-data', 'User', 'settings.json'), JSON.stringify({ 'git.openRepositoryInParentFolders': 'never', 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'extensions.autoCheckUpdates': false, 'workbench.tips.enabled': false }, null, 2));
	const cfg = path.join(state, 'config.yaml');
	writeFileSync(cfg, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
	const env = { ...process.env, HOME: path.join(state, 'home'), POISON_LENS_TEST_RESULTS_DIR: path.join(artifacts, 'results') };
	const version = execFileSync(codeServerBin, ['--config', cfg, '--version'], { encoding: 'utf8', env }).trim();
	log(`code-server ${version}`);
	const args = ['--config', cfg, '--user-data-dir', path.join(state, 'user-data'), '--extensions-dir', path.join(state, 'extensions'), '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'];
	const proc = spawn(codeServerBin, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
	let output = '';
	proc.stdout.on('data', (d) => (output += d));
	proc.stderr.on('data', (d) => (output += d));
	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 60_000;
	for (;;) {
		try {
			const res = await fetch(`${url}/healthz`);
			if (res.ok) {
				break;
			}
		} catch {
			// not listening yet
		}
		if (proc.exitCode !== null || Date.now() > deadline) {
			throw new Error(`code-server did not start:\n${output.slice(-2000)}`);
		}
		await new Promise((r) => setTimeout(r, 200));
	}
	const stop = () => {
		try {
			process.kill(-proc.pid, 'SIGTERM');
		} catch {
			// already gone
		}
	};
	return { url, port, version, stop, output: () => output };
}

export async function launchChromium() {
	return chromium.launch({ executablePath: chromiumBin, headless: true, args: CHROMIUM_ARGS });
}

/** Opens `folder` in the workbench with the extension loaded from this repo (and a test module when given). */
export async function openWorkbench(browser, server, folder, { testsPath, onLog } = {}) {
	const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	let resolveExit;
	const exited = new Promise((r) => (resolveExit = r));
	await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
	await page.exposeFunction('codeAutomationLog', (type, args) => onLog?.(type, args));
	const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
	const payload = [['extensionDevelopmentPath', remote(root)], ['skipWelcome', 'true']];
	if (testsPath) {
		payload.push(['extensionTestsPath', remote(testsPath)]);
	}
	await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
	await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
	return { page, exited };
}

function formatLog(args) {
	return (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
}

/**
 * Copies the fixture workspace of suite `ws` to its scratch folder, with the folders its fixture.json names and
 * the files its "generate" commands make. Failures land in `result`.
 * @returns true when the workspace is ready
 */
function prepareWorkspace(ws, fixture, folder, result) {
	rmSync(folder, { recursive: true, force: true });
	cpSync(fixture, folder, { recursive: true });
	// fixture.json may name other fixture folders to copy in, so shared fixtures exist once in the repository.
	const recipe = path.join(fixture, 'fixture.json');
	if (existsSync(recipe)) {
		const r = JSON.parse(readFileSync(recipe, 'utf8'));
		for (const [dest, src] of Object.entries(r.copy ?? {})) {
			cpSync(path.join(root, src), path.join(folder, dest), { recursive: true });
		}
		// "generate": commands run in the repository root with {folder} replaced by the scratch workspace, for fixtures
		// that are made by the product itself (a real run trained with the SDK) rather than committed as binaries.
		for (const cmd of r.generate ?? []) {
			const argv = cmd.map((a) => a.replaceAll('{folder}', folder));
			const started = Date.now();
			const g = spawnSync(argv[0] === 'node' ? process.execPath : argv[0], argv.slice(1), { cwd: root, encoding: 'utf8', timeout: 300_000 });
			if (g.status !== 0) {
				result.failed++;
				result.failures.push(`${ws}: fixture generation failed (${argv.join(' ')}): ${(g.stderr || g.error?.message || '').slice(-2000)}`);
				return false;
			}
			log(`${ws}: generated fixture in ${Date.now() - started} ms: ${g.stdout.trim().split('\n').pop()}`);
		}
	}
	touchTree(folder, FIXTURE_MTIME);
	return true;
}

/** Runs the UI scenarios of `uiFile` in a fresh workbench window on `folder`, counting them into `result`. */
async function runUiScenarios(browser, server, ws, folder, uiFile, result) {
	const { page } = await openWorkbench(browser, server, folder, { onLog: (type, args) => type === 'error' && process.stdout.write(`  [ui ${type}] ${formatLog(args).slice(0, 400)}\n`) });
	const shot = async (name) => page.screenshot({ path: path.join(artifacts, `${ws}-${name}.png`) });
	const { tests } = await import(pathToFileURL(uiFile).href);
	for (const [name, fn] of Object.entries(tests)) {
		try {
			await fn(page, { screenshot: shot, folder, server });
			result.passed++;
			process.stdout.write(`  ✔ [ui] ${name}\n`);
		} catch (err) {
			result.failed++;
			result.failures.push(`${ws} [ui] ${name}: ${err.message.split('\n')[0]}`);
			process.stdout.write(`  ✘ [ui] ${name}\n    ${err.message}\n`);
			await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
		}
	}
	await shot('final');
	await page.close();
}

async function runSuite(browser, server, ws) {
	const result = { suite: ws, passed: 0, failed: 0, failures: [] };
	const fixture = path.join(root, 'test/fixtures/workspaces', ws);
	if (!existsSync(fixture)) {
		result.failed++;
		result.failures.push(`${ws}: no fixture workspace at test/fixtures/workspaces/${ws}`);
		return result;
	}
	const folder = path.join(artifacts, 'workspaces', ws);
	if (!prepareWorkspace(ws, fixture, folder, result)) {
		return result;
	}
	const resultsFile = path.join(artifacts, 'results', `${ws}.json`);
	rmSync(resultsFile, { force: true });

	const hostTests = existsSync(path.join(root, 'out/test/integration', ws)) && readdirSync(path.join(root, 'out/test/integration', ws)).some((f) => f.endsWith('.test.js'));
	if (hostTests) {
		const testsPath = path.join(root, 'out/test/integration/index.js');
		const started = Date.now();
		const { page, exited } = await openWorkbench(browser, server, folder, {
			testsPath,
			onLog: (type, args) => process.stdout.write(`  [ext-host ${type}] ${formatLog(args)}\n`),
		});
		const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('TIMEOUT'), SUITE_TIMEOUT_MS))]);
		log(`${ws}: extension-host suite exit code ${code} after ${Date.now() - started} ms`);
		if (existsSync(resultsFile)) {
			const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
			result.passed += r.passes;
			result.failed += r.failures;
			result.failures.push(...r.failed.map((f) => `${ws}: ${f}`));
		}
		if (code !== 0 && result.failed === 0) {
			// The suite crashed or timed out before mocha could report: that is a failure, never a silent pass.
			result.failed++;
			result.failures.push(`${ws}: extension-host suite ended with ${code} and no test results`);
		}
		await page.screenshot({ path: path.join(artifacts, `${ws}-suite.png`) });
		await page.close();
	}
	// In test mode the workbench shuts the extension host down once the suite settles, so the UI scenarios get a
	// fresh window with the extension loaded from its folder and no test module.
	const uiFile = path.join(root, 'test/integration', ws, 'ui.mjs');
	if (existsSync(uiFile)) {
		await runUiScenarios(browser, server, ws, folder, uiFile, result);
	}
	return result;
}

export async function main(argv) {
	ensureTools();
	if (!existsSync(path.join(root, 'out/test/integration/index.js')) || !existsSync(path.join(root, 'dist/extension.js'))) {
		throw new Error('build first: node esbuild.mjs');
	}
	mkdirSync(artifacts, { recursive: true });
	// A suite is a folder of test/integration holding extension-host tests (*.test.ts) or UI scenarios (ui.mjs).
	const isSuite = (d) => {
		const dir = path.join(root, 'test/integration', d);
		return statSync(dir).isDirectory() && readdirSync(dir).some((f) => f.endsWith('.test.ts') || f === 'ui.mjs');
	};
	const suites = argv.length > 0 ? argv : readdirSync(path.join(root, 'test/integration')).filter(isSuite).sort();
	const server = await startCodeServer();
	const browser = await launchChromium();
	const totals = { passed: 0, failed: 0, failures: [] };
	try {
		for (const ws of suites) {
			log(`suite ${ws}`);
			const r = await runSuite(browser, server, ws);
			totals.passed += r.passed;
			totals.failed += r.failed;
			totals.failures.push(...r.failures);
		}
	} finally {
		await browser.close();
		server.stop();
	}
	log(`screenshots in ${path.relative(root, artifacts)}/`);
	for (const f of totals.failures) {
		log(`FAILED ${f}`);
	}
	return totals;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	main(process.argv.slice(2)).then(
		(t) => {
			console.log(`integration: ${JSON.stringify({ passed: t.passed, failed: t.failed })}`);
			process.exit(t.failed > 0 ? 1 : 0);
		},
		(err) => {
			log(`error: ${err.stack ?? err}`);
			console.log(`integration: ${JSON.stringify({ passed: 0, failed: 1 })}`);
			process.exit(1);
		},
	);
}
