/**
 * SDK overhead: the same `model.fit` epoch with and without `lens.callback()`, interleaved in one process.
 *
 * Demo CNN on 8192 real MNIST rows, tfjs wasm, batch 64 (128 steps per epoch). The recorder writes a batch event
 * every step and a checkpoint every 50 steps (the demo's settings), plus one at the start and end of each fit.
 * Rounds alternate the order (A B, B A, …) so drift hits both sides. Each round gives one paired difference of the
 * epoch **CPU** times of this process (training, callback and background writes included); the headline is the
 * median of the paired differences over the median epoch without the SDK, with the range of the paired differences
 * beside it: epoch times wander by ±5 % from epoch to epoch even on a quiet machine, so a single pair (or the
 * difference of two medians over few rounds) cannot resolve a 2 % goal. The direct cost (time inside the callback,
 * which includes waiting for the background writes when it yields) is printed too. Last line:
 * `sdk overhead: X.X %`.
 *
 * Usage: npm run bench:sdk [-- --rounds 10 --rows 8192]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadKnownDataset } from '../src/datasets/idx';
import { selectBackend } from '../src/tfjs/backend';
import { installGradientFixes } from '../src/tfjs/gradients';
import { PoisonLens } from '../src/sdk/lens';
import { buildDemoModel } from '../src/cli/demo';

function arg(name: string, def: number): number {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function median(v: number[]): number {
	const s = [...v].sort((a, b) => a - b);
	const m = Math.floor(s.length / 2);
	return s.length % 2 === 1 ? (s[m]) : ((s[m - 1]) + (s[m])) / 2;
}

interface EpochTime {
	readonly wall: number;
	readonly cpu: number;
}

/** Wraps the SDK callback so the time spent inside its hooks is counted (the direct cost). */
function timedCallback(lens: PoisonLens, onTime: (ms: number) => void): tf.Callback {
	const cb = lens.callback();
	const hooks = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;
	for (const name of hooks) {
		const original = cb[name].bind(cb) as (...args: unknown[]) => Promise<void>;
		(cb as unknown as Record<string, unknown>)[name] = async (...args: unknown[]): Promise<void> => {
			const t = performance.now();
			await original(...args);
			onTime(performance.now() - t);
		};
	}
	return cb;
}

function cpuMs(): number {
	const u = process.cpuUsage();
	return (u.user + u.system) / 1000;
}

/** Prints the medians, the paired differences and the headline `sdk overhead: X.X %`. */
function report(without: EpochTime[], withSdk: EpochTime[], hookPerEpoch: number, runDir: string): void {
	const aWall = median(without.map((t) => t.wall));
	const bWall = median(withSdk.map((t) => t.wall));
	const a = median(without.map((t) => t.cpu));
	const b = median(withSdk.map((t) => t.cpu));
	const bytes = fs
		.readdirSync(runDir, { recursive: true })
		.map((p) => path.join(runDir, String(p)))
		.filter((p) => fs.statSync(p).isFile())
		.reduce((s, p) => s + fs.statSync(p).size, 0);
	// Paired differences: round r's with-SDK epoch minus its own without-SDK epoch (adjacent in time).
	const paired = withSdk.map((t, r) => t.cpu - without[r].cpu);
	const pairedWall = withSdk.map((t, r) => t.wall - without[r].wall);
	const pct = (ms: number, base: number): string => `${((100 * ms) / base).toFixed(1)} %`;
	const spread = (v: number[]): string => `${(Math.min(...v) / 1000).toFixed(2)}–${(Math.max(...v) / 1000).toFixed(2)} s`;
	process.stdout.write(
		`median epoch wall time: without ${(aWall / 1000).toFixed(2)} s, with ${(bWall / 1000).toFixed(2)} s ` +
			`(${((100 * (bWall - aWall)) / aWall).toFixed(1)} %; ranges ${spread(without.map((t) => t.wall))} / ${spread(withSdk.map((t) => t.wall))})\n`,
	);
	process.stdout.write(`time inside the SDK callback: ${hookPerEpoch.toFixed(0)} ms per epoch (wall), ${pct(hookPerEpoch, aWall)} of an epoch\n`);
	process.stdout.write(
		`paired differences (with − without, same round): CPU median ${pct(median(paired), a)}, range ${pct(Math.min(...paired), a)} … ${pct(Math.max(...paired), a)}; ` +
			`wall median ${pct(median(pairedWall), aWall)}\n`,
	);
	process.stdout.write(`run folder ${(bytes / 1e6).toFixed(1)} MB\n`);
	process.stdout.write(`median epoch CPU time: without ${(a / 1000).toFixed(2)} s, with ${(b / 1000).toFixed(2)} s (process CPU, background writes included)\n`);
	// The headline uses CPU time (on a shared machine wall-clock epochs vary by tens of percent, CPU time by a few),
	// as the median paired difference (robust to the odd slow epoch on either side).
	process.stdout.write(`sdk overhead: ${((100 * median(paired)) / a).toFixed(1)} %\n`);
}

