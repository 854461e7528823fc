/**
 * Contract tests of the host ↔ analyser boundary: they fork the BUNDLED
 * dist/analyser.js (build it first: `node esbuild.mjs`; `npm test` does) through the same
 * vscode-free client the extension uses, and check the initialize handshake, the analysis
 * requests and their records, bad checkpoints, cancellation within one matrix-vector product,
 * crash reporting and restart, and that no analyser process outlives its host.
 *
 * Fixtures: test/fixtures/runs-analyser/ (small real runs; regenerate with its makeFixtures.ts),
 * copied to a temporary folder per test, because analysing appends to analysis.jsonl.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { AnalyserClient, AnalyserProcess, isAnalyserError, type AnalyserExit, type CrashEvent } from '../../src/host/analyser/client';
import {
	ANALYSER_PROTOCOL_VERSION,
	AnalyseRunRequest,
	AnalyserErrorCode,
	DebugCrashRequest,
	DebugSlowLanczosRequest,
	InitializeRequest,
	type ProgressParams,
	type RecordParams,
} from '../../src/protocol/analyser';
import { parseAnalysisFile } from '../../src/protocol/analysisRecord';

const root = path.resolve(__dirname, '../..');
const bundle = path.join(root, 'dist/analyser.js');
const fixtures = path.join(root, 'test/fixtures/runs-analyser');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-analyser-e2e-'));
const clients: AnalyserClient[] = [];

after(async () => {
	await Promise.all(clients.map((c) => c.dispose()));
	fs.rmSync(tmpRoot, { recursive: true, force: true });
});

function requireBundle(): void {
	assert.ok(fs.existsSync(bundle), `${bundle} is missing: run "node esbuild.mjs" first (npm test builds before the e2e layer)`);
	assert.ok(fs.existsSync(path.join(root, 'dist/tfjs-backend-wasm-simd.wasm')), 'the wasm files must sit next to dist/analyser.js');
}

function copyRun(name: string): string {
	const dest = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
	fs.cpSync(path.join(fixtures, name), dest, { recursive: true });
	return dest;
}

/** sha256 of every file under dir except analysis.jsonl and blind mode's row scores (blind/row-scores.csv), by relative path. */
function snapshot(dir: string): Map<string, string> {
	const out = new Map<string, string>();
	const walk = (d: string): void => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const full = path.join(d, e.name);
			if (e.isDirectory()) {
				walk(full);
			} else if (e.name !== 'analysis.jsonl' && path.relative(dir, full) !== path.join('blind', 'row-scores.csv')) {
				out.set(path.relative(dir, full), createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
			}
		}
	};
	walk(dir);
	return out;
}

function client(extra: Partial<ConstructorParameters<typeof AnalyserClient>[0]> = {}, hooks = false): AnalyserClient {
	const c = new AnalyserClient({
		modulePath: bundle,
		backend: 'wasm',
		clientName: 'contract test',
		env: { ...process.env, POISON_LENS_ANALYSER_TEST_HOOKS: hooks ? '1' : '0' },
		...extra,
	});
	clients.push(c);
	return c;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
	const t0 = Date.now();
	while (!cond()) {
		if (Date.now() - t0 > ms) {
			assert.fail(`timed out after ${ms} ms waiting for ${what}`);
		}
		await new Promise((r) => setTimeout(r, 25));
	}
}

function once<T>(subscribe: (fn: (v: T) => void) => { dispose(): void }): Promise<T> {
	return new Promise((resolve) => {
		const sub = subscribe((v) => {
			sub.dispose();
			resolve(v);
		});
	});
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
	try {
		await p;
	} catch (err) {
		return err;
	}
	return assert.fail('expected a rejection');
}

