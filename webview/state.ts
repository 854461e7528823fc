/**
 * The dashboard's state and its pure reducer. No DOM, no Chart.js: unit-tested in plain Node.
 *
 * Run data comes from the host (snapshot / runUpdated / runRemoved); view settings come from the
 * user and persist through `vscode.setState`.
 */

import type { ChartId, RunView, Snapshot } from '../src/protocol/webview';

/** What the x-axis of time-based charts shows. */
export type XAxis = 'step' | 'epoch' | 'time';

/** Which spectral signal the lag curve and the comparison use. */
export type SpectralSignal = 'triggerCurvature' | 'lambda1' | 'triggerOverlap' | 'perSampleOverlap';

/** Every spectral signal, in menu order. */
export const SPECTRAL_SIGNALS: readonly SpectralSignal[] = ['triggerCurvature', 'lambda1', 'triggerOverlap', 'perSampleOverlap'];

/** An x-range the user zoomed to, in the units of `axis`. */
export interface ZoomRange {
	readonly min: number;
	readonly max: number;
}

/** User choices that survive reloads. */
export interface ViewSettings {
	readonly xAxis: XAxis;
	/** EMA weight in [0, 0.999]; 0 = raw only. */
	readonly smoothing: number;
	readonly logY: boolean;
	readonly signal: SpectralSignal;
	/** Runs overlaid in the comparison charts; null = every run. */
	readonly compare: readonly string[] | null;
	readonly zoom: Readonly<Partial<Record<ChartId, ZoomRange>>>;
}

/** The whole webview state. */
export interface State {
	readonly runs: Readonly<Record<string, RunView>>;
	/** Run ids in display order (newest first as the host sent them, new runs appended). */
	readonly order: readonly string[];
	readonly primaryRunId: string | null;
	readonly runsRoot: string | null;
	/** False until the first snapshot: the view shows "waiting for the extension". */
	readonly received: boolean;
	readonly settings: ViewSettings;
	/** A transient message (export saved / failed). */
	readonly notice: { readonly level: 'info' | 'error'; readonly text: string } | null;
}

/** What `vscode.setState` keeps. */
export interface PersistedState {
	readonly settings: ViewSettings;
	readonly primaryRunId: string | null;
	/** Lets the host's serializer reopen the same run after a reload. */
	readonly primaryRunDir: string | null;
}

/** Everything that changes the state. */
export type Action =
	| { readonly type: 'snapshot'; readonly snapshot: Snapshot }
	| { readonly type: 'runUpdated'; readonly run: RunView }
	| { readonly type: 'runRemoved'; readonly runId: string }
	| { readonly type: 'selectRun'; readonly runId: string }
	| { readonly type: 'setXAxis'; readonly xAxis: XAxis }
	| { readonly type: 'setSmoothing'; readonly smoothing: number }
	| { readonly type: 'setLogY'; readonly logY: boolean }
	| { readonly type: 'setSignal'; readonly signal: SpectralSignal }
	| { readonly type: 'toggleCompare'; readonly runId: string }
	| { readonly type: 'setCompare'; readonly runIds: readonly string[] }
	| { readonly type: 'zoom'; readonly chart: ChartId; readonly range: ZoomRange | null }
	| { readonly type: 'notice'; readonly notice: State['notice'] };

/** The most EMA weight allowed (TensorBoard and W&B cap it at 0.999 too). */
export const MAX_SMOOTHING = 0.999;

/** Default settings. */
export const DEFAULT_SETTINGS: ViewSettings = { xAxis: 'step', smoothing: 0.6, logY: false, signal: 'triggerCurvature', compare: null, zoom: {} };

/**
 * The initial state, with settings restored from a persisted state when they are valid.
 * @param persisted whatever `vscode.getState()` returned (untrusted: an older version may have written it)
 */
