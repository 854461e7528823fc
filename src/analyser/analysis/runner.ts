/**
 * Run-level orchestration: analyse every checkpoint of a run that is not
 * yet in analysis.jsonl — newest first, so when analysis falls behind training the freshest
 * result comes first and the older ones are backfilled — then blind mode, the signed lag and the
 * verdict. Used by the analyser process (`analysis/run`) and by the CLI in-process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AnalyserErrorCode } from '../../protocol/analyser';
import type { AnalysisPass, BlindCheckpoint, BlindSummary, CheckpointAnalysis, ImageRecord } from '../../protocol/analysisRecord';
import { readEvents, type RunEvent } from '../../protocol/runFormat';
import { isCancelled } from '../curvature/cancel';
import { CurvatureCancelledError, type CancelSignal } from '../curvature/index';
import { runBlindScan, type BlindResult } from './blind';
import { analyseCheckpoint, errorRecord, imageOf, type CheckpointTarget } from './checkpoint';
import { loadRunContext, type RunContext } from './context';
import { AnalysisError } from './errors';
import { analyseLag, type LagAnalysis } from './lag';
import { blindLine, DEFAULT_LIVE_BLIND_SHARE, LiveBlindMonitor, MAX_LIVE_SAMPLES, type LiveBlindSettings, type LiveView } from './liveBlind';
import { appendAnalysisLine, errorKindOf, readStoredAnalysis, type StoredSummary } from './store';

/** Options of {@link analyseRunDir}. */
export interface RunAnalysisOptions {
	readonly pass: AnalysisPass;
	readonly k: number;
	/** Keep going until the run's `end` event, polling for new checkpoints (default false). */
	readonly follow?: boolean;
	/** Poll interval in follow mode (default 1000 ms). */
	readonly pollMs?: number;
	/** Run blind mode over the training sample when the run has one (default true). */
	readonly blind?: boolean;
	/** Append records and the summary to analysis.jsonl (default true). */
	readonly persist?: boolean;
	readonly signal?: CancelSignal;
	readonly onProgress?: (done: number, total: number, message: string) => void;
	readonly onRecord?: (record: CheckpointAnalysis) => void;
	/**
	 * Analyse checkpoints again whose stored record is an error (default false). Without it, an error is retried
	 * only when its inputs changed since (size or modification time of the checkpoint's files, the probe set, the
	 * trigger or the training sample) or when it came from another backend.
	 */
	readonly retryErrors?: boolean;
	/**
	 * In follow mode, stop when the run has had no new event for this long and its writer process is gone
	 * (manifest writer.pid on this host no longer alive; default 60 000 ms). A run without a recorded pid
	 * stops after this long without events.
	 */
	readonly staleAfterMs?: number;
	/** Reuse an already loaded context (the analyser process caches them). */
	readonly context?: RunContext;
	/**
	 * Live blind monitoring in follow mode, for a run without a declared attack (docs/analyser.md, Live blind
	 * monitoring): `false` turns it off; default `{ every: 'epoch', share: DEFAULT_LIVE_BLIND_SHARE }`.
	 */
	readonly liveBlind?: LiveBlindSettings | false;
	/** Called after each live blind scan line is appended (the analyser process forwards it to the host). */
	readonly onBlindLine?: (line: BlindCheckpoint) => void;
	/** Called when a live blind scan is given up without a line (a newer checkpoint was due, or it ran past twice its time box). */
	readonly onBlindStopped?: (stop: LiveScanStop) => void;
}

/** A live blind scan given up without a line. */
export interface LiveScanStop {
	readonly step: number;
	readonly epoch: number;
	readonly elapsedMs: number;
	readonly reason: 'stale' | 'overrun';
	/** The scan's time box (null: the epoch time was not known yet). */
	readonly budgetMs: number | null;
}

/** What a run analysis produced. */
export interface RunAnalysisOutcome {
	readonly runDir: string;
	/** Every checkpoint record (stored and new), by step. */
	readonly records: CheckpointAnalysis[];
	readonly summary: StoredSummary;
	readonly lag: LagAnalysis;
	/** Checkpoints analysed by this call. */
	readonly analysed: number;
	/** Blind mode, when it ran in this call. */
	readonly blind: BlindResult | null;
	/** Median seconds per epoch of the training run (from its epoch events), or null. */
	readonly epochSeconds: number | null;
	/** Problems that did not stop the analysis (malformed lines, blind mode failures). */
	readonly warnings: string[];
	/** Live blind scans appended by this call (follow mode, no declared attack). */
	readonly liveBlind: readonly BlindCheckpoint[];
	/**
	 * Follow mode: why following stopped. `ended`: the run wrote its end event; `writer-gone`: no event for
	 * `staleAfterMs` and its writer is not running. Absent without follow.
	 */
	readonly followStop?: 'ended' | 'writer-gone';
}

