/**
 * A run's status, computed in one place for the pickers, the status bar, the CLI and the dashboard.
 * Pure (no node, no vscode), so the webview bundle can use the type too.
 */

/** What a run is doing, as far as its files tell. */
export type RunStatus = 'created' | 'training' | 'finished' | 'failed' | 'interrupted';

/** A run with no new event for this long and no `end` record is taken to have been interrupted. */
export const STALE_AFTER_MS = 10 * 60 * 1000;

/** What a run's event log tells about its state: the facts every status display is derived from. */
export interface RunActivity {
	/** At least one event was recorded. */
	readonly started: boolean;
	/** An `end` event was recorded. */
	readonly ended: boolean;
	/** An `error` event, or an `end` event with status `failed`. */
	readonly failed: boolean;
	/** Time of the last append to the event log (ms since epoch), or null when unknown. */
	readonly lastActivity: number | null;
}

/**
 * A run's status, the one rule the pickers, the status bar, the CLI and the dashboard share: failed before finished,
 * finished before anything else; a started run with no event for {@link STALE_AFTER_MS} is interrupted.
 */
export function runStatus(a: RunActivity, now: number): RunStatus {
	if (a.failed) {
		return 'failed';
	}
	if (a.ended) {
		return 'finished';
	}
	if (!a.started) {
		return 'created';
	}
	return a.lastActivity !== null && now - a.lastActivity > STALE_AFTER_MS ? 'interrupted' : 'training';
}
