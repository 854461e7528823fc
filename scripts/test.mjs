#!/usr/bin/env node
// `npm test`: the machine set-up, then every layer, in order, each counted, then one closing line `N passed, N failed`.
//   setup        scripts/setup.mjs: Debian packages, the software GPU, code-server (idempotent; what cannot be
//                installed here is named, and the tests that need it skip with that reason)
//   lint         eslint .                               (1 check)
//   types        tsc --noEmit (src + test, webview)     (1 check)
//   build        node esbuild.mjs                       (1 check)
//   unit         node --test test/unit/**/*.test.ts     (pure logic, plain Node)
//   e2e          node --test test/e2e/**/*.test.ts      (real child processes: SDK training scripts, the bundled analyser)
//   integration  code-server + Chromium                 (scripts/integration.mjs; installs its tools on first use)
// Options: --only <layer>[,<layer>] runs a subset (build always runs before e2e and integration);
//          --no-setup skips the set-up step.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setup } from './setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? new Set(args[onlyIdx + 1].split(',')) : undefined;
const wants = (layer) => !only || only.has(layer);
const results = [];
const skippedNotes = [];

function sh(cmd, cmdArgs, opts = {}) {
	process.stdout.write(`\n$ ${[cmd, ...cmdArgs].join(' ')}\n`);
	const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
	return r.status === 0;
}

function check(layer, ok) {
	results.push({ layer, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
}

function findTests(dir) {
	if (!existsSync(dir)) {
		return [];
	}
	const out = [];
	for (const name of readdirSync(dir).sort()) {
		const full = path.join(dir, name);
		if (statSync(full).isDirectory()) {
			out.push(...findTests(full));
		} else if (name.endsWith('.test.ts')) {
			out.push(path.relative(root, full));
		}
	}
	return out;
}

/** Runs node's test runner (spec to the terminal, TAP to a file) and counts from the TAP summary. */
function nodeTests(layer, dir) {
	const files = findTests(path.join(root, dir));
	if (files.length === 0) {
		return;
	}
	const tapDir = path.join(root, '.test-artifacts');
	mkdirSync(tapDir, { recursive: true });
	const tap = path.join(tapDir, `${layer}.tap`);
	rmSync(tap, { force: true });
	const ok = sh(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(path.join(root, 'test/quietBanner.mjs')).href, '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files]);
	const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
	const count = (key) => Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
	const passed = count('pass');
	let failed = count('fail') + count('cancelled');
	if (!ok && failed === 0) {
		failed = 1; // the runner itself failed (a file that does not load): never a silent pass
	}
	results.push({ layer, passed, failed, skipped: count('skipped') });
}

function integration() {
	const r = spawnSync(process.execPath, [path.join(root, 'scripts/integration.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
	process.stdout.write(r.stdout);
	const m = r.stdout.match(/^integration: (\{.*\})$/m);
	const counts = m ? JSON.parse(m[1]) : { passed: 0, failed: 1 };
	if (r.status !== 0 && counts.failed === 0) {
		counts.failed = 1;
	}
	results.push({ layer: 'integration', ...counts });
}

const started = Date.now();
let integrationBlocked = null;
if (!args.includes('--no-setup')) {
	process.stdout.write('\n$ node scripts/setup.mjs\n');
	const s = setup();
	results.push({ layer: 'setup', passed: s.failed.length === 0 ? 1 : 0, failed: s.failed.length > 0 ? 1 : 0 });
	for (const m of s.missing) {
		skippedNotes.push(`${m.what}: ${m.reason}`);
	}
	integrationBlocked = s.integration;
}
if (wants('lint')) {
	check('lint', sh(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.']));
}
if (wants('types')) {
	const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
	check('types', sh(process.execPath, [tsc, '--noEmit', '-p', '.']) && sh(process.execPath, [tsc, '--noEmit', '-p', 'webview']));
}
const needsBuild = wants('build') || wants('e2e') || wants('integration');
let built = true;
if (needsBuild) {
	built = sh(process.execPath, [path.join(root, 'esbuild.mjs')]);
	check('build', built);
}
if (wants('unit')) {
	nodeTests('unit', 'test/unit');
}
if (wants('e2e') && built) {
	nodeTests('e2e', 'test/e2e');
}
if (wants('integration') && built) {
	if (integrationBlocked !== null) {
		process.stdout.write(`\n*** SKIPPED integration layer: ${integrationBlocked} ***\n`);
		results.push({ layer: 'integration', passed: 0, failed: 0, skipped: 1 });
		skippedNotes.push(`integration layer: ${integrationBlocked}`);
	} else {
		integration();
	}
}

const width = Math.max(...results.map((r) => r.layer.length));
console.log('\nlayer'.padEnd(width + 2) + ' passed failed skipped');
for (const r of results) {
	console.log(`${r.layer.padEnd(width + 1)} ${String(r.passed).padStart(6)} ${String(r.failed).padStart(6)} ${String(r.skipped ?? 0).padStart(7)}`);
}
for (const note of skippedNotes) {
	console.log(`not on this machine: ${note}`);
}
const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
