/**
 * `poison-lens analyse <runDir>`: analyses a run folder in this process (no fork: a terminal
 * has no extension host to protect), appends the results to `<run>/analysis.jsonl`, prints a
 * table on stdout and a progress bar on stderr, and optionally writes the JSON documented in docs/analyser.md.
 *
 * Exit codes: 0 analysed (whatever the verdict, unless --fail-on names it); 1 the run cannot be read or analysis
 * failed; 2 usage error; 3 the verdict is in --fail-on; 130 interrupted (Ctrl-C; records written so far stay in
 * analysis.jsonl).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import { VERDICTS, type BlindCheckpoint, type BlindSummary, type BlindTest, type CheckpointAnalysis, type CleanSpectrum, type SignedLag, type Verdict } from '../protocol/analysisRecord';
import { BACKEND_REQUEST_NAMES, MAX_TOP_K, type BackendRequestName } from '../protocol/analyser';
import { backendSummary, selectBackend } from '../tfjs/backend';
import { installGradientFixes } from '../tfjs/gradients';
import { CurvatureCancelledError } from '../analyser/curvature/index';
import { AnalysisError } from '../analyser/analysis/errors';
import { falseAlarmText } from '../protocol/falseAlarms';
import { analyseRunDir, type LiveScanStop, type RunAnalysisOutcome } from '../analyser/analysis/runner';
import { DEFAULT_LIVE_BLIND_SHARE, parseLiveBlindEvery, type LiveBlindSettings } from '../analyser/analysis/liveBlind';
import { relativeTriggerCurvature } from '../analyser/analysis/lag';
import { LIGHT_LANCZOS_STEPS } from '../analyser/analysis/checkpoint';
import { escapeControl, fileFault, FileFault } from '../protocol/safeFile';
import { analysisToSarif, relativeUri, type AnalysisFacts } from '../ci/sarif';
import { verdictHeadline } from '../ci/verdictText';
import { analysisSummaryMd } from '../ci/summary';
import { EXIT_VERDICT_GATE, verdictGateFails } from '../ci/gate';
import { readManifest } from '../protocol/runFormat';
import { sarifBase, writeSummary } from './ciOutput';
import { flagOpt, parseCommandLine, parseOrExitCode, stringOpt, UsageError, wantsHelp, type OptionSpec } from './args';

const HELP = `Usage: poison-lens analyse <runDir> [options]

Analyses every checkpoint of a Poison Lens run folder not yet in <runDir>/analysis.jsonl (newest
first), then blind mode over the run's training sample, the signed lag and the verdict.

Options:
  --backend NAME   auto | wasm | cpu | gpu (default auto: WebGPU when an adapter exists, else wasm)
  --k N            top eigenpairs per spectrum, 1–${MAX_TOP_K} (default 5)
  --json FILE      also write the results as JSON to FILE ("-" for stdout, replacing the table)
  --follow         keep analysing new checkpoints until the run ends
  --full           full pass (per-sample curvature, clean-probe spectrum, more Lanczos steps)
                   instead of the light pass (ASR, p0, tᵀHt, ≤ 20 Lanczos steps)
  --no-blind       skip blind mode
  --blind-every E  live blind monitoring with --follow (runs without a declared attack): scan the newest
                   checkpoint once per epoch ("epoch", the default) or every N checkpoints
  --blind-share F  share of the time between two live scans a scan may take, in (0, 1] (default ${DEFAULT_LIVE_BLIND_SHARE})
  --no-live-blind  no live blind scans while following (blind mode still runs once at the end)
  --retry-errors   analyse again the checkpoints whose stored record is an error (without it, an
                   error is retried only when its files changed or it came from another backend)
  --format F       text | json | sarif: what is printed (or written to --output); default text.
                   sarif: SARIF 2.1.0 for code scanning, the verdict located at the run's manifest.json
  -o, --output F   write the --format output to FILE; stdout keeps the text table
  --fail-on LIST   exit ${EXIT_VERDICT_GATE} when the verdict is one of LIST (comma-separated: clean, early-warning,
                   visible, lagging, invisible; any-risk = all but clean)
  --summary md     append a Markdown summary to --summary-file, else $GITHUB_STEP_SUMMARY, else stdout
  --summary-file F where --summary goes
  -h, --help       show this help

Options take their value as "--opt value" or "--opt=value".

Exit codes: 0 analysed (and the verdict passed --fail-on); 1 the run cannot be read or the analysis failed;
2 usage error; ${EXIT_VERDICT_GATE} the verdict is in --fail-on; 130 interrupted (what was analysed is kept in analysis.jsonl).
`;

/** Output formats of `analyse --format`. */
export type AnalyseFormat = 'text' | 'json' | 'sarif';

