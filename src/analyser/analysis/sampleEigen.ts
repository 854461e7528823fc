/**
 * Stage 2's per-row work (blind mode's cascade): the top eigenpair of each scanned row's input Hessian, in chunks of
 * rows. Shared by the analyser's own thread and its worker threads (rowWorker.ts), which take whole chunks, so a row's
 * eigenpair is computed in the same chunk whatever the thread count.
 */
import type { CancelSignal, LogitModel } from '../curvature/index';
import { checkpoint as cancelPoint } from '../curvature/cancel';
import { batchCurvature } from './spectrum';

/** Rows per chunk of the per-row eigenpairs (one batched curvature each). */
export const EIGEN_CHUNK = 256;

/** λ1 per row and its unit eigenvector (row-major, `dim` values per row). */
export interface SampleEigen {
	readonly lambda: Float64Array;
	readonly vectors: Float32Array;
}

/**
 * The top eigenpair of every row's input Hessian, `chunk` rows at a time.
 * @param data `total` rows of `dim` values; @param labels their labels
 */
export async function sampleTopEigen(
	logit: LogitModel,
	data: Float32Array,
	labels: Int32Array,
	total: number,
	dim: number,
	options: { readonly chunk?: number; readonly signal?: CancelSignal; readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<SampleEigen> {
	const chunk = options.chunk ?? EIGEN_CHUNK;
	const lambda = new Float64Array(total);
	const vectors = new Float32Array(total * dim);
	for (let start = 0; start < total; start += chunk) {
		await cancelPoint(options.signal, 'blind scan', start);
		const size = Math.min(chunk, total - start);
		const curv = await batchCurvature(logit, data.subarray(start * dim, (start + size) * dim), labels.subarray(start, start + size), options.signal);
		try {
			const ps = await curv.perSample(options.signal);
			ps.eigenvalues.forEach((l, i) => {
				lambda[start + i] = l;
				vectors.set(ps.eigenvectors[i], (start + i) * dim);
			});
		} finally {
			curv.dispose();
		}
		options.onProgress?.(start + size, total);
	}
	return { lambda, vectors };
}
