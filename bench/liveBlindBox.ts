/**
 * Does the live blind scan keep to its time box on a large recording? On a copy of a run folder (nothing is written to
 * the run itself), one scan of every recorded row (what the final scan does), then live scans as the monitor runs them
 * (docs/analyser.md §4.1) on the same checkpoint: the first at its default size, the next ones sized to a box of
 * `share` × the epoch time. Prints, per scan, the rows and input-Hessian samples planned, the rows scored, the wall
 * time against the box, and the cost per row and per sample the monitor measured.
 *
 *     node --import tsx bench/liveBlindBox.ts <runDir> [epoch seconds, default from the run's events] [scans, default 3] [share, default 0.25]
 *
 * Timings depend on the machine's load: run it beside nothing else, or say so.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '../src/tfjs/backend';
import { installGradientFixes } from '../src/tfjs/gradients';
import { runBlindScan } from '../src/analyser/analysis/blind';
import { loadRunContext } from '../src/analyser/analysis/context';
import { DEFAULT_LIVE_BLIND_SHARE, epochMs, LiveBlindMonitor, MAX_LIVE_SAMPLES, type LiveView } from '../src/analyser/analysis/liveBlind';
import { readRun } from '../src/protocol/runFormat';

async function main(): Promise<void> {
	const [source, epochArg, scansArg, shareArg] = process.argv.slice(2);
	if (source === undefined) {
		throw new Error('usage: node --import tsx bench/liveBlindBox.ts <runDir> [epoch seconds] [scans] [share]');
	}
	await selectBackend('wasm');
	installGradientFixes();
	const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-live-box-'));
	fs.cpSync(source, runDir, { recursive: true });
	try {
		const ctx = await loadRunContext(runDir);
		const snap = await readRun(runDir);
		const newest = [...snap.checkpoints].sort((a, b) => b.step - a.step)[0];
		const recorded = ctx.manifest.trainSample?.count ?? 0;
		const events = fs
			.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
			.split('\n')
			.filter((l) => l.trim() !== '')
			.map((l) => JSON.parse(l) as { type: string; time: string; epoch?: number; fractionalEpoch?: number });
		const fromEvents = epochMs(
			events.filter((e) => e.type === 'epoch').map((e) => Date.parse(e.time)),
			events.filter((e) => e.type === 'checkpoint-written').map((e) => ({ epoch: e.fractionalEpoch ?? e.epoch ?? 0, time: Date.parse(e.time) })),
		);
		const epoch = epochArg === undefined ? fromEvents : 1000 * Number(epochArg);
		if (epoch === null || !(epoch > 0)) {
			throw new Error(`${source}: the epoch time is not in its events; pass it in seconds`);
		}
		const share = shareArg === undefined ? DEFAULT_LIVE_BLIND_SHARE : Number(shareArg);
		console.log(`run ${source}: ${recorded} recorded rows of ${ctx.manifest.trainSample?.totalRows ?? '?'}, checkpoint ${newest.step}; epoch ${(epoch / 1000).toFixed(1)} s, share ${share} → box ${((share * epoch) / 1000).toFixed(1)} s`);
		const all = await runBlindScan(ctx, newest.dir, {});
		console.log(
			`every row (the final scan): ${all.cascade.scoredRows} rows, ${all.scanned} samples, ${(all.elapsedMs / 1000).toFixed(1)} s (stage 1 ${(all.cascade.cheapMs / 1000).toFixed(1)} s on ${all.cascade.threads} threads, stage 2 ${(all.cascade.hessianMs / 1000).toFixed(1)} s, stage 3 ${(all.cascade.directionMs / 1000).toFixed(1)} s); test ${all.summary.test?.state ?? '–'}`,
		);
		const target = { step: newest.step, epoch: newest.epoch ?? 1, dir: newest.dir };
		const epochTimes: number[] = [];
		const view: LiveView = { checkpoints: [target], epochTimes, checkpointTimes: [], poll: () => Promise.resolve() };
		const monitor = new LiveBlindMonitor(ctx, { every: 'epoch', share }, Math.min(recorded, MAX_LIVE_SAMPLES), recorded);
		const scans = scansArg === undefined ? 3 : Number(scansArg);
		for (let k = 0; k < scans; k++) {
			if (k === 1) {
				epochTimes.push(0, epoch);
			}
			const out = await monitor.scan(target, view, undefined);
			const box = out.plan.budgetMs === null ? 'no box yet' : `box ${(out.plan.budgetMs / 1000).toFixed(1)} s`;
			if (out.kind === 'stopped') {
				console.log(`live scan ${k + 1}: planned ${out.plan.rows} rows, ${out.plan.samples} samples; stopped (${out.reason}) after ${(out.elapsedMs / 1000).toFixed(1)} s, ${box}`);
				continue;
			}
			const r = out.result;
			console.log(
				`live scan ${k + 1}: planned ${out.plan.rows} rows, ${out.plan.samples} samples; scored ${r.cascade.scoredRows} of ${r.cascade.totalRows} rows in ${(r.elapsedMs / 1000).toFixed(1)} s, ${box} ` +
					`(stage 1 ${(r.cascade.cheapMs / 1000).toFixed(1)} s, ${((r.cascade.cheapMs + r.cascade.directionMs) / r.cascade.scoredRows).toFixed(2)} ms per row; rest ${((r.elapsedMs - r.cascade.cheapMs - r.cascade.directionMs) / r.scanned).toFixed(1)} ms per sample); test ${r.summary.test?.state ?? '–'}; next window at ${monitor.rowCursor}`,
			);
		}
	} finally {
		fs.rmSync(runDir, { recursive: true, force: true });
	}
}

main().catch((err: unknown) => {
	console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
	process.exit(1);
});
