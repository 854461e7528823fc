/**
 * `npm run bench:blind-scale`: blind mode over a WHOLE training set. For each architecture (the demo CNN and
 * tfjs-examples' mnist-node), a run of `--rows` real MNIST training rows (default 60 000) with a BadNets poison
 * (θ = 1 %, target 0) is trained through the SDK, which records every training row; then, in a separate process, blind
 * mode scans the newest checkpoint (the cascade: every row's cheap score, the input-Hessian for the candidates and a
 * control, the candidate trigger tested on its flip class). Printed and written to docs/blind-scale.md (`--report FILE`):
 * whole-set scan time / epoch time, the scan's peak RSS, the run-folder size, ASR (is the backdoor working), and
 * recall and precision over ALL poisoned rows at the cut, next to STRIP on training rows and Spectral Signatures on the
 * same runs (their per-row scores are the cascade's own stage-1 columns; Spectral Signatures at its paper cut, top
 * 1.5·ε per label with ε = 0.05; STRIP at an equal budget: as many rows as blind mode flags; both also as AUROC).
 *
 * Unless `--no-threads`, the whole scan is also timed on 1 and on 2 worker threads, alternating in one process
 * (`--rounds=N` pairs, default 2), with its decisions checked equal.
 *
 * Resumable: a finished training run or scan is kept in `<out>` and skipped. Timings on a shared machine are noisy:
 * compare the ratio (scan / epoch), measured on the same machine in the same invocation.
 *
 * `--data rgb32` replaces MNIST by a seeded synthetic 32×32×3 ten-class set (bench/syntheticRgb.ts; default 50 000
 * rows): the memory and cost of a CIFAR-sized colour run, since no colour data set is packaged.
 *
 * `--blends-study=2,3,4,6,8` also scans the run at each number of blends per row in stage 1, each level in its own
 * process, and tabulates cost and decisions (docs/blind-scale-blends.md); `--seed N` seeds the attack's rows and the
 * model's initialisation (default 1).
 *
 *   npm run bench:blind-scale -- [--arch demo-cnn,mnist-node] [--data mnist|rgb32] [--attack badnets|cross|blend|warp|near-clone] [--rows N] [--epochs 1] [--theta 0.01] [--seed 1] [--out DIR] [--no-threads] [--rounds=2] [--blends-study=2,4,8]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/tfjs/backend';
import { installGradientFixes } from '../src/tfjs/gradients';
import { loadKnownDataset } from '../src/datasets/idx';
import { makeAttack, type AttackName } from '../src/sdk/attacks/index';
import { PoisonLens } from '../src/sdk/lens';
import { readRun } from '../src/protocol/runFormat';
import { loadRunContext } from '../src/analyser/analysis/context';
import { runBlindScan } from '../src/analyser/analysis/blind';
import { buildModel } from './detect/train';
import { syntheticRgb } from './syntheticRgb';

interface Args {
	readonly archs: ('demo-cnn' | 'mnist-node')[];
	readonly rows: number;
	readonly epochs: number;
	readonly theta: number;
	readonly out: string;
	readonly data: 'mnist' | 'rgb32';
	readonly attack: AttackName;
	/** Seed of the attack's rows and of the model's initialisation (default 1). */
	readonly seed: number;
}

