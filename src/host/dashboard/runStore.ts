/**
 * Reads one run folder (manifest.json, events.jsonl, analysis.jsonl) and keeps its full-resolution
 * data; `refresh()` re-reads only what was appended since the last byte offset, so a live run costs
 * one small read per file change. Pure Node (no `vscode`): the panel drives it from file-watcher events.
 */

import { constants, promises as fsp } from 'node:fs';
import { FileFault, readRegularFile } from '../../protocol/safeFile';
import * as path from 'node:path';
import { ANALYSIS_FILE, parseAnalysisLine, type AnalysisImages, type AnalysisLine, type BlindCheckpoint, type CheckpointAnalysis, type RunAnalysisSummary, mergeAnalysisLines } from '../../protocol/analysisRecord';
import { runStatus } from '../../protocol/runStatus';
import { EVENTS_FILE, MANIFEST_FILE, parseManifestCore, validateManifest, type RunManifest } from '../../protocol/runFormat';
import type { AnalysisPoint, BlindPoint, MetricSeries, RunInfo, RunView, Series } from '../../protocol/webview';
import { decimateSeries, DEFAULT_MAX_POINTS } from './decimate';
import { parseEventLine, type TrainingEvent } from './events';

/**
 * Reads complete lines appended to a growing file, remembering the byte offset just past the last
 * newline. A partial last line (the writer is mid-append) is left for the next read; cutting at a
 * newline byte never splits a UTF-8 character.
 */
export class JsonlTail {
	private offset = 0;
	private lineNo = 0;
	/** The read in progress: reads run one after another, so two never start from the same offset. */
	private pending: Promise<unknown> = Promise.resolve();

	constructor(readonly file: string) {}

	/** Forget everything (the file was truncated or replaced). */
	reset(): void {
		this.offset = 0;
		this.lineNo = 0;
	}

	/** Byte offset just past the last complete line read. */
	get bytesRead(): number {
		return this.offset;
	}

	/**
	 * Reads what was appended since the last call.
	 * @returns the new complete, non-blank lines with their 1-based numbers, and whether the file
	 *   shrank or vanished (then the caller must drop what it derived from earlier lines: the lines
	 *   returned start from line 1 again). Overlapping calls (two file events at once) are queued: each line is
	 *   returned once, by the call that read it.
	 */
	read(): Promise<{ lines: { text: string; line: number }[]; restarted: boolean }> {
		const next = this.pending.then(() => this.readOnce());
		this.pending = next.catch(() => undefined);
		return next;
	}

	private async readOnce(): Promise<{ lines: { text: string; line: number }[]; restarted: boolean }> {
		let handle: fsp.FileHandle;
		try {
			// Non-blocking, then a regular-file check: a FIFO in a run folder must not hang the extension host.
			handle = await fsp.open(this.file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
				const restarted = this.offset > 0;
				this.reset();
				return { lines: [], restarted };
			}
			throw err;
		}
		try {
			const st = await handle.stat();
			if (!st.isFile()) {
				throw new FileFault(st.isDirectory() ? 'is-directory' : 'not-regular', this.file, 'read', st.isDirectory() ? 'is a folder, not a file' : 'not a regular file');
			}
			const size = st.size;
			let restarted = false;
			if (size < this.offset) {
				this.reset();
				restarted = true;
			}
			const lines: { text: string; line: number }[] = [];
			if (size === this.offset) {
				return { lines, restarted };
			}
			const buf = Buffer.alloc(size - this.offset);
			const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
			const cut = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
			if (cut < 0) {
				return { lines, restarted };
			}
			this.offset += cut + 1;
			for (const raw of buf.subarray(0, cut).toString('utf8').split('\n')) {
				this.lineNo++;
				const t = raw.trim();
				if (t.length > 0) {
					lines.push({ text: t, line: this.lineNo });
				}
			}
			return { lines, restarted };
		} finally {
			await handle.close();
		}
	}
}

interface MutableSeries {
	step: number[];
	epoch: number[];
	time: number[];
	value: number[];
}

/** Manifest facts, read leniently beyond the core fields (the SDK owns the full format). */
export interface ManifestFacts {
	readonly id: string;
	readonly name: string;
	readonly createdAt: string;
	readonly attackDeclared: boolean;
	readonly theta: number | null;
	readonly kappa: number | null;
	readonly targetClass: number | null;
	readonly trigger: string | null;
	readonly checkpointEvery: number | 'epoch' | null;
}

