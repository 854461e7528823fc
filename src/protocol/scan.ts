/**
 * Messages between a scan client (extension host, bench) and the scan worker (src/datasets/scanWorker.ts).
 * host → worker: {@link ScanRequest}; worker → host: {@link ScanReply}. One request per worker; the host terminates
 * the worker to cancel. Pure module.
 */
import type { CsvPart, CsvPlan, CsvSchema } from '../datasets/csvReader';
import type { ScanResult } from '../datasets/scan';
import type { ScanOptions } from '../datasets/table';

/** Where the worker reads the dataset: a file on disk (saved documents) or UTF-8 bytes (unsaved edits). */
export type ScanSource = { readonly path: string } | { readonly bytes: Uint8Array };

/** host → worker: scan one file. */
export interface ScanRequest {
	readonly kind: 'scan';
	readonly id: number;
	/** Name used for the delimiter/format choice and in messages. */
	readonly fileName: string;
	readonly source: ScanSource;
	readonly options: ScanOptions;
	/**
	 * Script of a second worker for parsing the second half of a large quote-free CSV in parallel (the worker's own
	 * path); absent: parse in one thread.
	 */
	readonly helperPath?: string;
	/** Smallest text (characters) parsed with the helper. Default 16 000 000. */
	readonly parallelMinChars?: number;
	/**
	 * Fewest CPU cores for the helper. Default 4: on 2 cores the extension host's own thread needs the second one
	 * (measured: two parse threads on 2 busy cores stretched the host's worst event-loop stall to ~300 ms).
	 */
	readonly parallelMinCores?: number;
}

/** worker → helper worker: parse one slice of a CSV against a known plan. */
export interface PartRequest {
	readonly kind: 'part';
	readonly id: number;
	readonly text: string;
	readonly plan: CsvPlan & { readonly schema: CsvSchema };
	readonly baseLine: number;
	readonly baseOffset: number;
}

/** helper worker → worker. */
export type PartReply =
	| { readonly kind: 'partResult'; readonly id: number; readonly part: CsvPart }
	| { readonly kind: 'error'; readonly id: number; readonly message: string };

/** worker → host: progress, the result, or a failure. */
export type ScanReply =
	| { readonly kind: 'progress'; readonly id: number; readonly fraction: number; readonly phase: string }
	| { readonly kind: 'result'; readonly id: number; readonly result: ScanResult }
	| { readonly kind: 'error'; readonly id: number; readonly message: string };

/** Type guard for messages arriving from a worker. */
export function isScanReply(v: unknown): v is ScanReply {
	if (typeof v !== 'object' || v === null) {
		return false;
	}
	const k = (v as { kind?: unknown }).kind;
	return (k === 'progress' || k === 'result' || k === 'error') && typeof (v as { id?: unknown }).id === 'number';
}

/** Type guard for slice requests arriving at a helper worker. */
export function isPartRequest(v: unknown): v is PartRequest {
	if (typeof v !== 'object' || v === null) {
		return false;
	}
	const r = v as Partial<PartRequest>;
	return r.kind === 'part' && typeof r.text === 'string' && typeof r.baseLine === 'number' && typeof r.plan === 'object';
}

/** Type guard for replies arriving from a helper worker. */
export function isPartReply(v: unknown): v is PartReply {
	if (typeof v !== 'object' || v === null) {
		return false;
	}
	const k = (v as { kind?: unknown }).kind;
	return k === 'partResult' || k === 'error';
}

/** Type guard for messages arriving at the worker. */
export function isScanRequest(v: unknown): v is ScanRequest {
	if (typeof v !== 'object' || v === null) {
		return false;
	}
	const r = v as Partial<ScanRequest>;
	return r.kind === 'scan' && typeof r.id === 'number' && typeof r.fileName === 'string' && typeof r.source === 'object' && r.source !== null;
}
