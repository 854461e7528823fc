/**
 * Blind mode's per-row stages and its class-shortcut test on worker threads (node:worker_threads): the rows are split
 * into one contiguous range per thread (at chunk boundaries), each thread loads the checkpoint on its own tfjs backend
 * (wasm or cpu) and scores its range; the parts are joined in this thread. The results are the same as in one thread
 * (stage 1's blend partners are seeded per chunk; stages 2 and 3 run in the same chunks of rows; the shortcut test's
 * classes are measured one by one with their own seeds), so the thread count changes the time, never a score.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { TensorSetReader } from '../../protocol/tensorFile';
import type { LogitModel } from '../curvature/index';
import { cheapStage, directionRange, finishCheap, type CascadeOptions, type CheapPart, type CheapStage } from './cascade';
import type { PerClassPerturbations } from './blindTest';
import type { DirectionPart, RowWorkerReply, RowWorkerTask, ShortcutPart } from './rowWorker';
import { EIGEN_CHUNK, sampleTopEigen, type SampleEigen } from './sampleEigen';
import type { CancelSignal } from '../curvature/index';

/** Threads for stage 1 by default: the machine's cores (`os.availableParallelism()`), at most 16. */
export function defaultRowThreads(): number {
	return Math.max(1, Math.min(16, os.availableParallelism()));
}

/**
 * A worker on dist/rowWorker.js next to the bundle; from the TypeScript sources (tests, benches run through tsx), a
 * small CommonJS bootstrap that registers tsx's require hook in the worker and loads rowWorker.ts.
 */
function startWorker(task: RowWorkerTask): Worker {
	const bundled = path.join(__dirname, 'rowWorker.js');
	if (fs.existsSync(bundled)) {
		return new Worker(bundled, { workerData: task, execArgv: [] });
	}
	const source = path.join(__dirname, 'rowWorker.ts');
	return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: task, execArgv: [] });
}

/** True when a worker script is there (a copy of the bundle without dist/rowWorker.js runs stage 1 in one thread). */
function workerAvailable(): boolean {
	return fs.existsSync(path.join(__dirname, 'rowWorker.js')) || fs.existsSync(path.join(__dirname, 'rowWorker.ts'));
}

/**
 * One contiguous range of rows per worker thread, cut at multiples of `chunk` (so a chunk is never split between
 * threads); null when the work stays in this thread: one thread (asked for, or one chunk of work), a GPU backend, or no
 * worker script.
 */
function threadRanges(total: number, chunk: number, threads: number | undefined): { backend: 'wasm' | 'cpu'; ranges: { start: number; end: number }[] } | null {
	const chunks = Math.ceil(total / chunk);
	const count = Math.max(1, Math.min(threads ?? defaultRowThreads(), chunks));
	const backend = tf.getBackend();
	if (count <= 1 || (backend !== 'wasm' && backend !== 'cpu') || !workerAvailable()) {
		return null;
	}
	const ranges: { start: number; end: number }[] = [];
	for (let t = 0; t < count; t++) {
		const start = Math.floor((t * chunks) / count) * chunk;
		const end = Math.min(total, Math.floor(((t + 1) * chunks) / count) * chunk);
		if (end > start) {
			ranges.push({ start, end });
		}
	}
	return { backend, ranges };
}

type EigenPart = SampleEigen & { readonly start: number };

/** What a worker answers, by task kind. */
interface Answers {
	readonly part: CheapPart;
	readonly eigen: EigenPart;
	readonly direction: DirectionPart;
	readonly shortcut: ShortcutPart;
}

/** Runs one task on a new worker and returns its answer of kind `kind` (a reply of another kind is an error). */
function runWorker<K extends keyof Answers>(task: RowWorkerTask, kind: K): Promise<Answers[K]> {
	const what = kind === 'shortcut' ? `classes ${task.shortcut?.classes.join(', ') ?? ''}` : `rows ${task.start}…${task.end - 1}`;
	return new Promise((resolve, reject) => {
		const worker = startWorker(task);
		let settled = false;
		worker.once('message', (reply: RowWorkerReply) => {
			settled = true;
			void worker.terminate();
			if (!reply.ok) {
				reject(new Error(`blind mode worker (${what}): ${reply.error}`));
			} else if (kind in reply) {
				resolve((reply as unknown as Answers)[kind]);
			} else {
				reject(new Error(`blind mode worker (${what}): asked for '${kind}', answered '${Object.keys(reply).filter((k) => k !== 'ok').join(', ')}'`));
			}
		});
		worker.once('error', (err) => {
			settled = true;
			reject(err);
		});
		worker.once('exit', (code) => {
			if (!settled) {
				reject(new Error(`blind mode worker (${what}) exited with code ${code} before answering`));
			}
		});
	});
}

