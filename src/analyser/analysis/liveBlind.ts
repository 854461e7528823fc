/**
 * Live blind monitoring: while a run without a declared attack trains and the analyser follows it
 * (`poison-lens analyse --follow`, the editor's live analysis), the blind scan runs on the newest
 * checkpoint once per epoch (or every N checkpoints), time-boxed to a share of the time between two
 * scans, and is dropped when a newer checkpoint makes it stale. The box bounds the whole cascade: stage 1
 * scores a seeded, label-stratified window of the recorded rows (rowSubset.ts) that rotates from scan to
 * scan, and stage 2 takes a number of input-Hessian samples, both sized from the previous scan's measured
 * costs. Each finished scan becomes one `kind: "blind"` line of analysis.jsonl (docs/analyser.md, Live
 * blind monitoring).
 *
 * The scheduling and time-box decisions are pure functions of what the run's events say (unit-tested
 * in plain Node); {@link LiveBlindMonitor} applies them around {@link runBlindScan}.
 */
import type { BlindCheckpoint, BlindTest } from '../../protocol/analysisRecord';
import { isCancelled } from '../curvature/cancel';
import { CurvatureCancelledError, type CancelSignal } from '../curvature/index';
import { runBlindScan, type BlindResult } from './blind';
import type { RunContext } from './context';
import { openTrainingRows } from './cascade';
import { rowWindow, stratifiedOrder } from './rowSubset';
import { round6 } from './checkpoint';

/** How often a live scan runs: at the first checkpoint of every new epoch, or every N announced checkpoints. */
export type LiveBlindEvery = 'epoch' | number;

/** Settings of live blind monitoring. */
export interface LiveBlindSettings {
	/** 'epoch' (default) or every N checkpoints (N ≥ 1). */
	readonly every: LiveBlindEvery;
	/**
	 * Share of the time between two scans (one epoch, or N checkpoint intervals) a scan may take, in (0, 1].
	 * Default {@link DEFAULT_LIVE_BLIND_SHARE}.
	 */
	readonly share: number;
	/**
	 * Fewest input-Hessian samples a scan takes, and fewest rows it scores (default {@link MIN_LIVE_SAMPLES}; fewer
	 * cannot hold a poison group).
	 */
	readonly minSamples?: number;
	/** Most input-Hessian samples a scan takes (default {@link MAX_LIVE_SAMPLES}); the rows it scores are set by the box. */
	readonly maxSamples?: number;
}

/**
 * Rows stage 1 scores in a first live scan made before the epoch time is known (no box yet): 4096, the size of the
 * SDK's former default training sample. With a box and no measured cost, the first scan is the smallest one instead
 * ({@link planScan}).
 */
export const FIRST_SCAN_ROWS = 4096;

/**
 * Default share of the time between two scans that a live scan may take. Chosen by measurement on the demo
 * (`node --import tsx bench/liveBlindCost.ts <demo run> 256,512,1024,2048 313`, docs/analyser.md, Live blind
 * monitoring): a scan needs about 1024 of the training sample's rows to see the demo's backdoor at epoch 1 (256 and 512
 * rows: flip rate 14 %; 1024 to 4096: 91–92 %) and costs 3.4–4.5 ms of CPU per row on wasm, i.e. about 3.5 s; an epoch takes
 * 22–30 s on 2 cores and the per-checkpoint light passes already take about 22 % of it. A quarter of the epoch (5.5–7.6 s)
 * is the smallest round share whose box holds those 1024 rows with room to spare, and keeps the analyser under about
 * half of the epoch's time while training shares the same cores.
 */
export const DEFAULT_LIVE_BLIND_SHARE = 0.25;

/** Input-Hessian samples of a first scan made before the epoch time is known. */
export const FIRST_SCAN_SAMPLES = 1024;

/**
 * Fewest rows a live scan takes: on the demo (θ = 1 %) 512 rows hold about five poisons and the scan missed the backdoor
 * that 1024 rows showed (see {@link DEFAULT_LIVE_BLIND_SHARE}).
 */
export const MIN_LIVE_SAMPLES = 1024;

/** Default most samples a live scan takes. */
export const MAX_LIVE_SAMPLES = 4096;

/** A scan is stopped when it runs past this multiple of its time box (its size was mis-estimated). */
export const HARD_LIMIT_FACTOR = 2;

/** A checkpoint as the scheduler sees it. */
export interface ScanPoint {
	readonly step: number;
	/** Fractional epoch. */
	readonly epoch: number;
}

