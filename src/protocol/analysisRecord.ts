/**
 * Records of `<run>/analysis.jsonl`: what the analyser process writes (one line per analysed
 * checkpoint, plus run-level summary lines) and what the dashboard and the CLI read.
 *
 * The per-checkpoint fields are the documented record shape (docs/analyser.md); every numeric field is `null` where it
 * does not apply (no declared attack, light pass, failed checkpoint). Lines are appended; a later
 * line for the same checkpoint (same `step`) supersedes an earlier one (a full pass after a light
 * pass), and the last summary line wins.
 *
 * This module is pure: no `vscode`, no tfjs, no DOM. The webview bundles it too.
 */

/** Name of the results file inside a run folder. */
export const ANALYSIS_FILE = 'analysis.jsonl';

/** A small image (an eigenvector or a trigger) stored row-major, channel-last: `data.length === width * height * channels`. */
export interface ImageRecord {
	readonly width: number;
	readonly height: number;
	/** 1 (grey) or 3 (RGB). Values may be signed (an eigenvector's sign is arbitrary). */
	readonly channels: number;
	readonly data: readonly number[];
}

/** Per-sample curvature statistics on the triggered probes. */
export interface PerSampleStats {
	/** Median over probes of the per-sample top input-Hessian eigenvalue. */
	readonly median: number | null;
	/** 90th percentile of the same. */
	readonly p90: number | null;
	/** Mean over probes of cos²(per-sample top eigenvector, trigger direction). */
	readonly overlap: number | null;
}

/** The clean-probe spectrum: the baseline. It does not show the trigger (docs/science.md §7.1). */
export interface CleanSpectrum {
	/** Top-k eigenvalues of the batch-mean input Hessian on clean probes, descending. */
	readonly topEigenvalues: readonly number[] | null;
	/** cos²(top clean eigenvector, trigger direction), when an attack is declared. Optional. */
	readonly triggerOverlap?: number | null;
}

/** Optional images attached to a checkpoint or a summary. */
export interface AnalysisImages {
	/** Top eigenvector of the batch-mean input Hessian on triggered probes. */
	readonly topEigenvector?: ImageRecord;
	/** The declared trigger direction (warp triggers: the mean displacement). */
	readonly declaredTrigger?: ImageRecord;
	/** Blind mode: the consensus direction of the suspects. */
	readonly candidateTrigger?: ImageRecord;
}

/** How a spectrum's Lanczos run ended: unconverged values are marked by the CLI and the dashboard. */
export interface SpectrumConvergence {
	/** Lanczos steps taken. */
	readonly steps: number;
	/** Residual ‖Hv − λv‖ / |λ| of each reported eigenpair (Ritz estimates), in eigenvalue order. */
	readonly residuals: readonly number[];
	/** Every residual ≤ tol·|λ|. */
	readonly converged: boolean;
	readonly tol: number;
}

/** Which pass produced a checkpoint record. */
export type AnalysisPass = 'light' | 'full';

/** One analysed checkpoint (the per-checkpoint record shape). */
export interface CheckpointAnalysis {
	readonly kind: 'checkpoint';
	/** The checkpoint's identifier in the run folder (e.g. its folder name), when known. */
	readonly checkpoint: string | null;
	readonly pass: AnalysisPass | null;
	/** Epoch at the checkpoint; may be fractional for mid-epoch checkpoints. */
	readonly epoch: number;
	/** Global optimiser step at the checkpoint. */
	readonly step: number;
	readonly cleanAccuracy: number | null;
	/** Triggered non-target probes classified as the target. */
	readonly asr: number | null;
	/** Clean non-target probes already classified as the target (the chance rate). */
	readonly p0: number | null;
	/** asr − p0: what charts and verdicts use. */
	readonly excessAsr: number | null;
	/** Top-k eigenvalues of the batch-mean input Hessian on triggered probes, descending. */
	readonly topEigenvalues: readonly number[] | null;
	/** cos²(top eigenvector on triggered probes, trigger direction). */
	readonly triggerOverlap: number | null;
	/** λ1/λ2 on triggered probes. */
	readonly spectralGap: number | null;
	/** tᵀHt/‖t‖² on triggered probes. */
	readonly triggerCurvature: number | null;
	readonly perSample: PerSampleStats | null;
	readonly clean: CleanSpectrum | null;
	/** Why this checkpoint could not be analysed (fully); the other fields are then mostly null. */
	readonly error: string | null;
	/** Set when the predictions are degenerate (NaN outputs, one class for every probe); the spectra are then not evidence. Optional. */
	readonly degenerate?: string | null;
	/** Lanczos convergence of the triggered-probe (`topEigenvalues`) and clean-probe spectra. Optional. */
	readonly convergence?: { readonly triggered?: SpectrumConvergence; readonly clean?: SpectrumConvergence };
	/** Wall-clock milliseconds the analysis of this checkpoint took. Optional. */
	readonly analysisMs?: number | null;
	readonly images?: AnalysisImages;
}