/** Parsed `analyse` options. */
export interface AnalyseArgs {
	readonly runDir: string;
	readonly backend: BackendRequestName;
	readonly k: number;
	readonly json: string | null;
	readonly follow: boolean;
	readonly full: boolean;
	readonly blind: boolean;
	/** Live blind monitoring with --follow: its settings, or false when turned off. */
	readonly liveBlind: LiveBlindSettings | false;
	readonly retryErrors: boolean;
	/** Verdicts that make the command exit 3 (`--fail-on`); empty: never. */
	readonly failOn: readonly Verdict[];
	/** What goes to `output` (stdout when null). */
	readonly format: AnalyseFormat;
	/** `--output FILE`: the format's output goes there, and stdout keeps the text table. */
	readonly output: string | null;
	/** `--summary md`: a Markdown summary is appended to `summaryFile`. */
	readonly summary: 'md' | null;
	/** `--summary-file FILE`, else $GITHUB_STEP_SUMMARY, else null (stdout). */
	readonly summaryFile: string | null;
}

export { UsageError };

const ANALYSE_OPTIONS = {
	backend: { type: 'string' },
	k: { type: 'string' },
	json: { type: 'string' },
	follow: { type: 'boolean' },
	full: { type: 'boolean' },
	'no-blind': { type: 'boolean' },
	'blind-every': { type: 'string' },
	'blind-share': { type: 'string' },
	'no-live-blind': { type: 'boolean' },
	'retry-errors': { type: 'boolean' },
	'fail-on': { type: 'string' },
	format: { type: 'string' },
	output: { type: 'string', short: 'o' },
	summary: { type: 'string' },
	'summary-file': { type: 'string' },
	help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/**
 * Parses a `--fail-on` verdict list (`lagging,invisible`; `any-risk` = every verdict but clean).
 * @throws UsageError naming the unknown verdict
 */
export function parseVerdictList(raw: string): Verdict[] {
	const out = new Set<Verdict>();
	for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
		if (part === 'any-risk') {
			VERDICTS.filter((v) => v !== 'clean').forEach((v) => out.add(v));
		} else if ((VERDICTS as readonly string[]).includes(part)) {
			out.add(part as Verdict);
		} else {
			throw new UsageError(`--fail-on: "${part}" is not a verdict (${VERDICTS.join(', ')}, or any-risk)`);
		}
	}
	if (out.size === 0) {
		throw new UsageError('--fail-on needs at least one verdict');
	}
	return VERDICTS.filter((v) => out.has(v));
}

/**
 * Parses `analyse` arguments.
 * @param env where `$GITHUB_STEP_SUMMARY` is read
 * @throws UsageError naming the bad flag or value
 */
export function parseAnalyseArgs(argv: readonly string[], cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): AnalyseArgs | 'help' {
	if (wantsHelp(argv)) {
		return 'help';
	}
	const parsed = parseCommandLine(argv, ANALYSE_OPTIONS);
	let backend: BackendRequestName = 'auto';
	const b = stringOpt(parsed, 'backend');
	if (b !== undefined) {
		if (!(BACKEND_REQUEST_NAMES as readonly string[]).includes(b) || b === 'tensorflow') {
			throw new UsageError(`--backend must be auto, wasm, cpu or gpu, got "${b}"`);
		}
		backend = b as BackendRequestName;
	}
	let k = 5;
	const kRaw = stringOpt(parsed, 'k');
	if (kRaw !== undefined) {
		const n = Number(kRaw);
		if (kRaw.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_TOP_K) {
			throw new UsageError(`--k must be an integer in [1, ${MAX_TOP_K}], got "${kRaw}"`);
		}
		k = n;
	}
	const format = stringOpt(parsed, 'format') ?? 'text';
	if (format !== 'text' && format !== 'json' && format !== 'sarif') {
		throw new UsageError(`--format must be text, json or sarif, got "${format}"`);
	}
	const summary = stringOpt(parsed, 'summary') ?? null;
	if (summary !== null && summary !== 'md') {
		throw new UsageError(`--summary must be md, got "${summary}"`);
	}
	const everyRaw = stringOpt(parsed, 'blind-every');
	const every = everyRaw === undefined ? 'epoch' : parseLiveBlindEvery(everyRaw);
	if (every === null) {
		throw new UsageError(`--blind-every must be "epoch" or a whole number of checkpoints ≥ 1, got "${String(everyRaw)}"`);
	}
	const shareRaw = stringOpt(parsed, 'blind-share');
	const share = shareRaw === undefined ? DEFAULT_LIVE_BLIND_SHARE : Number(shareRaw);
	if (shareRaw !== undefined && (shareRaw.trim() === '' || !(share > 0 && share <= 1))) {
		throw new UsageError(`--blind-share must be a number in (0, 1], got "${shareRaw}"`);
	}
	const failOnRaw = stringOpt(parsed, 'fail-on');
	const failOn = failOnRaw === undefined ? [] : parseVerdictList(failOnRaw);
	const [runDir, extra] = parsed.positionals;
	if (runDir === undefined) {
		throw new UsageError('missing <runDir>');
	}
	if (extra !== undefined) {
		throw new UsageError(`unexpected argument "${extra}" (the run folder is already "${runDir}")`);
	}
	const json = stringOpt(parsed, 'json') ?? null;
	const output = stringOpt(parsed, 'output') ?? null;
	const summaryFile = stringOpt(parsed, 'summary-file') ?? (env.GITHUB_STEP_SUMMARY !== undefined && env.GITHUB_STEP_SUMMARY !== '' ? env.GITHUB_STEP_SUMMARY : null);
	if (summary !== null && summaryFile === null && (json === '-' || (format !== 'text' && (output === null || output === '-')))) {
		throw new UsageError('--summary md would mix Markdown into the JSON/SARIF on stdout: give --summary-file, --output, or set $GITHUB_STEP_SUMMARY');
	}
	const abs = (f: string | null): string | null => (f === null || f === '-' ? f : path.resolve(cwd, f));
	return {
		runDir: path.resolve(cwd, runDir),
		backend,
		k,
		json: abs(json),
		follow: flagOpt(parsed, 'follow'),
		full: flagOpt(parsed, 'full'),
		blind: !flagOpt(parsed, 'no-blind'),
		liveBlind: flagOpt(parsed, 'no-live-blind') ? false : { every, share },
		retryErrors: flagOpt(parsed, 'retry-errors'),
		failOn,
		format,
		output: abs(output),
		summary,
		summaryFile: abs(summaryFile),
	};
}