describe('analyser contract (bundled dist/analyser.js)', { timeout: 180_000 }, () => {
	test('initialize: version, backend in use, capabilities; refuses a second initialize and early requests', async () => {
		requireBundle();
		const c = client();
		const info = await c.start();
		assert.equal(info.protocolVersion, ANALYSER_PROTOCOL_VERSION);
		assert.match(info.analyserVersion, /^\d+\.\d+\.\d+/);
		assert.equal(info.backend.requested, 'wasm');
		assert.equal(info.backend.name, 'wasm');
		assert.match(info.backend.description, /wasm/);
		assert.deepEqual([...info.capabilities.passes], ['light', 'full']);
		assert.ok(info.capabilities.methods.includes(AnalyseRunRequest.method));
		assert.equal(info.capabilities.testHooks, false);
		assert.equal(info.pid, c.pid);
		const again = await rejection(c.sendRaw((conn) => conn.sendRequest(InitializeRequest.type, { clientName: 'x', protocolVersion: '1.0', backend: 'cpu' })));
		assert.ok(isAnalyserError(again, AnalyserErrorCode.InvalidState), String(again));
		await c.dispose();

		// A raw process: a request before initialize, and a protocol major the analyser does not speak.
		const proc = AnalyserProcess.launch({ modulePath: bundle });
		try {
			const early = await rejection(proc.connection.sendRequest(AnalyseRunRequest.type, { runDir: '/nowhere', pass: 'light', k: 5 }));
			assert.ok(isAnalyserError(early, AnalyserErrorCode.ServerNotInitialized), String(early));
			const major = await rejection(proc.connection.sendRequest(InitializeRequest.type, { clientName: 'x', protocolVersion: '9.0', backend: 'cpu' }));
			assert.ok(isAnalyserError(major, AnalyserErrorCode.InvalidParams) && /9\.0/.test(major.message), String(major));
			const bad = await rejection(proc.connection.sendRequest(InitializeRequest.type, { clientName: 'x', protocolVersion: '1.0', backend: 'tpu' } as never));
			assert.ok(isAnalyserError(bad, AnalyserErrorCode.InvalidParams) && /"backend".*"tpu"/.test(bad.message), String(bad));
		} finally {
			await proc.dispose();
		}
	});

	test('analysis/run and analysis/checkpoint: records, progress, persistence, nothing recomputed, nothing else changed', async () => {
		requireBundle();
		const run = copyRun('cross');
		const before = snapshot(run);
		const c = client();
		const progress: ProgressParams[] = [];
		const records: RecordParams[] = [];
		c.onProgress((p) => progress.push(p));
		c.onRecord((r) => records.push(r));
		const res = await c.analyseRun({ runDir: run, pass: 'light', k: 3, requestId: 'r1' });
		assert.equal(res.analysed, 4);
		assert.deepEqual(res.checkpoints.map((r) => r.step), [0, 25, 50, 75]);
		// Newest first: the first record notification is the newest checkpoint.
		assert.deepEqual(records.map((r) => r.record.step), [75, 50, 25, 0]);
		assert.ok(progress.some((p) => p.requestId === 'r1' && p.total === 4));
		for (const r of res.checkpoints) {
			assert.equal(r.error, null, `step ${r.step}: ${String(r.error)}`);
			assert.equal(r.pass, 'light');
			assert.equal(r.topEigenvalues?.length, 3);
			assert.ok(r.asr !== null && r.p0 !== null && r.excessAsr !== null);
			assert.ok(Math.abs((r.excessAsr ?? NaN) - ((r.asr ?? NaN) - (r.p0 ?? NaN))) < 1e-5);
			assert.ok(r.triggerOverlap !== null && r.triggerOverlap >= 0 && r.triggerOverlap <= 1 + 1e-9);
			assert.ok(r.triggerCurvature !== null && r.triggerCurvature >= 0);
			assert.equal(r.perSample, null, 'the light pass computes no per-sample curvature');
			assert.ok(r.clean !== null && r.clean.topEigenvalues?.length === 3, 'the light pass has the clean-probe baseline');
			assert.equal(r.images?.topEigenvector?.data.length, 144, 'and the top eigenvector image (12×12)');
		}
		assert.ok(['clean', 'early-warning', 'visible', 'lagging', 'invisible'].includes(res.summary.verdict));
		assert.ok(res.summary.blind !== null, 'the fixture has a training sample: blind mode ran');
		const file = path.join(run, 'analysis.jsonl');
		const parsed = parseAnalysisFile(fs.readFileSync(file, 'utf8'), file);
		assert.deepEqual(parsed.problems, []);
		assert.equal(parsed.checkpoints.length, 4);
		assert.equal(parsed.summary?.verdict, res.summary.verdict);
		const lines = fs.readFileSync(file, 'utf8').trim().split('\n').length;

		const again = await c.analyseRun({ runDir: run, pass: 'light', k: 3 });
		assert.equal(again.analysed, 0, 'nothing already in analysis.jsonl is recomputed');
		assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, lines, 'an unchanged run appends nothing');

		const full = await c.analyseCheckpoint({ runDir: run, step: 50, pass: 'full', k: 3 });
		assert.equal(full.pass, 'full');
		assert.ok(full.perSample !== null && full.perSample.median !== null && full.perSample.p90 !== null && full.perSample.overlap !== null);
		assert.ok((full.perSample.p90 ?? 0) >= (full.perSample.median ?? 0));
		assert.ok(full.clean !== null && full.clean.topEigenvalues?.length === 3);
		assert.ok(full.images?.topEigenvector !== undefined && full.images.topEigenvector.data.length === 144);
		const merged = parseAnalysisFile(fs.readFileSync(file, 'utf8'), file);
		assert.equal(merged.checkpoints.find((r) => r.step === 50)?.pass, 'full', 'the full record supersedes the light one');

		assert.deepEqual(snapshot(run), before, 'only analysis.jsonl and blind/row-scores.csv may change in the run folder');
		const missing = await rejection(c.analyseCheckpoint({ runDir: run, step: 7, pass: 'light', k: 3 }));
		assert.ok(isAnalyserError(missing, AnalyserErrorCode.CheckpointNotFound) && /step 7/.test(missing.message), String(missing));
		const noRun = await rejection(c.analyseRun({ runDir: path.join(tmpRoot, 'no-such-run'), pass: 'light', k: 3 }));
		assert.ok(isAnalyserError(noRun, AnalyserErrorCode.RunNotFound), String(noRun));
		const badParams = await rejection(c.analyseRun({ runDir: run, pass: 'light', k: 99 }));
		assert.ok(isAnalyserError(badParams, AnalyserErrorCode.InvalidParams) && /"k"/.test(badParams.message), String(badParams));
	});

	test('bad checkpoints become records with an error; the rest of the run is analysed', async () => {
		requireBundle();
		const run = copyRun('cross');
		const w25 = path.join(run, 'checkpoints/25/weights.bin');
		fs.writeFileSync(w25, fs.readFileSync(w25).subarray(0, 100));
		const w50 = path.join(run, 'checkpoints/50/weights.bin');
		const nan = Buffer.from(fs.readFileSync(w50));
		nan.writeFloatLE(Number.NaN, 8);
		fs.writeFileSync(w50, nan);
		fs.rmSync(path.join(run, 'checkpoints/75/model.json'));
		const c = client();
		const res = await c.analyseRun({ runDir: run, pass: 'light', k: 2, blind: false });
		const byStep = new Map(res.checkpoints.map((r) => [r.step, r]));
		assert.equal(byStep.get(0)?.error, null);
		assert.ok(byStep.get(0)?.asr !== null);
		assert.match(byStep.get(25)?.error ?? '', /^CheckpointCorrupt: .*checkpoints\/25.*bytes/);
		assert.match(byStep.get(50)?.error ?? '', /^NonFiniteWeights: .*checkpoints\/50\/weights\.bin.*NaN/);
		assert.match(byStep.get(75)?.error ?? '', /^CheckpointNotFound: .*checkpoints\/75\/model\.json/);
		assert.equal(byStep.get(50)?.asr, null);
	});

	test('cancellation stops a request within one matrix-vector product', async () => {
		requireBundle();
		const c = client({}, true);
		await c.start();
		const matvecMs = 300;
		const cts = new CancellationTokenSource();
		const t0 = Date.now();
		const pending = rejection(c.sendRaw((conn) => conn.sendRequest(DebugSlowLanczosRequest.type, { n: 64, steps: 60, matvecMs }, cts.token)));
		await new Promise((r) => setTimeout(r, 4 * matvecMs + 100));
		const tCancel = Date.now();
		cts.cancel();
		const err = await pending;
		const afterCancel = Date.now() - tCancel;
		assert.ok(isAnalyserError(err, AnalyserErrorCode.Cancelled), String(err));
		const matvecs = (err.data as { matvecs?: number } | undefined)?.matvecs ?? -1;
		// At most the product in flight finishes after the cancel: one matvec plus IPC slack.
		assert.ok(afterCancel < matvecMs + 250, `answered ${afterCancel} ms after the cancel (one product is ${matvecMs} ms)`);
		assert.ok(matvecs >= 1 && matvecs <= Math.ceil((tCancel - t0) / matvecMs) + 1, `${matvecs} products ran`);
		// The analyser is still healthy afterwards.
		const ok = await c.sendRaw((conn) => conn.sendRequest(DebugSlowLanczosRequest.type, { n: 8, steps: 2, matvecMs: 0 }));
		assert.equal(ok.matvecs, 2);

		// A real analysis request cancels too, and leaves the records written so far.
		const run = copyRun('cross');
		const cts2 = new CancellationTokenSource();
		const firstRecord = once<RecordParams>((fn) => c.onRecord(fn));
		const analysis = rejection(c.analyseRun({ runDir: run, pass: 'full', k: 3 }, cts2.token));
		await firstRecord;
		cts2.cancel();
		const err2 = await analysis;
		assert.ok(isAnalyserError(err2, AnalyserErrorCode.Cancelled), String(err2));
		const file = path.join(run, 'analysis.jsonl');
		const parsed = parseAnalysisFile(fs.readFileSync(file, 'utf8'), file);
		assert.ok(parsed.checkpoints.length >= 1 && parsed.checkpoints.length < 4);
		assert.equal(parsed.summary, null, 'a cancelled run writes no summary');
	});

	test('a crash is reported with the stderr tail and the analyser restarts', async () => {
		requireBundle();
		const c = client({ maxRestarts: 3 }, true);
		const first = await c.start();
		for (const mode of ['exception', 'exit'] as const) {
			const crashed = once<CrashEvent>((fn) => c.onDidCrash(fn));
			const restarted = once<{ pid: number }>((fn) => c.onDidStart(fn));
			const pid = c.pid;
			await c.sendRaw((conn) => conn.sendRequest(DebugCrashRequest.type, { mode }));
			const crash = await crashed;
			assert.equal(crash.reason, 'crashed');
			assert.equal(crash.restarting, true);
			assert.equal(crash.pid, pid);
			if (mode === 'exception') {
				assert.equal(crash.fatal?.kind, 'uncaughtException');
				assert.match(crash.stderrTail, /deliberate uncaught exception/);
				assert.equal(crash.code, 1);
			} else {
				assert.equal(crash.fatal?.kind, 'exit');
				assert.equal(crash.code, 3);
				assert.match(crash.stderrTail, /process\.exit\(3\)/);
			}
			const next = await restarted;
			assert.notEqual(next.pid, pid);
			assert.ok(pid !== undefined && !alive(pid));
		}
		// A crash nobody announced (SIGKILL): still reported, still restarted, requests in flight rejected.
		const crashed = once<CrashEvent>((fn) => c.onDidCrash(fn));
		const restarted = once<{ pid: number }>((fn) => c.onDidStart(fn));
		const pending = rejection(c.sendRaw((conn) => conn.sendRequest(DebugSlowLanczosRequest.type, { n: 16, steps: 16, matvecMs: 200 })));
		await new Promise((r) => setTimeout(r, 300));
		process.kill(c.pid ?? -1, 'SIGKILL');
		const crash = await crashed;
		assert.equal(crash.signal, 'SIGKILL');
		assert.equal(crash.fatal, null);
		assert.match(String(await pending), /crashed/);
		await restarted;
		const ok = await c.sendRaw((conn) => conn.sendRequest(DebugSlowLanczosRequest.type, { n: 8, steps: 2, matvecMs: 0 }));
		assert.equal(ok.matvecs, 2);
		assert.notEqual(c.pid, first.pid);
	});

	test('no orphan process: dispose is idempotent and time-boxed, and a dead host takes the analyser with it', async () => {
		requireBundle();
		const c = client({}, true);
		await c.start();
		const pid = c.pid ?? -1;
		const exits: AnalyserExit[] = [];
		c.onDidExit((e) => exits.push(e));
		// Busy for 5 s in one product: the process cannot answer "shutdown", so dispose must kill it.
		void c.sendRaw((conn) => conn.sendRequest(DebugSlowLanczosRequest.type, { n: 4, steps: 1, matvecMs: 5000 })).catch(() => undefined);
		await new Promise((r) => setTimeout(r, 200));
		const t0 = Date.now();
		await Promise.all([c.dispose(), c.dispose()]);
		const took = Date.now() - t0;
		assert.ok(took < 2500, `dispose took ${took} ms`);
		assert.ok(!alive(pid), `analyser ${pid} still alive after dispose`);
		assert.equal(exits.length, 1, 'one typed exit event');
		assert.equal(exits[0]?.reason, 'disposed');
		await c.dispose();

		// A host that dies without disposing: the analyser notices the closed IPC channel and exits.
		const host = spawn(
			process.execPath,
			['-e', `const cp = require('child_process').fork(${JSON.stringify(bundle)}, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }); console.log(cp.pid); setInterval(() => {}, 1000);`],
			{ stdio: ['ignore', 'pipe', 'ignore'] },
		);
		const childPid = await new Promise<number>((resolve) => host.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
		assert.ok(alive(childPid));
		host.kill('SIGKILL');
		await waitFor(() => !alive(childPid), 5000, `analyser ${childPid} to exit after its host died`);
	});
});