/** The five verdicts. */
export type Verdict = 'clean' | 'early-warning' | 'visible' | 'lagging' | 'invisible';

/** Every verdict, in display order. */
export const VERDICTS: readonly Verdict[] = ['clean', 'early-warning', 'visible', 'lagging', 'invisible'];

/**
 * The signed lag between the attack working and the spectrum showing it.
 *
 * Sign convention: `lagSteps = spectralStep − asrStep`. Negative: the spectrum **leads** (an early
 * warning, as in the reference experiment, about −0.7 epoch); positive: it lags (the paper's
 * finding). `null` where either event never happened.
 */
export interface SignedLag {
	/** First step where the excess ASR passed half its final value. */
	readonly asrStep: number | null;
	/** First step where the spectral signal appeared. */
	readonly spectralStep: number | null;
	readonly lagSteps: number | null;
	readonly lagEpochs: number | null;
}

/**
 * The blind verdict's state. `alarm`: the candidate direction is far outside a null distribution built
 * from the run itself; `quiet`: it is not; `inconclusive`: the run's own control fires (the model is
 * fragile to any perturbation of this size), so the scan cannot tell; `nothing-to-analyse`: the model
 * predicts one class for (nearly) all probes or is at chance accuracy.
 */
export type BlindState = 'alarm' | 'quiet' | 'inconclusive' | 'nothing-to-analyse';

/** Every blind state, in display order. */
export const BLIND_STATES: readonly BlindState[] = ['alarm', 'quiet', 'inconclusive', 'nothing-to-analyse'];

/** The blind verdict as a test: the candidate's statistic against a null from the run itself. */
export interface BlindTest {
	readonly state: BlindState;
	/** The candidate's test statistic (higher = more suspicious); null when nothing could be measured. */
	readonly score: number | null;
	/** What the null distribution is made of, in words (e.g. "64 seeded random directions at the same norm"). */
	readonly nullName: string;
	/** How many null draws the score was compared with. */
	readonly nullSize: number;
	/** The null band: a low and a high quantile of the statistic under the null (the alarm threshold is `nullHigh`). */
	readonly nullLow: number | null;
	readonly nullHigh: number | null;
	/** False-alarm rate of this rule measured on the detection benchmark's clean runs, when measured. */
	readonly falseAlarmRate: number | null;
	/** One sentence that names only what was measured. */
	readonly reason: string;
}

/** Blind-mode results (no declared attack). */
export interface BlindSummary {
	/** Number of suspect training samples. */
	readonly suspects: number | null;
	/** cos²(candidate trigger, declared trigger) when a trigger is known (evaluation only). */
	readonly candidateTriggerOverlap: number | null;
	/** Fraction of clean non-target probes pushed to one class by adding the candidate trigger. */
	readonly flipRate: number | null;
	/** Row indices of the suspects in the training source. Optional. */
	readonly suspectRows?: readonly number[];
	/** The class the candidate trigger pushes probes to. Optional. */
	readonly flipClass?: number | null;
	/** The blind verdict as a test (state, score, null band). Optional: older files lack it. */
	readonly test?: BlindTest;
	/** Training rows that got a suspicion score, and how many rows the training set has (null: unknown). Optional. */
	readonly scoredRows?: number | null;
	readonly totalRows?: number | null;
	/** The suspicion-score cut above which a row is a suspect. Optional. */
	readonly rowScoreCut?: number | null;
	/** Run-folder-relative path of the per-row suspicion scores file, when written. Optional. */
	readonly rowScoresFile?: string | null;
}

