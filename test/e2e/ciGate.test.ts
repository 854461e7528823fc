/**
 * CI gating as a pipeline uses it: the bundled dist/cli.js, `--fail-on` exit statuses, `--format sarif` validated
 * against the vendored SARIF 2.1.0 schema, and `--summary md` appended to $GITHUB_STEP_SUMMARY.
 * Build first: `node esbuild.mjs`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VERDICTS } from '../../src/protocol/analysisRecord';
import { sarifErrors } from '../unit/ci/sarifSchema';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-ci-gate-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
	assert.ok(fs.existsSync(cli), `${cli} is missing: run "node esbuild.mjs" first`);
	const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 180_000, cwd: tmpRoot, env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...env } });
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Log {
	runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[]; tool: { driver: { rules: { id: string }[] } } }[];
}

describe('CI gating (bundled CLI)', { timeout: 300_000 }, () => {
	test('scan: --fail-on sets the exit status; SARIF validates and locates each finding', () => {
		const csv = path.join(tmpRoot, 'clones.csv');
		fs.copyFileSync(path.join(root, 'test/fixtures/datasets/clones.csv'), csv);
		// clones.csv has warnings only (near duplicates with other labels, near-clone clusters).
		const codes = Object.fromEntries(['error', 'warning', 'information', 'none'].map((s) => [s, run(['scan', 'clones.csv', `--fail-on=${s}`]).code]));
		assert.deepEqual(codes, { error: 0, warning: 1, information: 1, none: 0 });
		const structure = path.join(tmpRoot, 'structure.csv');
		fs.copyFileSync(path.join(root, 'test/fixtures/datasets/structure.csv'), structure);
		assert.equal(run(['scan', 'structure.csv']).code, 1, 'default gate is error');
		assert.equal(run(['scan', 'structure.csv', '--fail-on', 'none']).code, 0);

		const r = run(['scan', 'clones.csv', '--format', 'sarif', '--output', 'clones.sarif', '--fail-on', 'none']);
		assert.equal(r.code, 0, r.stderr);
		const log = JSON.parse(fs.readFileSync(path.join(tmpRoot, 'clones.sarif'), 'utf8')) as Log;
		assert.equal(sarifErrors(log), '');
		const json = JSON.parse(run(['scan', 'clones.csv', '--json', '-']).stdout) as { problems: { line: number; code: string }[] };
		assert.deepEqual(
			log.runs[0].results.map((x) => [x.ruleId, x.locations[0].physicalLocation.region?.startLine, x.locations[0].physicalLocation.artifactLocation.uri]),
			json.problems.map((p) => [p.code, p.line, 'clones.csv']),
		);
		const s2 = run(['scan', 'structure.csv', '--format=sarif']);
		assert.equal(s2.code, 1);
		assert.equal(sarifErrors(JSON.parse(s2.stdout)), '');

		const summary = path.join(tmpRoot, 'step-summary.md');
		fs.writeFileSync(summary, '# earlier step\n');
		const m = run(['scan', 'structure.csv', '--summary', 'md'], { GITHUB_STEP_SUMMARY: summary });
		assert.equal(m.code, 1);
		const md = fs.readFileSync(summary, 'utf8');
		assert.match(md, /^# earlier step\n### ❌ Poison Lens scan: `structure\.csv`/);
		assert.match(md, /Gate `--fail-on error`: \*\*failed\*\*/);
	});

	test('usage errors name the flag and exit 2 in every command', () => {
		for (const [cmd, extra] of [['scan', ['x.csv']], ['analyse', ['run']], ['demo', []], ['report', ['run']]] as const) {
			const r = run([cmd, ...extra, '--frobnicate']);
			assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
			assert.match(r.stderr, new RegExp(`^poison-lens ${cmd}: unknown option "--frobnicate"`), cmd);
			const h = run([cmd, '--help']);
			assert.equal(h.code, 0, cmd);
			assert.match(h.stdout, new RegExp(`Usage: poison-lens ${cmd}`), cmd);
			assert.match(h.stdout, /[^\n]\n$/, `${cmd}: help ends in exactly one newline`);
			assert.equal(h.stderr, '', cmd);
		}
		assert.match(run(['scan', 'x.csv', '--fail-on', 'fatal']).stderr, /--fail-on: 'fatal' is not one of error, warning, information, none/);
		assert.match(run(['analyse', 'r', '--fail-on=bad']).stderr, /--fail-on: "bad" is not a verdict/);
		assert.match(run(['analyse', 'r', '--format', 'sarif', '--summary', 'md']).stderr, /would mix Markdown/);
	});

	test('analyse: SARIF of the verdict at manifest.json validates; --fail-on with the verdict exits 3, without it 0', () => {
		const dir = path.join(tmpRoot, 'cross');
		fs.cpSync(path.join(root, 'test/fixtures/runs-analyser/cross'), dir, { recursive: true });
		const first = run(['analyse', 'cross', '--backend', 'wasm', '--format', 'sarif', '--output', 'cross.sarif']);
		assert.equal(first.code, 0, first.stderr);
		assert.match(first.stdout, /^verdict: /m, 'stdout keeps the table when --output is given');
		const log = JSON.parse(fs.readFileSync(path.join(tmpRoot, 'cross.sarif'), 'utf8')) as Log;
		assert.equal(sarifErrors(log), '');
		const verdict = (JSON.parse(run(['analyse', 'cross', '--backend', 'wasm', '--json', '-']).stdout) as { verdict: (typeof VERDICTS)[number] }).verdict;
		const verdictResults = log.runs[0].results.filter((x) => x.ruleId.startsWith('verdict-'));
		assert.deepEqual(verdictResults.map((x) => x.ruleId), verdict === 'clean' ? [] : [`verdict-${verdict}`]);
		for (const x of log.runs[0].results) {
			assert.equal(x.locations[0].physicalLocation.artifactLocation.uri, 'cross/manifest.json');
		}
		const others = VERDICTS.filter((v) => v !== verdict);
		const hit = run(['analyse', 'cross', '--backend', 'wasm', '--fail-on', `${others[0]},${verdict}`, '--summary', 'md', '--summary-file', 'sum.md']);
		assert.equal(hit.code, 3, hit.stderr);
		assert.match(hit.stderr, new RegExp(`verdict "${verdict}" is in --fail-on`));
		assert.match(fs.readFileSync(path.join(tmpRoot, 'sum.md'), 'utf8'), /This step fails: the verdict is one of/);
		const miss = run(['analyse', 'cross', '--backend', 'wasm', `--fail-on=${others.join(',')}`]);
		assert.equal(miss.code, 0, miss.stderr);
	});
});