function parseArgs(argv: string[]): Args & { mode: 'main' | 'train' | 'scan' | 'threads' | 'scan-blends'; target?: string; blends?: number } {
	const get = (name: string): string | undefined => {
		const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
		if (i < 0) {
			return undefined;
		}
		return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
	};
	const archs = (get('arch') ?? 'demo-cnn,mnist-node').split(',') as Args['archs'];
	for (const a of archs) {
		if (a !== 'demo-cnn' && a !== 'mnist-node') {
			throw new Error(`--arch: unknown architecture "${String(a)}" (demo-cnn, mnist-node)`);
		}
	}
	const data = get('data') ?? 'mnist';
	if (data !== 'mnist' && data !== 'rgb32') {
		throw new Error(`--data: unknown data set "${data}" (mnist, rgb32)`);
	}
	const attack = (get('attack') ?? 'badnets') as AttackName;
	if (!['badnets', 'cross', 'blend', 'warp', 'near-clone'].includes(attack)) {
		throw new Error(`--attack: unknown attack "${attack}" (badnets, cross, blend, warp, near-clone)`);
	}
	const mode =
		get('train') !== undefined ? 'train' : get('scan') !== undefined ? 'scan' : get('threads') !== undefined ? 'threads' : get('scan-blends') !== undefined ? 'scan-blends' : 'main';
	const seed = Number(get('seed') ?? 1);
	if (!Number.isInteger(seed) || seed < 0) {
		throw new Error(`--seed: expected a non-negative integer, got "${String(get('seed'))}"`);
	}
	return {
		archs,
		data,
		attack,
		rows: Number(get('rows') ?? (data === 'rgb32' ? 50000 : 60000)),
		epochs: Number(get('epochs') ?? 1),
		theta: Number(get('theta') ?? 0.01),
		out: path.resolve(get('out') ?? 'out/blind-scale'),
		seed,
		mode,
		target: get('train') ?? get('scan') ?? get('threads') ?? get('scan-blends'),
		...(get('blends') === undefined ? {} : { blends: Number(get('blends')) }),
	};
}

interface TrainResult {
	readonly arch: string;
	readonly runDir: string;
	readonly rows: number;
	readonly poisoned: number;
	readonly epochs: number;
	readonly epochSeconds: number[];
	readonly asr: number;
	readonly p0: number;
	readonly cleanAccuracy: number;
	readonly runFolderBytes: number;
	readonly trainSampleBytes: number;
	readonly startSeconds: number;
}

function folderBytes(dir: string): number {
	let total = 0;
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		total += e.isDirectory() ? folderBytes(p) : fs.statSync(p).size;
	}
	return total;
}

async function train(args: Args, arch: 'demo-cnn' | 'mnist-node'): Promise<TrainResult> {
	await selectBackend('wasm');
	installGradientFixes();
	const rgb = args.data === 'rgb32';
	const full = rgb ? syntheticRgb(args.rows, 1) : loadKnownDataset('mnist', 'train', { limit: args.rows });
	const test = rgb ? syntheticRgb(2000, 2) : loadKnownDataset('mnist', 'test');
	const itemShape = full.itemShape;
	const attack = makeAttack(args.attack, { images: full.images, labels: full.labels, itemShape }, { fraction: args.theta, targetLabel: 0, seed: args.seed });
	const root = path.join(args.out, 'runs', arch);
	fs.rmSync(root, { recursive: true, force: true });
	const t0 = performance.now();
	const lens = await PoisonLens.start({
		runName: `blind-scale ${arch}`,
		dir: root,
		probe: { xs: { values: test.images, itemShape }, labels: test.labels, source: test.source },
		checkpointEvery: 'epoch',
		// Every training row (no size: the default keeps them all); no attack declared (a user's blind run) …
		trainSample: { xs: { values: attack.images, itemShape }, labels: attack.labels, source: full.source },
		dataset: { name: rgb ? 'synthetic-rgb32' : 'mnist', source: full.source, numClasses: 10 },
		batchEventEvery: 50,
		handleSignals: false,
	});
	const startSeconds = (performance.now() - t0) / 1000;
	const model = buildModel(arch, itemShape, args.seed);
	model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
	const n = attack.labels.length;
	const xs = tf.tensor(attack.images, [n, ...itemShape]);
	const ys = tf.oneHot(tf.tensor1d(attack.labels, 'int32'), 10);
	const epochSeconds: number[] = [];
	let tEpoch = 0;
	await model.fit(xs, ys, {
		epochs: args.epochs,
		batchSize: 64,
		shuffle: true,
		verbose: 0,
		callbacks: [
			lens.callback(),
			new tf.CustomCallback({
				onEpochBegin: () => {
					tEpoch = performance.now();
				},
				onEpochEnd: (epoch) => {
					epochSeconds.push((performance.now() - tEpoch) / 1000);
					process.stderr.write(`${arch}: epoch ${epoch + 1} ${epochSeconds[epochSeconds.length - 1].toFixed(1)} s\n`);
				},
			}),
		],
	});
	await lens.end();
	xs.dispose();
	ys.dispose();
	// … the truth is kept by the bench, next to the run folder, never in it.
	const evalRows = 2000;
	const per = itemShape.reduce((a, b) => a * b, 1);
	const clean = test.images.subarray(0, evalRows * per);
	const predict = (x: Float32Array): Int32Array => tf.tidy(() => Int32Array.from((model.predict(tf.tensor(x, [x.length / per, ...itemShape])) as tf.Tensor).argMax(1).dataSync()));
	const pc = predict(clean);
	const pt = predict(attack.trigger(clean));
	let nonTarget = 0;
	let hit = 0;
	let chance = 0;
	let correct = 0;
	for (let i = 0; i < evalRows; i++) {
		correct += pc[i] === test.labels[i] ? 1 : 0;
		if (test.labels[i] !== 0) {
			nonTarget++;
			hit += pt[i] === 0 ? 1 : 0;
			chance += pc[i] === 0 ? 1 : 0;
		}
	}
	model.dispose();
	fs.writeFileSync(path.join(args.out, `${arch}.truth.json`), JSON.stringify({ poisonedRows: Array.from(attack.poisonIndices) }));
	const runDir = lens.runDir;
	return {
		arch,
		runDir,
		rows: n,
		poisoned: attack.poisonIndices.length,
		epochs: args.epochs,
		epochSeconds,
		asr: hit / nonTarget,
		p0: chance / nonTarget,
		cleanAccuracy: correct / evalRows,
		runFolderBytes: folderBytes(runDir),
		trainSampleBytes: fs.statSync(path.join(runDir, 'train-sample', 'train-sample.bin')).size,
		startSeconds,
	};
}