/**
 * One blind scan during training (live blind monitoring): the blind test on one checkpoint. Lines are
 * appended as training goes; a later line for the same step supersedes an earlier one.
 */
export interface BlindCheckpoint {
	readonly kind: 'blind';
	readonly step: number;
	readonly epoch: number;
	readonly test: BlindTest;
	/** The candidate's flip rate and the control's (a seeded random direction at the same size). */
	readonly flipRate: number | null;
	readonly controlFlipRate: number | null;
	readonly suspects: number | null;
	readonly scoredRows: number | null;
	readonly totalRows: number | null;
	/** Wall-clock milliseconds the scan took. */
	readonly analysisMs: number | null;
}

/** Run-level summary line. */
export interface RunAnalysisSummary {
	readonly kind: 'summary';
	readonly lag: SignedLag;
	readonly verdict: Verdict;
	readonly blind: BlindSummary | null;
	/** Which signal defined `spectralStep` (e.g. 'triggerCurvature'). Optional. */
	readonly spectralSignal?: string | null;
	/** A recommended defence, in words. Optional. */
	readonly recommendation?: string | null;
	readonly images?: AnalysisImages;
}

/** Any line of analysis.jsonl. */
export type AnalysisLine = CheckpointAnalysis | RunAnalysisSummary | BlindCheckpoint;

