/**
 * `poison-lens analyse` as a user runs it: the bundled dist/cli.js on copies of the small real
 * fixture runs (test/fixtures/runs-analyser). Build first: `node esbuild.mjs`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { webgpuSkipReason } from '../webgpu';
import { parseAnalysisFile } from '../../src/protocol/analysisRecord';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-analyse-cli-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
	assert.ok(fs.existsSync(cli), `${cli} is missing: run "node esbuild.mjs" first`);
	const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function copyRun(name: string): string {
	const dest = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
	fs.cpSync(path.join(root, 'test/fixtures/runs-analyser', name), dest, { recursive: true });
	return dest;
}

/** Key paths of a JSON value: objects recurse (`a.b`), arrays of objects as `a[].b`; null and leaves stop. */
function keyPaths(v: unknown, prefix = ''): string[] {
	if (Array.isArray(v)) {
		const objs = v.filter((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
		return [...new Set(objs.flatMap((x) => keyPaths(x, `${prefix}[]`)))];
	}
	if (typeof v !== 'object' || v === null) {
		return [];
	}
	return Object.entries(v).flatMap(([k, x]) => {
		const p = prefix === '' ? k : `${prefix}.${k}`;
		return [p, ...keyPaths(x, p)];
	});
}

/** The first-column keys of the table under "### JSON output" in docs/analyser.md. */
function documentedKeys(): string[] {
	const doc = fs.readFileSync(path.join(root, 'docs/analyser.md'), 'utf8');
	const section = doc.slice(doc.indexOf('### JSON output'));
	const body = section.slice(0, section.indexOf('\n#', 5) > 0 ? section.indexOf('\n#', 5) : undefined);
	return [...body.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
}

describe('poison-lens analyse (bundled CLI)', { timeout: 240_000 }, () => {
	test('docs/analyser.md documents exactly the keys the CLI writes with --json (full pass, blind mode)', () => {
		const r = run(['analyse', copyRun('cross'), '--backend', 'wasm', '--k', '2', '--full', '--json', '-']);
		assert.equal(r.code, 0, r.stderr);
		const written = keyPaths(JSON.parse(r.stdout)).sort();
		const documented = documentedKeys().sort();
		assert.ok(documented.length > 20, `found ${documented.length} documented keys`);
		assert.deepEqual(written, documented);
	});

	test('analyses a run: table on stdout, JSON in the documented shape, analysis.jsonl written, exit 0', () => {
		const dir = copyRun('cross');
		const out = path.join(tmpRoot, 'cross.json');
		const r = run(['analyse', dir, '--backend', 'wasm', '--k', '3', '--json', out]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^step\s+epoch\s+pass/m);
		assert.match(r.stdout, /^verdict: (clean|early-warning|visible|lagging|invisible)$/m);
		const j = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
		assert.deepEqual(Object.keys(j), ['run', 'backend', 'checkpoints', 'blind', 'lag', 'verdict']);
		assert.equal(j.run, dir);
		const cps = j.checkpoints as Record<string, unknown>[];
		assert.deepEqual(cps.map((c) => c.step), [0, 25, 50, 75]);
		assert.deepEqual(Object.keys(j.lag as object), ['asrStep', 'spectralStep', 'lagSteps', 'lagEpochs']);
		assert.deepEqual(Object.keys(j.blind as object), ['suspects', 'candidateTriggerOverlap', 'flipRate', 'flipClass', 'scoredRows', 'totalRows', 'coverage', 'rowScoreCut', 'rowScoresFile', 'test']);
		const file = path.join(dir, 'analysis.jsonl');
		assert.equal(parseAnalysisFile(fs.readFileSync(file, 'utf8'), file).checkpoints.length, 4);
		// Again: nothing to do, same verdict, JSON to stdout with "-".
		const again = run(['analyse', dir, '--backend', 'wasm', '--json', '-']);
		assert.equal(again.code, 0, again.stderr);
		assert.equal((JSON.parse(again.stdout) as { verdict: string }).verdict, j.verdict);
	});

	test('a run without a declared attack: no ASR, blind mode only', () => {
		const dir = copyRun('undeclared');
		const r = run(['analyse', dir, '--backend', 'wasm', '--json', '-']);
		assert.equal(r.code, 0, r.stderr);
		const j = JSON.parse(r.stdout) as { checkpoints: { asr: unknown; triggerOverlap: unknown; cleanAccuracy: unknown }[]; lag: { lagSteps: unknown }; blind: unknown };
		assert.ok(j.checkpoints.every((c) => c.asr === null && c.triggerOverlap === null && typeof c.cleanAccuracy === 'number'));
		assert.equal(j.lag.lagSteps, null);
		assert.notEqual(j.blind, null);
		// Every recorded row was scored, and every row's score is in the run folder.
		const b = j.blind as { scoredRows: number; totalRows: number; coverage: string; rowScoresFile: string };
		const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { trainSample: { count: number } };
		assert.equal(b.scoredRows, m.trainSample.count);
		const lines = fs.readFileSync(path.join(dir, b.rowScoresFile), 'utf8').trim().split('\n');
		assert.equal(lines.length, 2 + b.scoredRows);
		// The blind test: a state, a score against a null band, and the verdict follows the state (visible only on an alarm).
		const bt = j.blind as { test: { state: string; score: number | null; nullHigh: number | null; nullSize: number; reason: string } | null };
		assert.ok(bt.test !== null);
		assert.ok(['alarm', 'quiet', 'inconclusive', 'nothing-to-analyse'].includes(bt.test.state));
		assert.ok(bt.test.nullSize > 0 && bt.test.reason.length > 0);
		assert.equal((JSON.parse(r.stdout) as { verdict: string }).verdict === 'visible', bt.test.state === 'alarm');
		const table = run(['analyse', copyRun('undeclared'), '--backend', 'wasm']);
		assert.equal(table.code, 0, table.stderr);
		assert.match(table.stdout, /^ {2}blind test: (ALARM|quiet|inconclusive|nothing to analyse)/m);
		assert.match(table.stdout, /^ {4}null band .* = what /m);
		assert.match(table.stdout, /^ {4}why: /m);
	});

	test('a capped training sample: text and JSON say "scored N of M rows", and recall is a bound', () => {
		const dir = copyRun('cross');
		const manifestFile = path.join(dir, 'manifest.json');
		// The fixture recorded a seeded, capped sample of its training rows (an explicit trainSample.size).
		const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { trainSample: { count: number; totalRows: number } };
		const { count: n, totalRows: total } = m.trainSample;
		assert.ok(n < total, `the fixture is capped (${n} of ${total})`);
		const r = run(['analyse', dir, '--backend', 'wasm', '--json', path.join(dir, 'out.json')]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, new RegExp(`scored ${n} of ${total} rows`));
		assert.match(r.stdout, new RegExp(`recall over the whole training set is at most ${((100 * n) / total).toFixed(1)} %`));
		assert.match(r.stdout, /over all poisoned rows \(a bound: the cap left poisoned rows unscored\)/);
		const b = (JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as { blind: { scoredRows: number; totalRows: number; coverage: string } }).blind;
		assert.equal(b.scoredRows, n);
		assert.equal(b.totalRows, total);
		assert.match(b.coverage, new RegExp(`^scored ${n} of ${total} rows`));
	});

	test('gpu (WebGPU) gives the same analysis as wasm, and a run with no analysable checkpoint gets no verdict', async (t) => {
		const skip = await webgpuSkipReason();
		const w = run(['analyse', copyRun('cross'), '--backend', 'wasm', '--json', '-']);
		const g = run(['analyse', copyRun('cross'), '--backend', 'gpu', '--json', '-']);
		assert.equal(w.code, 0, w.stderr);
		assert.equal(g.code, 0, g.stderr);
		type Out = { backend: string; verdict: string; checkpoints: { step: number; excessAsr: number; topEigenvalues: number[]; triggerCurvature: number; error: string | null }[] };
		const jw = JSON.parse(w.stdout) as Out;
		const jg = JSON.parse(g.stdout) as Out;
		// npm test installs a software Vulkan adapter where it can; without one the CLI falls back and says so.
		if (skip !== null) {
			assert.ok(!jg.backend.startsWith('webgpu'), `no adapter was probed, yet the CLI ran on ${jg.backend}`);
			t.skip(skip);
			return;
		}
		assert.ok(jg.backend.startsWith('webgpu'), `an adapter exists but the gpu backend did not start: ${jg.backend}`);
		assert.equal(jg.verdict, jw.verdict);
		for (const [i, cw] of jw.checkpoints.entries()) {
			const cg = jg.checkpoints[i];
			assert.equal(cg.error, null, `gpu checkpoint ${cg.step}: ${String(cg.error)}`);
			assert.equal(cg.excessAsr, cw.excessAsr);
			for (const [a, b] of [[cg.topEigenvalues[0], cw.topEigenvalues[0]], [cg.triggerCurvature, cw.triggerCurvature]]) {
				assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b) + 1e-7, `step ${cw.step}: gpu ${a} vs wasm ${b}`);
			}
		}
		// Every checkpoint unreadable: the errors are recorded, and no "clean" verdict is claimed without evidence.
		const broken = copyRun('cross');
		for (const step of ['0', '25', '50', '75']) {
			fs.writeFileSync(path.join(broken, 'checkpoints', step, 'weights.bin'), Buffer.alloc(8));
		}
		const b = run(['analyse', broken, '--backend', 'wasm', '--json', '-']);
		assert.notEqual(b.code, 0);
		assert.match(b.stderr, /none of its 4 checkpoints could be analysed, so there is no verdict/);
		const file = path.join(broken, 'analysis.jsonl');
		assert.equal(parseAnalysisFile(fs.readFileSync(file, 'utf8'), file).checkpoints.filter((c) => c.error !== null).length, 4);
	});

	test('exit codes: usage 2, unreadable run 1; --help and --version', () => {
		assert.equal(run(['analyse', tmpRoot, '--k', '99']).code, 2);
		assert.equal(run(['analyse']).code, 2);
		const missing = run(['analyse', path.join(tmpRoot, 'nope')]);
		assert.equal(missing.code, 1);
		assert.match(missing.stderr, /nope/);
		const noManifest = run(['analyse', fs.mkdtempSync(path.join(tmpRoot, 'empty-'))]);
		assert.equal(noManifest.code, 1);
		assert.match(noManifest.stderr, /RunNotFound: .*manifest\.json/);
		assert.match(run(['--help']).stdout, /poison-lens analyse <runDir>/);
		assert.match(run(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
		assert.equal(run(['frobnicate']).code, 2);
	});
});
