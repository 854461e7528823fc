/**
 * The host ↔ dashboard-webview boundary: two name → payload maps.
 *
 * Messages travel as `{ type, payload }`. The webview speaks first (`ready`); the host answers
 * every `ready` with a full `snapshot`, then sends `runUpdated` as run files grow. Series are
 * already decimated by the host (LTTB), so the webview draws them as they come.
 *
 * This module is pure (no `vscode`, no DOM): the host and the webview bundle both import it.
 */

import type { AnalysisImages, BlindCheckpoint, CheckpointAnalysis, RunAnalysisSummary } from './analysisRecord';
import type { RunStatus } from './runStatus';

/** Column-oriented series: every array has the same length, ordered by step. */
export interface Series {
	/** Global optimiser step. */
	readonly step: readonly number[];
	/** Epoch as a real number (epoch index + fraction through it). */
	readonly epoch: readonly number[];
	/** Seconds since the run started; NaN is never sent (unknown times are interpolated by the host). */
	readonly time: readonly number[];
	readonly value: readonly number[];
}

/** One training metric (loss, acc, …) at one granularity. */
export interface MetricSeries {
	/** Metric name as the training script logged it ('loss', 'acc', 'val_loss', …). */
	readonly name: string;
	readonly level: 'batch' | 'epoch';
	readonly series: Series;
	/** Number of points before decimation. */
	readonly rawCount: number;
}

/** A checkpoint's analysis with its wall time (seconds since the run started), images stripped. */
export interface AnalysisPoint extends Omit<CheckpointAnalysis, 'images'> {
	readonly time: number;
}

/** A live blind scan (analysis.jsonl `kind: "blind"`) with its wall time (seconds since the run started). */
export interface BlindPoint extends BlindCheckpoint {
	readonly time: number;
}

export type { RunStatus } from './runStatus';

/** Manifest facts the dashboard shows or groups by. */
export interface RunInfo {
	readonly id: string;
	readonly name: string;
	/** Absolute path of the run folder. */
	readonly dir: string;
	readonly createdAt: string;
	readonly status: RunStatus;
	/** True when the manifest declares an attack (trigger + target): ASR and trigger overlaps exist. */
	readonly attackDeclared: boolean;
	/** Poison fraction θ, when declared. */
	readonly theta: number | null;
	/** Input-gradient penalty κ (0 when none). */
	readonly kappa: number | null;
	readonly targetClass: number | null;
	/** A short description of the trigger ('cross', 'warp', …). */
	readonly trigger: string | null;
	/** Steps per epoch, when known: converts a lag in steps to epochs. */
	readonly stepsPerEpoch: number | null;
}

/** Everything the dashboard needs about one run. */
export interface RunView {
	readonly info: RunInfo;
	readonly metrics: readonly MetricSeries[];
	/** One point per analysed checkpoint, sorted by step (not decimated: checkpoints are few). */
	readonly checkpoints: readonly AnalysisPoint[];
	/** Live blind scans, one per step, sorted by step (absent or empty when the run has none). */
	readonly blind?: readonly BlindPoint[];
	readonly summary: RunAnalysisSummary | null;
	/** The latest available images (eigenvector, declared trigger, candidate trigger). */
	readonly images: AnalysisImages;
	/** The run's own error (an SDK `error` event), if any. */
	readonly runError: string | null;
	/** Problems met while reading its files (file:line: what); the rest was still read. */
	readonly problems: readonly string[];
	/** Increases whenever the host re-reads something; lets the webview skip redundant redraws. */
	readonly revision: number;
}

/** The full state the host re-sends on every `ready`. */
export interface Snapshot {
	readonly runs: readonly RunView[];
	/** The run the dashboard was opened on; null when none was chosen yet. */
	readonly primaryRunId: string | null;
	/** Where runs are looked for (shown in the empty state). */
	readonly runsRoot: string | null;
}

/** The charts the dashboard draws; also the export keys. */
export type ChartId = 'training' | 'signals' | 'suspicion' | 'lag' | 'compare' | 'safety';

/** Every chart id. */
export const CHART_IDS: readonly ChartId[] = ['training', 'signals', 'suspicion', 'lag', 'compare', 'safety'];

/** Parts of the page the host can scroll to. */
export type RevealSection = 'candidateTrigger' | 'suspicion';

