/**
 * Worker-thread entry (bundled to dist/rowWorker.js): blind mode's per-row stages on one share of the rows, on its own
 * tfjs backend, so they use every core: stage 1 (cascade.ts `cheapRange`) over a range of training rows, or stage 2
 * (sampleEigen.ts) over whole chunks of the scanned rows. Receives one {@link RowWorkerTask} as `workerData`, posts one
 * {@link RowWorkerReply} and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, type BackendRequest } from '../../tfjs/backend';
import { logitModelFromLayers } from '../curvature/index';
import { blendPool, cheapRange, openTrainingRows, type CheapPart } from './cascade';
import { loadCheckpointModel } from './checkpoint';
import { loadRunContext } from './context';
import { subsetReader } from './rowSubset';
import { sampleTopEigen, type SampleEigen } from './sampleEigen';

/** What one worker scores. */
export interface RowWorkerTask {
	readonly runDir: string;
	readonly checkpointDir: string;
	readonly backend: BackendRequest;
	readonly start: number;
	readonly end: number;
	readonly chunk?: number;
	readonly blends?: number;
	readonly seed?: number;
	/** Positions of the rows scored (a live scan's subsample, rowSubset.ts); `start`/`end` count within them. Default: every row. */
	readonly rows?: Int32Array;
	/**
	 * Stage 2 instead of stage 1: the positions (in the same view of the rows) of the scanned rows; the worker takes
	 * `eigen[start…end)`, in chunks of `chunk` counted from `start` (a multiple of `chunk`).
	 */
	readonly eigen?: Int32Array;
}

/** A worker's answer. */
export type RowWorkerReply =
	| { readonly ok: true; readonly part: CheapPart }
	| { readonly ok: true; readonly eigen: SampleEigen & { readonly start: number } }
	| { readonly ok: false; readonly error: string };

async function run(task: RowWorkerTask): Promise<CheapPart | (SampleEigen & { readonly start: number })> {
	await selectBackend(task.backend);
	const ctx = await loadRunContext(task.runDir);
	const file = await openTrainingRows(ctx, 'blind mode (worker)');
	const reader = task.rows === undefined ? file : subsetReader(file, task.rows);
	const model = await loadCheckpointModel(ctx, task.checkpointDir);
	const logit = logitModelFromLayers(model, task.checkpointDir);
	try {
		if (task.eigen !== undefined) {
			const positions = task.eigen.subarray(task.start, task.end);
			const dim = ctx.dim;
			const data = await reader.readRows(positions);
			const labels = Int32Array.from(positions, (i) => reader.labels[i]);
			return { start: task.start, ...(await sampleTopEigen(logit, data, labels, positions.length, dim, { chunk: task.chunk })) };
		}
		const pool = await blendPool(reader, task.seed ?? 0);
		return await cheapRange(logit, model, reader, pool, task.start, task.end, { chunk: task.chunk, blends: task.blends, seed: task.seed });
	} finally {
		logit.dispose();
		model.dispose();
		await file.close();
	}
}

if (parentPort !== null) {
	const port = parentPort;
	run(workerData as RowWorkerTask).then(
		(result) => {
			if ('lambda' in result) {
				port.postMessage({ ok: true, eigen: result } satisfies RowWorkerReply, [result.lambda.buffer, result.vectors.buffer] as ArrayBuffer[]);
				return;
			}
			const part = result;
			const transfer = [part.strip.buffer, ...(part.reps === null ? [] : [part.reps.buffer])] as ArrayBuffer[];
			port.postMessage({ ok: true, part } satisfies RowWorkerReply, transfer);
		},
		(err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies RowWorkerReply),
	);
}