/** Incremental reader of events.jsonl: new checkpoints and whether the run ended. */
class EventTail {
	private offset = 0;
	private line = 1;
	readonly checkpoints = new Map<number, CheckpointTarget>();
	readonly epochTimes: number[] = [];
	/** (fractional epoch, time in ms) of every `checkpoint-written` event. */
	readonly checkpointTimes: { epoch: number; time: number }[] = [];
	ended = false;
	/** When the last complete event line arrived (reader clock). */
	lastEventAt = Date.now();
	/** Lines that were skipped (not JSON or not valid events), and the first one's number. */
	skipped = 0;
	firstSkipped: number | null = null;

	constructor(private readonly runDir: string) {}

	async poll(): Promise<void> {
		const chunk = await readEvents(path.join(this.runDir, 'events.jsonl'), this.offset, this.line);
		if (chunk.nextOffset !== this.offset) {
			this.lastEventAt = Date.now();
		}
		this.offset = chunk.nextOffset;
		this.line = chunk.nextLine;
		for (const e of chunk.events) {
			this.add(e);
		}
		if (chunk.errors.length > 0) {
			this.skipped += chunk.errors.length;
			if (this.firstSkipped === null) {
				this.firstSkipped = Number(/:(\d+)$/.exec(chunk.errors[0].file)?.[1] ?? NaN);
			}
		}
	}

	private add(e: RunEvent): void {
		if (e.type === 'checkpoint-written') {
			this.checkpoints.set(e.step, { step: e.step, epoch: e.fractionalEpoch ?? e.epoch, dir: path.join(this.runDir, e.path) });
			this.checkpointTimes.push({ epoch: e.fractionalEpoch ?? e.epoch, time: Date.parse(e.time) });
		} else if (e.type === 'epoch') {
			this.epochTimes.push(Date.parse(e.time));
		} else if (e.type === 'end') {
			this.ended = true;
		}
	}
}

/** The tfjs backend in use (the analyser's records depend on it), or "unknown". */
function currentBackend(): string {
	try {
		return tf.getBackend() ?? 'unknown';
	} catch {
		return 'unknown';
	}
}

function stampOf(file: string): string {
	try {
		const st = fs.statSync(file);
		return `${st.size}:${Math.round(st.mtimeMs)}`;
	} catch (err) {
		return `-${(err as NodeJS.ErrnoException).code ?? 'error'}`;
	}
}

/**
 * Sizes and modification times of everything a checkpoint's analysis reads: its folder's files, the probe set,
 * the stored trigger and the training sample. An error record stores it; a rerun retries when it changed.
 */
export function inputStamp(ctx: RunContext, checkpointDir: string): string {
	const parts: string[] = [];
	let names: string[] = [];
	try {
		names = fs.readdirSync(checkpointDir).sort();
	} catch (err) {
		parts.push(`dir-${(err as NodeJS.ErrnoException).code ?? 'error'}`);
	}
	for (const n of names.slice(0, 64)) {
		parts.push(`${n}=${stampOf(path.join(checkpointDir, n))}`);
	}
	parts.push(`probe=${stampOf(path.join(ctx.runDir, ctx.manifest.probe.path))}`);
	const stored = ctx.manifest.attack?.trigger.stored;
	if (stored !== undefined) {
		for (const [key, rel] of Object.entries(stored)) {
			if (key.endsWith('File') && typeof rel === 'string') {
				parts.push(`${key}=${stampOf(path.join(ctx.runDir, rel))}`);
			}
		}
	}
	if (ctx.trainSamplePath !== null) {
		parts.push(`sample=${stampOf(ctx.trainSamplePath)}`);
	}
	parts.push(`manifest=${stampOf(path.join(ctx.runDir, 'manifest.json'))}`);
	return parts.join(' ');
}