async function main(): Promise<void> {
	const rounds = arg('rounds', 10);
	const rows = arg('rows', 8192);
	const backend = await selectBackend('wasm');
	installGradientFixes();
	const data = loadKnownDataset('mnist', 'train', { limit: rows });
	const test = loadKnownDataset('mnist', 'test', { limit: 1000 });
	const xs = tf.tensor4d(data.images, [data.count, 28, 28, 1]);
	const ys = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 10);
	const model = buildDemoModel([28, 28, 1], 10, 1);
	model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
	const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-bench-sdk-'));
	const tStart = performance.now();
	const lens = await PoisonLens.start({
		runName: 'bench sdk',
		dir: runs,
		probe: { xs: { values: test.images, itemShape: [28, 28, 1] }, labels: test.labels, source: test.source },
		checkpointEvery: 50,
		trainSample: { xs: { values: data.images, itemShape: [28, 28, 1] }, labels: data.labels, source: data.source },
		dataset: { name: 'mnist', numClasses: 10, source: data.source },
	});
	// Time spent inside the recorder's hooks: the direct cost, much less noisy than epoch-time differences on a
	// shared machine (it excludes the background writes, which the A/B epoch times include).
	let hookMs = 0;
	/** One epoch; returns wall and process CPU milliseconds (CPU time barely moves with other processes' load). */
	const epoch = async (withSdk: boolean): Promise<EpochTime> => {
		const t0 = performance.now();
		const c0 = cpuMs();
		await model.fit(xs, ys, { batchSize: 64, epochs: 1, shuffle: false, verbose: 0, ...(withSdk ? { callbacks: [timedCallback(lens, (ms) => (hookMs += ms))] } : {}) });
		if (withSdk) {
			// Count the background writes too: the recorder must keep up, not just return fast.
			await lens.flush();
		}
		return { wall: performance.now() - t0, cpu: cpuMs() - c0 };
	};
	const startMs = performance.now() - tStart;
	const stored = lens.currentManifest.trainSample;
	process.stdout.write(`backend ${backend.description}, ${data.count} rows, batch 64, ${Math.ceil(data.count / 64)} steps per epoch, ${rounds} rounds\n`);
	process.stdout.write(
		`PoisonLens.start: ${(startMs / 1000).toFixed(2)} s, once before training (probe, manifest and all ${stored?.count ?? 0} training rows, stored as ${stored?.encoding ?? 'float32'}: ` +
			`${fs.statSync(path.join(lens.runDir, stored?.path ?? '')).size} bytes)\n`,
	);
	await epoch(false); // warm-up: kernels, memory
	const without: EpochTime[] = [];
	const withSdk: EpochTime[] = [];
	for (let r = 0; r < rounds; r++) {
		for (const sdk of r % 2 === 0 ? [false, true] : [true, false]) {
			const t = await epoch(sdk);
			(sdk ? withSdk : without).push(t);
			process.stdout.write(`round ${r + 1}: ${sdk ? 'with SDK   ' : 'without SDK'} wall ${(t.wall / 1000).toFixed(2)} s, CPU ${(t.cpu / 1000).toFixed(2)} s\n`);
		}
	}
	await lens.end();
	report(without, withSdk, hookMs / rounds, lens.runDir);
	fs.rmSync(runs, { recursive: true, force: true });
	xs.dispose();
	ys.dispose();
}

main().catch((err: unknown) => {
	process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
	process.exit(1);
});