function pickNumber(...values: unknown[]): number | null {
	for (const v of values) {
		if (typeof v === 'number' && Number.isFinite(v)) {
			return v;
		}
	}
	return null;
}

/**
 * Reads the manifest. A manifest that passes the v1 schema gives every fact; one that only has
 * valid core fields (an older or newer minor writer) still opens, with a problem saying why the
 * rest was not read.
 * @throws RunFormatError when even the core fields are wrong
 */
export function parseManifestFacts(text: string, file: string): { facts: ManifestFacts; problem: string | null } {
	const core = parseManifestCore(text, file);
	let m: RunManifest | null = null;
	let problem: string | null = null;
	try {
		m = validateManifest(JSON.parse(text), file);
	} catch (err) {
		problem = (err as Error).message;
	}
	const attack = m?.attack;
	const params: Record<string, unknown> = attack?.params ?? {};
	const every = m?.checkpointEvery;
	return {
		facts: {
			id: core.runId,
			name: core.name,
			createdAt: core.createdAt,
			attackDeclared: attack !== undefined,
			theta: attack?.poisonFraction ?? null,
			// Manifest v1 has no field for the input-gradient penalty κ yet; until it does, a writer puts it in attack.params.
			kappa: pickNumber(params.kappa),
			targetClass: attack?.targetLabel ?? null,
			trigger: attack === undefined ? null : attack.kind,
			checkpointEvery: every === undefined ? null : every,
		},
		problem,
	};
}

/** Metric series key: level + name. */
function seriesKey(level: 'batch' | 'epoch', name: string): string {
	return `${level}:${name}`;
}

/**
 * One run folder, read incrementally. Call `refresh()` after a file-change event; `view()` builds
 * the decimated message payload.
 */
export class RunReader {
	private manifest: ManifestFacts | null = null;
	private manifestProblem: string | null = null;
	private readonly eventsTail: JsonlTail;
	private readonly analysisTail: JsonlTail;
	private refreshing: Promise<unknown> = Promise.resolve();
	private metrics = new Map<string, { name: string; level: 'batch' | 'epoch'; s: MutableSeries }>();
	private analysisLines: AnalysisLine[] = [];
	private merged: { checkpoints: CheckpointAnalysis[]; summary: RunAnalysisSummary | null; blind: BlindCheckpoint[] } = { checkpoints: [], summary: null, blind: [] };
	private checkpointTimes = new Map<number, number>();
	private eventProblems: string[] = [];
	private analysisProblems: string[] = [];
	private startMs: number | null = null;
	private inferredStepsPerEpoch: number | null = null;
	private ended = false;
	private lastEventMs: number | null = null;
	private runError: string | null = null;
	private revision = 0;

	constructor(readonly dir: string) {
		this.eventsTail = new JsonlTail(path.join(dir, EVENTS_FILE));
		this.analysisTail = new JsonlTail(path.join(dir, ANALYSIS_FILE));
	}

	/** The run's id (from the manifest, else the folder name). */
	get id(): string {
		return this.manifest?.id ?? path.basename(this.dir);
	}

	/** How many times something new was read. */
	get currentRevision(): number {
		return this.revision;
	}

	/**
	 * Re-reads the manifest (until it parses) and whatever was appended to events.jsonl and analysis.jsonl.
	 * @returns true when anything changed
	 */
	refresh(): Promise<boolean> {
		// One refresh at a time: the dashboard opening a run and a file watcher may ask at once.
		const next = this.refreshing.then(() => this.refreshOnce());
		this.refreshing = next.catch(() => undefined);
		return next;
	}