interface ScanResult {
	readonly seconds: number;
	readonly peakRssMiB: number;
	readonly cheapSeconds: number;
	readonly hessianSeconds: number;
	readonly directionSeconds: number;
	/** The blind test on the probes (absent in results written before it was timed). */
	readonly testSeconds?: number;
	readonly candidates: number;
	readonly suspects: number;
	readonly flipRate: number | null;
	readonly flipClass: number | null;
	readonly controlFlipRate: number | null;
	readonly cut: number;
	readonly rowScoresFile: string;
	readonly threads: number;
	/** Blends per row in stage 1 (absent in results written before it was recorded: those scans used 8). */
	readonly blends?: number;
	/** The blind test's state and the test that alarmed (suspects exist only on an alarm). */
	readonly testState?: string;
	readonly alarmBy?: string | null;
}

/** Seconds of one whole scan and of its parts. */
interface StageSeconds {
	readonly total: number;
	readonly cheap: number;
	readonly hessian: number;
	readonly test: number;
	readonly direction: number;
}

/** The run on the wasm backend, and its newest checkpoint (what every scan of this bench reads). */
async function openNewest(runDir: string): Promise<{ ctx: Awaited<ReturnType<typeof loadRunContext>>; newest: { dir: string; step: number } }> {
	await selectBackend('wasm');
	const ctx = await loadRunContext(runDir);
	const newest = [...(await readRun(runDir)).checkpoints].sort((a, b) => b.step - a.step)[0];
	return { ctx, newest };
}

/**
 * The whole blind scan on 1 and on 2 threads, alternating (1, 2, 1, 2, …), same process, same run, row scores not
 * written: seconds of each scan and of its stages. The decisions are checked equal (the thread count may change time only).
 */
async function threadTimes(runDir: string, rounds: number): Promise<{ one: StageSeconds[]; two: StageSeconds[] }> {
	const { ctx, newest } = await openNewest(runDir);
	const one: StageSeconds[] = [];
	const two: StageSeconds[] = [];
	let first: string | null = null;
	for (let r = 0; r < rounds; r++) {
		for (const threads of [1, 2]) {
			const t0 = performance.now();
			const scan = await runBlindScan(ctx, newest.dir, { threads, writeScores: false });
			const c = scan.cascade;
			const s: StageSeconds = { total: (performance.now() - t0) / 1000, cheap: c.cheapMs / 1000, hessian: c.hessianMs / 1000, test: c.testMs / 1000, direction: c.directionMs / 1000 };
			(threads === 1 ? one : two).push(s);
			const decided = JSON.stringify({ state: scan.summary.test?.state, suspects: scan.summary.suspectRows, scores: c.suspectScores });
			if (first !== null && decided !== first) {
				throw new Error(`the scan on ${threads} thread(s) decided differently from the first scan`);
			}
			first = decided;
			process.stderr.write(`whole scan on ${threads} thread(s): ${s.total.toFixed(1)} s (stage 1 ${s.cheap.toFixed(1)} / 2 ${s.hessian.toFixed(1)} / test ${s.test.toFixed(1)} / 3 ${s.direction.toFixed(1)})\n`);
		}
	}
	return { one, two };
}

