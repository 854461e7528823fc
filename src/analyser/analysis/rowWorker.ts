/**
 * Worker-thread entry (bundled to dist/rowWorker.js): stage 1 of blind mode's cascade (cascade.ts `cheapRange`) over
 * one range of training rows, on its own tfjs backend, so the cheap per-row scores use every core. Receives one
 * {@link RowWorkerTask} as `workerData`, posts one {@link RowWorkerReply} and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, type BackendRequest } from '../../tfjs/backend';
import { logitModelFromLayers } from '../curvature/index';
import { blendPool, cheapRange, openTrainingRows, type CheapPart } from './cascade';
import { loadCheckpointModel } from './checkpoint';
import { loadRunContext } from './context';
import { subsetReader } from './rowSubset';

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
}

/** A worker's answer. */
export type RowWorkerReply = { readonly ok: true; readonly part: CheapPart } | { readonly ok: false; readonly error: string };

async function run(task: RowWorkerTask): Promise<CheapPart> {
	await selectBackend(task.backend);
	const ctx = await loadRunContext(task.runDir);
	const file = await openTrainingRows(ctx, 'blind mode (worker)');
	const reader = task.rows === undefined ? file : subsetReader(file, task.rows);
	const model = await loadCheckpointModel(ctx, task.checkpointDir);
	const logit = logitModelFromLayers(model, task.checkpointDir);
	try {
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
		(part) => {
			const transfer = [part.strip.buffer, ...(part.reps === null ? [] : [part.reps.buffer])] as ArrayBuffer[];
			port.postMessage({ ok: true, part } satisfies RowWorkerReply, transfer);
		},
		(err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies RowWorkerReply),
	);
}