/** Reads `every` from a CLI value or a setting: "epoch" or a positive integer. */
export function parseLiveBlindEvery(raw: string | number): LiveBlindEvery | null {
	if (raw === 'epoch') {
		return 'epoch';
	}
	const n = typeof raw === 'number' ? raw : /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
	return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : null;
}

/** The epoch a fractional epoch falls in (an epoch's last checkpoint at exactly 1.0 counts as epoch 1's start). */
function epochIndex(epoch: number): number {
	return Math.floor(epoch + 1e-9);
}

/**
 * The checkpoint a live scan should run on now, or null.
 *
 * `epoch`: the newest checkpoint when it lies in a later epoch than the last scanned one (the first scan waits
 * for epoch 1: an untrained model has nothing to analyse). `N`: the newest checkpoint when at least N checkpoints
 * were announced after the last scanned one (the first scan at the N-th checkpoint).
 * @param checkpoints every announced checkpoint (any order)
 * @param last the last checkpoint a scan finished (or was given up) on, null before the first
 */
export function dueCheckpoint(checkpoints: readonly ScanPoint[], last: ScanPoint | null, every: LiveBlindEvery): ScanPoint | null {
	if (checkpoints.length === 0) {
		return null;
	}
	const newest = checkpoints.reduce((a, b) => (b.step > a.step ? b : a));
	if (last !== null && newest.step <= last.step) {
		return null;
	}
	if (every === 'epoch') {
		const since = last === null ? 1 : epochIndex(last.epoch) + 1;
		return epochIndex(newest.epoch) >= since ? newest : null;
	}
	const after = checkpoints.filter((c) => last === null || c.step > last.step).length;
	return after >= every ? newest : null;
}