async function scan(runDir: string): Promise<ScanResult> {
	const { ctx, newest } = await openNewest(runDir);
	const t0 = performance.now();
	const r = await runBlindScan(ctx, newest.dir, {});
	const seconds = (performance.now() - t0) / 1000;
	return {
		seconds,
		peakRssMiB: process.resourceUsage().maxRSS / 1024,
		cheapSeconds: r.cascade.cheapMs / 1000,
		hessianSeconds: r.cascade.hessianMs / 1000,
		directionSeconds: r.cascade.directionMs / 1000,
		testSeconds: r.cascade.testMs / 1000,
		candidates: r.cascade.candidates,
		suspects: r.summary.suspects ?? 0,
		flipRate: r.summary.flipRate,
		flipClass: r.summary.flipClass ?? null,
		controlFlipRate: r.controlFlipRate,
		cut: r.cascade.cut,
		rowScoresFile: path.join(runDir, r.cascade.rowScoresFile ?? ''),
		threads: r.cascade.threads,
		blends: r.cascade.blends,
		testState: r.summary.test?.state,
		alarmBy: r.summary.test?.alarmBy ?? null,
	};
}

/** One scan of the blends study (`--blends-study`): a level, its cost and what it decided, against the run's truth. */
export interface BlendsScan {
	readonly blends: number;
	readonly seconds: number;
	readonly cheapSeconds: number;
	readonly peakRssMiB: number;
	readonly testState: string;
	readonly alarmBy: string | null;
	readonly flipClass: number | null;
	readonly suspects: number;
	readonly truePositives: number;
	readonly poisoned: number;
	readonly precision: number | null;
	readonly recall: number | null;
}

/** The whole scan at `blends` blends per row, row scores not written (the run's own file is left as it is). */
async function scanAtBlends(runDir: string, blends: number, poisoned: ReadonlySet<number>): Promise<BlendsScan> {
	const { ctx, newest } = await openNewest(runDir);
	const t0 = performance.now();
	const r = await runBlindScan(ctx, newest.dir, { blends, writeScores: false });
	const seconds = (performance.now() - t0) / 1000;
	const rows = r.summary.suspectRows ?? [];
	const tp = rows.filter((i) => poisoned.has(i)).length;
	return {
		blends,
		seconds,
		cheapSeconds: r.cascade.cheapMs / 1000,
		peakRssMiB: process.resourceUsage().maxRSS / 1024,
		testState: r.summary.test?.state ?? 'none',
		alarmBy: r.summary.test?.alarmBy ?? null,
		flipClass: r.summary.flipClass ?? null,
		suspects: rows.length,
		truePositives: tp,
		poisoned: poisoned.size,
		precision: rows.length > 0 ? tp / rows.length : null,
		recall: poisoned.size > 0 ? tp / poisoned.size : null,
	};
}