/** Host → webview. */
export interface HostToWebview {
	/** Full state; sent on every `ready`. */
	snapshot: Snapshot;
	/** One run changed (files grew) or appeared. */
	runUpdated: RunView;
	/** A run folder disappeared. */
	runRemoved: { readonly runId: string };
	/** Limit the compare chart to these runs (the Runs view's "Compare with…"). */
	compare: { readonly runIds: readonly string[] };
	/** Scroll to a part of the page and highlight it (the first-alarm notification's "Show candidate trigger"). */
	reveal: { readonly section: RevealSection };
	/** The outcome of an export request. */
	exportResult: { readonly chart: ChartId; readonly format: 'png' | 'csv'; readonly path: string | null; readonly error: string | null };
}

/** Webview → host. */
export interface WebviewToHost {
	/** The webview's listeners are attached; the host must (re-)send a snapshot. */
	ready: Record<string, never>;
	/** Save a chart image; `dataUrl` is `data:image/png;base64,…` from the canvas. */
	exportPng: { readonly chart: ChartId; readonly dataUrl: string };
	/** Save a chart's underlying data (full resolution, not decimated) as CSV. */
	exportCsv: { readonly chart: ChartId; readonly runIds: readonly string[] };
	/** Ask the host to let the user pick a run to open. */
	pickRun: Record<string, never>;
	/** The user switched the primary run inside the webview (kept by the host for the next snapshot). */
	selectRun: { readonly runId: string };
	/** Webview-side problems for the host's log. */
	log: { readonly level: 'info' | 'warn' | 'error'; readonly message: string };
}

/** A message as it travels: `{ type, payload }`. */
export type MessageOf<M> = { [K in keyof M]: { readonly type: K; readonly payload: M[K] } }[keyof M];

/** Any host → webview message. */
export type HostMessage = MessageOf<HostToWebview>;
/** Any webview → host message. */
export type WebviewMessage = MessageOf<WebviewToHost>;

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isChartId(value: unknown): value is ChartId {
	return typeof value === 'string' && (CHART_IDS as readonly string[]).includes(value);
}

/** Largest PNG data URL the host accepts (about 20 MB of base64). */
export const MAX_PNG_DATA_URL = 20_000_000;

/**
 * Validates an untrusted message from the webview.
 * @returns the message, typed, or a string saying what is wrong with it
 */
export function parseWebviewMessage(value: unknown): WebviewMessage | string {
	if (!isRecord(value) || typeof value.type !== 'string') {
		return `message without a string "type": ${JSON.stringify(value)?.slice(0, 200)}`;
	}
	const p = value.payload;
	const payload = isRecord(p) ? p : {};
	switch (value.type) {
		case 'ready':
			return { type: 'ready', payload: {} };
		case 'pickRun':
			return { type: 'pickRun', payload: {} };
		case 'exportPng':
			if (!isChartId(payload.chart) || typeof payload.dataUrl !== 'string' || !payload.dataUrl.startsWith('data:image/png;base64,') || payload.dataUrl.length > MAX_PNG_DATA_URL) {
				return 'exportPng needs { chart: ChartId, dataUrl: "data:image/png;base64,…" } (under 20 MB)';
			}
			return { type: 'exportPng', payload: { chart: payload.chart, dataUrl: payload.dataUrl } };
		case 'exportCsv': {
			const ids = payload.runIds;
			if (!isChartId(payload.chart) || !Array.isArray(ids) || !ids.every((x): x is string => typeof x === 'string')) {
				return 'exportCsv needs { chart: ChartId, runIds: string[] }';
			}
			return { type: 'exportCsv', payload: { chart: payload.chart, runIds: ids } };
		}
		case 'selectRun':
			if (typeof payload.runId !== 'string') {
				return 'selectRun needs { runId: string }';
			}
			return { type: 'selectRun', payload: { runId: payload.runId } };
		case 'log': {
			const level = payload.level;
			if ((level !== 'info' && level !== 'warn' && level !== 'error') || typeof payload.message !== 'string') {
				return 'log needs { level: info|warn|error, message: string }';
			}
			return { type: 'log', payload: { level, message: payload.message.slice(0, 4000) } };
		}
		default:
			return `unknown message type ${JSON.stringify(value.type)}`;
	}
}

/** Exhaustiveness check for switches over message unions. */
export function assertNever(x: never): never {
	throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
