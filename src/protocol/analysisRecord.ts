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

import * as T from '@sinclair/typebox';
import { applyDefaults, firstIssue, formatIssue, Nullable, OneOf, OrNull, showValue, type Static } from './schema';

// Each record is declared once, as a schema: the TypeScript types below are derived from it, and the reader
// checks every line against it. `OrNull` fields read as null when absent; optional fields without a default
// are left out when absent or null.

/** A small image (an eigenvector or a trigger) stored row-major, channel-last: `data.length === width * height * channels`. */
export const ImageRecordSchema = T.Object({
	width: T.Integer({ minimum: 1, maximum: 4096 }),
	height: T.Integer({ minimum: 1, maximum: 4096 }),
	/** 1 (grey) or 3 (RGB), checked as such; typed as a number so computed images need no cast. Values may be signed (an eigenvector's sign is arbitrary). */
	channels: T.Union([T.Literal(1), T.Literal(3)]) as unknown as T.TNumber,
	data: T.Array(T.Number()),
});
export type ImageRecord = Readonly<Static<typeof ImageRecordSchema>>;

/** Per-sample curvature statistics on the triggered probes. */
export const PerSampleStatsSchema = T.Object({
	/** Median over probes of the per-sample top input-Hessian eigenvalue. */
	median: OrNull(T.Number()),
	/** 90th percentile of the same. */
	p90: OrNull(T.Number()),
	/** Mean over probes of cos²(per-sample top eigenvector, trigger direction). */
	overlap: OrNull(T.Number()),
});
export type PerSampleStats = Readonly<Static<typeof PerSampleStatsSchema>>;

/** The clean-probe spectrum: the baseline. It does not show the trigger (docs/science.md §7.1). */
export const CleanSpectrumSchema = T.Object({
	/** Top-k eigenvalues of the batch-mean input Hessian on clean probes, descending. */
	topEigenvalues: OrNull(T.Array(T.Number())),
	/** cos²(top clean eigenvector, trigger direction), when an attack is declared. */
	triggerOverlap: T.Optional(OrNull(T.Number())),
});
export type CleanSpectrum = Readonly<Static<typeof CleanSpectrumSchema>>;

/** Optional images attached to a checkpoint or a summary. */
export const AnalysisImagesSchema = T.Object({
	/** Top eigenvector of the batch-mean input Hessian on triggered probes. */
	topEigenvector: T.Optional(ImageRecordSchema),
	/** The declared trigger direction (warp triggers: the mean displacement). */
	declaredTrigger: T.Optional(ImageRecordSchema),
	/** Blind mode: the consensus direction of the suspects. */
	candidateTrigger: T.Optional(ImageRecordSchema),
});
export type AnalysisImages = Readonly<Static<typeof AnalysisImagesSchema>>;

/** How a spectrum's Lanczos run ended: unconverged values are marked by the CLI and the dashboard. */
export const SpectrumConvergenceSchema = T.Object({
	/** Lanczos steps taken. */
	steps: T.Number({ default: 0 }),
	/** Residual ‖Hv − λv‖ / |λ| of each reported eigenpair (Ritz estimates), in eigenvalue order. */
	residuals: T.Array(T.Number(), { default: [] }),
	/** Every residual ≤ tol·|λ|. */
	converged: T.Boolean(),
	tol: T.Number({ default: 0 }),
});
export type SpectrumConvergence = Readonly<Static<typeof SpectrumConvergenceSchema>>;

/** Which pass produced a checkpoint record. */
export const ANALYSIS_PASSES = ['light', 'full'] as const;
export type AnalysisPass = (typeof ANALYSIS_PASSES)[number];
export const AnalysisPassSchema = OneOf(ANALYSIS_PASSES);