/** AUROC of `score` for the positives (ties count half). */
function auroc(score: readonly number[], positive: readonly boolean[]): number | null {
	const idx = score.map((_, i) => i).sort((a, b) => score[a] - score[b]);
	let rankSum = 0;
	let pos = 0;
	for (let k = 0; k < idx.length; ) {
		let j = k;
		while (j + 1 < idx.length && score[idx[j + 1]] === score[idx[k]]) {
			j++;
		}
		const rank = (k + j) / 2 + 1;
		for (let t = k; t <= j; t++) {
			if (positive[idx[t]]) {
				rankSum += rank;
				pos++;
			}
		}
		k = j + 1;
	}
	const neg = idx.length - pos;
	return pos === 0 || neg === 0 ? null : (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

interface Detection {
	readonly name: string;
	readonly flagged: number;
	readonly precision: number | null;
	readonly recall: number | null;
	readonly auroc: number | null;
}

function detections(file: string, poisoned: ReadonlySet<number>, blends: number): Detection[] {
	const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(2);
	const rows = lines.map((l) => l.split(','));
	const num = (v: string): number => (v === '' ? Number.NEGATIVE_INFINITY : Number(v));
	const truth = rows.map((r) => poisoned.has(Number(r[0])));
	const total = poisoned.size;
	const at = (name: string, flaggedIdx: number[], score: number[]): Detection => {
		const tp = flaggedIdx.filter((i) => truth[i]).length;
		return { name, flagged: flaggedIdx.length, precision: flaggedIdx.length > 0 ? tp / flaggedIdx.length : null, recall: total > 0 ? tp / total : null, auroc: auroc(score, truth) };
	};
	const ours = rows.map((r) => num(r[2]));
	const suspects = rows.map((r, i) => (r[3] === '1' ? i : -1)).filter((i) => i >= 0);
	const strip = rows.map((r) => num(r[4]));
	const spectral = rows.map((r) => num(r[5]));
	// Spectral Signatures at its paper cut: the top 1.5·ε of each label (ε = 0.05).
	const byLabel = new Map<string, number[]>();
	rows.forEach((r, i) => byLabel.set(r[1], [...(byLabel.get(r[1]) ?? []), i]));
	const ssFlagged: number[] = [];
	for (const idx of byLabel.values()) {
		const sorted = [...idx].sort((a, b) => spectral[b] - spectral[a]);
		ssFlagged.push(...sorted.slice(0, Math.floor(1.5 * 0.05 * idx.length)));
	}
	// STRIP at an equal budget: as many rows as blind mode flags, lowest blended entropy first.
	const stripFlagged = strip
		.map((_, i) => i)
		.sort((a, b) => strip[b] - strip[a])
		.slice(0, Math.max(1, suspects.length));
	return [at('blind mode (cascade)', suspects, ours), at(`STRIP on training rows (${blends} blends, equal budget)`, stripFlagged, strip), at('Spectral Signatures (1.5·ε per label)', ssFlagged, spectral)];
}

function pct(v: number | null): string {
	return v === null ? '–' : `${(100 * v).toFixed(1)} %`;
}

async function main(): Promise<void> {
	const args = parseArgs(process.argv.slice(2));
	fs.mkdirSync(args.out, { recursive: true });
	if (args.mode === 'train') {
		const r = await train(args, args.target as 'demo-cnn' | 'mnist-node');
		fs.writeFileSync(path.join(args.out, `${r.arch}.train.json`), JSON.stringify(r, null, 1));
		return;
	}
	if (args.mode === 'threads') {
		const arch = args.target ?? '';
		const t = JSON.parse(fs.readFileSync(path.join(args.out, `${arch}.train.json`), 'utf8')) as TrainResult;
		fs.writeFileSync(path.join(args.out, `${arch}.threads.json`), JSON.stringify(await threadTimes(t.runDir, Math.max(1, Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 2))), null, 1));
		return;
	}
	if (args.mode === 'scan-blends') {
		const arch = args.target ?? '';
		const t = JSON.parse(fs.readFileSync(path.join(args.out, `${arch}.train.json`), 'utf8')) as TrainResult;
		const truth = JSON.parse(fs.readFileSync(path.join(args.out, `${arch}.truth.json`), 'utf8')) as { poisonedRows: number[] };
		const blends = args.blends ?? 0;
		if (!Number.isInteger(blends) || blends < 1) {
			throw new Error(`--blends: expected a positive integer, got ${String(args.blends)}`);
		}
		const r = await scanAtBlends(t.runDir, blends, new Set(truth.poisonedRows));
		const file = path.join(args.out, `${arch}.blends.json`);
		const done = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as BlendsScan[]) : [];
		fs.writeFileSync(file, JSON.stringify([...done.filter((d) => d.blends !== blends), r].sort((a, b) => a.blends - b.blends), null, 1));
		return;
	}
	if (args.mode === 'scan') {
		const arch = args.target ?? '';
		const t = JSON.parse(fs.readFileSync(path.join(args.out, `${arch}.train.json`), 'utf8')) as TrainResult;
		const r = await scan(t.runDir);
		fs.writeFileSync(path.join(args.out, `${arch}.scan.json`), JSON.stringify(r, null, 1));
		return;
	}
	const report: string[] = [
		`# bench:blind-scale (${new Date().toISOString()})`,
		'',
		`${args.rows} ${args.data === 'rgb32' ? 'synthetic 32×32×3 (bench/syntheticRgb.ts)' : 'MNIST'} training rows, ${args.attack} θ = ${args.theta} → 0, adam, batch 64, ${args.epochs} epoch(s), tfjs wasm; every row recorded by the SDK and scanned by blind mode.`,
		'',
		'| architecture | ASR (p0) | clean acc | epoch s | scan s (stage 1 / 2 / test / 3) | scan / epoch | scan peak RSS | run folder (train rows) | SDK start s | detector | flagged | precision | recall (all poisoned) | AUROC |',
		'|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
	];
	const threadLines: string[] = [];
	const blendLines: string[] = [];
	const studyArg = process.argv.find((a) => a.startsWith('--blends-study='))?.slice('--blends-study='.length);
	const study = studyArg === undefined ? null : studyArg.split(',').map(Number);
	if (study !== null && study.some((k) => !Number.isInteger(k) || k < 1)) {
		throw new Error(`--blends-study: expected positive integers separated by commas, got "${String(studyArg)}"`);
	}
	for (const arch of args.archs) {
		const trainFile = path.join(args.out, `${arch}.train.json`);
		const scanFile = path.join(args.out, `${arch}.scan.json`);
		const self = [
			process.execPath, '--import', 'tsx', __filename, '--out', args.out, '--data', args.data, '--attack', args.attack, '--rows', String(args.rows), '--epochs', String(args.epochs), '--theta', String(args.theta), '--seed', String(args.seed),
		];
		if (!fs.existsSync(trainFile)) {
			const r = spawnSync(self[0], [...self.slice(1), '--train', arch], { stdio: 'inherit' });
			if (r.status !== 0) {
				throw new Error(`training ${arch} failed (exit ${r.status})`);
			}
		}
		if (!fs.existsSync(scanFile)) {
			const r = spawnSync(self[0], [...self.slice(1), '--scan', arch], { stdio: 'inherit' });
			if (r.status !== 0) {
				throw new Error(`scanning ${arch} failed (exit ${r.status})`);
			}
		}
		const threadsFile = path.join(args.out, `${arch}.threads.json`);
		if (!fs.existsSync(threadsFile) && !process.argv.includes('--no-threads')) {
			const rounds = process.argv.filter((a) => a.startsWith('--rounds='));
			const r = spawnSync(self[0], [...self.slice(1), ...rounds, '--threads', arch], { stdio: 'inherit' });
			if (r.status !== 0) {
				throw new Error(`timing threads on ${arch} failed (exit ${r.status})`);
			}
		}
		if (study !== null) {
			const blendsFile = path.join(args.out, `${arch}.blends.json`);
			for (const k of study) {
				const done = fs.existsSync(blendsFile) ? (JSON.parse(fs.readFileSync(blendsFile, 'utf8')) as BlendsScan[]) : [];
				if (done.some((d) => d.blends === k)) {
					continue;
				}
				// Each level in its own process: its peak RSS and its timing are its own.
				const r = spawnSync(self[0], [...self.slice(1), '--blends', String(k), '--scan-blends', arch], { stdio: 'inherit' });
				if (r.status !== 0) {
					throw new Error(`scanning ${arch} at ${k} blends failed (exit ${r.status})`);
				}
			}
		}
		const t = JSON.parse(fs.readFileSync(trainFile, 'utf8')) as TrainResult;
		const s = JSON.parse(fs.readFileSync(scanFile, 'utf8')) as ScanResult;
		const truth = JSON.parse(fs.readFileSync(path.join(args.out, `${arch}.truth.json`), 'utf8')) as { poisonedRows: number[] };
		const epoch = t.epochSeconds.reduce((a, b) => a + b, 0) / t.epochSeconds.length;
		const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
		detections(s.rowScoresFile, new Set(truth.poisonedRows), s.blends ?? 8).forEach((d, k) => {
			const head =
				k === 0
					? `| ${arch} | ${pct(t.asr)} (${pct(t.p0)}) | ${pct(t.cleanAccuracy)} | ${epoch.toFixed(1)} | ${s.seconds.toFixed(1)} (${s.cheapSeconds.toFixed(1)} / ${s.hessianSeconds.toFixed(1)} / ${s.testSeconds === undefined ? '–' : s.testSeconds.toFixed(1)} / ${s.directionSeconds.toFixed(1)}) | ${(s.seconds / epoch).toFixed(2)} | ${s.peakRssMiB.toFixed(0)} MiB | ${mib(t.runFolderBytes)} (${mib(t.trainSampleBytes)}) | ${t.startSeconds.toFixed(1)} |`
					: '| | | | | | | | | |';
			report.push(`${head} ${d.name} | ${d.flagged} | ${pct(d.precision)} | ${pct(d.recall)} | ${d.auroc === null ? '–' : d.auroc.toFixed(3)} |`);
		});
		if (fs.existsSync(threadsFile)) {
			const th = JSON.parse(fs.readFileSync(threadsFile, 'utf8')) as { one: StageSeconds[]; two: StageSeconds[] };
			const fmt = (v: StageSeconds): string => `${v.total.toFixed(1)} s (${v.cheap.toFixed(1)} / ${v.hessian.toFixed(1)} / ${v.test.toFixed(1)} / ${v.direction.toFixed(1)})`;
			// Paired by round (1 thread, then 2 threads, back to back): the load of a shared machine changes between rounds.
			const ratios = th.one.map((v, i) => (th.two[i] === undefined ? null : v.total / th.two[i].total)).filter((v): v is number => v !== null);
			threadLines.push(
				`- ${arch}, all ${t.rows} rows: 1 thread ${th.one.map(fmt).join(', ')}; 2 threads ${th.two.map(fmt).join(', ')} ` +
					`(alternating, same process, same decisions): speed-up of the whole scan per round ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}; scan / epoch on 2 threads ${th.two.map((v) => (v.total / epoch).toFixed(2)).join(', ')}`,
			);
		}
		const blendsFile = path.join(args.out, `${arch}.blends.json`);
		if (fs.existsSync(blendsFile)) {
			for (const b of JSON.parse(fs.readFileSync(blendsFile, 'utf8')) as BlendsScan[]) {
				blendLines.push(
					`| ${arch} | ${b.blends} | ${b.seconds.toFixed(1)} (${b.cheapSeconds.toFixed(1)}) | ${(b.seconds / epoch).toFixed(2)} | ${b.peakRssMiB.toFixed(0)} MiB | ${b.testState}${b.alarmBy ? ` by ${b.alarmBy}` : ''} | ${b.flipClass ?? '–'} | ${b.suspects} | ${pct(b.precision)} | ${pct(b.recall)} |`,
				);
			}
		}
		report.push(`|  |  |  |  |  |  |  |  |  | (blind test ${s.testState ?? '–'}${s.alarmBy ? ` by ${s.alarmBy}` : ''}; suspects only on an alarm; cut ${s.cut}; stage 1 on ${s.threads ?? 1} thread(s); candidate trigger flips ${pct(s.flipRate)} of clean probes to ${s.flipClass ?? '–'}, a random direction ${pct(s.controlFlipRate)}; ${t.poisoned} poisoned rows) | | | | |`);
	}
	if (threadLines.length > 0) {
		report.push('', 'The whole scan on 1 vs 2 worker threads, seconds in total (stage 1 / 2 / test / 3); the machine has 2 cores:', ...threadLines);
	}
	if (blendLines.length > 0) {
		report.push(
			'',
			'The whole scan at each level of `--blends-study` (blends per row in stage 1), each in its own process, row scores not written; recall and precision over all poisoned rows at the cut:',
			'',
			'| architecture | blends | scan s (stage 1) | scan / epoch | peak RSS | blind test | flip class | suspects | precision | recall |',
			'|---|---|---|---|---|---|---|---|---|---|',
			...blendLines,
		);
	}
	report.push('', 'Timings are wall-clock on a shared machine; compare the ratio column. Peak RSS is the scanning process\'s maximum resident set (process.resourceUsage().maxRSS).');
	const text = `${report.join('\n')}\n`;
	const reportFile = path.resolve(process.argv.find((a) => a.startsWith('--report='))?.slice('--report='.length) ?? path.join(__dirname, '..', 'docs/blind-scale.md'));
	fs.writeFileSync(reportFile, text);
	process.stdout.write(text);
}

main().catch((err: unknown) => {
	process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
	process.exit(1);
});
