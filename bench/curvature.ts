/**
 * npm run bench:curvature [-- --backend wasm,cpu,gpu] [--n 64] [--model cnn]
 *
 * The reference CNN (conv3x3x8-relu-maxpool-dense10, test/fixtures/reference/cnn) on 64 real
 * MNIST test images, on tfjs wasm, cpu and gpu (WebGPU, when an adapter exists), against PyTorch
 * CPU with 1 thread (bench/curvature_torch.py, same weights, same images, same stopping rule).
 *
 * Reports, per engine: one batch-mean HVP, and the top-5 eigenpairs of the batch-mean input
 * curvature by the usual method (double-backprop HVP + Lanczos, as PyHessian) and by the
 * structured method (C first-order VJPs once, then Lanczos on two small matmuls per step).
 * The last line compares our best wasm path with PyTorch's usual method on the same eigenpairs
 * (checked to agree to 1e-4).
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendSelection } from '../src/tfjs/backend';
import { InputHessianOperator, gaussNewtonFactors, lanczos, logitModelFromLayers, meanGaussNewtonOperator } from '../src/analyser/curvature';
import { readCheckpoint } from '../src/protocol/runFormat';
import { loadKnownDataset } from '../src/datasets/idx';

/** The float64 referee's committed models and fixtures (test/reference/make_fixtures.py writes them). */
const REFERENCE_DIR = path.join(__dirname, '..', 'test', 'fixtures', 'reference');

interface Row {
	engine: string;
	wall: string;
	hvpMs: number;
	usualMs: number;
	usualEstimated: boolean;
	usualIterations: number;
	structuredMs: number;
	usualEig: number[];
	structuredEig: number[];
}

interface TorchOut {
	torch: string;
	threads: number;
	hvpMs: number;
	hvpWallMs: number;
	usual: { ms: number; wallMs: number; eigenvalues: number[]; iterations: number };
	structured: { ms: number; wallMs: number; eigenvalues: number[]; iterations: number };
}

const TOL = 1e-4;
const MAX_ITER = 60;

function arg(name: string, fallback: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)];
}

/**
 * Median over repeats of the process CPU time (user + system) of one call, and of its wall time.
 * CPU time is the figure compared: this machine is shared (load averages of 10+ on 2 cores were
 * common), which inflates wall times by whatever else runs, differently for each engine.
 */
async function time<T>(fn: () => Promise<T>, repeats: number): Promise<{ ms: number; wallMs: number; out: T }> {
	const cpu: number[] = [];
	const wall: number[] = [];
	let out: T | undefined;
	for (let i = 0; i < repeats; i++) {
		const c0 = process.cpuUsage();
		const t0 = performance.now();
		out = await fn();
		wall.push(performance.now() - t0);
		const c = process.cpuUsage(c0);
		cpu.push((c.user + c.system) / 1000);
	}
	return { ms: median(cpu), wallMs: median(wall), out: out as T };
}

function relErr(a: readonly number[], b: readonly number[]): number {
	let num = 0;
	let den = 0;
	a.forEach((v, i) => {
		num += (v - b[i]) ** 2;
		den += b[i] ** 2;
	});
	return Math.sqrt(num / den);
}

async function benchBackend(sel: BackendSelection, modelName: 'cnn' | 'mlp', n: number): Promise<Row> {
	// The referee's models are stored in the run format's checkpoint layout (model.json + weights.bin).
	const artifacts = await readCheckpoint(path.join(REFERENCE_DIR, modelName));
	const layers = await tf.loadLayersModel(
		tf.io.fromMemory({ modelTopology: artifacts.modelTopology as object, weightSpecs: artifacts.weightSpecs, weightData: artifacts.weightData }),
	);
	const model = logitModelFromLayers(layers);
	const mnist = loadKnownDataset('mnist', 'test', { limit: n });
	const x = tf.tensor4d(mnist.images, [n, 28, 28, 1]);
	const lab = Array.from(mnist.labels);
	const d = 784;
	const probe = Float64Array.from({ length: d }, (_, k) => Math.sin(0.5 + 0.37 * k));
	const op = new InputHessianOperator(model, x, lab, 'mean');
	for (let i = 0; i < 3; i++) {
		await op.matvec(probe); // warm-up (kernels, shader compilation on webgpu)
	}
	const hvp = await time(() => op.matvec(probe), sel.name === 'cpu' ? 3 : 7);
	// The usual method on plain-JS cpu would take minutes: run it only when an HVP is cheap,
	// otherwise estimate it as (iterations of the wasm run) × HVP time and say so.
	let usualMs: number;
	let usualEig: number[] = [];
	let usualIterations: number;
	let usualEstimated = false;
	let usualWall = 'n/a';
	if (hvp.ms < 400) {
		const usual = await time(() => lanczos(op, { k: 5, tol: TOL, maxIter: MAX_ITER, seed: 3 }), sel.name === 'webgpu' ? 1 : 5);
		usualMs = usual.ms;
		usualEig = [...usual.out.eigenvalues];
		usualIterations = usual.out.iterations;
		usualWall = usual.wallMs.toFixed(0);
	} else {
		usualEstimated = true;
		usualIterations = 15;
		usualMs = usualIterations * hvp.ms;
	}
	op.dispose();
	const structuredRun = async (): Promise<number[]> => {
		const f = await gaussNewtonFactors(model, x);
		const r = await lanczos(meanGaussNewtonOperator(f), { k: 5, tol: TOL, maxIter: MAX_ITER, seed: 3 });
		return [...r.eigenvalues];
	};
	await structuredRun();
	const structured = await time(structuredRun, sel.name === 'cpu' ? 1 : 7);
	x.dispose();
	model.dispose();
	layers.dispose();
	return {
		engine: `tfjs ${sel.description}`,
		wall: `HVP ${hvp.wallMs.toFixed(1)}, usual ${usualWall}, structured ${structured.wallMs.toFixed(0)}`,
		hvpMs: hvp.ms,
		usualMs,
		usualEstimated,
		usualIterations,
		structuredMs: structured.ms,
		usualEig,
		structuredEig: structured.out,
	};
}

