/**
 * npm run bench:zoo [-- --models demoCnn,mnistNodeCnn] [--samples 4096] [--threads 1,2]
 *
 * For each zoo model (test/fixtures/zoo), in one run on the same machine:
 * - the training epoch time on tfjs wasm (model.fit, batch 64, 2048 rows, Adam);
 * - the analyser's light pass (two top-5 spectra of 64 probes, at most 20 Lanczos steps, plus tᵀHt on the
 *   triggered probes), full pass (two top-5 spectra of 128 probes to convergence + per-sample curvature of 128)
 *   and blind scan (per-sample top eigenpair of every sample, chunks of 256), through the analyser's own
 *   `batchCurvature` (structured Gauss–Newton on piecewise-linear nets, double-backprop HVPs otherwise);
 * - the same computations in PyTorch CPU float32 on the same weights and inputs (bench/zoo_torch.py: the usual
 *   HVP + Lanczos / power iteration), with 1 thread and with all threads.
 * Prints a table, the ratios, and the targets (light ≤ 5 % of an epoch, blind ≤ one epoch,
 * wasm/PyTorch light pass ≤ 1.0). Wall-clock milliseconds: on a shared machine, compare ratios of one run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/tfjs/backend';
import { installGradientFixes } from '../src/tfjs/gradients';
import { logitModelFromLayers } from '../src/analyser/curvature';
import { batchCurvature } from '../src/analyser/analysis/spectrum';
import { LIGHT_LANCZOS_STEPS } from '../src/analyser/analysis/checkpoint';
import { ZOO, ZOO_DIR, compileZoo, zooData, zooTargets } from '../test/reference/zoo/makeZoo';

function arg(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
	const t0 = performance.now();
	const out = await fn();
	return [performance.now() - t0, out];
}

interface TorchOut {
	threads: number;
	lightMs: number;
	fullMs: number;
	blindMs: number;
}

/** Wasm timings of one zoo model: a training epoch, the light and full passes, a blind scan over `samples` rows. */
async function wasmTimings(name: string, samples: number): Promise<{ epochMs: number; lightMs: number; fullMs: number; blindMs: number; lightEig: number[]; method: string; dir: string; X: Float32Array; Y: Int32Array }> {
	const spec = ZOO.find((z) => z.name === name);
	if (spec === undefined) {
		throw new Error(`unknown zoo model '${name}'; known: ${ZOO.map((z) => z.name).join(', ')}`);
	}
	const dir = path.join(ZOO_DIR, name);
	const data = zooData(spec.data, 2048, samples);
	const d = data.itemShape.reduce((a, c) => a * c, 1);
	// Training epoch (batch 64, wasm) of a fresh copy of the architecture.
	const fresh = spec.build();
	compileZoo(spec, fresh);
	const xs = tf.tensor(data.train.xs, [2048, ...data.itemShape]);
	const ys = zooTargets(spec, data.train.labels, data.numClasses);
	await fresh.fit(xs.slice(0, 64), ys.slice(0, 64), { epochs: 1, batchSize: 64, verbose: 0 });
	const [epochMs] = await timed(() => fresh.fit(xs, ys, { epochs: 1, batchSize: 64, verbose: 0, shuffle: false }));
	tf.dispose([xs, ys]);
	fresh.dispose();

	const specJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
	const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
	const model = await tf.loadLayersModel(
		tf.io.fromMemory({ modelTopology: specJson.modelTopology, weightSpecs: specJson.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }),
	);
	const lm = logitModelFromLayers(model, name);
	const X = data.probes.xs;
	const Y = data.probes.labels;
	const batch = (s: number, n: number): [Float32Array, Int32Array] => [X.subarray(s * d, (s + n) * d), Y.subarray(s, s + n)];
	const dirs = Float32Array.from({ length: 64 * d }, (_, k) => Math.sin(0.37 * k));
	const light = async (): Promise<number[]> => {
		const trig = await batchCurvature(lm, ...batch(0, 64));
		await trig.along(dirs);
		const eig = await trig.topK(5, LIGHT_LANCZOS_STEPS);
		trig.dispose();
		const clean = await batchCurvature(lm, ...batch(64, 64));
		await clean.topK(5, LIGHT_LANCZOS_STEPS);
		clean.dispose();
		return [...eig.eigenvalues];
	};
	await light();
	const [lightMs, lightEig] = await timed(light);
	const [fullMs] = await timed(async () => {
		const trig = await batchCurvature(lm, ...batch(0, 128));
		await trig.topK(5, undefined);
		await trig.perSample();
		trig.dispose();
		const clean = await batchCurvature(lm, ...batch(128, 128));
		await clean.topK(5, undefined);
		clean.dispose();
	});
	const [blindMs] = await timed(async () => {
		for (let s = 0; s < samples; s += 256) {
			const c = await batchCurvature(lm, ...batch(s, Math.min(256, samples - s)));
			await c.perSample();
			c.dispose();
		}
	});
	const method = lm.piecewiseLinear ? 'gn' : 'hvp';
	lm.dispose();
	model.dispose();

	return { epochMs, lightMs, fullMs, blindMs, lightEig, method, dir, X, Y };
}