/** One checkpoint in the JSON output (the documented shape, docs/analyser.md): the record's fields, the clean spectrum's eigenvalues only. */
export type CheckpointJson = Pick<
	CheckpointAnalysis,
	'epoch' | 'step' | 'cleanAccuracy' | 'asr' | 'p0' | 'excessAsr' | 'topEigenvalues' | 'triggerOverlap' | 'spectralGap' | 'triggerCurvature' | 'perSample' | 'error'
> & { readonly clean: Pick<CleanSpectrum, 'topEigenvalues'> | null };

/** The JSON output (the documented shape, docs/analyser.md). */
export interface AnalyseJson {
	readonly run: string;
	readonly backend: string;
	readonly checkpoints: readonly CheckpointJson[];
	readonly blind: {
		readonly suspects: number | null;
		readonly candidateTriggerOverlap: number | null;
		readonly flipRate: number | null;
		readonly flipClass: number | null;
		readonly scoredRows: number | null;
		readonly totalRows: number | null;
		readonly coverage: string | null;
		readonly rowScoreCut: number | null;
		readonly rowScoresFile: string | null;
		readonly test:
			| (Pick<BlindTest, 'state' | 'score' | 'nullLow' | 'nullHigh' | 'nullSize' | 'falseAlarmRate' | 'reason'> & {
					readonly falseAlarms: NonNullable<BlindTest['falseAlarms']> | null;
					readonly alarmBy: NonNullable<BlindTest['alarmBy']> | null;
					readonly shortcut: NonNullable<BlindTest['shortcut']> | null;
			  })
			| null;
	} | null;
	readonly lag: SignedLag;
	readonly verdict: Verdict;
}

/** Projects the records and summary onto the issue's JSON shape. */
export function toAnalyseJson(run: string, backend: string, records: readonly CheckpointAnalysis[], blind: BlindSummary | null, lag: SignedLag, verdict: Verdict): AnalyseJson {
	return {
		run,
		backend,
		checkpoints: records.map((r) => ({
			epoch: r.epoch,
			step: r.step,
			cleanAccuracy: r.cleanAccuracy,
			asr: r.asr,
			p0: r.p0,
			excessAsr: r.excessAsr,
			topEigenvalues: r.topEigenvalues,
			triggerOverlap: r.triggerOverlap,
			spectralGap: r.spectralGap,
			triggerCurvature: r.triggerCurvature,
			perSample: r.perSample === null ? null : { median: r.perSample.median, p90: r.perSample.p90, overlap: r.perSample.overlap },
			clean: r.clean === null ? null : { topEigenvalues: r.clean.topEigenvalues },
			error: r.error,
		})),
		blind:
			blind === null
				? null
				: {
						suspects: blind.suspects,
						candidateTriggerOverlap: blind.candidateTriggerOverlap,
						flipRate: blind.flipRate,
						flipClass: blind.flipClass ?? null,
						scoredRows: blind.scoredRows ?? null,
						totalRows: blind.totalRows ?? null,
						coverage: coverageText(blind.scoredRows, blind.totalRows),
						rowScoreCut: blind.rowScoreCut ?? null,
						rowScoresFile: blind.rowScoresFile ?? null,
						test:
							blind.test === undefined
								? null
								: {
										state: blind.test.state,
										score: blind.test.score,
										nullLow: blind.test.nullLow,
										nullHigh: blind.test.nullHigh,
										nullSize: blind.test.nullSize,
										falseAlarmRate: blind.test.falseAlarmRate,
										falseAlarms: blind.test.falseAlarms ?? null,
										alarmBy: blind.test.alarmBy ?? null,
										shortcut: blind.test.shortcut ?? null,
										reason: blind.test.reason,
									},
					},
		lag: { asrStep: lag.asrStep, spectralStep: lag.spectralStep, lagSteps: lag.lagSteps, lagEpochs: lag.lagEpochs },
		verdict,
	};
}