	private async refreshOnce(): Promise<boolean> {
		let changed = false;
		if (this.manifest === null) {
			const file = path.join(this.dir, MANIFEST_FILE);
			try {
				const text = (await readRegularFile(file, { maxBytes: 16 * 1024 * 1024 })).toString('utf8');
				const { facts, problem } = parseManifestFacts(text, file);
				this.manifest = facts;
				this.manifestProblem = problem;
				changed = true;
			} catch (err) {
				const msg = err instanceof FileFault && err.kind === 'missing' ? `${file}: missing` : (err as Error).message;
				if (msg !== this.manifestProblem) {
					this.manifestProblem = msg;
					changed = true;
				}
			}
		}
		const ev = await this.eventsTail.read();
		if (ev.restarted) {
			this.resetEvents();
			changed = true;
		}
		for (const { text, line } of ev.lines) {
			const parsed = parseEventLine(text, this.eventsTail.file, line);
			if (typeof parsed === 'string') {
				this.pushProblem(this.eventProblems, parsed);
			} else {
				this.applyEvent(parsed);
			}
			changed = true;
		}
		const an = await this.analysisTail.read();
		if (an.restarted) {
			this.analysisLines = [];
			this.analysisProblems = [];
			changed = true;
		}
		for (const { text, line } of an.lines) {
			try {
				this.analysisLines.push(parseAnalysisLine(text, this.analysisTail.file, line));
			} catch (err) {
				this.pushProblem(this.analysisProblems, (err as Error).message);
			}
			changed = true;
		}
		if (an.lines.length > 0 || an.restarted) {
			this.merged = mergeAnalysisLines(this.analysisLines);
		}
		if (changed) {
			this.revision++;
		}
		return changed;
	}

	private pushProblem(list: string[], msg: string): void {
		// A corrupt file must not grow an unbounded list; the first problems are the useful ones.
		if (list.length < 50) {
			list.push(msg);
		}
	}

	private resetEvents(): void {
		this.metrics.clear();
		this.checkpointTimes.clear();
		this.eventProblems = [];
		this.startMs = null;
		this.inferredStepsPerEpoch = null;
		this.ended = false;
		this.lastEventMs = null;
		this.runError = null;
	}

	private get stepsPerEpoch(): number | null {
		const v = this.inferredStepsPerEpoch;
		// fractionalEpoch is written with limited precision; snap to the integer it almost certainly is.
		return v === null ? null : Math.abs(v - Math.round(v)) < 1e-3 * v ? Math.round(v) : v;
	}

	private relTime(ms: number | null): number {
		if (ms === null) {
			return Number.NaN;
		}
		if (this.startMs === null) {
			const created = this.manifest === null ? Number.NaN : Date.parse(this.manifest.createdAt);
			this.startMs = Number.isFinite(created) && created <= ms ? created : ms;
		}
		return (ms - this.startMs) / 1000;
	}

	private applyEvent(e: TrainingEvent): void {
		if (e.timeMs !== null) {
			this.lastEventMs = Math.max(this.lastEventMs ?? e.timeMs, e.timeMs);
		}
		switch (e.type) {
			case 'batch':
			case 'epoch': {
				const step = e.step;
				let epoch: number;
				if (e.fractionalEpoch !== null) {
					epoch = e.fractionalEpoch;
					if (e.fractionalEpoch > 0 && step > 0) {
						this.inferredStepsPerEpoch = step / e.fractionalEpoch;
					}
				} else if (e.type === 'epoch') {
					// Epoch events carry the 0-based index of the epoch just finished.
					epoch = e.epoch + 1;
					if (step > 0) {
						this.inferredStepsPerEpoch = step / epoch;
					}
				} else {
					const spe = this.stepsPerEpoch;
					epoch = spe !== null && spe > 0 ? step / spe : e.epoch;
				}
				const time = this.relTime(e.timeMs);
				for (const [name, value] of e.metrics) {
					const key = seriesKey(e.type, name);
					let entry = this.metrics.get(key);
					if (entry === undefined) {
						entry = { name, level: e.type, s: { step: [], epoch: [], time: [], value: [] } };
						this.metrics.set(key, entry);
					}
					entry.s.step.push(step);
					entry.s.epoch.push(epoch);
					entry.s.time.push(time);
					entry.s.value.push(value);
				}
				return;
			}
			case 'checkpoint': {
				const t = this.relTime(e.timeMs);
				if (Number.isFinite(t)) {
					this.checkpointTimes.set(e.step, t);
				}
				return;
			}
			case 'end':
				this.ended = true;
				if (e.status === 'failed') {
					this.runError ??= 'training ended with status "failed"';
				}
				return;
			case 'error':
				this.runError = e.message;
				return;
		}
	}

	/** Wall time of a step: the checkpoint event's, else interpolated along the batch loss times. */
	private timeOfStep(step: number): number {
		const t = this.checkpointTimes.get(step);
		if (t !== undefined) {
			return t;
		}
		let best: MutableSeries | null = null;
		for (const m of this.metrics.values()) {
			if (best === null || m.s.step.length > best.step.length) {
				best = m.s;
			}
		}
		return best === null ? 0 : interpolate(best.step, best.time, step);
	}

