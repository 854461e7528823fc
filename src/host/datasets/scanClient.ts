/**
 * Runs a scan in a worker thread and resolves with its result. Used by the extension host and the bench; pure Node
 * (no `vscode`). Each scan gets a fresh worker, and cancelling terminates it, which frees a 100 MB parse at once.
 */
import { Worker } from 'node:worker_threads';
import type { ScanResult } from '../../datasets/scan';
import { isScanReply } from '../../protocol/scan';
import type { ScanRequest, ScanSource } from '../../protocol/scan';
import type { ScanOptions } from '../../datasets/table';

/** Options of {@link scanInWorker}. */
export interface WorkerScanOptions {
	/** Absolute path of the worker script: dist/scanWorker.js, or src/datasets/scanWorker.ts with `execArgv`. */
	readonly workerPath: string;
	readonly fileName: string;
	readonly source: ScanSource;
	readonly options: ScanOptions;
	/** Extra Node flags for the worker (e.g. ['--import', 'tsx'] to run the TypeScript entry in tests). */
	readonly execArgv?: string[];
	readonly onProgress?: (fraction: number, phase: string) => void;
	/** Aborting terminates the worker and rejects with an Error named 'AbortError'. */
	readonly signal?: AbortSignal;
	/** Let the worker parse large quote-free CSVs with a second thread (default true). */
	readonly parallel?: boolean;
	/** Smallest text parsed with two threads (characters); for tests. */
	readonly parallelMinChars?: number;
	/** Fewest CPU cores for a two-thread parse (default 4); for tests and benches. */
	readonly parallelMinCores?: number;
}

/** Scans one dataset in a new worker thread. */
export function scanInWorker(o: WorkerScanOptions): Promise<ScanResult> {
	return new Promise<ScanResult>((resolve, reject) => {
		if (o.signal?.aborted) {
			reject(abortError(o.fileName));
			return;
		}
		const worker = new Worker(o.workerPath, o.execArgv ? { execArgv: o.execArgv } : {});
		let settled = false;
		const finish = (fn: () => void): void => {
			if (!settled) {
				settled = true;
				o.signal?.removeEventListener('abort', onAbort);
				void worker.terminate();
				fn();
			}
		};
		const onAbort = (): void => finish(() => reject(abortError(o.fileName)));
		o.signal?.addEventListener('abort', onAbort);
		worker.on('message', (msg: unknown) => {
			if (!isScanReply(msg)) {
				return;
			}
			if (msg.kind === 'progress') {
				o.onProgress?.(msg.fraction, msg.phase);
			} else if (msg.kind === 'result') {
				finish(() => resolve(msg.result));
			} else {
				finish(() => reject(new Error(msg.message)));
			}
		});
		worker.on('error', (e) => finish(() => reject(e)));
		worker.on('exit', (code) => finish(() => reject(new Error(`${o.fileName}: scan worker exited with code ${code}`))));
		const transfer = 'bytes' in o.source ? [o.source.bytes.buffer as ArrayBuffer] : [];
		const request: ScanRequest = {
			kind: 'scan', id: 1, fileName: o.fileName, source: o.source, options: o.options,
			helperPath: o.parallel === false ? undefined : o.workerPath, parallelMinChars: o.parallelMinChars, parallelMinCores: o.parallelMinCores,
		};
		worker.postMessage(request, transfer);
	});
}

function abortError(fileName: string): Error {
	const e = new Error(`${fileName}: scan cancelled`);
	e.name = 'AbortError';
	return e;
}