/**
 * Stage 1 over every row, on `threads` worker threads when the backend allows (wasm or cpu; a GPU backend and
 * `threads` ≤ 1 run in this thread).
 */
export async function cheapStageOnThreads(
	runDir: string,
	checkpointDir: string,
	logit: LogitModel,
	model: tf.LayersModel,
	reader: TensorSetReader,
	labels: Int32Array,
	options: CascadeOptions & {
		readonly threads?: number;
		/** When `reader` is a subset view (rowSubset.ts): its positions in the training-rows file, for the workers' own view. */
		readonly rows?: Int32Array;
	},
): Promise<CheapStage & { readonly threads: number }> {
	const n = reader.count;
	const chunk = Math.max(1, options.chunk ?? 512);
	const split = threadRanges(n, chunk, options.threads);
	if (split === null) {
		return { ...(await cheapStage(logit, model, reader, labels, options)), threads: 1 };
	}
	const t0 = performance.now();
	const { backend, ranges } = split;
	const tasks: RowWorkerTask[] = ranges.map(({ start, end }) => ({ runDir, checkpointDir, backend, start, end, chunk, blends: options.blends, seed: options.seed, ...(options.rows === undefined ? {} : { rows: options.rows }) }));
	const parts = await Promise.all(tasks.map((t) => runWorker(t, 'part')));
	return { ...finishCheap(parts, n, labels, t0), threads: tasks.length };
}

/**
 * Stage 2's per-row eigenpairs of the scanned rows (`data`, `labels`; their positions `positions` in the same view of
 * the rows as the workers get: every row, or the live subsample `rows`) on `threads` worker threads, whole chunks of
 * `chunk` rows each, so every row's eigenpair comes out as in one thread. One thread, a GPU backend or a missing worker
 * script: in this thread.
 */
