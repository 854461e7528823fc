/**
 * Live blind monitoring with the bundled CLI (`poison-lens analyse --follow --blind-every 1`) on a REAL run replayed
 * as if it were training: the undeclared-attack fixture (a tiny CNN trained by the SDK on poisoned data, no declared
 * trigger) starts with its first checkpoint announced; the test appends the rest of its events.jsonl one checkpoint at
 * a time, waiting for the analyser's blind line of each, then the end event. Build first: `node esbuild.mjs`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAnalysisFile } from '../../src/protocol/analysisRecord';
import { readRowScores } from '../../src/analyser/analysis/cascade';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-live-blind-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = fn();
		if (v !== undefined) {
			return v;
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
}

function analysis(dir: string): ReturnType<typeof parseAnalysisFile> {
	const file = path.join(dir, 'analysis.jsonl');
	return fs.existsSync(file) ? parseAnalysisFile(fs.readFileSync(file, 'utf8'), file) : { checkpoints: [], summary: null, blind: [], problems: [] };
}

describe('live blind monitoring (analyse --follow)', () => {
	test('one blind line per due checkpoint while the run trains, a summary with the suspects after each, the final scan at the end', async () => {
		assert.ok(fs.existsSync(cli), `${cli} is missing: run "node esbuild.mjs" first`);
		const src = path.join(root, 'test/fixtures/runs-analyser/undeclared');
		const dir = path.join(tmpRoot, 'undeclared');
		fs.cpSync(src, dir, { recursive: true });
		const lines = fs.readFileSync(path.join(src, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
		const events = lines.map((l) => JSON.parse(l) as { type: string; step: number });
		const cpIdx = events.map((e, i) => (e.type === 'checkpoint-written' ? i : -1)).filter((i) => i >= 0);
		const steps = cpIdx.map((i) => events[i].step);
		assert.ok(steps.length >= 3, 'the fixture has several checkpoints');
		// The run as it looks when its first checkpoint was written.
		fs.writeFileSync(path.join(dir, 'events.jsonl'), lines.slice(0, cpIdx[0] + 1).join('\n') + '\n');
		let written = cpIdx[0] + 1;
		const child = spawn(process.execPath, [cli, 'analyse', dir, '--follow', '--backend', 'wasm', '--blind-every', '1', '--json', path.join(dir, 'out.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
		let stderr = '';
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
		try {
			for (let k = 0; k < steps.length; k++) {
				// Training goes on only after the analyser has scanned the newest checkpoint (a newer one would make it stale).
				await waitFor(`the blind line of step ${steps[k]} (stderr: ${stderr.slice(-800)})`, () => analysis(dir).blind.find((b) => b.step === steps[k]), 90_000);
				const next = k + 1 < steps.length ? cpIdx[k + 1] + 1 : lines.length;
				fs.appendFileSync(path.join(dir, 'events.jsonl'), lines.slice(written, next).join('\n') + '\n');
				written = next;
			}
			let timer: NodeJS.Timeout | undefined;
			const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 120_000)))]);
			clearTimeout(timer);
			assert.equal(code, 0, `analyse --follow exit: ${String(code)}\n${stderr.slice(-2000)}`);
		} finally {
			child.kill();
		}
		const a = analysis(dir);
		assert.deepEqual(a.problems, []);
		console.log(a.blind.map((b) => `    step ${b.step}: ${b.test.state}, ${String(b.suspects)} suspects, score ${String(b.test.score)} control ${String(b.controlFlipRate)} rows ${String(b.scoredRows)} ${String(b.analysisMs)} ms`).join('\n'));
		// One scan per checkpoint (every 1), each a complete blind line.
		assert.deepEqual(
			a.blind.map((b) => b.step),
			steps,
		);
		const total = (JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { trainSample: { count: number } }).trainSample.count;
		for (const b of a.blind) {
			assert.ok(['alarm', 'quiet', 'inconclusive', 'nothing-to-analyse'].includes(b.test.state), b.test.state);
			assert.ok(b.test.reason.length > 10, `a reason in words: ${b.test.reason}`);
			assert.ok(b.scoredRows !== null && b.scoredRows > 0 && b.scoredRows <= total, `scored rows ${String(b.scoredRows)} of ${total}`);
			assert.ok(b.analysisMs !== null && b.analysisMs > 0);
			if (b.flipRate !== null) {
				assert.ok(b.test.score !== null && Math.abs(b.test.score - b.flipRate) < 1e-6, 'the score is the candidate flip rate');
			}
		}
		// The fixture's poisons form a backdoor that blind mode finds at the end of training (see the contract test):
		// the trained checkpoints' scans alarm; the final summary carries the scan's suspects (the rows its scores file
		// flags, as many as its line counts) and the candidate trigger.
		const last = a.blind[a.blind.length - 1];
		assert.equal(last.test.state, 'alarm', `last scan: ${JSON.stringify(last.test)}`);
		assert.equal(a.summary?.blind?.test?.state, 'alarm');
		const stored = await readRowScores(dir);
		const flagged = [...(stored?.scores ?? new Map<number, { suspect: boolean }>())].filter(([, s]) => s.suspect).map(([row]) => row);
		assert.deepEqual([...(a.summary?.blind?.suspectRows ?? [])].sort((x, y) => x - y), flagged.sort((x, y) => x - y));
		assert.equal(last.suspects, flagged.length);
		assert.ok(a.summary?.images?.candidateTrigger !== undefined);
		// Each live scan is reported on stderr in one line.
		assert.match(stderr, /live blind scan at step \d+ \(epoch [\d.]+, scored \d+ of \d+ rows, [\d.]+ s\): (ALARM( by [a-z -]+)?|quiet|inconclusive|nothing to analyse), score/);
	});
});