/** One analysed checkpoint (the per-checkpoint record shape). */
export const CheckpointAnalysisSchema = T.Object({
	kind: T.Literal('checkpoint', { default: 'checkpoint' }),
	/** The checkpoint's identifier in the run folder (e.g. its folder name), when known. */
	checkpoint: OrNull(T.String()),
	pass: OrNull(AnalysisPassSchema),
	/** Epoch at the checkpoint; may be fractional for mid-epoch checkpoints. */
	epoch: T.Number({ minimum: 0 }),
	/** Global optimiser step at the checkpoint. */
	step: T.Integer({ minimum: 0 }),
	cleanAccuracy: OrNull(T.Number()),
	/** Triggered non-target probes classified as the target. */
	asr: OrNull(T.Number()),
	/** Clean non-target probes already classified as the target (the chance rate). */
	p0: OrNull(T.Number()),
	/** asr − p0: what charts and verdicts use. */
	excessAsr: OrNull(T.Number()),
	/** Top-k eigenvalues of the batch-mean input Hessian on triggered probes, descending. */
	topEigenvalues: OrNull(T.Array(T.Number())),
	/** cos²(top eigenvector on triggered probes, trigger direction). */
	triggerOverlap: OrNull(T.Number()),
	/** λ1/λ2 on triggered probes. */
	spectralGap: OrNull(T.Number()),
	/** tᵀHt/‖t‖² on triggered probes. */
	triggerCurvature: OrNull(T.Number()),
	perSample: OrNull(PerSampleStatsSchema),
	clean: OrNull(CleanSpectrumSchema),
	/** Why this checkpoint could not be analysed (fully); the other fields are then mostly null. */
	error: OrNull(T.String()),
	/** Set when the predictions are degenerate (NaN outputs, one class for every probe); the spectra are then not evidence. */
	degenerate: T.Optional(Nullable(T.String())),
	/** Lanczos convergence of the triggered-probe (`topEigenvalues`) and clean-probe spectra. */
	convergence: T.Optional(T.Object({ triggered: T.Optional(SpectrumConvergenceSchema), clean: T.Optional(SpectrumConvergenceSchema) })),
	/** Wall-clock milliseconds the analysis of this checkpoint took. */
	analysisMs: T.Optional(OrNull(T.Number())),
	images: T.Optional(AnalysisImagesSchema),
});
export type CheckpointAnalysis = Readonly<Static<typeof CheckpointAnalysisSchema>>;

/** Every verdict, in display order. */
export const VERDICTS = ['clean', 'early-warning', 'visible', 'lagging', 'invisible'] as const;
/** The five verdicts. */
export type Verdict = (typeof VERDICTS)[number];

/**
 * The signed lag between the attack working and the spectrum showing it.
 *
 * Sign convention: `lagSteps = spectralStep − asrStep`. Negative: the spectrum **leads** (an early
 * warning, as in the reference experiment, about −0.7 epoch); positive: it lags (the paper's
 * finding). `null` where either event never happened.
 */
export const SignedLagSchema = T.Object({
	/** First step where the excess ASR passed half its final value. */
	asrStep: OrNull(T.Number()),
	/** First step where the spectral signal appeared. */
	spectralStep: OrNull(T.Number()),
	lagSteps: OrNull(T.Number()),
	lagEpochs: OrNull(T.Number()),
});
export type SignedLag = Readonly<Static<typeof SignedLagSchema>>;

/**
 * The blind verdict's states, in display order. `alarm`: the candidate direction is far outside a null
 * distribution built from the run itself; `quiet`: it is not; `inconclusive`: the run's own control fires (the
 * model is fragile to any perturbation of this size), so the scan cannot tell; `nothing-to-analyse`: the model
 * predicts one class for (nearly) all probes or is at chance accuracy.
 */
export const BLIND_STATES = ['alarm', 'quiet', 'inconclusive', 'nothing-to-analyse'] as const;
export type BlindState = (typeof BLIND_STATES)[number];