export async function sampleEigenOnThreads(
	runDir: string,
	checkpointDir: string,
	logit: LogitModel,
	data: Float32Array,
	labels: Int32Array,
	positions: Int32Array,
	options: { readonly threads?: number; readonly chunk?: number; readonly rows?: Int32Array; readonly signal?: CancelSignal; readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<SampleEigen> {
	const total = positions.length;
	const dim = total === 0 ? 0 : data.length / total;
	const chunk = Math.max(1, options.chunk ?? EIGEN_CHUNK);
	const split = threadRanges(total, chunk, options.threads);
	if (split === null) {
		return sampleTopEigen(logit, data, labels, total, dim, options);
	}
	const { backend, ranges } = split;
	const tasks: RowWorkerTask[] = ranges.map(({ start, end }) => ({ runDir, checkpointDir, backend, start, end, chunk, eigen: positions, ...(options.rows === undefined ? {} : { rows: options.rows }) }));
	const parts = await Promise.all(tasks.map((t) => runWorker(t, 'eigen')));
	const lambda = new Float64Array(total);
	const vectors = new Float32Array(total * dim);
	for (const p of parts) {
		lambda.set(p.lambda, p.start);
		vectors.set(p.vectors, p.start * dim);
	}
	options.onProgress?.(total, total);
	return { lambda, vectors };
}

/** Stage 3 stays in this thread unless what is left of it would take longer than this (worker start-up costs about half a second). */
export const DIRECTION_THREAD_MS = 2000;

/**
 * Stage 3 (the candidate direction tested on every row of its flip class): in this thread, chunk by chunk, until a
 * second has passed (and a row of the flip class was tested); if what is left would take more than {@link DIRECTION_THREAD_MS} here, it goes to `threads`
 * worker threads, one chunk-aligned range each. Every chunk is the same whichever thread runs it, so every row's drop
 * comes out as in one thread. One thread, a GPU backend or a missing worker script: all in this thread.
 */
export async function directionStageOnThreads(
	runDir: string,
	checkpointDir: string,
	logit: LogitModel,
	reader: TensorSetReader,
	labels: Int32Array,
	direction: ArrayLike<number>,
	flipClass: number,
	rms: number,
	options: {
		readonly threads?: number;
		readonly chunk?: number;
		readonly rows?: Int32Array;
		readonly signal?: CancelSignal;
		/** Time spent in this thread before deciding (default 1000 ms; at least one chunk with a row of the flip class). */
		readonly probeMs?: number;
		/** Workers are used only when what is left would take longer than this here (default {@link DIRECTION_THREAD_MS}). */
		readonly thresholdMs?: number;
	} = {},
): Promise<{ drop: Float64Array; rows: number; ms: number; threads: number }> {
	const t0 = performance.now();
	const n = reader.count;
	const chunk = Math.max(1, options.chunk ?? 512);
	const drop = new Float64Array(n).fill(NaN);
	let rows = 0;
	let done = 0;
	const flipRowsFrom = (from: number): number => {
		let k = 0;
		for (let i = from; i < n; i++) {
			k += labels[i] === flipClass ? 1 : 0;
		}
		return k;
	};
	// In this thread first: the cost per tested row decides whether workers pay.
	while (done < n && (rows === 0 || performance.now() - t0 < (options.probeMs ?? 1000))) {
		const part = await directionRange(logit, reader, labels, direction, flipClass, rms, done, Math.min(n, done + chunk), { chunk, signal: options.signal });
		drop.set(part.drop, done);
		rows += part.rows;
		done = Math.min(n, done + chunk);
	}
	const left = flipRowsFrom(done);
	const estimateMs = rows > 0 ? ((performance.now() - t0) / rows) * left : 0;
	const split = done < n && estimateMs > (options.thresholdMs ?? DIRECTION_THREAD_MS) ? threadRanges(n - done, chunk, options.threads) : null;
	if (split === null) {
		if (done < n) {
			const part = await directionRange(logit, reader, labels, direction, flipClass, rms, done, n, { chunk, signal: options.signal });
			drop.set(part.drop, done);
			rows += part.rows;
		}
		return { drop, rows, ms: performance.now() - t0, threads: 1 };
	}
	const values = Float64Array.from(direction);
	const { backend, ranges } = split;
	const tasks: RowWorkerTask[] = ranges.map(({ start, end }) => ({
		runDir,
		checkpointDir,
		backend,
		start: done + start,
		end: done + end,
		chunk,
		direction: { values, flipClass, rms },
		...(options.rows === undefined ? {} : { rows: options.rows }),
	}));
	const parts = await Promise.all(tasks.map((t) => runWorker(t, 'direction')));
	for (const p of parts) {
		drop.set(p.drop, p.start);
		rows += p.rows;
	}
	return { drop, rows, ms: performance.now() - t0, threads: tasks.length };
}

/**
 * The class-shortcut test's per-class universal perturbations (blindTest.ts) on up to `threads` worker threads, the
 * classes split between them; null when they must stay in this thread (one thread, a GPU backend, no worker script),
 * so the caller runs them there. Every class is measured on its own with its own seed, so the split changes nothing.
 */
export function shortcutOnThreads(
	runDir: string,
	checkpointDir: string,
	probe: { readonly data: Float32Array; readonly labels: Int32Array },
	numClasses: number,
	threads?: number,
): ((clean: Int32Array, options: { readonly steps: number; readonly norm: number; readonly seed: number }) => Promise<PerClassPerturbations>) | null {
	const split = threadRanges(numClasses, 1, threads);
	if (split === null) {
		return null;
	}
	return async (clean, o) => {
		const tasks: RowWorkerTask[] = split.ranges.map(({ start, end }) => ({
			runDir,
			checkpointDir,
			backend: split.backend,
			start,
			end,
			shortcut: { classes: Array.from({ length: end - start }, (_, i) => start + i), numClasses, probeData: probe.data, probeLabels: probe.labels, clean, steps: o.steps, norm: o.norm, seed: o.seed },
		}));
		const parts = await Promise.all(tasks.map((t) => runWorker(t, 'shortcut')));
		const rates = new Array<number | null>(numClasses).fill(null);
		const directions = new Array<Float64Array | null>(numClasses).fill(null);
		for (const p of parts) {
			p.classes.forEach((c, i) => {
				rates[c] = p.rates[i];
				directions[c] = p.directions[i];
			});
		}
		return { rates, directions };
	};
}
