/**
 * Stages 1 and 2 of blind mode's cascade on worker threads (node:worker_threads): the rows are split into one
 * contiguous range per thread (at chunk boundaries), each thread loads the checkpoint on its own tfjs backend (wasm or
 * cpu) and scores its range; the parts are joined in this thread. The results are the same as in one thread (stage 1's
 * blend partners are seeded per chunk; stage 2's eigenpairs are computed in the same chunks of rows), so the thread
 * count changes the time, never a row's score.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { TensorSetReader } from '../../protocol/tensorFile';
import type { LogitModel } from '../curvature/index';
import { cheapStage, finishCheap, type CascadeOptions, type CheapPart, type CheapStage } from './cascade';
import type { RowWorkerReply, RowWorkerTask } from './rowWorker';
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

async function cheapWorker(task: RowWorkerTask): Promise<CheapPart> {
	const r = await runWorker(task);
	if ('lambda' in r) {
		throw new Error('blind mode worker: asked for stage 1, answered stage 2');
	}
	return r;
}

async function eigenWorker(task: RowWorkerTask): Promise<EigenPart> {
	const r = await runWorker(task);
	if (!('lambda' in r)) {
		throw new Error('blind mode worker: asked for stage 2, answered stage 1');
	}
	return r;
}

function runWorker(task: RowWorkerTask): Promise<CheapPart | EigenPart> {
	return new Promise((resolve, reject) => {
		const worker = startWorker(task);
		let settled = false;
		worker.once('message', (reply: RowWorkerReply) => {
			settled = true;
			void worker.terminate();
			if (reply.ok) {
				resolve('eigen' in reply ? reply.eigen : reply.part);
			} else {
				reject(new Error(`blind mode worker (rows ${task.start}…${task.end - 1}): ${reply.error}`));
			}
		});
		worker.once('error', (err) => {
			settled = true;
			reject(err);
		});
		worker.once('exit', (code) => {
			if (!settled) {
				reject(new Error(`blind mode worker (rows ${task.start}…${task.end - 1}) exited with code ${code} before answering`));
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
	const parts = await Promise.all(tasks.map(cheapWorker));
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
	const parts = await Promise.all(tasks.map(eigenWorker));
	const lambda = new Float64Array(total);
	const vectors = new Float32Array(total * dim);
	for (const p of parts) {
		lambda.set(p.lambda, p.start);
		vectors.set(p.vectors, p.start * dim);
	}
	options.onProgress?.(total, total);
	return { lambda, vectors };
}
