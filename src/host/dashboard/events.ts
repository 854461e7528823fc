/**
 * Turns events.jsonl lines into the few facts the dashboard draws. Pure (no `vscode`).
 *
 * Lines are validated by the run format's own schema (`validateEvent` in src/protocol/runFormat.ts,
 * owned by the SDK), so the dashboard and the SDK cannot drift apart silently: a line the schema
 * rejects is reported as a problem naming the file and line, and the rest of the run is still read.
 */

import { RunFormatError, validateEvent, type RunEvent } from '../../protocol/runFormat';

/** A training event, normalised for charting. */
export type TrainingEvent =
	| {
			readonly type: 'batch' | 'epoch';
			readonly step: number;
			/** 0-based epoch index as the SDK writes it. */
			readonly epoch: number;
			/** Epochs done at this event (epoch + fraction), when the writer knows the batches per epoch. */
			readonly fractionalEpoch: number | null;
			readonly timeMs: number | null;
			readonly metrics: ReadonlyMap<string, number>;
	  }
	| { readonly type: 'checkpoint'; readonly step: number; readonly timeMs: number | null }
	| { readonly type: 'end'; readonly timeMs: number | null; readonly status: 'completed' | 'failed' | 'stopped' }
	| { readonly type: 'error'; readonly timeMs: number | null; readonly message: string };

function finiteMetrics(into: Map<string, number>, metrics: Readonly<Record<string, number | null>> | undefined): void {
	if (metrics === undefined) {
		return;
	}
	for (const [k, v] of Object.entries(metrics)) {
		// tfjs logs NaN when training diverges; JSON writes it as null. A gap in the chart is the honest picture.
		if (typeof v === 'number' && Number.isFinite(v)) {
			into.set(k, v);
		}
	}
}

/** Converts a validated run event. */
export function toTrainingEvent(e: RunEvent): TrainingEvent {
	const ms = Date.parse(e.time);
	const timeMs = Number.isFinite(ms) ? ms : null;
	switch (e.type) {
		case 'batch': {
			const metrics = new Map<string, number>();
			if (e.loss !== null && Number.isFinite(e.loss)) {
				metrics.set('loss', e.loss);
			}
			finiteMetrics(metrics, e.metrics);
			return { type: 'batch', step: e.step, epoch: e.epoch, fractionalEpoch: e.fractionalEpoch ?? null, timeMs, metrics };
		}
		case 'epoch': {
			const metrics = new Map<string, number>();
			finiteMetrics(metrics, e.metrics);
			return { type: 'epoch', step: e.step, epoch: e.epoch, fractionalEpoch: e.fractionalEpoch ?? null, timeMs, metrics };
		}
		case 'checkpoint-written':
			return { type: 'checkpoint', step: e.step, timeMs };
		case 'end':
			return { type: 'end', timeMs, status: e.status };
		case 'error':
			return { type: 'error', timeMs, message: e.message };
	}
}

/**
 * Parses and validates one line of events.jsonl.
 * @param text the line
 * @param file the file, for messages
 * @param line the 1-based line number, for messages
 * @returns the event, or a problem message naming file, line and value
 */
export function parseEventLine(text: string, file: string, line: number): TrainingEvent | string {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (err) {
		return `${file}:${line}: not valid JSON (${(err as Error).message})`;
	}
	try {
		return toTrainingEvent(validateEvent(data, file, line));
	} catch (err) {
		return err instanceof RunFormatError ? err.message : `${file}:${line}: ${(err as Error).message}`;
	}
}
