/**
 * What live blind monitoring costs on a run: the run's epoch time (from its events), its per-checkpoint light passes
 * (from analysis.jsonl) as a share of an epoch, and the blind scan's time at several sample counts on its newest
 * checkpoint; then how many samples each share of an epoch buys. Used to choose DEFAULT_LIVE_BLIND_SHARE
 * (docs/analyser.md, Live blind monitoring).
 *
 *     node --import tsx bench/liveBlindCost.ts <runDir> [sizes, default 256,512,1024,2048] [step, default the newest]
 *
 * Nothing is written to the run folder. Timings depend on the machine's load: run it beside nothing else, or say so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAnalysisFile } from '../src/protocol/analysisRecord';
import { selectBackend } from '../src/tfjs/backend';
import { installGradientFixes } from '../src/tfjs/gradients';
import { runBlindScan } from '../src/analyser/analysis/blind';
import { loadRunContext } from '../src/analyser/analysis/context';
import { epochMs } from '../src/analyser/analysis/liveBlind';

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s.length === 0 ? NaN : s[s.length >> 1];
}

async function main(): Promise<void> {
	const [runDir, sizesRaw] = process.argv.slice(2);
	if (runDir === undefined) {
		throw new Error('usage: node --import tsx bench/liveBlindCost.ts <runDir> [sizes]');
	}
	const sizes = (sizesRaw ?? '256,512,1024,2048').split(',').map(Number);
	await selectBackend('wasm');
	installGradientFixes();
	const events = fs
		.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
		.split('\n')
		.filter((l) => l.trim() !== '')
		.map((l) => JSON.parse(l) as { type: string; time: string; step: number; epoch: number; fractionalEpoch?: number; path?: string });
	const epochTimes = events.filter((e) => e.type === 'epoch').map((e) => Date.parse(e.time));
	const cps = events.filter((e) => e.type === 'checkpoint-written');
	const epoch = epochMs(epochTimes, cps.map((e) => ({ epoch: e.fractionalEpoch ?? e.epoch, time: Date.parse(e.time) })));
	const epochs = Math.max(1, epochTimes.length);
	const file = path.join(runDir, 'analysis.jsonl');
	const light = fs.existsSync(file) ? parseAnalysisFile(fs.readFileSync(file, 'utf8'), file).checkpoints.map((c) => c.analysisMs).filter((x): x is number => typeof x === 'number') : [];
	const perEpochLight = light.length === 0 ? NaN : (median(light) * cps.length) / epochs;
	console.log(`run ${runDir}`);
	console.log(`epoch ${epoch === null ? '?' : (epoch / 1000).toFixed(1)} s; ${cps.length} checkpoints over ${epochs} epochs; light pass median ${(median(light) / 1000).toFixed(2)} s → ${(perEpochLight / 1000).toFixed(1)} s per epoch (${epoch === null ? '?' : ((100 * perEpochLight) / epoch).toFixed(0)} % of an epoch)`);
	const ctx = await loadRunContext(runDir);
	const atStep = process.argv[4] === undefined ? null : Number(process.argv[4]);
	const newest = cps.find((e) => e.step === atStep) ?? cps[cps.length - 1];
	const dir = path.join(runDir, newest.path ?? '');
	const rows: { n: number; ms: number; cpuMs: number }[] = [];
	for (const n of sizes) {
		const c0 = process.cpuUsage();
		const r = await runBlindScan(ctx, dir, { maxSamples: n });
		const c = process.cpuUsage(c0);
		const cpuMs = (c.user + c.system) / 1000;
		rows.push({ n: r.scanned, ms: r.elapsedMs, cpuMs });
		console.log(
			`blind scan at step ${newest.step}: ${r.scanned} samples ${(r.elapsedMs / 1000).toFixed(1)} s wall, ${(cpuMs / 1000).toFixed(1)} s CPU (${(cpuMs / r.scanned).toFixed(1)} CPU ms/sample), flip ${String(r.summary.flipRate)}, control ${String(r.controlFlipRate)}`,
		);
	}
	if (epoch !== null) {
		// On a loaded machine the wall time swings with other work; the CPU time per sample is the scan's own cost.
		const msPer = median(rows.map((r) => r.cpuMs / r.n));
		for (const share of [0.1, 0.25, 0.5]) {
			console.log(`share ${share}: ${((share * epoch) / 1000).toFixed(1)} s per epoch → about ${Math.floor((share * epoch) / msPer)} samples at ${msPer.toFixed(1)} CPU ms/sample; light passes + scan ≈ ${((100 * (perEpochLight + share * epoch)) / epoch).toFixed(0)} % of an epoch`);
		}
	}
}

main().catch((err: unknown) => {
	console.error(err instanceof Error ? err.message : String(err));
	process.exit(1);
});
