/**
 * Fault injection on real processes and run folders: each case is a failure the fault-injection run
 * found, reproduced with the bundled CLI (dist/cli.js) or the SDK fixture script. Build first: `node esbuild.mjs`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAnalysisFile } from '../../src/protocol/analysisRecord';
import { readEvents } from '../../src/protocol/runFormat';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const rssProbe = path.join(root, 'test/e2e/maxRss.cjs');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-faults-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

interface Result {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	ms: number;
}

function run(args: string[], env: Record<string, string> = {}, timeout = 120_000): Result {
	assert.ok(fs.existsSync(cli), `${cli} is missing: run "node esbuild.mjs" first`);
	const t0 = Date.now();
	const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout, env: { ...process.env, ...env } });
	return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** Peak resident memory (bytes) of `node dist/cli.js …`, from the child's own process.resourceUsage(). */
function runMeasured(args: string[]): Result & { maxRss: number } {
	const t0 = Date.now();
	const r = spawnSync(process.execPath, ['--require', rssProbe, cli, ...args], { encoding: 'utf8', timeout: 300_000 });
	const m = /^POISON_LENS_MAX_RSS_KB (\d+)$/m.exec(r.stderr);
	assert.ok(m !== null, `no RSS report: ${r.stderr.slice(-2000)}`);
	return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0, maxRss: Number(m[1]) * 1024 };
}

function copyRun(name: string): string {
	const dest = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
	fs.cpSync(path.join(root, 'test/fixtures/runs-analyser', name), dest, { recursive: true });
	return dest;
}

function records(dir: string): { step: number; error: string | null }[] {
	const file = path.join(dir, 'analysis.jsonl');
	const parsed = parseAnalysisFile(fs.readFileSync(file, 'utf8'), file);
	assert.deepEqual(parsed.problems, []);
	return parsed.checkpoints.map((c) => ({ step: c.step, error: c.error }));
}

/** The pid of a process that has just exited (so no process has it now, barring reuse within milliseconds). */
function deadPid(): number {
	const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
	return Number(r.stdout);
}

/** Removes the run's end event and records `pid` as its writer: a run whose trainer was killed. */
function abandon(dir: string, pid: number): void {
	const events = path.join(dir, 'events.jsonl');
	fs.writeFileSync(events, fs.readFileSync(events, 'utf8').split('\n').filter((l) => !l.includes('"type":"end"')).join('\n'));
	const manifestFile = path.join(dir, 'manifest.json');
	const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { writer: Record<string, unknown> };
	m.writer.pid = pid;
	m.writer.hostname = os.hostname();
	fs.writeFileSync(manifestFile, JSON.stringify(m, null, '\t'));
}

