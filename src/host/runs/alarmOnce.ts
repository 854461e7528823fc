/**
 * When the first-alarm notification of live blind monitoring fires: once per run, on the first `alarm` among the
 * run's blind scans, and only for a run this window saw training (an old run's alarm found when the workspace
 * opens is in the status bar, the Runs view and the dashboard, not in a notification). Pure (no `vscode`).
 */
import type { BlindCheckpoint } from '../../protocol/analysisRecord';
import type { RunStatus } from '../../protocol/runStatus';

/** What the decision needs about a run. */
export interface AlarmRun {
	/** A stable key: the run's id and folder. */
	readonly key: string;
	readonly status: RunStatus;
	readonly blind: readonly BlindCheckpoint[];
}

/** Most run keys remembered as notified (the oldest are forgotten first). */
export const MAX_REMEMBERED = 500;

/** Decides which runs get the first-alarm notification; remembers the runs it notified. */
export class AlarmOnce {
	private readonly notified: string[];
	private readonly seenLive = new Set<string>();

	/** @param notified keys of runs notified before (e.g. from the workspace state) */
	constructor(notified: readonly string[] = []) {
		this.notified = [...notified].slice(-MAX_REMEMBERED);
	}

	/** Keys of the notified runs (to persist). */
	get remembered(): readonly string[] {
		return this.notified;
	}

	/**
	 * The scan to notify about now, or null: the run's first alarm when the run was seen training in this window and
	 * was not notified before. A returned alarm counts as notified.
	 */
	take(run: AlarmRun): BlindCheckpoint | null {
		if (run.status === 'training') {
			this.seenLive.add(run.key);
		}
		if (!this.seenLive.has(run.key) || this.notified.includes(run.key)) {
			return null;
		}
		const first = [...run.blind].sort((a, b) => a.step - b.step).find((b) => b.test.state === 'alarm');
		if (first === undefined) {
			return null;
		}
		this.notified.push(run.key);
		if (this.notified.length > MAX_REMEMBERED) {
			this.notified.splice(0, this.notified.length - MAX_REMEMBERED);
		}
		return first;
	}
}

/** The notification's text for a first alarm. */
export function alarmMessage(runName: string, alarm: BlindCheckpoint): string {
	const t = alarm.test;
	const score = t.score === null ? '' : ` (score ${Math.round(t.score * 1000) / 1000} above the null band's ${t.nullHigh === null ? '–' : Math.round(t.nullHigh * 1000) / 1000})`;
	const suspects = alarm.suspects === null ? '' : ` ${alarm.suspects} suspect training row${alarm.suspects === 1 ? '' : 's'}.`;
	return `Poison Lens: possible backdoor forming in ${runName}: the blind scan at step ${alarm.step} (epoch ${alarm.epoch.toFixed(2)}) raised an alarm${score}: ${t.reason}.${suspects}`;
}