/** The blind verdict as a test: the candidate's statistic against a null from the run itself. */
export const BlindTestSchema = T.Object({
	state: OneOf(BLIND_STATES),
	/** The candidate's test statistic (higher = more suspicious); null when nothing could be measured. */
	score: OrNull(T.Number()),
	/** What the null distribution is made of, in words (e.g. "64 seeded random directions at the same norm"). */
	nullName: T.String({ default: '' }),
	/** How many null draws the score was compared with. */
	nullSize: T.Integer({ minimum: 0, default: 0 }),
	/** The null band: a low and a high quantile of the statistic under the null (the alarm threshold is `nullHigh`). */
	nullLow: OrNull(T.Number()),
	nullHigh: OrNull(T.Number()),
	/** False-alarm rate of this rule measured on the detection benchmark's clean runs, when measured. */
	falseAlarmRate: OrNull(T.Number()),
	/** The count behind `falseAlarmRate`: alarms, clean runs, an exact one-sided 95 % upper bound, and where (absent: not measured). */
	falseAlarms: T.Optional(
		T.Object({
			alarms: T.Integer({ minimum: 0 }),
			runs: T.Integer({ minimum: 1 }),
			upper95: T.Number({ minimum: 0, maximum: 1 }),
			where: T.String(),
		}),
	),
	/** One sentence that names only what was measured. */
	reason: T.String({ default: '' }),
	/** Which test raised an alarm (only in state `alarm`): the curvature candidate, the class-shortcut test, or both. */
	alarmBy: T.Optional(OneOf(['curvature', 'shortcut', 'both'] as const)),
	/**
	 * The class-shortcut test: per class, the universal perturbation of RMS size `norm` toward it; the class it pushes
	 * the most clean probes to, the runner-up, their gap, and the gap from which the test alarms. Absent in analyses
	 * made before the test existed.
	 */
	shortcut: T.Optional(
		T.Object({
			norm: T.Number(),
			cls: T.Integer(),
			rate: T.Number(),
			secondCls: OrNull(T.Integer()),
			second: T.Number(),
			gap: T.Number(),
			threshold: T.Number(),
		}),
	),
});
export type BlindTest = Readonly<Static<typeof BlindTestSchema>>;

/** Blind-mode results (no declared attack). */
export const BlindSummarySchema = T.Object({
	/** Number of suspect training samples. */
	suspects: OrNull(T.Number()),
	/** cos²(candidate trigger, declared trigger) when a trigger is known (evaluation only). */
	candidateTriggerOverlap: OrNull(T.Number()),
	/** Fraction of clean non-target probes pushed to one class by adding the candidate trigger. */
	flipRate: OrNull(T.Number()),
	/** Row indices of the suspects in the training source. */
	suspectRows: T.Optional(T.Array(T.Number())),
	/** The class the candidate trigger pushes probes to. */
	flipClass: T.Optional(OrNull(T.Number())),
	/** The blind verdict as a test (state, score, null band). Older files lack it. */
	test: T.Optional(BlindTestSchema),
	/** Training rows that got a suspicion score, and how many rows the training set has (null: unknown). */
	scoredRows: T.Optional(Nullable(T.Number())),
	totalRows: T.Optional(Nullable(T.Number())),
	/** The suspicion-score cut above which a row is a suspect. */
	rowScoreCut: T.Optional(Nullable(T.Number())),
	/** Run-folder-relative path of the per-row suspicion scores file, when written. */
	rowScoresFile: T.Optional(Nullable(T.String())),
});
export type BlindSummary = Readonly<Static<typeof BlindSummarySchema>>;

/**
 * One blind scan during training (live blind monitoring): the blind test on one checkpoint. Lines are
 * appended as training goes; a later line for the same step supersedes an earlier one.
 */
export const BlindCheckpointSchema = T.Object({
	kind: T.Literal('blind'),
	step: T.Integer({ minimum: 0 }),
	epoch: T.Number(),
	test: BlindTestSchema,
	/** The candidate's flip rate and the control's (a seeded random direction at the same size). */
	flipRate: OrNull(T.Number()),
	controlFlipRate: OrNull(T.Number()),
	suspects: OrNull(T.Number()),
	scoredRows: OrNull(T.Number()),
	totalRows: OrNull(T.Number()),
	/** Wall-clock milliseconds the scan took. */
	analysisMs: OrNull(T.Number()),
});
export type BlindCheckpoint = Readonly<Static<typeof BlindCheckpointSchema>>;

/** Run-level summary line. */
export const RunAnalysisSummarySchema = T.Object({
	kind: T.Literal('summary', { default: 'summary' }),
	lag: SignedLagSchema,
	verdict: OneOf(VERDICTS),
	blind: OrNull(BlindSummarySchema),
	/** Which signal defined `spectralStep` (e.g. 'triggerCurvature'). */
	spectralSignal: T.Optional(OrNull(T.String())),
	/** A recommended defence, in words. */
	recommendation: T.Optional(OrNull(T.String())),
	images: T.Optional(AnalysisImagesSchema),
});
export type RunAnalysisSummary = Readonly<Static<typeof RunAnalysisSummarySchema>>;

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

