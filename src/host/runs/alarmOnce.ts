/**
 * When the first-alarm notification of live blind monitoring fires: once per run, on the first `alarm` among the
 * run's blind scans, and only for a run this window saw training (an old run's alarm found when the workspace
 * opens is in the status bar, the Runs view and the dashboard, not in a notification); and what the notification at
 * the end of "Analyse poisoning" says about the same run, so one blind alarm makes one notification
 * ({@link endNotice}). Pure (no `vscode`).
 */
import type { BlindCheckpoint, BlindTest } from '../../protocol/analysisRecord';
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
	/** Order in which this window showed first-alarm notifications (for {@link shownSince}). */
	private readonly shownAt = new Map<string, number>();
	private shown = 0;

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
		const first = firstAlarm(run.blind);
		if (first === null) {
			return null;
		}
		this.remember(run.key);
		this.shownAt.set(run.key, ++this.shown);
		return first;
	}

	/** A mark for {@link shownSince}: take it when an analysis starts. */
	mark(): number {
		return this.shown;
	}

	/** True when this window showed the run's first-alarm notification after `mark`. */
	shownSince(key: string, mark: number): boolean {
		return (this.shownAt.get(key) ?? 0) > mark;
	}

	/**
	 * Counts the run as notified without a first-alarm notification (another notification announced its alarm), so
	 * {@link take} never fires for it afterwards.
	 */
	claim(key: string): void {
		if (!this.notified.includes(key)) {
			this.remember(key);
		}
	}

	private remember(key: string): void {
		this.notified.push(key);
		if (this.notified.length > MAX_REMEMBERED) {
			this.notified.splice(0, this.notified.length - MAX_REMEMBERED);
		}
	}
}

/** What the run's blind scans said, as the end-of-analysis notification needs it. */
export interface EndNoticeInput {
	/** The final blind test (the summary's), or undefined when the run declares an attack (its lag verdict speaks). */
	readonly finalTest: BlindTest | undefined;
	/** The first `alarm` among the run's blind scans (analysis.jsonl `kind: "blind"`), or null. */
	readonly liveAlarm: BlindCheckpoint | null;
	/** The first-alarm notification of live monitoring was shown for this run while this analysis ran. */
	readonly alarmShown: boolean;
}

/** What the end-of-analysis notification does. */
export interface EndNotice {
	/** False: the live first-alarm notification already said it, nothing new to say. */
	readonly show: boolean;
	/** Offer "Show suspects" and "Show candidate trigger" (the final test alarms and no live notification offered them). */
	readonly alarmActions: boolean;
	/** A sentence to add: a live alarm that the final test does not confirm (the user must hear it was withdrawn). */
	readonly note: string | null;
	/** True: a warning whatever the verdict; null: the verdict decides. */
	readonly warning: true | null;
	/** Count the run as notified, so the live watcher does not announce the same alarm after this notification. */
	readonly claim: boolean;
}

/**
 * The end-of-analysis notification for one run, folded with the live first-alarm notification so that one blind alarm
 * makes one notification:
 * - an attack is declared: the verdict notification as always;
 * - the final test alarms: nothing when the live alarm was already shown during this analysis; otherwise the end
 *   notification carries the alarm's actions itself (a finished run analysed, or the first alarm came with the final
 *   scan);
 * - the final test does not alarm but a live scan did: the end notification says that the final scan of every row
 *   does not confirm it, as a warning, whether or not the live notification was seen;
 * - no alarm anywhere: the notification as always.
 * Whenever this notification speaks of an alarm (or the live one already did), the run counts as notified.
 */
export function endNotice(input: EndNoticeInput): EndNotice {
	const { finalTest, liveAlarm, alarmShown } = input;
	if (finalTest === undefined) {
		return { show: true, alarmActions: false, note: null, warning: null, claim: false };
	}
	if (finalTest.state === 'alarm') {
		return alarmShown ? { show: false, alarmActions: false, note: null, warning: null, claim: true } : { show: true, alarmActions: true, note: null, warning: true, claim: true };
	}
	if (liveAlarm !== null || alarmShown) {
		const at = liveAlarm === null ? 'A live blind scan' : `The live blind scan at step ${liveAlarm.step} (epoch ${liveAlarm.epoch.toFixed(2)})`;
		return { show: true, alarmActions: false, note: `${at} raised an alarm that the final scan over every recorded row does not confirm.`, warning: true, claim: true };
	}
	return { show: true, alarmActions: false, note: null, warning: null, claim: false };
}

/** The first `alarm` among blind scans, by step (null when none). */
export function firstAlarm(blind: readonly BlindCheckpoint[]): BlindCheckpoint | null {
	return [...blind].sort((a, b) => a.step - b.step).find((b) => b.test.state === 'alarm') ?? null;
}

/** The notification's text for a first alarm. */
export function alarmMessage(runName: string, alarm: BlindCheckpoint): string {
	const t = alarm.test;
	const r3 = (v: number): number => Math.round(v * 1000) / 1000;
	// Name the test that alarmed: a class-shortcut alarm's score need not be above the curvature band.
	const score =
		t.alarmBy === 'shortcut' && t.shortcut !== undefined
			? ` (class-shortcut gap ${r3(t.shortcut.gap)} at or above its threshold ${r3(t.shortcut.threshold)})`
			: t.score === null
				? ''
				: ` (score ${r3(t.score)} above the null band's ${t.nullHigh === null ? '–' : r3(t.nullHigh)})`;
	const suspects = alarm.suspects === null ? '' : ` ${alarm.suspects} suspect training row${alarm.suspects === 1 ? '' : 's'}.`;
	return `Poison Lens: possible backdoor forming in ${runName}: the blind scan at step ${alarm.step} (epoch ${alarm.epoch.toFixed(2)}) raised an alarm${score}: ${t.reason}.${suspects}`;
}