/** Thrown for a malformed line; the message names the file, the line and the value. */
export class AnalysisRecordError extends Error {
	constructor(
		readonly file: string,
		readonly line: number,
		message: string,
	) {
		super(`${file}:${line}: ${message}`);
		this.name = 'AnalysisRecordError';
	}
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Reader {
	constructor(
		private readonly file: string,
		private readonly line: number,
	) {}

	fail(message: string): never {
		throw new AnalysisRecordError(this.file, this.line, message);
	}

	/** A finite number, or null when absent/null. NaN/Infinity are written as null by JSON, so a string "NaN" is rejected. */
	num(obj: Record<string, unknown>, key: string, path: string): number | null {
		const v = obj[key];
		if (v === undefined || v === null) {
			return null;
		}
		if (typeof v !== 'number' || !Number.isFinite(v)) {
			this.fail(`field "${path}${key}" must be a finite number or null, got ${JSON.stringify(v)}`);
		}
		return v;
	}

	requiredNum(obj: Record<string, unknown>, key: string, path: string): number {
		const v = this.num(obj, key, path);
		if (v === null) {
			this.fail(`field "${path}${key}" is required, got ${JSON.stringify(obj[key])}`);
		}
		return v;
	}

	numArray(obj: Record<string, unknown>, key: string, path: string): number[] | null {
		const v = obj[key];
		if (v === undefined || v === null) {
			return null;
		}
		if (!Array.isArray(v)) {
			this.fail(`field "${path}${key}" must be an array of numbers or null, got ${JSON.stringify(v)}`);
		}
		return v.map((x: unknown, i) => {
			if (typeof x !== 'number' || !Number.isFinite(x)) {
				this.fail(`field "${path}${key}[${i}]" must be a finite number, got ${JSON.stringify(x)}`);
			}
			return x;
		});
	}

	str(obj: Record<string, unknown>, key: string, path: string): string | null {
		const v = obj[key];
		if (v === undefined || v === null) {
			return null;
		}
		if (typeof v !== 'string') {
			this.fail(`field "${path}${key}" must be a string or null, got ${JSON.stringify(v)}`);
		}
		return v;
	}

	obj(obj: Record<string, unknown>, key: string, path: string): Record<string, unknown> | null {
		const v = obj[key];
		if (v === undefined || v === null) {
			return null;
		}
		if (!isRecord(v)) {
			this.fail(`field "${path}${key}" must be an object or null, got ${JSON.stringify(v)}`);
		}
		return v;
	}

	image(obj: Record<string, unknown>, key: string, path: string): ImageRecord | undefined {
		const o = this.obj(obj, key, path);
		if (o === null) {
			return undefined;
		}
		const p = `${path}${key}.`;
		const width = this.requiredNum(o, 'width', p);
		const height = this.requiredNum(o, 'height', p);
		const channels = this.requiredNum(o, 'channels', p);
		for (const [name, v] of [['width', width], ['height', height], ['channels', channels]] as const) {
			if (!Number.isInteger(v) || v < 1 || v > 4096) {
				this.fail(`field "${p}${name}" must be an integer in [1, 4096], got ${v}`);
			}
		}
		if (channels !== 1 && channels !== 3) {
			this.fail(`field "${p}channels" must be 1 or 3, got ${channels}`);
		}
		const data = this.numArray(o, 'data', p);
		if (data === null || data.length !== width * height * channels) {
			this.fail(`field "${p}data" must hold width*height*channels = ${width * height * channels} numbers, got ${data === null ? 'null' : data.length}`);
		}
		return { width, height, channels, data };
	}

	images(obj: Record<string, unknown>): AnalysisImages | undefined {
		const o = this.obj(obj, 'images', '');
		if (o === null) {
			return undefined;
		}
		const out: { topEigenvector?: ImageRecord; declaredTrigger?: ImageRecord; candidateTrigger?: ImageRecord } = {};
		for (const key of ['topEigenvector', 'declaredTrigger', 'candidateTrigger'] as const) {
			const img = this.image(o, key, 'images.');
			if (img !== undefined) {
				out[key] = img;
			}
		}
		return out;
	}
}

function parseCheckpoint(data: Record<string, unknown>, r: Reader): CheckpointAnalysis {
	const step = r.requiredNum(data, 'step', '');
	if (!Number.isInteger(step) || step < 0) {
		r.fail(`field "step" must be a non-negative integer, got ${step}`);
	}
	const epoch = r.requiredNum(data, 'epoch', '');
	if (epoch < 0) {
		r.fail(`field "epoch" must be non-negative, got ${epoch}`);
	}
	const pass = r.str(data, 'pass', '');
	if (pass !== null && pass !== 'light' && pass !== 'full') {
		r.fail(`field "pass" must be "light", "full" or null, got ${JSON.stringify(pass)}`);
	}
	const ps = r.obj(data, 'perSample', '');
	const cl = r.obj(data, 'clean', '');
	// The analyser may write typed errors as { code, message }; keep the words, prefixed by the code.
	let error: string | null;
	const rawError = data.error;
	if (isRecord(rawError) && typeof rawError.message === 'string') {
		error = typeof rawError.code === 'string' || typeof rawError.code === 'number' ? `${String(rawError.code)}: ${rawError.message}` : rawError.message;
	} else {
		error = r.str(data, 'error', '');
	}
	const images = r.images(data);
	const degenerate = r.str(data, 'degenerate', '');
	const conv = r.obj(data, 'convergence', '');
	const convOf = (key: 'triggered' | 'clean'): SpectrumConvergence | null => {
		const c = conv === null ? null : r.obj(conv, key, 'convergence.');
		if (c === null) {
			return null;
		}
		if (typeof c.converged !== 'boolean') {
			r.fail(`field "convergence.${key}.converged" must be true or false, got ${JSON.stringify(c.converged)}`);
		}
		return {
			steps: r.num(c, 'steps', `convergence.${key}.`) ?? 0,
			residuals: r.numArray(c, 'residuals', `convergence.${key}.`) ?? [],
			converged: c.converged,
			tol: r.num(c, 'tol', `convergence.${key}.`) ?? 0,
		};
	};
	const triggeredConv = convOf('triggered');
	const cleanConv = convOf('clean');
	const rec: CheckpointAnalysis = {
		kind: 'checkpoint',
		checkpoint: r.str(data, 'checkpoint', ''),
		pass,
		epoch,
		step,
		cleanAccuracy: r.num(data, 'cleanAccuracy', ''),
		asr: r.num(data, 'asr', ''),
		p0: r.num(data, 'p0', ''),
		excessAsr: r.num(data, 'excessAsr', ''),
		topEigenvalues: r.numArray(data, 'topEigenvalues', ''),
		triggerOverlap: r.num(data, 'triggerOverlap', ''),
		spectralGap: r.num(data, 'spectralGap', ''),
		triggerCurvature: r.num(data, 'triggerCurvature', ''),
		perSample: ps === null ? null : { median: r.num(ps, 'median', 'perSample.'), p90: r.num(ps, 'p90', 'perSample.'), overlap: r.num(ps, 'overlap', 'perSample.') },
		clean: cl === null ? null : { topEigenvalues: r.numArray(cl, 'topEigenvalues', 'clean.'), triggerOverlap: r.num(cl, 'triggerOverlap', 'clean.') },
		error,
		...(degenerate === null ? {} : { degenerate }),
		...(triggeredConv === null && cleanConv === null
			? {}
			: { convergence: { ...(triggeredConv === null ? {} : { triggered: triggeredConv }), ...(cleanConv === null ? {} : { clean: cleanConv }) } }),
		analysisMs: r.num(data, 'analysisMs', ''),
		...(images === undefined ? {} : { images }),
	};
	return rec;
}

function parseBlindTest(t: Record<string, unknown>, r: Reader, path: string): BlindTest {
	const state = t.state;
	if (typeof state !== 'string' || !(BLIND_STATES as readonly string[]).includes(state)) {
		r.fail(`field "${path}state" must be one of ${BLIND_STATES.join(', ')}, got ${JSON.stringify(state)}`);
	}
	const nullSize = r.num(t, 'nullSize', path) ?? 0;
	if (!Number.isInteger(nullSize) || nullSize < 0) {
		r.fail(`field "${path}nullSize" must be a non-negative integer, got ${nullSize}`);
	}
	return {
		state: state as BlindState,
		score: r.num(t, 'score', path),
		nullName: r.str(t, 'nullName', path) ?? '',
		nullSize,
		nullLow: r.num(t, 'nullLow', path),
		nullHigh: r.num(t, 'nullHigh', path),
		falseAlarmRate: r.num(t, 'falseAlarmRate', path),
		reason: r.str(t, 'reason', path) ?? '',
	};
}

function parseBlindCheckpoint(data: Record<string, unknown>, r: Reader): BlindCheckpoint {
	const step = r.requiredNum(data, 'step', '');
	if (!Number.isInteger(step) || step < 0) {
		r.fail(`field "step" must be a non-negative integer, got ${step}`);
	}
	const epoch = r.requiredNum(data, 'epoch', '');
	const t = r.obj(data, 'test', '');
	if (t === null) {
		r.fail('field "test" is required in a blind record');
	}
	return {
		kind: 'blind',
		step,
		epoch,
		test: parseBlindTest(t, r, 'test.'),
		flipRate: r.num(data, 'flipRate', ''),
		controlFlipRate: r.num(data, 'controlFlipRate', ''),
		suspects: r.num(data, 'suspects', ''),
		scoredRows: r.num(data, 'scoredRows', ''),
		totalRows: r.num(data, 'totalRows', ''),
		analysisMs: r.num(data, 'analysisMs', ''),
	};
}

function parseSummary(data: Record<string, unknown>, r: Reader): RunAnalysisSummary {
	const verdict = data.verdict;
	if (typeof verdict !== 'string' || !(VERDICTS as readonly string[]).includes(verdict)) {
		r.fail(`field "verdict" must be one of ${VERDICTS.join(', ')}, got ${JSON.stringify(verdict)}`);
	}
	const lag = r.obj(data, 'lag', '');
	if (lag === null) {
		r.fail('field "lag" is required in a summary record');
	}
	const b = r.obj(data, 'blind', '');
	let blind: BlindSummary | null = null;
	if (b !== null) {
		const rows = r.numArray(b, 'suspectRows', 'blind.');
		const t = r.obj(b, 'test', 'blind.');
		const optionalNum = (key: 'scoredRows' | 'totalRows' | 'rowScoreCut'): { [k: string]: number } => {
			const v = r.num(b, key, 'blind.');
			return v === null ? {} : { [key]: v };
		};
		const scoresFile = r.str(b, 'rowScoresFile', 'blind.');
		blind = {
			suspects: r.num(b, 'suspects', 'blind.'),
			candidateTriggerOverlap: r.num(b, 'candidateTriggerOverlap', 'blind.'),
			flipRate: r.num(b, 'flipRate', 'blind.'),
			flipClass: r.num(b, 'flipClass', 'blind.'),
			...(rows === null ? {} : { suspectRows: rows }),
			...(t === null ? {} : { test: parseBlindTest(t, r, 'blind.test.') }),
			...optionalNum('scoredRows'),
			...optionalNum('totalRows'),
			...optionalNum('rowScoreCut'),
			...(scoresFile === null ? {} : { rowScoresFile: scoresFile }),
		};
	}
	const images = r.images(data);
	return {
		kind: 'summary',
		lag: {
			asrStep: r.num(lag, 'asrStep', 'lag.'),
			spectralStep: r.num(lag, 'spectralStep', 'lag.'),
			lagSteps: r.num(lag, 'lagSteps', 'lag.'),
			lagEpochs: r.num(lag, 'lagEpochs', 'lag.'),
		},
		verdict: verdict as Verdict,
		blind,
		spectralSignal: r.str(data, 'spectralSignal', ''),
		recommendation: r.str(data, 'recommendation', ''),
		...(images === undefined ? {} : { images }),
	};
}

/**
 * Parses and validates one line of analysis.jsonl.
 *
 * A line with `kind: 'summary'` (or, without `kind`, one carrying `verdict`) is a summary;
 * anything else must be a checkpoint record.
 * @param text one line, without its newline
 * @param file the file's path, for error messages
 * @param line the 1-based line number, for error messages
 * @throws AnalysisRecordError naming the file, the line and the offending field and value
 */
export function parseAnalysisLine(text: string, file: string, line: number): AnalysisLine {
	const r: Reader = new Reader(file, line);
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (err) {
		r.fail(`not valid JSON (${(err as Error).message})`);
	}
	if (!isRecord(data)) {
		r.fail(`expected a JSON object, got ${JSON.stringify(data)}`);
	}
	const kind = data.kind;
	if (kind === 'summary' || (kind === undefined && 'verdict' in data)) {
		return parseSummary(data, r);
	}
	if (kind === 'blind') {
		return parseBlindCheckpoint(data, r);
	}
	if (kind !== undefined && kind !== 'checkpoint') {
		r.fail(`field "kind" must be "checkpoint", "summary" or "blind", got ${JSON.stringify(kind)}`);
	}
	return parseCheckpoint(data, r);
}

/** The merged content of an analysis.jsonl. */
export interface AnalysisFile {
	/** One record per checkpoint step (the latest line for that step), sorted by step. */
	readonly checkpoints: readonly CheckpointAnalysis[];
	/** The last summary line, if any. */
	readonly summary: RunAnalysisSummary | null;
	/** Live blind scans, one per step (the latest line for that step), sorted by step. */
	readonly blind: readonly BlindCheckpoint[];
	/** Malformed lines: their messages (file:line: what). They do not stop the rest. */
	readonly problems: readonly string[];
}

/**
 * Merges parsed lines: the last line for a step wins, the last summary wins.
 * @param lines lines in file order
 */
export function mergeAnalysisLines(lines: readonly AnalysisLine[]): { checkpoints: CheckpointAnalysis[]; summary: RunAnalysisSummary | null; blind: BlindCheckpoint[] } {
	const byStep = new Map<number, CheckpointAnalysis>();
	const blindByStep = new Map<number, BlindCheckpoint>();
	let summary: RunAnalysisSummary | null = null;
	for (const l of lines) {
		if (l.kind === 'summary') {
			summary = l;
		} else if (l.kind === 'blind') {
			blindByStep.set(l.step, l);
		} else {
			byStep.set(l.step, l);
		}
	}
	return {
		checkpoints: [...byStep.values()].sort((a, b) => a.step - b.step),
		summary,
		blind: [...blindByStep.values()].sort((a, b) => a.step - b.step),
	};
}

/**
 * Parses a whole analysis.jsonl text. Blank lines are skipped; malformed lines are reported in
 * `problems` and skipped, so one bad line never hides the rest of the run.
 * @param text the file's contents
 * @param file the file's path, for messages
 */
export function parseAnalysisFile(text: string, file: string): AnalysisFile {
	const lines: AnalysisLine[] = [];
	const problems: string[] = [];
	text.split('\n').forEach((raw, i) => {
		const t = raw.trim();
		if (t.length === 0) {
			return;
		}
		try {
			lines.push(parseAnalysisLine(t, file, i + 1));
		} catch (err) {
			problems.push(err instanceof Error ? err.message : String(err));
		}
	});
	return { ...mergeAnalysisLines(lines), problems };
}