function pad(s: string, n: number): string {
	return s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length);
}

function fmt(v: number | null | undefined, digits = 3): string {
	if (v === null || v === undefined) {
		return '–';
	}
	if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4)) {
		return v.toExponential(2);
	}
	return v.toFixed(digits);
}

function pct(v: number | null | undefined): string {
	return v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`;
}

const REPORT_COLUMNS: [string, number][] = [
	['step', 7],
	['epoch', 7],
	['pass', 6],
	['clean acc', 10],
	['ASR', 8],
	['p0', 8],
	['excess', 8],
	['λ1', 10],
	['cos²', 8],
	['λ1/λ2', 8],
	['tᵀHt/‖t‖²', 11],
	['ρ', 8],
	['ps cos²', 9],
	['clean λ1', 10],
	['ms', 7],
];

/** The per-checkpoint table (unconverged λ1 marked `*`, with a footnote). */
function checkpointTable(records: readonly CheckpointAnalysis[]): string[] {
	const lines = [REPORT_COLUMNS.map(([h, w]) => pad(h, w)).join('')];
	for (const r of records) {
		if (r.error !== null) {
			lines.push(`${pad(String(r.step), 7)}${pad(r.epoch.toFixed(2), 7)}${pad(r.pass ?? '–', 6)}error: ${escapeControl(r.error)}`);
			continue;
		}
		const cells = [
			String(r.step),
			r.epoch.toFixed(2),
			r.pass ?? '–',
			pct(r.cleanAccuracy),
			pct(r.asr),
			pct(r.p0),
			pct(r.excessAsr),
			fmt(r.topEigenvalues?.[0]) + (r.convergence?.triggered?.converged === false ? '*' : ''),
			fmt(r.triggerOverlap),
			fmt(r.spectralGap, 2),
			fmt(r.triggerCurvature),
			fmt(relativeTriggerCurvature(r)),
			fmt(r.perSample?.overlap),
			fmt(r.clean?.topEigenvalues?.[0] ?? null) + (r.convergence?.clean?.converged === false ? '*' : ''),
			r.analysisMs === null || r.analysisMs === undefined ? '–' : r.analysisMs.toFixed(0),
		];
		lines.push(cells.map((c, i) => pad(c, REPORT_COLUMNS[i][1])).join('') + (r.degenerate === null || r.degenerate === undefined ? '' : `degenerate: ${r.degenerate}`));
	}
	const unconverged = records.filter((r) => r.convergence?.triggered?.converged === false || r.convergence?.clean?.converged === false);
	if (unconverged.length > 0) {
		const worst = Math.max(...unconverged.flatMap((r) => [...(r.convergence?.triggered?.residuals ?? []), ...(r.convergence?.clean?.residuals ?? [])]));
		lines.push(
			`* Lanczos not converged to its tolerance at ${unconverged.length} checkpoint(s) (largest relative residual ${fmt(worst)}); light passes stop at ${LIGHT_LANCZOS_STEPS} steps, a full pass (--full) converges`,
		);
	}
	return lines;
}

/** The signed-lag block and the verdict. */
function lagBlock(l: RunAnalysisOutcome['lag'], headline: string): string[] {
	const lines = [
		'',
		'signed lag (spectral step − ASR step; negative: the spectrum leads)',
		`  ASR step       ${l.lag.asrStep ?? '–'}   (excess ASR first ≥ half its final value ${fmt(l.finalExcessAsr)})`,
		`  spectral step  ${l.lag.spectralStep ?? '–'}   (${l.spectralSignal ?? 'no spectral signal'})`,
		`    rule cos² ≥ 0.3 with λ1/λ2 ≥ 5:           first at step ${l.ruleSteps.overlapGap ?? '–'}`,
		`    rule ρ = (tᵀHt/‖t‖²)/λ1 above its band:   first at step ${l.ruleSteps.relativeCurvature ?? '–'}` +
			`${l.curvatureThreshold === null ? '' : ` (band ${fmt(l.curvatureThreshold)} from steps ${l.baselineSteps.join(', ')})`}`,
		`  lag            ${l.lag.lagSteps ?? '–'} steps = ${fmt(l.lag.lagEpochs, 2)} epochs (visible when |lag| ≤ ${l.toleranceSteps} steps, one checkpoint interval)`,
		`verdict: ${l.verdict}`,
		`  ${headline}`,
	];
	if (l.recommendation !== null) {
		lines.push(`  ${l.recommendation}`);
	}
	return lines;
}

/** "scored N of M rows" when a cap left rows unscored, else "scored all N rows" (null when unknown). */
export function coverageText(scored: number | null | undefined, total: number | null | undefined): string | null {
	if (scored === null || scored === undefined) {
		return null;
	}
	if (total !== null && total !== undefined && total > scored) {
		return `scored ${scored} of ${total} rows (a capped sample: ${total - scored} rows were never looked at, so recall over the whole training set is at most ${pct(scored / total)} in expectation)`;
	}
	return `scored all ${scored} training rows`;
}

const STATE_WORDS: Record<BlindTest['state'], string> = {
	alarm: 'ALARM: a backdoor trigger is likely',
	quiet: 'quiet: nothing stands out',
	inconclusive: 'inconclusive: blind mode cannot tell on this model',
	'nothing-to-analyse': 'nothing to analyse yet',
};

/** The blind test in plain words: state, the score against its null band, the controls, and why. */
function blindTestLines(t: BlindTest | undefined, blind: RunAnalysisOutcome['blind']): string[] {
	if (t === undefined) {
		return ['  blind test: none recorded (an older analysis); analyse the run again for one'];
	}
	const e = blind?.testResult.evidence;
	const lines = [
		`  blind test: ${STATE_WORDS[t.state]}`,
		`    score ${pct(t.score)} = how many clean probes the candidate trigger flips to one class`,
		`    null band ${pct(t.nullLow)}–${pct(t.nullHigh)} = what ${t.nullName || 'the null directions'} flip (${t.nullSize} draws; the alarm needs the score clearly above the band's top)`,
	];
	if (e !== undefined) {
		lines.push(
			`    control: a random direction flips ${pct(e.controlRate)} (median of ${e.randomCount}: ${pct(e.randomTypical)})`,
			`    for scale (it does not decide: a backdoored model is fragile too): the class-shortcut test's universal perturbations, taken to the same size, ` +
				`flip up to ${pct(e.fragilityOther)} to another class${e.fragilitySame === null ? '' : ` and ${pct(e.fragilitySame)} to the candidate's class`}`,
		);
	}
	lines.push(`    this rule on the detection benchmark: ${falseAlarmText(t)}`);
	lines.push(`    why: ${t.reason}`);
	return lines;
}