/** Median of a list (null when empty). */
function median(xs: readonly number[]): number | null {
	if (xs.length === 0) {
		return null;
	}
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Wall-clock milliseconds of one epoch of the run, from its events: the median gap between `epoch` events once two
 * exist, else the slope of time over fractional epoch across the `checkpoint-written` events (mid-first-epoch), else null.
 * @param epochTimes times (ms) of the `epoch` events, in order
 * @param checkpointTimes (fractional epoch, time ms) of the `checkpoint-written` events
 */
export function epochMs(epochTimes: readonly number[], checkpointTimes: readonly { epoch: number; time: number }[]): number | null {
	const gaps: number[] = [];
	for (let i = 1; i < epochTimes.length; i++) {
		gaps.push(epochTimes[i] - epochTimes[i - 1]);
	}
	const g = median(gaps.filter((x) => x > 0));
	if (g !== null) {
		return g;
	}
	const pts = [...checkpointTimes].filter((c) => Number.isFinite(c.time)).sort((a, b) => a.epoch - b.epoch);
	if (pts.length >= 2) {
		const a = pts[0];
		const b = pts[pts.length - 1];
		if (b.epoch - a.epoch > 1e-6 && b.time > a.time) {
			return (b.time - a.time) / (b.epoch - a.epoch);
		}
	}
	return null;
}

/**
 * Milliseconds between two scans: an epoch for `epoch`, N checkpoint intervals (in epochs, from the checkpoints'
 * fractional epochs) for `N`; null while the epoch time is unknown.
 */
export function scanIntervalMs(every: LiveBlindEvery, epochDurationMs: number | null, checkpoints: readonly ScanPoint[]): number | null {
	if (epochDurationMs === null) {
		return null;
	}
	if (every === 'epoch') {
		return epochDurationMs;
	}
	const epochs = [...checkpoints].sort((a, b) => a.step - b.step).map((c) => c.epoch);
	const gaps: number[] = [];
	for (let i = 1; i < epochs.length; i++) {
		gaps.push(epochs[i] - epochs[i - 1]);
	}
	const gap = median(gaps.filter((x) => x > 0));
	return gap === null ? null : every * gap * epochDurationMs;
}

/** A scan's time box and the rows and samples that fit it. */
export interface ScanPlan {
	/** Wall-clock milliseconds the scan may take; null while unknown (the first scan). */
	readonly budgetMs: number | null;
	/** Rows the cascade scores (stage 1, and stage 3 on the flip class among them); every recorded row when it equals their count. */
	readonly rows: number;
	/** Samples through the per-sample input-Hessian stage (stage 2: candidates and control together), at most `rows`. */
	readonly samples: number;
	/** Why this size, in words (for the progress line and the log). */
	readonly why: string;
	/** The scan is at its smallest size: it is never stopped for time (stopping it would only waste it). */
	readonly atFloor: boolean;
}

/** What past scans cost. */
export interface ScanCost {
	/**
	 * Milliseconds per scored row of the last finished scan: stage 1 (blended predictions and representations of
	 * every scored row) and stage 3 (the candidate direction on the flip class among them), over its scored rows.
	 */
	readonly msPerRow: number | null;
	/**
	 * Milliseconds per input-Hessian sample of the last finished scan: the rest of its time (stage 2, clustering, the
	 * blind test's null directions, loading the model) over its stage-2 samples. The fixed part is spread over the
	 * samples, which makes this a conservative cost for a bigger scan.
	 */
	readonly msPerSample: number | null;
	/** True when the last scan was stopped at its hard limit: the next one takes half as many rows and samples. */
	readonly lastOverran: boolean;
	/** Stage-2 samples of the last scan (finished or stopped). */
	readonly lastSamples: number | null;
	/** Rows the last scan scored (finished or stopped). */
	readonly lastRows: number | null;
}

/** A scan's costs, split into the per-row stages (1 and 3) and the rest (per stage-2 sample); see {@link ScanCost}. */
export function scanCostOf(result: Pick<BlindResult, 'elapsedMs' | 'scanned'> & { readonly cascade: Pick<BlindResult['cascade'], 'scoredRows' | 'cheapMs' | 'directionMs'> }): ScanCost {
	const rows = result.cascade.scoredRows;
	const perRowMs = Math.max(0, result.cascade.cheapMs) + Math.max(0, result.cascade.directionMs);
	const rest = Math.max(0, result.elapsedMs - perRowMs);
	return {
		msPerRow: rows > 0 ? perRowMs / rows : null,
		msPerSample: result.scanned > 0 ? rest / result.scanned : null,
		lastOverran: false,
		lastSamples: result.scanned,
		lastRows: rows,
	};
}

function round64(n: number): number {
	return n >= 64 ? Math.floor(n / 64) * 64 : Math.floor(n);
}

/**
 * Sizes the next scan to its box: `share` of the time between scans. Stage 2 first gets its floor of samples
 * (`minSamples`, fewer missed the demo's backdoor); the rest of the box buys stage-1 rows at the measured cost per
 * row (at least as many rows as that floor); once every recorded row fits, what is left grows stage 2 up to
 * min(maxSamples, available). Both in multiples of 64. Coverage comes before a bigger stage 2 because a poison that
 * stage 1 never scores cannot be found by any later stage, while stage 2 only has to find the candidate trigger.
 * @param available most stage-2 samples (the recorded rows, capped by `maxSamples`)
 * @param rowCount the recorded training rows (what the final scan scores)
 */
export function planScan(intervalMs: number | null, settings: LiveBlindSettings, cost: ScanCost, available: number, rowCount: number): ScanPlan {
	const loS = Math.min(available, settings.minSamples ?? MIN_LIVE_SAMPLES);
	const hiS = Math.min(available, settings.maxSamples ?? MAX_LIVE_SAMPLES);
	// Fewer rows than the sample floor would hold fewer poisons than the floor was measured to need.
	const loR = Math.max(loS, Math.min(rowCount, settings.minSamples ?? MIN_LIVE_SAMPLES));
	const clampS = (n: number): number => Math.max(loS, Math.min(hiS, round64(n)));
	const clampR = (n: number): number => (n >= rowCount ? rowCount : Math.max(loR, round64(n)));
	const budgetMs = intervalMs === null ? null : settings.share * intervalMs;
	const plan = (rows: number, samples: number, why: string): ScanPlan => ({ budgetMs, rows, samples: Math.min(samples, rows), why, atFloor: rows <= loR && samples <= loS });
	const rowsWord = (r: number): string => (r >= rowCount ? `all ${rowCount} rows` : `${r} of ${rowCount} rows`);
	if (cost.lastOverran && cost.lastSamples !== null) {
		const rows = clampR(Math.floor((cost.lastRows ?? rowCount) / 2));
		return plan(rows, clampS(Math.floor(cost.lastSamples / 2)), `the last scan ran past its time box: half as many rows and samples (${rowsWord(rows)})`);
	}
	if (budgetMs === null) {
		const rows = clampR(FIRST_SCAN_ROWS);
		return plan(rows, clampS(FIRST_SCAN_SAMPLES), `epoch time not known yet (${rowsWord(rows)})`);
	}
	if (cost.msPerSample === null || cost.msPerRow === null || !(cost.msPerSample > 0)) {
		// A box but no measured cost: the smallest scan that can still see a backdoor, which is never stopped for time
		// (a bigger first scan overran the box of small, fast nets and its epoch went without a line).
		return plan(loR, loS, `scan cost not measured yet: the smallest scan (${rowsWord(loR)})`);
	}
	const box = `${Math.round(budgetMs / 100) / 10} s time box at ${cost.msPerRow.toFixed(2)} ms per row and ${cost.msPerSample.toFixed(1)} ms per input-Hessian sample`;
	const rowsFit = cost.msPerRow > 0 ? (budgetMs - cost.msPerSample * loS) / cost.msPerRow : Infinity;
	if (rowsFit < rowCount) {
		const rows = clampR(rowsFit);
		return plan(rows, loS, `${box}: ${rowsWord(rows)}`);
	}
	const samplesFit = (budgetMs - cost.msPerRow * rowCount) / cost.msPerSample;
	return plan(rowCount, clampS(samplesFit), `${box}: ${rowsWord(rowCount)}`);
}

/**
 * Why a running scan should stop: a newer checkpoint is due (stale), or it ran past its hard limit (unless it is at
 * its smallest size: a smaller scan is not possible, so stopping it would only waste it).
 */
export function stopReason(elapsedMs: number, plan: Pick<ScanPlan, 'budgetMs' | 'atFloor'>, newerDue: boolean): 'stale' | 'overrun' | null {
	if (newerDue) {
		return 'stale';
	}
	const budgetMs = plan.budgetMs;
	if (!plan.atFloor && budgetMs !== null && elapsedMs > HARD_LIMIT_FACTOR * budgetMs) {
		return 'overrun';
	}
	return null;
}

/**
 * The scan's test: the calibrated one blind mode computed (src/analyser/analysis/blindTest.ts); on a checkpoint whose
 * light pass found degenerate predictions, `nothing-to-analyse` with that reason.
 * @param degenerate the light pass's note on the same checkpoint when its predictions are degenerate
 */
export function blindTestOf(result: BlindResult, degenerate: string | null = null): BlindTest {
	const t = result.summary.test;
	if (t === undefined) {
		throw new Error('blind scan: the result carries no blind test');
	}
	return degenerate === null ? t : { ...t, state: 'nothing-to-analyse', reason: `nothing to analyse yet: ${degenerate}` };
}

/** The analysis.jsonl line of one live scan. */
export function blindLine(target: ScanPoint, result: BlindResult, totalRows: number | null, degenerate: string | null = null): BlindCheckpoint {
	return {
		kind: 'blind',
		step: target.step,
		epoch: target.epoch,
		test: blindTestOf(result, degenerate),
		flipRate: result.summary.flipRate,
		controlFlipRate: result.controlFlipRate === null ? null : round6(result.controlFlipRate),
		suspects: result.summary.suspects,
		scoredRows: result.summary.scoredRows ?? result.scanned,
		totalRows: result.summary.totalRows ?? totalRows,
		analysisMs: Math.round(result.elapsedMs),
	};
}

/** What the monitor needs from the follow loop at each turn. */
export interface LiveView {
	readonly checkpoints: readonly (ScanPoint & { readonly dir: string })[];
	readonly epochTimes: readonly number[];
	readonly checkpointTimes: readonly { epoch: number; time: number }[];
	/** Re-reads the run's events (new checkpoints); called about once a second while a scan runs. */
	poll(): Promise<void>;
}

/** One scan's outcome. */
export type LiveScanOutcome =
	| {
			readonly kind: 'done';
			readonly target: ScanPoint;
			readonly result: BlindResult;
			readonly plan: ScanPlan;
			/** Every recorded row scored and as many stage-2 samples as a live scan takes at most: it stands for a final scan. */
			readonly coversAll: boolean;
	  }
	| { readonly kind: 'stopped'; readonly target: ScanPoint; readonly reason: 'stale' | 'overrun'; readonly plan: ScanPlan; readonly elapsedMs: number };

/** Runs live scans when they are due, learning their cost. One per follow loop. */
export class LiveBlindMonitor {
	private last: ScanPoint | null = null;
	private cost: ScanCost = { msPerRow: null, msPerSample: null, lastOverran: false, lastSamples: null, lastRows: null };
	/** The stratified ring of row positions (read once, from the labels) and where the next window starts. */
	private order: Int32Array | null = null;
	private cursor = 0;

	constructor(
		private readonly ctx: RunContext,
		readonly settings: LiveBlindSettings,
		/** Training samples a scan can take at most (the sample's size, capped by `maxSamples`). */
		readonly available: number,
		/** The recorded training rows (what the final scan scores). */
		readonly rowCount: number = available,
	) {}

	/** Where the next window of rows starts in the stratified ring (advances by the rows of each finished subsampled scan). */
	get rowCursor(): number {
		return this.cursor;
	}

	/** The positions a plan's scan scores: undefined for every row, else the next window of the stratified ring. */
	private async rowsOf(plan: ScanPlan): Promise<Int32Array | undefined> {
		if (plan.rows >= this.rowCount) {
			return undefined;
		}
		if (this.order === null) {
			const reader = await openTrainingRows(this.ctx, 'live blind monitoring');
			try {
				this.order = stratifiedOrder(reader.labels, this.ctx.manifest.trainSample?.seed ?? 0);
			} finally {
				await reader.close();
			}
		}
		return rowWindow(this.order, this.cursor, plan.rows);
	}

	/** Passes over a checkpoint that cannot be scanned (its light pass failed); the next due one is scanned. */
	skip(target: ScanPoint): void {
		this.last = target;
	}

	/** The checkpoint due for a scan now, or null. */
	due(view: LiveView): (ScanPoint & { readonly dir: string }) | null {
		const d = dueCheckpoint(view.checkpoints, this.last, this.settings.every);
		return d === null ? null : (view.checkpoints.find((c) => c.step === d.step) ?? null);
	}

	/** The plan for a scan now. */
	plan(view: LiveView): ScanPlan {
		return planScan(scanIntervalMs(this.settings.every, epochMs(view.epochTimes, view.checkpointTimes), view.checkpoints), this.settings, this.cost, this.available, this.rowCount);
	}

	/**
	 * Scans `target` within its time box. Stops (without a result) when a newer checkpoint becomes due or the scan runs
	 * past {@link HARD_LIMIT_FACTOR} × its box; rethrows a cancel of `outer` (the user's) and scan errors.
	 */
	async scan(target: ScanPoint & { readonly dir: string }, view: LiveView, outer: CancelSignal | undefined, onProgress?: (done: number, total: number) => void): Promise<LiveScanOutcome> {
		const plan = this.plan(view);
		const t0 = Date.now();
		let reason: 'stale' | 'overrun' | null = null;
		let polling: Promise<void> | null = null;
		const timer = setInterval(() => {
			if (polling === null) {
				polling = view
					.poll()
					.catch(() => undefined)
					.finally(() => {
						polling = null;
					});
			}
		}, 1000);
		const signal: CancelSignal = {
			get aborted(): boolean {
				return isCancelled(outer) || reason !== null;
			},
		};
		const check = (): void => {
			if (reason === null) {
				const newer = dueCheckpoint(view.checkpoints, target, this.settings.every);
				reason = stopReason(Date.now() - t0, plan, newer !== null);
			}
		};
		const ticker = setInterval(check, 200);
		try {
			const rows = await this.rowsOf(plan);
			const result = await runBlindScan(this.ctx, target.dir, {
				signal,
				maxSamples: plan.samples,
				...(rows === undefined ? {} : { rows }),
				onProgress: (done, total) => {
					check();
					onProgress?.(done, total);
				},
			});
			this.last = target;
			this.cost = scanCostOf(result);
			if (rows !== undefined) {
				this.cursor = (this.cursor + rows.length) % this.rowCount;
			}
			return { kind: 'done', target, result, plan, coversAll: rows === undefined && result.scanned >= this.available };
		} catch (err) {
			if (err instanceof CurvatureCancelledError && !isCancelled(outer) && reason !== null) {
				// Given up on this checkpoint: the next due one is scanned instead.
				this.last = target;
				if (reason === 'overrun') {
					this.cost = { ...this.cost, lastOverran: true, lastSamples: plan.samples, lastRows: plan.rows };
				}
				return { kind: 'stopped', target, reason, plan, elapsedMs: Date.now() - t0 };
			}
			this.last = target;
			throw err;
		} finally {
			clearInterval(timer);
			clearInterval(ticker);
			await (polling ?? Promise.resolve());
		}
	}
}