/** Whether the run's writer may still be running: unknown pid or another host count as alive. */
export function writerAlive(ctx: RunContext): boolean {
	const w = ctx.manifest.writer;
	if (w.pid === undefined || (w.hostname !== undefined && w.hostname !== os.hostname())) {
		return false;
	}
	try {
		process.kill(w.pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function medianGap(times: readonly number[]): number | null {
	const gaps: number[] = [];
	for (let i = 1; i < times.length; i++) {
		gaps.push((times[i] - times[i - 1]) / 1000);
	}
	if (gaps.length === 0) {
		return null;
	}
	gaps.sort((a, b) => a - b);
	return gaps[Math.floor(gaps.length / 2)];
}

function sleep(ms: number, signal?: CancelSignal): Promise<void> {
	return new Promise((resolve) => {
		const t0 = Date.now();
		const tick = (): void => {
			if (isCancelled(signal) || Date.now() - t0 >= ms) {
				resolve();
			} else {
				setTimeout(tick, Math.min(100, ms));
			}
		};
		tick();
	});
}

/** Errors stored before this call that are tried again: when asked, when their inputs changed, or from another backend. */
function errorsToRetry(records: ReadonlyMap<number, CheckpointAnalysis>, stored: Awaited<ReturnType<typeof readStoredAnalysis>>, tail: EventTail, ctx: RunContext, backend: string, retryErrors: boolean): Set<number> {
	const retry = new Set<number>();
	for (const [step, r] of records) {
		if (r.error === null) {
			continue;
		}
		const cause = stored.errorContext.get(step);
		const target = tail.checkpoints.get(step);
		const stampNow = target === undefined ? null : inputStamp(ctx, target.dir);
		if (retryErrors || cause === undefined || (cause.backend !== null && cause.backend !== backend) || cause.inputStamp === null || cause.inputStamp !== stampNow) {
			retry.add(step);
		}
	}
	return retry;
}

/** One checkpoint analysed; an unexpected failure becomes an `Internal` error record (a cancel is rethrown). */
async function analyseOrRecordError(ctx: RunContext, next: CheckpointTarget, options: RunAnalysisOptions, onStage: (s: string) => void): Promise<CheckpointAnalysis> {
	try {
		return await analyseCheckpoint(ctx, next, { pass: options.pass, k: options.k, signal: options.signal, onStage });
	} catch (err) {
		if (err instanceof CurvatureCancelledError) {
			throw err;
		}
		return errorRecord(next, options.pass, `Internal: ${err instanceof Error ? err.message : String(err)}`);
	}
}

/** The live blind monitor for a follow-mode analysis of a run without a declared attack that has a training sample, else null. */
function liveMonitorFor(ctx: RunContext, options: RunAnalysisOptions): LiveBlindMonitor | null {
	if (options.follow !== true || options.blind === false || options.liveBlind === false || ctx.attack !== null || ctx.trainSamplePath === null) {
		return null;
	}
	const settings: LiveBlindSettings = options.liveBlind ?? { every: 'epoch', share: DEFAULT_LIVE_BLIND_SHARE };
	const count = ctx.manifest.trainSample?.count ?? MAX_LIVE_SAMPLES;
	return new LiveBlindMonitor(ctx, settings, Math.min(count, settings.maxSamples ?? MAX_LIVE_SAMPLES), count);
}

/** Blind mode's state for the summary: recomputed at the newest usable checkpoint when the stored one is older. */
interface BlindState {
	blind: BlindResult | null;
	summary: BlindSummary | null;
	step: number | null;
	image: ImageRecord | undefined;
}

async function blindAtNewest(ctx: RunContext, tail: EventTail, newest: CheckpointAnalysis | undefined, state: BlindState, options: RunAnalysisOptions, report: (label: string) => void, warnings: string[]): Promise<BlindState> {
	const wantBlind = (options.blind ?? true) && ctx.trainSamplePath !== null && newest !== undefined;
	// A stored scan at the same step is reused, unless it predates the blind test (no `test`): then it runs again.
	if (!wantBlind || (state.summary !== null && state.step === newest.step && state.summary.test !== undefined)) {
		return state;
	}
	const target = tail.checkpoints.get(newest.step);
	if (target === undefined) {
		return state;
	}
	try {
		report(`blind mode at checkpoint ${newest.step}`);
		const blind = await runBlindScan(ctx, target.dir, { signal: options.signal, onProgress: (done, n) => report(`blind mode: ${done}/${n} training samples`) });
		return { blind, summary: blind.summary, step: newest.step, image: blind.candidateTrigger };
	} catch (err) {
		if (err instanceof CurvatureCancelledError) {
			throw err;
		}
		warnings.push(`blind mode: ${err instanceof AnalysisError ? err.toRecordText() : err instanceof Error ? err.message : String(err)}`);
		return state;
	}
}

/** The run's summary line: lag, verdict, blind summary, trigger images; throws when no checkpoint is usable (a verdict needs evidence). */
function summaryOf(runDir: string, ctx: RunContext, all: readonly CheckpointAnalysis[], b: BlindState): { summary: StoredSummary; lag: LagAnalysis } {
	const analysable = all.filter((r) => r.error === null);
	if (analysable.length === 0) {
		const firstError = all.find((r) => r.error !== null)?.error;
		throw new AnalysisError(
			AnalyserErrorCode.NoAnalysableCheckpoint,
			all.length === 0
				? `${runDir}: no checkpoint has been written yet, so there is nothing to analyse`
				: `${runDir}: none of its ${all.length} checkpoints could be analysed, so there is no verdict (first error: ${String(firstError)})`,
		);
	}
	const lag = analyseLag(all, b.summary, undefined, ctx.attack === null ? null : { nearClone: ctx.attack.spec.type === 'point' });
	const declared = ctx.attack === null ? undefined : imageOf(ctx.attack.meanDirection, ctx.itemShape);
	const images = {
		...(declared === undefined ? {} : { declaredTrigger: declared }),
		...(b.image === undefined ? {} : { candidateTrigger: b.image }),
	};
	const summary: StoredSummary = {
		kind: 'summary',
		lag: lag.lag,
		verdict: lag.verdict,
		blind: b.summary,
		spectralSignal: lag.spectralSignal,
		recommendation: lag.recommendation,
		...(Object.keys(images).length > 0 ? { images } : {}),
		analysedThroughStep: all.length > 0 ? all[all.length - 1].step : null,
		blindStep: b.step,
	};
	return { summary, lag };
}

/** The state of one analyseRunDir call, shared by its steps. */
interface RunLoop {
	readonly runDir: string;
	readonly ctx: RunContext;
	readonly options: RunAnalysisOptions;
	readonly persist: boolean;
	readonly records: Map<number, CheckpointAnalysis>;
	readonly tail: EventTail;
	readonly backend: string;
	readonly retry: Set<number>;
	readonly warnings: string[];
	readonly liveLines: BlindCheckpoint[];
	b: BlindState;
	analysed: number;
	/** Progress with the current counts. */
	readonly say: (label: string) => void;
}

/** Live blind monitoring: one scan of a due checkpoint that has its light record; its line and a summary are appended. */
async function liveScanOnce(st: RunLoop, live: LiveBlindMonitor, due: CheckpointTarget, rec: CheckpointAnalysis, view: LiveView): Promise<void> {
	const { runDir, ctx, options } = st;
	st.say(`live blind scan at checkpoint ${due.step}`);
	try {
		const out = await live.scan(due, view, options.signal, (done, n) => st.say(`live blind scan at checkpoint ${due.step}: ${done}/${n} training samples`));
		if (out.kind === 'stopped') {
			st.say(`live blind scan at checkpoint ${due.step} stopped after ${(out.elapsedMs / 1000).toFixed(1)} s: ${out.reason === 'stale' ? 'a newer checkpoint is due' : 'past twice its time box'}`);
			options.onBlindStopped?.({ step: due.step, epoch: due.epoch, elapsedMs: out.elapsedMs, reason: out.reason, budgetMs: out.plan.budgetMs });
			return;
		}
		const line = blindLine(due, out.result, ctx.manifest.trainSample?.totalRows ?? null, rec.degenerate ?? null);
		st.liveLines.push(line);
		// A subsampled scan (fewer rows, or fewer input-Hessian samples) does not stand for the whole set: the final summary scans it all again.
		st.b = { blind: out.result, summary: { ...out.result.summary, test: line.test }, step: out.coversAll ? due.step : null, image: out.result.candidateTrigger };
		if (st.persist) {
			await appendAnalysisLine(runDir, line);
			// The summary line carries the suspects' rows and the candidate trigger's image while training goes on.
			await appendAnalysisLine(runDir, summaryOf(runDir, ctx, [...st.records.values()].sort((x, y) => x.step - y.step), st.b).summary);
		}
		options.onBlindLine?.(line);
	} catch (err) {
		if (err instanceof CurvatureCancelledError) {
			throw err;
		}
		st.warnings.push(`live blind scan at checkpoint ${due.step}: ${err instanceof AnalysisError ? err.toRecordText() : err instanceof Error ? err.message : String(err)}`);
	}
}

/** Analyses one checkpoint (or records its error) and appends its line. */
async function analyseNext(st: RunLoop, next: CheckpointTarget): Promise<void> {
	const { runDir, ctx, options } = st;
	st.say(`checkpoint ${next.step} (${options.pass})`);
	st.retry.delete(next.step);
	const stampBefore = inputStamp(ctx, next.dir);
	const rec = await analyseOrRecordError(ctx, next, options, (stage) => st.say(`checkpoint ${next.step}: ${stage}`));
	st.records.set(rec.step, rec);
	st.analysed++;
	if (st.persist) {
		const line = rec.error === null ? rec : { ...rec, errorKind: errorKindOf(rec.error), backend: st.backend, inputStamp: stampBefore };
		const repaired = await appendAnalysisLine(runDir, line);
		if (repaired > 0) {
			st.warnings.push(`${path.join(runDir, 'analysis.jsonl')}: ended in a partial line of ${repaired} bytes (a cut write); it was moved to analysis.jsonl.corrupt before appending`);
		}
	}
	options.onRecord?.(rec);
}

/** The final whole-sample scan is the last point of the suspicion chart: its line is appended. */
async function finalLiveLine(st: RunLoop, newest: CheckpointAnalysis): Promise<void> {
	if (st.b.blind === null) {
		return;
	}
	const target = st.tail.checkpoints.get(newest.step);
	const line = blindLine(target ?? newest, st.b.blind, st.ctx.manifest.trainSample?.totalRows ?? null, newest.degenerate ?? null);
	st.b = { ...st.b, summary: st.b.summary === null ? null : { ...st.b.summary, test: st.b.summary.test ?? line.test } };
	st.liveLines.push(line);
	if (st.persist) {
		await appendAnalysisLine(st.runDir, line);
	}
	st.options.onBlindLine?.(line);
}

/** Follow mode: why the loop stops now (the run ended, or its writer is gone), or undefined to keep waiting. */
function followStopOf(st: RunLoop): 'ended' | 'writer-gone' | undefined {
	if (!st.options.follow) {
		return undefined;
	}
	return st.tail.ended ? 'ended' : Date.now() - st.tail.lastEventAt >= (st.options.staleAfterMs ?? 60_000) && !writerAlive(st.ctx) ? 'writer-gone' : undefined;
}

/**
 * Analyses a run folder. Nothing already in analysis.jsonl is recomputed (a light record is
 * redone only when a full pass is asked for); bad checkpoints become records with `error`.
 * @throws AnalysisError when the run itself is unreadable; CurvatureCancelledError on cancel
 */
export async function analyseRunDir(runDir: string, options: RunAnalysisOptions): Promise<RunAnalysisOutcome> {
	const progress = options.onProgress ?? (() => undefined);
	// Validate the manifest first: a missing run is a request error, not a record.
	const ctx = options.context ?? (await loadRunContext(runDir));
	const stored = await readStoredAnalysis(runDir);
	const records = new Map<number, CheckpointAnalysis>(stored.byStep);
	const tail = new EventTail(runDir);
	await tail.poll();
	const backend = currentBackend();
	const retry = errorsToRetry(records, stored, tail, ctx, backend, options.retryErrors === true);
	const needs = (step: number): boolean => {
		const r = records.get(step);
		return r === undefined || retry.has(step) || (options.pass === 'full' && r.pass === 'light' && r.error === null);
	};
	const total = (): number => st.analysed + [...tail.checkpoints.keys()].filter(needs).length;
	const st: RunLoop = {
		runDir,
		ctx,
		options,
		persist: options.persist ?? true,
		records,
		tail,
		backend,
		retry,
		warnings: [...stored.problems],
		liveLines: [],
		b: { blind: null, summary: stored.summary?.blind ?? null, step: stored.summary?.blindStep ?? null, image: stored.summary?.images?.candidateTrigger },
		analysed: 0,
		say: (label) => progress(st.analysed, total(), label),
	};
	let followStop: 'ended' | 'writer-gone' | undefined;
	const live = liveMonitorFor(ctx, options);
	const view: LiveView = {
		get checkpoints() {
			return [...tail.checkpoints.values()];
		},
		epochTimes: tail.epochTimes,
		checkpointTimes: tail.checkpointTimes,
		poll: () => tail.poll(),
	};
	for (;;) {
		if (isCancelled(options.signal)) {
			throw new CurvatureCancelledError(`analysis of ${runDir}`, st.analysed);
		}
		// Live blind monitoring: once the newest checkpoint has its light record, scan it when a scan is due.
		const due = live === null || tail.ended ? null : live.due(view);
		if (live !== null && due !== null && !needs(due.step)) {
			const rec = records.get(due.step);
			if (rec === undefined || rec.error !== null) {
				live.skip(due);
			} else {
				await liveScanOnce(st, live, due, rec, view);
				await tail.poll();
			}
			continue;
		}
		const next = [...tail.checkpoints.values()].filter((c) => needs(c.step)).sort((a, b) => b.step - a.step)[0];
		if (next === undefined) {
			followStop = followStopOf(st);
			if (!options.follow || followStop !== undefined) {
				break;
			}
			st.say('waiting for checkpoints');
			await sleep(options.pollMs ?? 1000, options.signal);
			await tail.poll();
			continue;
		}
		await analyseNext(st, next);
		// New checkpoints may have arrived meanwhile: the loop re-sorts, newest first.
		await tail.poll();
	}
	return finishRun(st, stored, live, followStop);
}

/** After the loop: the blind scan at the newest checkpoint, the summary line, and the outcome. */
async function finishRun(st: RunLoop, stored: Awaited<ReturnType<typeof readStoredAnalysis>>, live: LiveBlindMonitor | null, followStop: 'ended' | 'writer-gone' | undefined): Promise<RunAnalysisOutcome> {
	const { runDir, ctx, options, tail, warnings } = st;
	const progress = options.onProgress ?? (() => undefined);
	const all = [...st.records.values()].sort((x, y) => x.step - y.step);
	const usable = all.filter((r) => r.error === null);
	const newest = usable[usable.length - 1];
	const before = st.b;
	st.b = await blindAtNewest(ctx, tail, newest, st.b, options, (label) => progress(st.analysed, st.analysed + 1, label), warnings);
	if (live !== null && st.b !== before && newest !== undefined) {
		await finalLiveLine(st, newest);
	}
	const b = st.b;
	const { summary, lag } = summaryOf(runDir, ctx, all, b);
	const changed = stored.summary === null || st.analysed > 0 || b.blind !== null || st.liveLines.length > 0 || stored.summary.verdict !== summary.verdict || stored.summary.analysedThroughStep !== summary.analysedThroughStep;
	if (st.persist && changed) {
		await appendAnalysisLine(runDir, summary);
	}
	progress(st.analysed, st.analysed, 'done');
	if (tail.skipped > 0) {
		warnings.push(`${path.join(runDir, 'events.jsonl')}: ${tail.skipped} line${tail.skipped === 1 ? ' was' : 's were'} skipped (not valid JSON or not a valid event), the first at line ${String(tail.firstSkipped)}`);
	}
	return {
		...(followStop === undefined ? {} : { followStop }),
		runDir,
		records: all,
		summary: changed ? summary : (stored.summary ?? summary),
		lag,
		analysed: st.analysed,
		blind: b.blind,
		epochSeconds: medianGap(tail.epochTimes),
		warnings,
		liveBlind: st.liveLines,
	};
}

/**
 * Analyses one checkpoint of a run by step (the `analysis/checkpoint` request).
 * @throws AnalysisError CheckpointNotFound when no `checkpoint-written` event announces the step
 */
export async function analyseOneCheckpoint(
	runDir: string,
	step: number,
	options: { pass: AnalysisPass; k: number; persist?: boolean; signal?: CancelSignal; context?: RunContext; onStage?: (s: string) => void },
): Promise<CheckpointAnalysis> {
	const ctx = options.context ?? (await loadRunContext(runDir));
	const tail = new EventTail(runDir);
	await tail.poll();
	const target = tail.checkpoints.get(step);
	if (target === undefined) {
		const known = [...tail.checkpoints.keys()].sort((a, b) => a - b);
		throw new AnalysisError(
			AnalyserErrorCode.CheckpointNotFound,
			`${path.join(runDir, 'events.jsonl')}: no checkpoint at step ${step} (announced: ${known.length > 12 ? `${known.slice(0, 12).join(', ')}, …` : known.join(', ') || 'none'})`,
		);
	}
	const stamp = inputStamp(ctx, target.dir);
	const rec = await analyseCheckpoint(ctx, target, { pass: options.pass, k: options.k, signal: options.signal, onStage: options.onStage });
	if (options.persist ?? true) {
		await appendAnalysisLine(runDir, rec.error === null ? rec : { ...rec, errorKind: errorKindOf(rec.error), backend: currentBackend(), inputStamp: stamp });
	}
	return rec;
}