async function main(): Promise<void> {
	const n = Number(arg('n', '64'));
	const modelName = arg('model', 'cnn') as 'cnn' | 'mlp';
	const requested = arg('backend', 'wasm,cpu,gpu').split(',');
	const rows: Row[] = [];
	const notes: string[] = [];
	console.log(`curvature bench: ${modelName} on ${n} MNIST test images, k=5, tol=${TOL}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
	console.log('times: median process CPU ms (user+sys) per call; wall-clock medians follow the table');
	for (const b of requested) {
		const sel = await selectBackend(b as 'wasm' | 'cpu' | 'gpu');
		if (sel.fallbackReason !== null || (b === 'gpu' && sel.name !== 'webgpu')) {
			notes.push(`${b}: not run (${sel.fallbackReason ?? `got ${sel.name}`})`);
			continue;
		}
		console.log(`running ${sel.description}…`);
		rows.push(await benchBackend(sel, modelName, n));
	}
	const py = spawnSync('/usr/bin/python3', [path.join(__dirname, 'curvature_torch.py'), path.join(REFERENCE_DIR, modelName), String(n), String(TOL), String(MAX_ITER)], {
		encoding: 'utf8',
		maxBuffer: 64 * 1024 * 1024,
	});
	if (py.status !== 0) {
		throw new Error(`bench/curvature_torch.py failed (${py.status}): ${py.stderr}`);
	}
	const torchOut = JSON.parse(py.stdout) as TorchOut;
	const ref = torchOut.usual.eigenvalues;
	const torchRow: Row = {
		engine: `PyTorch ${torchOut.torch} CPU, ${torchOut.threads} thread`,
		wall: `HVP ${torchOut.hvpWallMs.toFixed(1)}, usual ${torchOut.usual.wallMs.toFixed(0)}, structured ${torchOut.structured.wallMs.toFixed(0)}`,
		hvpMs: torchOut.hvpMs,
		usualMs: torchOut.usual.ms,
		usualEstimated: false,
		usualIterations: torchOut.usual.iterations,
		structuredMs: torchOut.structured.ms,
		usualEig: torchOut.usual.eigenvalues,
		structuredEig: torchOut.structured.eigenvalues,
	};
	const all = [...rows, torchRow];
	const f = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
	const ratio = (ms: number): string => (ms / torchRow.usualMs).toFixed(2);
	console.log('');
	console.log('| engine | HVP ms | top-5 usual (HVP+Lanczos) ms | its | top-5 structured ms | usual / torch usual | structured / torch usual | structured / torch structured | top-5 relErr vs torch usual |');
	console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
	for (const r of all) {
		const eig = r.structuredEig.length === 5 ? relErr(r.structuredEig, ref).toExponential(1) : '–';
		const usualEigErr = r.usualEig.length === 5 ? ` (usual ${relErr(r.usualEig, ref).toExponential(1)})` : '';
		console.log(
			`| ${r.engine} | ${f(r.hvpMs)} | ${r.usualEstimated ? `~${f(r.usualMs)} (est. ${r.usualIterations}×HVP)` : f(r.usualMs)} | ${r.usualIterations} | ${f(r.structuredMs)} | ${ratio(r.usualMs)} | ${ratio(r.structuredMs)} | ${(r.structuredMs / torchRow.structuredMs).toFixed(2)} | ${eig}${usualEigErr} |`,
		);
	}
	all.forEach((r) => console.log(`wall ms, ${r.engine}: ${r.wall}`));
	notes.forEach((x) => console.log(`note: ${x}`));
	const wasm = rows.find((r) => r.engine.includes('wasm'));
	if (wasm === undefined) {
		console.log('curvature: wasm/pytorch lanczos-top5 ratio = n/a (wasm not run)');
		return;
	}
	const best = wasm.structuredMs <= wasm.usualMs ? { ms: wasm.structuredMs, eig: wasm.structuredEig, name: 'structured' } : { ms: wasm.usualMs, eig: wasm.usualEig, name: 'usual' };
	const agree = relErr(best.eig, ref);
	console.log(`best wasm path: ${best.name}; its top-5 eigenvalues vs PyTorch usual: relErr ${agree.toExponential(2)} (${agree <= 1e-4 ? 'agree to 1e-4' : 'DISAGREE beyond 1e-4'})`);
	console.log(`wasm vs PyTorch on the same structured method: ${(wasm.structuredMs / torchRow.structuredMs).toFixed(2)}`);
	if (agree > 1e-4) {
		process.exitCode = 1;
	}
	console.log(`curvature: wasm/pytorch lanczos-top5 ratio = ${(best.ms / torchRow.usualMs).toFixed(2)}`);
}

void main();