	/** Full-resolution metric series (for CSV export). */
	fullMetrics(): { name: string; level: 'batch' | 'epoch'; series: Series }[] {
		return [...this.metrics.values()].map((m) => ({ name: m.name, level: m.level, series: fillTimes(m.s) }));
	}

	/** The merged analysis records with their wall times. */
	analysisPoints(): AnalysisPoint[] {
		return this.merged.checkpoints.map((c) => {
			const { images: _images, ...rest } = c;
			return { ...rest, time: this.timeOfStep(c.step) };
		});
	}

	/** The live blind scans (one per step, the latest line wins) with their wall times. */
	blindPoints(): BlindPoint[] {
		return this.merged.blind.map((b) => ({ ...b, time: this.timeOfStep(b.step) }));
	}

	/**
	 * Run facts for the webview.
	 * @param now the current time (ms), to tell a live run from an interrupted one
	 */
	info(now: number = Date.now()): RunInfo {
		const m = this.manifest;
		const status = runStatus({ started: this.lastEventMs !== null, ended: this.ended, failed: this.runError !== null, lastActivity: this.lastEventMs }, now);
		return {
			id: this.id,
			name: m?.name ?? path.basename(this.dir),
			dir: this.dir,
			createdAt: m?.createdAt ?? '',
			status,
			attackDeclared: m?.attackDeclared ?? false,
			theta: m?.theta ?? null,
			kappa: m?.kappa ?? null,
			targetClass: m?.targetClass ?? null,
			trigger: m?.trigger ?? null,
			stepsPerEpoch: this.stepsPerEpoch,
		};
	}

	private latestImages(): AnalysisImages {
		const out: { topEigenvector?: AnalysisImages['topEigenvector']; declaredTrigger?: AnalysisImages['declaredTrigger']; candidateTrigger?: AnalysisImages['candidateTrigger'] } = {};
		const sources: (AnalysisImages | undefined)[] = [...this.merged.checkpoints.map((c) => c.images), this.merged.summary?.images];
		for (const imgs of sources) {
			if (imgs === undefined) {
				continue;
			}
			for (const key of ['topEigenvector', 'declaredTrigger', 'candidateTrigger'] as const) {
				const img = imgs[key];
				if (img !== undefined) {
					out[key] = img;
				}
			}
		}
		return out;
	}

	/**
	 * The decimated payload for the webview.
	 * @param maxPoints the most points per metric series
	 */
	view(maxPoints: number = DEFAULT_MAX_POINTS): RunView {
		const metrics: MetricSeries[] = this.fullMetrics().map((m) => ({ name: m.name, level: m.level, series: decimateSeries(m.series, maxPoints), rawCount: m.series.step.length }));
		const problems = [...(this.manifestProblem === null ? [] : [this.manifestProblem]), ...this.eventProblems, ...this.analysisProblems];
		return {
			info: this.info(),
			metrics,
			checkpoints: this.analysisPoints(),
			blind: this.blindPoints(),
			summary: this.merged.summary,
			images: this.latestImages(),
			runError: this.runError,
			problems,
			revision: this.revision,
		};
	}
}

/** Linear interpolation of y at x over sorted xs (clamped at the ends); NaN-free ys assumed. */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
	const n = xs.length;
	if (n === 0) {
		return 0;
	}
	if (x <= xs[0]) {
		return ys[0];
	}
	if (x >= xs[n - 1]) {
		return ys[n - 1];
	}
	let lo = 0;
	let hi = n - 1;
	while (hi - lo > 1) {
		const mid = (lo + hi) >> 1;
		if (xs[mid] <= x) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	const x0 = xs[lo];
	const x1 = xs[hi];
	return x1 === x0 ? ys[lo] : ys[lo] + ((ys[hi] - ys[lo]) * (x - x0)) / (x1 - x0);
}

/** Replaces unknown (NaN) times by interpolation along the steps with known times, else by 0. */
function fillTimes(s: MutableSeries): Series {
	if (s.time.every((t) => Number.isFinite(t))) {
		return s;
	}
	const ks: number[] = [];
	const kt: number[] = [];
	s.time.forEach((t, i) => {
		if (Number.isFinite(t)) {
			ks.push(s.step[i]);
			kt.push(t);
		}
	});
	const time = s.time.map((t, i) => (Number.isFinite(t) ? t : interpolate(ks, kt, s.step[i])));
	return { step: s.step, epoch: s.epoch, time, value: s.value };
}