/** The referee's code path in PyTorch CPU (float32) on the same weights and probes, per thread count. */
function torchTimings(name: string, dir: string, X: Float32Array, Y: Int32Array, threads: readonly number[]): TorchOut[] {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-zoo-'));
	fs.writeFileSync(path.join(tmp, 'x.bin'), Buffer.from(X.buffer, X.byteOffset, X.byteLength));
	fs.writeFileSync(path.join(tmp, 'y.bin'), Buffer.from(Y.buffer, Y.byteOffset, Y.byteLength));
	const torch: TorchOut[] = [];
	for (const t of threads) {
		const r = spawnSync('/usr/bin/python3', [path.join(__dirname, 'zoo_torch.py'), dir, path.join(tmp, 'x.bin'), path.join(tmp, 'y.bin'), String(t)], { encoding: 'utf8', maxBuffer: 1 << 24 });
		if (r.status !== 0) {
			console.log(`${name}: PyTorch side failed (${r.stderr.trim().split('\n').slice(-1)[0] ?? ''})`);
			continue;
		}
		torch.push(JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]) as TorchOut);
	}
	fs.rmSync(tmp, { recursive: true, force: true });
	return torch;
}

/**
 * Threads the tfjs wasm backend computes with: its own count when the backend reports one (the threaded build),
 * else 1 (`selectBackend` runs the single-threaded SIMD build in Node).
 */
async function wasmThreadCount(): Promise<number> {
	try {
		const wasm = await import('@tensorflow/tfjs-backend-wasm');
		const n = wasm.getThreadsCount();
		return Number.isInteger(n) && n > 0 ? n : 1;
	} catch {
		return 1;
	}
}

async function main(): Promise<void> {
	installGradientFixes();
	const sel = await selectBackend('wasm', { strict: true });
	const names = arg('models', ZOO.filter((z) => z.coverage !== true).map((z) => z.name).join(',')).split(',');
	const samples = Number(arg('samples', '4096'));
	const threads = arg('threads', `1,${os.cpus().length}`).split(',').map(Number);
	console.log(`bench:zoo on ${sel.description}; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
	const wasmThreads = await wasmThreadCount();
	console.log(
		`wasm side (training epoch, light, full, blind): one Node process, ${wasmThreads} thread${wasmThreads === 1 ? '' : 's'} of the ${os.cpus().length} cores (tfjs wasm runs single-threaded in Node; the blind scan is not sharded); PyTorch side: the thread counts shown per column`,
	);
	const rows: string[] = [];
	for (const name of names) {
		const w = await wasmTimings(name, samples);
		const { epochMs, lightMs, fullMs, blindMs, lightEig, method } = w;
		const torch = torchTimings(name, w.dir, w.X, w.Y, threads);
		const t1 = torch.find((t) => t.threads === 1);
		const tn = torch.find((t) => t.threads !== 1) ?? t1;
		const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(0));
		const r = (a: number, b: number | undefined): string => (b === undefined ? '–' : (a / b).toFixed(2));
		const line =
			`${name.padEnd(14)} ${method.padEnd(4)} epoch ${f(epochMs)} | light ${f(lightMs)} (${((100 * lightMs) / epochMs).toFixed(1)} % of epoch) full ${f(fullMs)} blind ${f(blindMs)} on ${wasmThreads}t (${(blindMs / epochMs).toFixed(2)} epochs)` +
			` | torch 1t light ${f(t1?.lightMs)} full ${f(t1?.fullMs)} blind ${f(t1?.blindMs)}; ${tn?.threads ?? '–'}t light ${f(tn?.lightMs)} blind ${f(tn?.blindMs)}` +
			` | wasm/torch light ${r(lightMs, t1?.lightMs)} (1t) ${r(lightMs, tn?.lightMs)} (${tn?.threads ?? '–'}t), blind ${r(blindMs, t1?.blindMs)} (1t)`;
		console.log(line);
		console.log(`  ${name} light-pass top-5 (triggered probes): ${lightEig.map((v) => v.toPrecision(4)).join(', ')}`);
		rows.push(line);
	}
	console.log('\nms are wall-clock milliseconds on this machine; targets: light ≤ 5 % of epoch, blind ≤ 1 epoch, wasm/torch light ≤ 1.0 (demo and mnist-node-style CNNs)');
}

void main();
