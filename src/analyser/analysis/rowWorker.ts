/**
 * Worker-thread entry (bundled to dist/rowWorker.js): blind mode's per-row stages on one share of the work, on its own
 * tfjs backend, so they use every core: stage 1 (cascade.ts `cheapRange`) over a range of training rows, stage 2
 * (sampleEigen.ts) over whole chunks of the scanned rows, stage 3 (cascade.ts `directionRange`) over a range of rows,
 * or the class-shortcut test's universal perturbations (blindTest.ts) for a share of the classes. Receives one
 * {@link RowWorkerTask} as `workerData`, posts one {@link RowWorkerReply} and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, type BackendRequest } from '../../tfjs/backend';
import { logitModelFromLayers } from '../curvature/index';
import { perClassPerturbations } from './blindTest';
import { blendPool, cheapRange, directionRange, openTrainingRows, type CheapPart } from './cascade';
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
	/** Stage 3 instead: the candidate direction, its flip class and size, over rows [start, end) of the same view. */
	readonly direction?: { readonly values: Float64Array; readonly flipClass: number; readonly rms: number };
	/** The class-shortcut test's universal perturbations for `classes` instead (`start`/`end` unused): on these probes and clean predictions. */
	readonly shortcut?: ShortcutTask;
}

/** A share of the class-shortcut test: what blindTest.ts `perClassPerturbations` needs besides the model. */
export interface ShortcutTask {
	readonly classes: readonly number[];
	readonly numClasses: number;
	readonly probeData: Float32Array;
	readonly probeLabels: Int32Array;
	readonly clean: Int32Array;
	readonly steps: number;
	readonly norm: number;
	readonly seed: number;
}

/** Stage 3's drops of rows [start, end). */
export interface DirectionPart {
	readonly start: number;
	readonly drop: Float64Array;
	readonly rows: number;
}

/** The shortcut test's answer for its classes (same order). */
export interface ShortcutPart {
	readonly classes: readonly number[];
	readonly rates: (number | null)[];
	readonly directions: (Float64Array | null)[];
}

/** A worker's answer. */
export type RowWorkerReply =
	| { readonly ok: true; readonly part: CheapPart }
	| { readonly ok: true; readonly eigen: SampleEigen & { readonly start: number } }
	| { readonly ok: true; readonly direction: DirectionPart }
	| { readonly ok: true; readonly shortcut: ShortcutPart }
	| { readonly ok: false; readonly error: string };

type Answer = { part: CheapPart } | { eigen: SampleEigen & { readonly start: number } } | { direction: DirectionPart } | { shortcut: ShortcutPart };

async function run(task: RowWorkerTask): Promise<Answer> {
	await selectBackend(task.backend);
	const ctx = await loadRunContext(task.runDir);
	if (task.shortcut !== undefined) {
		const sc = task.shortcut;
		const model = await loadCheckpointModel(ctx, task.checkpointDir);
		const logit = logitModelFromLayers(model, task.checkpointDir);
		try {
			const all = await perClassPerturbations(model, logit, { data: sc.probeData, labels: sc.probeLabels }, sc.clean, sc.numClasses, { steps: sc.steps, norm: sc.norm, seed: sc.seed, classes: sc.classes });
			return { shortcut: { classes: sc.classes, rates: sc.classes.map((c) => all.rates[c]), directions: sc.classes.map((c) => all.directions[c]) } };
		} finally {
			logit.dispose();
			model.dispose();
		}
	}
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
			return { eigen: { start: task.start, ...(await sampleTopEigen(logit, data, labels, positions.length, dim, { chunk: task.chunk })) } };
		}
		if (task.direction !== undefined) {
			const d = task.direction;
			return { direction: await directionRange(logit, reader, reader.labels, d.values, d.flipClass, d.rms, task.start, task.end, { chunk: task.chunk }) };
		}
		const pool = await blendPool(reader, task.seed ?? 0);
		return { part: await cheapRange(logit, model, reader, pool, task.start, task.end, { chunk: task.chunk, blends: task.blends, seed: task.seed }) };
	} finally {
		logit.dispose();
		model.dispose();
		await file.close();
	}
}

/** The buffers a reply hands over instead of copying. */
function transfers(a: Answer): ArrayBuffer[] {
	if ('eigen' in a) {
		return [a.eigen.lambda.buffer, a.eigen.vectors.buffer] as ArrayBuffer[];
	}
	if ('direction' in a) {
		return [a.direction.drop.buffer] as ArrayBuffer[];
	}
	if ('shortcut' in a) {
		return a.shortcut.directions.filter((d): d is Float64Array => d !== null).map((d) => d.buffer as ArrayBuffer);
	}
	return [a.part.strip.buffer, ...(a.part.reps === null ? [] : [a.part.reps.buffer])] as ArrayBuffer[];
}

if (parentPort !== null) {
	const port = parentPort;
	run(workerData as RowWorkerTask).then(
		(answer) => port.postMessage({ ok: true, ...answer }, transfers(answer)),
		(err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies RowWorkerReply),
	);
}