/** The blind-mode block (empty without a blind summary). */
function blindBlock(out: RunAnalysisOutcome): string[] {
	const b = out.summary.blind;
	if (b === null) {
		return [];
	}
	const c = out.blind?.cascade;
	const coverage = coverageText(b.scoredRows, b.totalRows);
	const lines = [
		'',
		`blind mode${out.blind === null ? ' (stored)' : ` at step ${out.summary.blindStep ?? '–'}`}${coverage === null ? '' : `: ${coverage}`}`,
		...blindTestLines(b.test, out.blind),
	];
	if (c !== undefined) {
		lines.push(
			`  stage 1 (every scored row: STRIP on training rows with ${c.blends} blends each + spectral signature, ${c.threads} thread${c.threads === 1 ? '' : 's'}) ${(c.cheapMs / 1000).toFixed(1)} s; ` +
				`stage 2 (input-Hessian of ${c.candidates} top candidates + ${c.control} random control rows) ${(c.hessianMs / 1000).toFixed(1)} s; ` +
				`blind test (null directions and class shortcut on the probes) ${(c.testMs / 1000).toFixed(1)} s; ` +
				`stage 3 (the candidate trigger tested on the ${c.directionRows} rows of its flip class) ${(c.directionMs / 1000).toFixed(1)} s; ` +
				`control rows stage 1 missed: ${c.controlMissed} of ${c.control}`,
		);
	}
	lines.push(
		`  curvature outliers ${out.blind === null ? '–' : out.blind.outliers} (robust λ1 outliers per label, among the ${out.blind === null ? '–' : out.blind.scanned} Hessian-scanned rows)${out.blind === null ? '' : `, consensus cluster ${out.blind.clusterRows.length}`}`,
		`  suspects ${b.suspects ?? '–'}: rows whose suspicion score is at or above the cut ${b.rowScoreCut ?? '–'}` +
			`${b.test !== undefined && b.test.state !== 'alarm' ? `, only when the blind test alarms (it is ${b.test.state})` : ''}` +
			`${b.rowScoresFile === null || b.rowScoresFile === undefined ? '' : ` (every row's score: ${b.rowScoresFile})`}`,
	);
	const rows = b.suspectRows ?? [];
	if (rows.length > 0) {
		const scores = c?.suspectScores;
		const shown = rows.slice(0, 10).map((r, i) => (scores === undefined ? `${r}` : `${r} (${fmt(scores[i])})`));
		lines.push(`  top suspects, row (score): ${shown.join(', ')}${rows.length > 10 ? `, … ${rows.length - 10} more` : ''}`);
	}
	const sc = b.test?.alarmBy === 'shortcut' ? b.test.shortcut : undefined;
	lines.push(
		sc !== undefined
			? `  candidate trigger: the class shortcut's universal perturbation (RMS ${sc.norm}), pushing ${pct(sc.rate)} of clean probes to class ${sc.cls}`
			: `  candidate trigger: flips ${pct(b.flipRate)} of clean probes to class ${b.flipClass ?? '–'}${out.blind?.controlFlipRate === null || out.blind === null ? '' : ` (random direction, same scale: ${pct(out.blind.controlFlipRate)})`}`,
	);
	if (b.candidateTriggerOverlap !== null) {
		lines.push(`  cos²(candidate, declared trigger) ${fmt(b.candidateTriggerOverlap)}`);
	}
	const e = out.blind?.evaluation;
	if (e !== null && e !== undefined) {
		const capped = e.poisonedInSample < e.poisonedTotal;
		lines.push(
			`  against the declared poisoned rows (${e.poisonedInSample} of ${e.poisonedTotal} in the scored rows): suspects precision ${pct(e.precision)}, ` +
				`recall ${pct(e.recall)} over the scored rows, ${capped ? 'at most ' : ''}${pct(e.recallAll)} over all poisoned rows${capped ? ' (a bound: the cap left poisoned rows unscored)' : ''}; ` +
				`stage 1 alone at the cut: recall ${pct(e.cheapRecall)}; stage-2 candidates hold ${pct(e.candidateRecall)}; ` +
				`curvature outliers alone: precision ${pct(e.outlierPrecision)}, recall ${pct(e.outlierRecall)}`,
		);
	}
	lines.push('  near-clone poisons (near copies of the inputs they hijack) induce almost no input curvature and escape this scan: run "poison-lens scan" on the training data for near duplicates.');
	return lines;
}

/** The checkpoint table and the run summary, as printed on stdout. */
export function formatReport(out: RunAnalysisOutcome, backend: string): string {
	const lines = [`run ${out.runDir}`, `backend ${backend}`, ...checkpointTable(out.records), ...lagBlock(out.lag, verdictHeadline(out.summary.verdict, out.lag.finalExcessAsr !== null, { blindTest: out.summary.blind?.test ?? null })), ...blindBlock(out)];
	const times = (pass: string): number[] =>
		out.records.filter((r) => r.pass === pass && r.error === null && typeof r.analysisMs === 'number').map((r) => r.analysisMs as number);
	const med = (xs: number[]): string => (xs.length === 0 ? '–' : `${(xs.sort((a, c) => a - c)[Math.floor(xs.length / 2)] / 1000).toFixed(2)} s`);
	lines.push('');
	lines.push(
		`timing: light pass ${med(times('light'))}, full pass ${med(times('full'))} per checkpoint (median); training epoch ${out.epochSeconds === null ? '–' : `${out.epochSeconds.toFixed(1)} s`}` +
			`${out.blind === null ? '' : `; blind mode ${(out.blind.elapsedMs / 1000).toFixed(1)} s`}`,
	);
	lines.push('note: a quiet clean-probe spectrum proves nothing (a backdoor shows only on triggered inputs); the triggered-probe columns carry the signal.');
	for (const w of out.warnings) {
		lines.push(`warning: ${escapeControl(w)}`);
	}
	return `${lines.join('\n')}\n`;
}

/**
 * Set (to 1) by a parent that starts `analyse` as its child (the demo): the analyser then watches its stdin, a pipe
 * the parent never writes, and stops when it closes, that is when the parent is gone whatever killed it.
 */
export const EXIT_WITH_PARENT_ENV = 'POISON_LENS_EXIT_WITH_PARENT';

/** `POISON_LENS_FOLLOW_STALE_MS`: how long `--follow` waits without events before checking the writer (tests). */
function staleAfterMs(): number | undefined {
	const v = Number(process.env.POISON_LENS_FOLLOW_STALE_MS);
	return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** A failure in words: analysis errors by code, fs errors as operation + file + reason; never a stack trace. */
export function describeFailure(err: unknown): string {
	if (err instanceof AnalysisError) {
		return err.toRecordText();
	}
	const e = err as NodeJS.ErrnoException | undefined;
	if (e instanceof FileFault) {
		return e.message;
	}
	if (e !== undefined && typeof e.code === 'string' && typeof e.path === 'string') {
		return fileFault(e, e.syscall === 'open' || e.syscall === 'read' ? 'read' : (e.syscall ?? 'use'), e.path).message;
	}
	return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `poison-lens analyse …`.
 * @returns the process exit code (see the module comment)
 */
export async function runAnalyse(argv: string[]): Promise<number> {
	try {
		return await runAnalyseInner(argv);
	} finally {
		releaseStdin();
	}
}

/** Stops watching stdin (set while the parent is watched), so the process can exit. */
let releaseStdin = (): void => undefined;

/** Ctrl-C and SIGTERM stop the analysis after the current product; with EXIT_WITH_PARENT set, so does the parent's exit. */
function watchInterrupts(signal: { aborted: boolean }): () => void {
	const onSigint = (): void => {
		signal.aborted = true;
		process.stderr.write('\npoison-lens analyse: interrupted; stopping after the current product\n');
	};
	process.once('SIGINT', onSigint);
	process.once('SIGTERM', onSigint);
	if (process.env[EXIT_WITH_PARENT_ENV] === '1') {
		const parentGone = (): void => {
			if (!signal.aborted) {
				signal.aborted = true;
				process.stderr.write('\npoison-lens analyse: the process that started it is gone; stopping\n');
				// Whatever is computing now cannot keep the process past this.
				setTimeout(() => process.exit(130), 5000).unref();
			}
		};
		process.stdin.on('end', parentGone);
		process.stdin.on('close', parentGone);
		process.stdin.on('error', parentGone);
		process.stdin.resume();
		releaseStdin = (): void => {
			process.stdin.off('end', parentGone);
			process.stdin.off('close', parentGone);
			process.stdin.destroy();
		};
	}
	return () => {
		process.removeListener('SIGINT', onSigint);
		process.removeListener('SIGTERM', onSigint);
	};
}

/** The progress bar on stderr, started on the first report. */
/** The line for a live blind scan given up without a result, e.g. "live blind scan at step 200 (epoch 1.00) stopped after 4.2 s: past twice its time box of 1.9 s (…)". */
export function liveBlindStoppedText(stop: LiveScanStop): string {
	const why =
		stop.reason === 'stale'
			? 'a newer checkpoint was due first (the next due checkpoint is scanned instead)'
			: `past twice its time box${stop.budgetMs === null ? '' : ` of ${(stop.budgetMs / 1000).toFixed(1)} s`} (--blind-share gives scans a larger share of the epoch; --blind-every N scans less often)`;
	return `live blind scan at step ${stop.step} (epoch ${stop.epoch.toFixed(2)}) stopped after ${(stop.elapsedMs / 1000).toFixed(1)} s: ${why}`;
}

/** One line per live blind scan on stderr, e.g. "live blind scan at step 450 (epoch 1.44, scored 4096 of 60000 rows, 5.1 s): ALARM, score 0.62 (null band 0.02–0.2): …". */
export function liveBlindText(line: BlindCheckpoint): string {
	const t = line.test;
	const num = (x: number | null): string => (x === null ? '–' : String(Math.round(x * 1000) / 1000));
	const state = t.state === 'alarm' ? 'ALARM' : t.state === 'nothing-to-analyse' ? 'nothing to analyse' : t.state;
	const rows = line.scoredRows === null ? '' : `, scored ${line.scoredRows}${line.totalRows === null ? '' : ` of ${line.totalRows}`} rows`;
	const shortcut = t.shortcut === undefined ? '' : `, class-shortcut gap ${num(t.shortcut.gap)} (alarm from ${num(t.shortcut.threshold)})`;
	const by = t.alarmBy === undefined ? '' : ` by ${t.alarmBy === 'both' ? 'both tests' : t.alarmBy === 'shortcut' ? 'the class-shortcut test' : 'the curvature test'}`;
	return `live blind scan at step ${line.step} (epoch ${line.epoch.toFixed(2)}${rows}, ${((line.analysisMs ?? 0) / 1000).toFixed(1)} s): ${state}${by}, score ${num(t.score)} (null band ${num(t.nullLow)}–${num(t.nullHigh)})${shortcut}: ${t.reason}`;
}

function progressBar(): { onProgress: (done: number, total: number, message: string) => void; stop: () => void } {
	const bar = new SingleBar({
		stream: process.stderr,
		format: ' analyse [{bar}] {value}/{total} | {message}',
		hideCursor: false,
		clearOnComplete: true,
		barsize: 30,
		barCompleteChar: '█',
		barIncompleteChar: '░',
		noTTYOutput: false,
		notTTYSchedule: 5000,
	});
	let started = false;
	return {
		onProgress: (done, total, message) => {
			if (!started) {
				bar.start(Math.max(total, 1), done, { message });
				started = true;
			}
			bar.setTotal(Math.max(total, 1));
			bar.update(done, { message: message.slice(0, 60) });
		},
		stop: () => {
			if (started) {
				bar.stop();
			}
		},
	};
}

/** The table, the JSON, SARIF and the summary as asked; returns the exit status (3 when the verdict is in --fail-on). */
async function writeOutputs(args: AnalyseArgs, out: RunAnalysisOutcome, backendLine: string, backendName: string, argv: string[]): Promise<number> {
	const json = toAnalyseJson(args.runDir, backendName, out.records, out.summary.blind, out.summary.lag, out.summary.verdict);
	const failed = verdictGateFails(out.summary.verdict, args.failOn);
	const facts = await analysisFactsOf(out, process.cwd());
	const formatted = (): string => {
		if (args.format === 'sarif') {
			return `${JSON.stringify(analysisToSarif(facts, sarifBase(process.cwd(), ['analyse', ...argv])), null, 2)}\n`;
		}
		return args.format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : formatReport(out, backendLine);
	};
	if (args.json === '-') {
		process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
	} else if (args.output === null || args.output === '-') {
		process.stdout.write(formatted());
	} else {
		process.stdout.write(formatReport(out, backendLine));
		await fs.promises.writeFile(args.output, formatted(), 'utf8');
		process.stderr.write(`poison-lens analyse: wrote ${args.output}\n`);
	}
	if (args.json !== null && args.json !== '-') {
		await fs.promises.writeFile(args.json, `${JSON.stringify(json, null, 2)}\n`, 'utf8');
		process.stderr.write(`poison-lens analyse: wrote ${args.json}\n`);
	}
	if (args.summary === 'md') {
		await writeSummary(analysisSummaryMd(facts, out.records, { failed, failOn: args.failOn }), args.summaryFile);
	}
	if (failed) {
		process.stderr.write(`poison-lens analyse: verdict "${out.summary.verdict}" is in --fail-on ${args.failOn.join(',')}: exit ${EXIT_VERDICT_GATE}\n`);
		return EXIT_VERDICT_GATE;
	}
	return 0;
}

async function runAnalyseInner(argv: string[]): Promise<number> {
	const args = parseOrExitCode('analyse', HELP, () => parseAnalyseArgs(argv));
	if (typeof args === 'number') {
		return args;
	}
	try {
		const st = fs.statSync(args.runDir);
		if (!st.isDirectory()) {
			throw new FileFault('not-a-directory', args.runDir, 'open the run folder', 'not a folder');
		}
	} catch (err) {
		process.stderr.write(`poison-lens analyse: ${fileFault(err, 'open the run folder', args.runDir).message}\n`);
		return 1;
	}
	const sel = await selectBackend(args.backend);
	installGradientFixes();
	const signal = { aborted: false };
	const unwatch = watchInterrupts(signal);
	const bar = progressBar();
	let out: RunAnalysisOutcome;
	try {
		out = await analyseRunDir(args.runDir, {
			pass: args.full ? 'full' : 'light',
			k: args.k,
			follow: args.follow,
			blind: args.blind,
			liveBlind: args.liveBlind,
			onBlindLine: (line) => process.stderr.write(`\n${liveBlindText(line)}\n`),
			onBlindStopped: (stop) => process.stderr.write(`\n${liveBlindStoppedText(stop)}\n`),
			retryErrors: args.retryErrors,
			...(staleAfterMs() === undefined ? {} : { staleAfterMs: staleAfterMs() }),
			signal,
			onProgress: bar.onProgress,
		});
	} catch (err) {
		bar.stop();
		unwatch();
		if (err instanceof CurvatureCancelledError) {
			process.stderr.write(`poison-lens analyse: ${err.message}\n`);
			return 130;
		}
		process.stderr.write(`poison-lens analyse: ${escapeControl(describeFailure(err))}\n`);
		return 1;
	}
	bar.stop();
	unwatch();
	if (out.followStop === 'writer-gone') {
		process.stderr.write(`poison-lens analyse: stopped following ${args.runDir}: no new event for ${Math.round((staleAfterMs() ?? 60_000) / 1000)} s and the process that wrote the run is gone (the run has no end event: it was killed or crashed)\n`);
	}
	return writeOutputs(args, out, backendSummary(sel), sel.description, argv);
}

/** The facts SARIF and the summary report, from an analysis outcome (manifest path relative to `cwd`). */
async function analysisFactsOf(out: RunAnalysisOutcome, cwd: string): Promise<AnalysisFacts> {
	let runName = path.basename(out.runDir);
	let nearClone = false;
	try {
		const manifest = await readManifest(out.runDir);
		runName = manifest.name || runName;
		nearClone = manifest.attack?.trigger.stored?.type === 'point';
	} catch {
		// The analysis already read the run; a name is all that is wanted here.
	}
	return {
		runName,
		manifestUri: relativeUri(path.relative(cwd, path.join(out.runDir, 'manifest.json'))),
		verdict: out.summary.verdict,
		lag: out.summary.lag,
		finalExcessAsr: out.lag.finalExcessAsr,
		recommendation: out.lag.recommendation,
		blind: out.summary.blind,
		declaredAttack: out.lag.finalExcessAsr !== null,
		nearClone,
		checkpoints: out.records.length,
		errors: out.records.filter((r) => r.error !== null).map((r) => ({ step: r.step, error: r.error ?? '' })),
	};
}