describe('run-folder faults (bundled CLI)', { timeout: 600_000 }, () => {
	test('a FIFO as weights.bin: that checkpoint gets an error record naming it, the others are analysed, no hang', () => {
		const dir = copyRun('cross');
		const w = path.join(dir, 'checkpoints/25/weights.bin');
		fs.rmSync(w);
		execFileSync('mkfifo', [w]);
		const r = run(['analyse', dir, '--backend', 'wasm', '--no-blind'], {}, 180_000);
		assert.equal(r.signal, null, 'finished on its own (no timeout)');
		assert.equal(r.code, 0, r.stderr);
		const recs = records(dir);
		assert.deepEqual(recs.map((c) => c.step), [0, 25, 50, 75]);
		assert.match(recs.find((c) => c.step === 25)?.error ?? '', /^CheckpointCorrupt: .*checkpoints\/25\/weights\.bin: cannot read weights \(a FIFO \(named pipe\), not a regular file/);
		assert.equal(recs.filter((c) => c.error === null).length, 3);
	});

	test('an error record is retried once its input is repaired, and kept while nothing changed', () => {
		const dir = copyRun('cross');
		const w = path.join(dir, 'checkpoints/50/weights.bin');
		const good = fs.readFileSync(w);
		fs.writeFileSync(w, good.subarray(0, good.length - 8)); // truncated weights
		assert.equal(run(['analyse', dir, '--backend', 'wasm', '--no-blind']).code, 0);
		assert.match(records(dir).find((c) => c.step === 50)?.error ?? '', /weights hold \d+ bytes but the manifest describes/);
		const raw = fs.readFileSync(path.join(dir, 'analysis.jsonl'), 'utf8').split('\n').find((l) => l.includes('"step":50'));
		assert.match(raw ?? '', /"errorKind":"CheckpointCorrupt","backend":"wasm","inputStamp":"/);
		// Nothing changed: not retried (the stored error stands, nothing appended).
		const before = fs.readFileSync(path.join(dir, 'analysis.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"checkpoint"')).length;
		assert.equal(run(['analyse', dir, '--backend', 'wasm', '--no-blind']).code, 0);
		const after1 = fs.readFileSync(path.join(dir, 'analysis.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"checkpoint"')).length;
		assert.equal(after1, before);
		// --retry-errors: retried even though nothing changed (same error again).
		assert.equal(run(['analyse', dir, '--backend', 'wasm', '--no-blind', '--retry-errors']).code, 0);
		const after2 = fs.readFileSync(path.join(dir, 'analysis.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"checkpoint"')).length;
		assert.equal(after2, before + 1);
		// Repaired: the input stamp changed, so the next plain run analyses it.
		fs.writeFileSync(w, good);
		assert.equal(run(['analyse', dir, '--backend', 'wasm', '--no-blind']).code, 0);
		assert.equal(records(dir).find((c) => c.step === 50)?.error, null);
	});

	test('an error recorded under another backend is not returned for this one', () => {
		const dir = copyRun('cross');
		assert.equal(run(['analyse', dir, '--backend', 'wasm', '--no-blind']).code, 0);
		// Rewrite step 75's record as an error from the webgpu backend with today's stamp.
		const file = path.join(dir, 'analysis.jsonl');
		const lines = fs.readFileSync(file, 'utf8').split('\n');
		const i = lines.findIndex((l) => l.includes('"step":75'));
		const rec = JSON.parse(lines[i]) as Record<string, unknown>;
		const stampLine = { ...rec, error: 'Internal: device lost', errorKind: 'Internal', backend: 'webgpu', inputStamp: 'whatever' };
		fs.appendFileSync(file, `${JSON.stringify(stampLine)}\n`);
		assert.equal(records(dir).find((c) => c.step === 75)?.error, 'Internal: device lost');
		assert.equal(run(['analyse', dir, '--backend', 'wasm', '--no-blind']).code, 0);
		assert.equal(records(dir).find((c) => c.step === 75)?.error, null);
	});

	test('analysis.jsonl cut mid-line: the next record is not glued on, the fragment is kept aside', () => {
		const dir = copyRun('cross');
		const file = path.join(dir, 'analysis.jsonl');
		assert.equal(run(['analyse', dir, '--backend', 'wasm', '--no-blind']).code, 0);
		const text = fs.readFileSync(file, 'utf8');
		const lines = text.trimEnd().split('\n');
		// Drop the last two lines (step records) and leave half of the second-to-last: a write cut by ENOSPC.
		const keep = lines.slice(0, -1);
		const last = keep.pop() ?? '';
		fs.writeFileSync(file, `${keep.join('\n')}\n${last.slice(0, Math.floor(last.length / 2))}`);
		const r = run(['analyse', dir, '--backend', 'wasm', '--no-blind']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /warning: .*analysis\.jsonl: ended in a partial line of \d+ bytes/);
		assert.deepEqual(records(dir).map((c) => c.step).sort((a, b) => a - b), [0, 25, 50, 75]);
		assert.ok(fs.readFileSync(`${file}.corrupt`, 'utf8').includes(last.slice(0, 20)));
	});

	test('garbage lines in events.jsonl are counted with the first line number', () => {
		const dir = copyRun('cross');
		const events = path.join(dir, 'events.jsonl');
		const lines = fs.readFileSync(events, 'utf8').split('\n');
		lines.splice(3, 0, 'garbage\u0000\u001b[2J', '{"type":"nope"}');
		fs.writeFileSync(events, lines.join('\n'));
		const r = run(['analyse', dir, '--backend', 'wasm', '--no-blind']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /warning: .*events\.jsonl: 2 lines were skipped \(not valid JSON or not a valid event\), the first at line 4/);
		// eslint-disable-next-line no-control-regex
		assert.ok(!/[\u0000\u001b]/.test(r.stdout + r.stderr), 'no raw control characters reach the terminal');
	});

	test('NaN probe pixels are named with the file, not "Internal: tridiagonalEigen: diagonal[0] = NaN"', () => {
		const dir = copyRun('cross');
		const probe = path.join(dir, 'probe/probe.bin');
		const b = fs.readFileSync(probe);
		const rank = b.readUInt32LE(12);
		b.writeFloatLE(NaN, 16 + 4 * rank + 4 * 7);
		fs.writeFileSync(probe, b);
		const r = run(['analyse', dir, '--backend', 'wasm', '--no-blind']);
		assert.equal(r.code, 1);
		assert.match(r.stderr, /probe\/probe\.bin: item 0 holds NaN at value 7: tensor files must hold finite numbers/);
		assert.doesNotMatch(r.stderr, /tridiagonalEigen|\n\s+at /);
	});

	test('overflowing (finite) weights are named as such with the file, not an eigen-solver NaN', () => {
		const dir = copyRun('cross');
		const w = path.join(dir, 'checkpoints/50/weights.bin');
		const b = fs.readFileSync(w);
		for (let i = 0; i < b.length; i += 4) {
			b.writeFloatLE(3e38, i);
		}
		fs.writeFileSync(w, b);
		const r = run(['analyse', dir, '--backend', 'wasm', '--no-blind']);
		assert.equal(r.code, 0, r.stderr);
		const err = records(dir).find((c) => c.step === 50)?.error ?? '';
		assert.match(err, /^NonFiniteWeights: .*checkpoints\/50\/weights\.bin: the model's output on probe 0 is (NaN|-?Infinity): its weights are finite but overflow \(values up to 3\.00e\+38\)/);
		assert.doesNotMatch(err, /tridiagonalEigen/);
	});

	test('fs errors print the operation, the file and the reason: no stack trace', () => {
		const dir = copyRun('cross');
		fs.mkdirSync(path.join(dir, 'analysis.jsonl'));
		const r = run(['analyse', dir, '--backend', 'wasm', '--no-blind']);
		assert.equal(r.code, 1);
		assert.match(r.stderr, /analysis\.jsonl: cannot read: is a folder, not a file/);
		assert.doesNotMatch(r.stderr, /\n\s+at /);
		const loop = path.join(tmpRoot, 'loop');
		fs.symlinkSync(loop, loop);
		const l = run(['analyse', loop]);
		assert.equal(l.code, 1);
		assert.match(l.stderr, /cannot open the run folder: too many levels of symbolic links/);
	});

	test('--follow on a run whose writer was killed stops with a clear status instead of waiting forever', () => {
		const dir = copyRun('cross');
		abandon(dir, deadPid());
		const r = run(['analyse', dir, '--backend', 'wasm', '--no-blind', '--follow'], { POISON_LENS_FOLLOW_STALE_MS: '1500' }, 120_000);
		assert.equal(r.signal, null, 'it stopped on its own');
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /stopped following .*: no new event for 2 s and the process that wrote the run is gone/);
		assert.deepEqual(records(dir).map((c) => c.step), [0, 25, 50, 75]);
	});

	test('--follow keeps waiting while the writer is alive, and its child exits when the parent is SIGKILLed', async () => {
		const dir = copyRun('cross');
		// A parent that starts the analyser as the demo does (stdin a pipe it never writes, exit-with-parent set),
		// with the writer recorded as the parent itself, alive.
		const parentScript = `
			const { spawn } = require('node:child_process');
			const child = spawn(process.execPath, [${JSON.stringify(cli)}, 'analyse', ${JSON.stringify(dir)}, '--follow', '--backend', 'wasm', '--no-blind'],
				{ stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, POISON_LENS_EXIT_WITH_PARENT: '1', POISON_LENS_FOLLOW_STALE_MS: '500' } });
			process.stdout.write('CHILD ' + child.pid + '\\n');
			setInterval(() => undefined, 1000);`;
		const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
		abandon(dir, parent.pid ?? 0);
		const childPid = await new Promise<number>((resolve) => {
			let out = '';
			parent.stdout.on('data', (d: Buffer) => {
				out += d.toString();
				const m = /CHILD (\d+)/.exec(out);
				if (m !== null) {
					resolve(Number(m[1]));
				}
			});
		});
		const alive = (pid: number): boolean => {
			try {
				process.kill(pid, 0);
				return true;
			} catch {
				return false;
			}
		};
		// Wait until all four checkpoints are analysed: the child then only follows (its writer, the parent, lives).
		const deadline = Date.now() + 120_000;
		while (!(fs.existsSync(path.join(dir, 'analysis.jsonl')) && fs.readFileSync(path.join(dir, 'analysis.jsonl'), 'utf8').split('"kind":"checkpoint"').length === 5)) {
			assert.ok(Date.now() < deadline, 'the live analyser analysed the checkpoints');
			await new Promise((r) => setTimeout(r, 200));
		}
		await new Promise((r) => setTimeout(r, 1500));
		assert.ok(alive(childPid), 'still following: the writer is alive');
		parent.kill('SIGKILL');
		const gone = Date.now() + 15_000;
		while (alive(childPid) && Date.now() < gone) {
			await new Promise((r) => setTimeout(r, 100));
		}
		assert.ok(!alive(childPid), 'the analyser child exited after its parent was killed');
	});

	test('a FIFO or a device as the dataset file ends at once with a clear message and exit 2', () => {
		const fifo = path.join(tmpRoot, 'data.csv');
		execFileSync('mkfifo', [fifo]);
		for (const f of [fifo, '/dev/zero']) {
			const r = run(['scan', f], {}, 30_000);
			assert.equal(r.signal, null, `${f}: no hang`);
			assert.equal(r.code, 2);
			assert.match(r.stderr, /poison-lens scan: cannot scan .*: (a FIFO \(named pipe\)|a character device), not a regular file/);
		}
	});
});

describe('SDK process lifetimes', { timeout: 240_000 }, () => {
	test('SIGTERM during training writes end (stopped); the next writer removes a dead writer\'s .tmp folder', async () => {
		const runs = fs.mkdtempSync(path.join(tmpRoot, 'sdk-'));
		const stale = path.join(runs, 'old-run', 'checkpoints', `.tmp-30-${deadPid()}`);
		fs.mkdirSync(stale, { recursive: true });
		fs.writeFileSync(path.join(stale, 'weights.bin'), 'half');
		const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/sdk/train.ts'), '--dir', runs, '--epochs', '1000', '--delay-ms', '15'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (out += d.toString()));
		const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
		const deadline = Date.now() + 90_000;
		let runDir: string | undefined;
		for (;;) {
			runDir ??= /^RUN_DIR (.+)$/m.exec(out)?.[1];
			if (runDir !== undefined) {
				const chunk = await readEvents(path.join(runDir, 'events.jsonl'));
				if (chunk.events.filter((e) => e.type === 'checkpoint-written').length >= 2) {
					break;
				}
			}
			assert.ok(Date.now() < deadline, `no progress:\n${out}`);
			await new Promise((r) => setTimeout(r, 50));
		}
		assert.ok(!fs.existsSync(stale), 'the stale .tmp folder of a dead writer was removed');
		child.kill('SIGTERM');
		assert.equal(await exit, 'SIGTERM', 'the process still ends by the signal');
		const chunk = await readEvents(path.join(runDir, 'events.jsonl'));
		const last = chunk.events[chunk.events.length - 1];
		assert.equal(last.type, 'end');
		assert.equal(last.type === 'end' ? last.status : '', 'stopped');
		const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8')) as { writer: { pid?: number } };
		assert.equal(manifest.writer.pid, child.pid);
	});
});

describe('peak memory on hostile inputs (budget: 2 × input + 300 MB)', { timeout: 600_000 }, () => {
	test('scan of a 50 MB single-line CSV: line-too-long, within budget (it used to die at 4.6 GB)', () => {
		const f = path.join(tmpRoot, 'one-line.csv');
		fs.writeFileSync(f, '1,'.repeat(25 * 1024 * 1024));
		const input = fs.statSync(f).size;
		const r = runMeasured(['scan', f]);
		assert.equal(r.code, 1, r.stderr.slice(-2000));
		assert.match(r.stdout, /line-too-long/);
		const budget = 2 * input + 300 * 1024 * 1024;
		process.stdout.write(`# scan 50 MB single line: peak RSS ${(r.maxRss / 2 ** 20).toFixed(0)} MB, budget ${(budget / 2 ** 20).toFixed(0)} MB, ${r.ms} ms\n`);
		assert.ok(r.maxRss < budget, `peak RSS ${r.maxRss} over the budget ${budget}`);
	});

	test('analyse of a checkpoint whose topology declares a Dense layer of 1 000 000 units: error record, within budget', () => {
		const dir = copyRun('cross');
		const mj = path.join(dir, 'checkpoints/75/model.json');
		const json = JSON.parse(fs.readFileSync(mj, 'utf8')) as { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
		const dense = json.modelTopology.config.layers.find((l) => l.class_name === 'Dense');
		assert.ok(dense !== undefined);
		dense.config.units = 1_000_000;
		fs.writeFileSync(mj, JSON.stringify(json));
		let input = 0;
		for (const p of fs.readdirSync(dir, { recursive: true }).map(String)) {
			const st = fs.statSync(path.join(dir, p));
			input += st.isFile() ? st.size : 0;
		}
		const r = runMeasured(['analyse', dir, '--backend', 'wasm', '--no-blind']);
		assert.equal(r.code, 0, r.stderr.slice(-2000));
		assert.match(records(dir).find((c) => c.step === 75)?.error ?? '', /units = 1000000, but the weights hold only 444 parameters/);
		const budget = 2 * input + 300 * 1024 * 1024;
		process.stdout.write(`# analyse with a 1M-unit topology: peak RSS ${(r.maxRss / 2 ** 20).toFixed(0)} MB, budget ${(budget / 2 ** 20).toFixed(0)} MB, ${r.ms} ms\n`);
		assert.ok(r.maxRss < budget, `peak RSS ${r.maxRss} over the budget ${budget}`);
	});
});