export function initialState(persisted?: unknown): State {
	const p = isRecord(persisted) ? persisted : {};
	return {
		runs: {},
		order: [],
		primaryRunId: typeof p.primaryRunId === 'string' ? p.primaryRunId : null,
		runsRoot: null,
		received: false,
		settings: sanitizeSettings(p.settings),
		notice: null,
	};
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clampSmoothing(v: number): number {
	return Number.isFinite(v) ? Math.min(MAX_SMOOTHING, Math.max(0, v)) : DEFAULT_SETTINGS.smoothing;
}

/** Validates persisted settings field by field, falling back to defaults. */
export function sanitizeSettings(value: unknown): ViewSettings {
	const s = isRecord(value) ? value : {};
	const xAxis = s.xAxis === 'step' || s.xAxis === 'epoch' || s.xAxis === 'time' ? s.xAxis : DEFAULT_SETTINGS.xAxis;
	const signal = typeof s.signal === 'string' && (SPECTRAL_SIGNALS as readonly string[]).includes(s.signal) ? (s.signal as SpectralSignal) : DEFAULT_SETTINGS.signal;
	const compare = Array.isArray(s.compare) && s.compare.every((x) => typeof x === 'string') ? (s.compare) : null;
	const zoom: Partial<Record<ChartId, ZoomRange>> = {};
	if (isRecord(s.zoom)) {
		for (const [k, v] of Object.entries(s.zoom)) {
			if (isRecord(v) && typeof v.min === 'number' && typeof v.max === 'number' && v.min < v.max && (k === 'training' || k === 'signals' || k === 'lag' || k === 'compare' || k === 'safety')) {
				zoom[k] = { min: v.min, max: v.max };
			}
		}
	}
	return {
		xAxis,
		smoothing: typeof s.smoothing === 'number' ? clampSmoothing(s.smoothing) : DEFAULT_SETTINGS.smoothing,
		logY: s.logY === true,
		signal,
		compare,
		zoom,
	};
}

/** The primary run, if any: the chosen one, else the first in order. */
export function primaryRun(state: State): RunView | null {
	if (state.primaryRunId !== null) {
		const r = state.runs[state.primaryRunId];
		if (r !== undefined) {
			return r;
		}
	}
	const first = state.order[0];
	return first === undefined ? null : (state.runs[first] ?? null);
}

/** Runs overlaid in comparisons, in display order. */
export function comparedRuns(state: State): RunView[] {
	const chosen = state.settings.compare;
	return state.order.filter((id) => chosen === null || chosen.includes(id)).map((id) => state.runs[id]).filter((r): r is RunView => r !== undefined);
}

/** What to persist. */
export function persisted(state: State): PersistedState {
	const p = primaryRun(state);
	return { settings: state.settings, primaryRunId: p?.info.id ?? state.primaryRunId, primaryRunDir: p?.info.dir ?? null };
}

function withSettings(state: State, patch: Partial<ViewSettings>): State {
	return { ...state, settings: { ...state.settings, ...patch } };
}

/**
 * The reducer. Pure: returns a new state, or the same object when nothing changed (so the view can
 * skip a redraw).
 */
export function reduce(state: State, action: Action): State {
	switch (action.type) {
		case 'snapshot': {
			const runs: Record<string, RunView> = {};
			for (const r of action.snapshot.runs) {
				runs[r.info.id] = r;
			}
			const order = action.snapshot.runs.map((r) => r.info.id);
			// The host's choice wins on a fresh open; a reload keeps the user's choice if that run still exists.
			let primaryRunId = action.snapshot.primaryRunId ?? state.primaryRunId;
			if (primaryRunId !== null && runs[primaryRunId] === undefined) {
				primaryRunId = order[0] ?? null;
			}
			return { ...state, runs, order, primaryRunId, runsRoot: action.snapshot.runsRoot, received: true };
		}
		case 'runUpdated': {
			const id = action.run.info.id;
			const old = state.runs[id];
			if (old !== undefined && old.revision === action.run.revision && old.info.status === action.run.info.status) {
				return state;
			}
			const order = old === undefined && !state.order.includes(id) ? [...state.order, id] : state.order;
			return { ...state, runs: { ...state.runs, [id]: action.run }, order, received: true };
		}
		case 'runRemoved': {
			if (state.runs[action.runId] === undefined) {
				return state;
			}
			const runs = { ...state.runs };
			delete runs[action.runId];
			const order = state.order.filter((id) => id !== action.runId);
			const primaryRunId = state.primaryRunId === action.runId ? (order[0] ?? null) : state.primaryRunId;
			return { ...state, runs, order, primaryRunId };
		}
		case 'selectRun':
			if (state.runs[action.runId] === undefined || state.primaryRunId === action.runId) {
				return state;
			}
			// Zoom ranges belong to the old run's data.
			return { ...withSettings(state, { zoom: {} }), primaryRunId: action.runId };
		case 'setXAxis':
			if (state.settings.xAxis === action.xAxis) {
				return state;
			}
			// A zoom range in steps means nothing in epochs or seconds.
			return withSettings(state, { xAxis: action.xAxis, zoom: {} });
		case 'setSmoothing': {
			const smoothing = clampSmoothing(action.smoothing);
			return smoothing === state.settings.smoothing ? state : withSettings(state, { smoothing });
		}
		case 'setLogY':
			return action.logY === state.settings.logY ? state : withSettings(state, { logY: action.logY });
		case 'setSignal':
			return action.signal === state.settings.signal ? state : withSettings(state, { signal: action.signal });
		case 'setCompare':
			return withSettings(state, { compare: [...action.runIds] });
		case 'toggleCompare': {
			const current = state.settings.compare ?? state.order;
			const next = current.includes(action.runId) ? current.filter((id) => id !== action.runId) : [...current, action.runId];
			return withSettings(state, { compare: next });
		}
		case 'zoom': {
			const zoom = { ...state.settings.zoom };
			if (action.range === null) {
				if (zoom[action.chart] === undefined) {
					return state;
				}
				delete zoom[action.chart];
			} else {
				const { min, max } = action.range;
				if (!(Number.isFinite(min) && Number.isFinite(max) && min < max)) {
					return state;
				}
				zoom[action.chart] = { min, max };
			}
			return withSettings(state, { zoom });
		}
		case 'notice':
			return { ...state, notice: action.notice };
	}
}