/** The checks a schema cannot state: an image's data holds width × height × channels numbers. */
function imageProblem(images: AnalysisImages | undefined): string | null {
	for (const key of ['topEigenvector', 'declaredTrigger', 'candidateTrigger'] as const) {
		const img = images?.[key];
		if (img !== undefined && img.data.length !== img.width * img.height * img.channels) {
			return `field "images.${key}.data" must hold width*height*channels = ${img.width * img.height * img.channels} numbers, got ${img.data.length}`;
		}
	}
	return null;
}

/** Which record a parsed line is: `kind`, or without it a summary when it carries `verdict`, else a checkpoint. */
function lineKind(data: Record<string, unknown>): AnalysisLine['kind'] | undefined {
	const kind = data.kind;
	if (kind === 'summary' || (kind === undefined && 'verdict' in data)) {
		return 'summary';
	}
	return kind === 'blind' ? 'blind' : kind === undefined || kind === 'checkpoint' ? 'checkpoint' : undefined;
}

const SCHEMAS = { checkpoint: CheckpointAnalysisSchema, summary: RunAnalysisSummarySchema, blind: BlindCheckpointSchema } as const;

/**
 * Checks one parsed record (a line of the file, or a record that came over IPC) and returns it normalised:
 * absent optional values read as null, unknown fields are dropped, and a typed error `{ code, message }`
 * (an older analyser's form) becomes `"code: message"`. Does not modify `data`.
 * @param expected the record kind the caller needs; any when absent
 * @returns the record, or the message of the first problem (`field "x" must be ..., got ...`)
 * @param prefix prepended to field paths in the message
 */
export function checkAnalysisRecord<K extends AnalysisLine['kind']>(data: unknown, expected?: K, prefix = ''): Extract<AnalysisLine, { kind: K }> | { problem: string } {
	if (!isRecord(data)) {
		return { problem: `expected a JSON object, got ${showValue(data)}` };
	}
	const kind = lineKind(data);
	if (kind === undefined || (expected !== undefined && kind !== expected)) {
		const allowed = expected === undefined ? '"checkpoint", "summary" or "blind"' : `"${expected}"`;
		return { problem: `field "${prefix}kind" must be ${allowed}, got ${showValue(data.kind)}` };
	}
	const value = structuredClone(data);
	const rawError = value.error;
	if (kind === 'checkpoint' && isRecord(rawError) && typeof rawError.message === 'string') {
		value.error = typeof rawError.code === 'string' || typeof rawError.code === 'number' ? `${String(rawError.code)}: ${rawError.message}` : rawError.message;
	}
	const schema = SCHEMAS[kind];
	applyDefaults(schema, value);
	const issue = firstIssue(schema, value);
	if (issue !== undefined) {
		return { problem: formatIssue(issue, { prefix, missing: 'is-required' }) };
	}
	const record = value as unknown as AnalysisLine;
	const bad = record.kind === 'blind' ? null : imageProblem(record.images);
	return bad === null ? (record as Extract<AnalysisLine, { kind: K }>) : { problem: bad };
}

/**
 * Parses and validates one line of analysis.jsonl.
 *
 * A line with `kind: 'summary'` (or, without `kind`, one carrying `verdict`) is a summary; `kind: 'blind'` a
 * live blind scan; anything else must be a checkpoint record.
 * @param text one line, without its newline
 * @param file the file's path, for error messages
 * @param line the 1-based line number, for error messages
 * @throws AnalysisRecordError naming the file, the line and the offending field and value
 */
export function parseAnalysisLine(text: string, file: string, line: number): AnalysisLine {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (err) {
		throw new AnalysisRecordError(file, line, `not valid JSON (${(err as Error).message})`);
	}
	const r = checkAnalysisRecord(data);
	if ('problem' in r) {
		throw new AnalysisRecordError(file, line, r.problem);
	}
	return r;
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
