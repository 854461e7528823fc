/**
 * `poison-lens scan <file> [--label-column C] [--json out.json] [--max-problems N] [--structure-only] [--run DIR]`: the dataset
 * diagnostics of the editor, headless. IDX image files are scanned with `--labels <labels-idx1-ubyte>` (their
 * "line" is the record number). Prints a table (line, column, severity, code, message, partner lines) or writes
 * JSON `{ file, rows, problems: [{ line, column, code, severity, message, related }] }`.
 * With `--run DIR` (a run trained on this file) the analyser's per-row scores are added (`spectral-signature`).
 * Exit code: 0 when no problem reaches the --fail-on severity (default error), 1 when some do, 2 on bad usage or an
 * unreadable file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isIdxFile, scanIdx } from '../datasets/idxScan';
import { DEFAULT_MAX_PROBLEMS, isDatasetFile, scanBytes } from '../datasets/scan';
import { escapeControl, FileFault, readRegularFile } from '../protocol/safeFile';
import type { ScanResult } from '../datasets/scan';
import type { ScanOptions } from '../datasets/table';
import { ProblemCode } from '../datasets/problem';
import { rowScoreProblems } from '../datasets/rowScores';
import { loadRunContext } from '../analyser/analysis/context';
import { scoreTrainingRows } from '../analyser/analysis/rowScores';
import { rowSuspicionOfRun } from '../analyser/analysis/rowSuspicion';
import { ROW_SCORES_FILE } from '../analyser/analysis/cascade';
import { coverageText } from './analyse';
import { BACKEND_REQUESTS, backendSummary, selectBackend, type BackendRequest } from '../tfjs/backend';
import { installGradientFixes } from '../tfjs/gradients';
import { relativeUri, scanToSarif } from '../ci/sarif';
import { scanSummaryMd } from '../ci/summary';
import { EXIT_FINDINGS_GATE, SCAN_FAIL_ON, scanGateFails, type ScanFailOn } from '../ci/gate';
import { flagOpt, parseCommandLine, parseOrExitCode, stringOpt, UsageError, wantsHelp, type OptionSpec } from './args';
import { sarifBase, writeSummary } from './ciOutput';

const HELP = `Usage: poison-lens scan <file> [options]

Checks a CSV/TSV/JSONL dataset for structure problems and dirty-label poisoning evidence, or an IDX image file
(with --labels) for dirty-label duplicates; IDX findings use the record number as their line.

Options:
  --label-column C     label column name (or zero-based index); detected when absent
  --labels FILE        IDX label file for an IDX image file
  --json OUT           write the findings as JSON to OUT (use - for stdout)
  --max-problems N     cap on reported problems (default ${DEFAULT_MAX_PROBLEMS})
  --radius-factor F    near-duplicate radius as a fraction of the median NN distance (default 0.13)
  --structure-only     skip the duplicate and near-clone analysis
  --run DIR            also score the rows with a run trained on this file (spectral signature of input
                       gradients per label; data row i of the file is row i of the run's training set)
  --backend NAME       tfjs backend for --run: wasm | cpu | gpu | auto (default wasm)
  --format F           text | json | sarif (default text); sarif: SARIF 2.1.0 for code scanning (file, line, rule)
  -o, --output F       write the --format output to FILE instead of stdout
  --fail-on S          exit 1 when a finding has severity S or worse: error (default) | warning | information | none
  --summary md         append a Markdown summary to --summary-file, else $GITHUB_STEP_SUMMARY, else stdout
  --summary-file F     where --summary goes
  -h, --help           show this help

Options take their value as "--opt value" or "--opt=value".

Exit status: 0 when no finding reaches the --fail-on severity, 1 when one does (CI can gate on it), 2 on a usage
error or an unreadable file.`;

interface CliArgs {
	readonly file: string;
	readonly labels: string | null;
	readonly json: string | null;
	readonly run: string | null;
	readonly backend: BackendRequest;
	readonly options: ScanOptions;
	readonly failOn: ScanFailOn;
	readonly format: 'text' | 'json' | 'sarif';
	readonly output: string | null;
	readonly summary: 'md' | null;
	readonly summaryFile: string | null;
}

const SCAN_OPTIONS = {
	'label-column': { type: 'string' },
	labels: { type: 'string' },
	json: { type: 'string' },
	'max-problems': { type: 'string' },
	'radius-factor': { type: 'string' },
	'structure-only': { type: 'boolean' },
	run: { type: 'string' },
	backend: { type: 'string' },
	'fail-on': { type: 'string' },
	format: { type: 'string' },
	output: { type: 'string', short: 'o' },
	summary: { type: 'string' },
	'summary-file': { type: 'string' },
	help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/**
 * Parses `scan` arguments.
 * @throws UsageError naming the bad flag or value
 */
export function parseScanArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs | 'help' {
	if (wantsHelp(argv)) {
		return 'help';
	}
	const parsed = parseCommandLine(argv, SCAN_OPTIONS);
	const number = (name: string): number | undefined => {
		const raw = stringOpt(parsed, name);
		if (raw === undefined) {
			return undefined;
		}
		const v = Number(raw);
		if (raw.trim() === '' || !Number.isFinite(v) || v <= 0) {
			throw new UsageError(`--${name}: '${raw}' is not a positive number`);
		}
		return v;
	};
	const options: { labelColumn?: string; maxProblems?: number; radiusFactor?: number; structureOnly?: boolean } = {};
	const labelColumn = stringOpt(parsed, 'label-column');
	if (labelColumn !== undefined) {
		options.labelColumn = labelColumn;
	}
	const maxProblems = number('max-problems');
	if (maxProblems !== undefined) {
		options.maxProblems = Math.floor(maxProblems);
	}
	const radiusFactor = number('radius-factor');
	if (radiusFactor !== undefined) {
		options.radiusFactor = radiusFactor;
	}
	if (flagOpt(parsed, 'structure-only')) {
		options.structureOnly = true;
	}
	const backend = stringOpt(parsed, 'backend') ?? 'wasm';
	if (!(BACKEND_REQUESTS as readonly string[]).includes(backend)) {
		throw new UsageError(`--backend: '${backend}' is not one of ${BACKEND_REQUESTS.join(', ')}`);
	}
	const failOn = stringOpt(parsed, 'fail-on') ?? 'error';
	if (!(SCAN_FAIL_ON as readonly string[]).includes(failOn)) {
		throw new UsageError(`--fail-on: '${failOn}' is not one of ${SCAN_FAIL_ON.join(', ')}`);
	}
	const format = stringOpt(parsed, 'format') ?? 'text';
	if (format !== 'text' && format !== 'json' && format !== 'sarif') {
		throw new UsageError(`--format: '${format}' is not one of text, json, sarif`);
	}
	const summary = stringOpt(parsed, 'summary') ?? null;
	if (summary !== null && summary !== 'md') {
		throw new UsageError(`--summary: '${summary}' is not md`);
	}
	const [file, extra] = parsed.positionals;
	if (file === undefined) {
		throw new UsageError('missing <file>');
	}
	if (extra !== undefined) {
		throw new UsageError(`unexpected argument '${extra}' (one file per scan)`);
	}
	const labels = stringOpt(parsed, 'labels') ?? null;
	const run = stringOpt(parsed, 'run') ?? null;
	if (run !== null && (labels !== null || isIdxFile(file))) {
		throw new UsageError('--run works on CSV/TSV/JSONL files, not IDX');
	}
	const summaryFile = stringOpt(parsed, 'summary-file') ?? (env.GITHUB_STEP_SUMMARY !== undefined && env.GITHUB_STEP_SUMMARY !== '' ? env.GITHUB_STEP_SUMMARY : null);
	const json = stringOpt(parsed, 'json') ?? null;
	const output = stringOpt(parsed, 'output') ?? null;
	if (summary !== null && summaryFile === null && (json === '-' || (format !== 'text' && (output === null || output === '-')))) {
		throw new UsageError('--summary md would mix Markdown into the JSON/SARIF on stdout: give --summary-file, --output, or set $GITHUB_STEP_SUMMARY');
	}
	return {
		file,
		labels,
		json,
		run,
		backend: backend as BackendRequest,
		options,
		failOn: failOn as ScanFailOn,
		format,
		output,
		summary,
		summaryFile,
	};
}

/** Adds the analyser's row scores of `runDir` to a scan result (in this process, on the given backend). */
async function scoreRows(runDir: string, backend: BackendRequest, result: ScanResult): Promise<{ result: ScanResult; summary: string }> {
	if (result.rowSpans === undefined) {
		throw new Error('the scan recorded no row positions');
	}
	const sel = await selectBackend(backend);
	installGradientFixes();
	const ctx = await loadRunContext(path.resolve(runDir));
	const res = await scoreTrainingRows(ctx, {
		onProgress: (done, total, message) => process.stderr.write(`${message} (${done}/${total})\n`),
	});
	const mapped = rowScoreProblems(res, result.rowSpans, result.rows);
	if (mapped.warning !== null) {
		throw new Error(mapped.warning);
	}
	const problems = [...result.problems.filter((p) => p.code !== ProblemCode.problemCap), ...mapped.problems].sort((a, b) => a.line - b.line || a.column - b.column);
	const cap = result.problems.find((p) => p.code === ProblemCode.problemCap);
	const best = res.classes.reduce((m, c) => Math.max(m, Number.isFinite(c.separation) ? c.separation : 0), 0);
	const summary =
		`row scores (${backendSummary(sel)}): run '${res.runName}', checkpoint ${res.step} of ${res.stepsTried.length} tried, ${res.samples} of ${res.totalRows} rows scored, ` +
		`${res.flagged.length} flagged (largest label separation S = ${best.toFixed(1)}, threshold ${res.minSeparation}), ${(res.elapsedMs / 1000).toFixed(1)} s\n` +
		(await suspicionBlock(ctx, result));
	return {
		result: { ...result, problems: cap === undefined ? problems : [...problems, cap], totalProblems: result.totalProblems + mapped.problems.length },
		summary,
	};
}

/** Blind mode's suspicion score of every row (the same score the run's own blind scan gives it), as text. */
async function suspicionBlock(ctx: Awaited<ReturnType<typeof loadRunContext>>, result: ScanResult): Promise<string> {
	const s = await rowSuspicionOfRun(ctx, { onProgress: (done, total) => process.stderr.write(`blind mode row suspicion (${done}/${total})\n`) });
	const suspects = [...s.scores.entries()].filter(([, v]) => v.suspect).sort((a, b) => b[1].score - a[1].score || a[0] - b[0]);
	const coverage = coverageText(s.scoredRows, s.totalRows) ?? '';
	const gated = s.testState !== null && s.testState !== 'alarm';
	const above = gated ? [...s.scores.values()].filter((v) => v.score >= s.cut).length : suspects.length;
	const verdict = gated
		? `no suspects: the blind test is ${s.testState}, and rows are called suspects only when it alarms (${above} rows score at or above the cut ${s.cut})`
		: `${suspects.length} suspects at or above the cut ${s.cut}`;
	const lines = [
		`row suspicion (blind mode, checkpoint ${s.step ?? '–'}${s.computed ? '' : ', read from the run folder'}): ${coverage}; ${verdict} ` +
			`(every row's score: ${path.join(ctx.runDir, ROW_SCORES_FILE)})`,
	];
	const spans = result.rowSpans;
	for (const [row, v] of suspects.slice(0, 20)) {
		const line = spans !== undefined && row < result.rows ? `line ${spans.startLine[row]}` : 'not in this file';
		lines.push(`  ${line}: row ${row}, label ${v.label}, score ${v.score} (cut ${s.cut})`);
	}
	if (suspects.length > 20) {
		lines.push(`  … ${suspects.length - 20} more suspects in the row-scores file`);
	}
	return lines.join('\n');
}

function pad(s: string, n: number): string {
	return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Scans the file (IDX pair, or CSV/TSV/JSONL with image paths confined to the current folder or the dataset's). */
async function scanFile(args: CliArgs): Promise<ScanResult> {
	if (args.labels !== null || isIdxFile(args.file)) {
		if (args.labels === null) {
			throw new Error(`${args.file} looks like an IDX file: pass its label file with --labels`);
		}
		return scanIdx(args.file, args.labels, args.options);
	}
	const bytes = await readRegularFile(args.file);
	if (!isDatasetFile(args.file)) {
		console.error(`poison-lens scan: ${escapeControl(args.file)}: not a .csv/.tsv/.tab/.jsonl/.ndjson file; reading it as CSV`);
	}
	const baseDir = path.dirname(path.resolve(args.file));
	const cwd = process.cwd();
	const inCwd = !path.relative(cwd, baseDir).startsWith('..') && !path.isAbsolute(path.relative(cwd, baseDir));
	return scanBytes(bytes, path.basename(args.file), { ...args.options, baseDir, imageRoot: inCwd ? cwd : baseDir });
}

/** The human-readable report: a header line, the near-duplicate radius, row scores, and one line per problem. */
function printReport(args: CliArgs, result: ScanResult, rowScoreLine: string | null): void {
	console.log(`${args.file}: ${result.rows} rows, label column ${result.labelColumn === null ? '(none)' : `'${result.labelColumn}'`}, ` +
		`${result.totalProblems} problem(s)${result.problems.some((p) => p.code === 'problem-cap') ? ` (showing ${result.problems.length - 1})` : ''}` +
		`, ${(result.elapsedMs / 1000).toFixed(1)} s`);
	if (result.poison && result.poison.skipped === undefined) {
		console.log(`near-duplicate radius ${result.poison.radius.toPrecision(4)} = ${args.options.radiusFactor ?? 0.13} × median NN distance ` +
			`${result.poison.medianNnDistance.toPrecision(4)} (${result.poison.standardised ? 'z-scored' : 'raw'} features, ${result.poison.uniqueRows} distinct rows)`);
	} else if (result.poison?.skipped) {
		console.log(`poisoning checks skipped: ${result.poison.skipped}`);
	}
	if (rowScoreLine !== null) {
		console.log(rowScoreLine);
	}
	if (result.problems.length === 0) {
		return;
	}
	const rows = result.problems.map((p) => [
		`${p.line}:${p.column}`, p.severity, p.code, p.message + (p.related.length > 0 ? ` [partners: ${p.related.slice(0, 10).join(', ')}${p.related.length > 10 ? ', …' : ''}]` : ''),
	]);
	const widths = [0, 1, 2].map((c) => rows.reduce((w, r) => Math.max(w, r[c].length), ['LINE:COL', 'SEVERITY', 'CODE'][c].length));
	console.log(`${pad('LINE:COL', widths[0])}  ${pad('SEVERITY', widths[1])}  ${pad('CODE', widths[2])}  MESSAGE`);
	for (const r of rows) {
		console.log(`${pad(r[0], widths[0])}  ${pad(r[1], widths[1])}  ${pad(r[2], widths[2])}  ${r[3]}`);
	}
}

function scanJson(args: CliArgs, result: ScanResult): string {
	const out = {
		file: args.file,
		rows: result.rows,
		problems: result.problems.map((p) => ({ line: p.line, column: p.column, code: p.code, severity: p.severity, message: p.message, related: p.related })),
	};
	return `${JSON.stringify(out, null, 2)}\n`;
}

/** Writes the outputs asked for (--format/--output, --json, the text report, --summary); returns the exit status. */
async function writeScanOutputs(args: CliArgs, result: ScanResult, rowScoreLine: string | null, argv: string[]): Promise<number> {
	const failed = scanGateFails(result.problems, args.failOn);
	const finish = async (): Promise<number> => {
		if (args.summary === 'md') {
			await writeSummary(scanSummaryMd(args.file, result.rows, result.problems, result.totalProblems, { failed, failOn: args.failOn }), args.summaryFile);
		}
		return failed ? EXIT_FINDINGS_GATE : 0;
	};
	if (args.format !== 'text') {
		const body = args.format === 'sarif'
			? `${JSON.stringify(scanToSarif(relativeUri(path.relative(process.cwd(), path.resolve(args.file))), result.problems, sarifBase(process.cwd(), ['scan', ...argv]), { rows: result.rows }), null, 2)}\n`
			: scanJson(args, result);
		if (args.output === null || args.output === '-') {
			process.stdout.write(body);
			return finish();
		}
		await fs.promises.writeFile(args.output, body);
		console.error(`poison-lens scan: ${args.format === 'sarif' ? 'SARIF' : 'JSON'} written to ${args.output}`);
	}
	if (args.json !== null) {
		const body = scanJson(args, result);
		if (args.json === '-') {
			process.stdout.write(body);
		} else {
			await fs.promises.writeFile(args.json, body);
			console.log(`${args.file}: ${result.rows} rows, ${result.totalProblems} problem(s); JSON written to ${args.json}`);
		}
		return finish();
	}
	printReport(args, result, rowScoreLine);
	return finish();
}

/**
 * Entry of `poison-lens scan` (called by src/cli/main.ts with the arguments after `scan`).
 * @returns the process exit code
 */
export async function runScan(argv: string[]): Promise<number> {
	const args = parseOrExitCode('scan', HELP, () => parseScanArgs(argv));
	if (typeof args === 'number') {
		return args;
	}
	let result: ScanResult;
	try {
		result = await scanFile(args);
	} catch (e) {
		const why = e instanceof FileFault ? `${e.operation === 'read' ? '' : `${e.operation}: `}${e.reason}` : e instanceof Error ? e.message : String(e);
		console.error(`poison-lens scan: cannot scan ${escapeControl(args.file)}: ${escapeControl(why)}`);
		return 2;
	}
	let rowScoreLine: string | null = null;
	if (args.run !== null) {
		try {
			const scored = await scoreRows(args.run, args.backend, result);
			result = scored.result;
			rowScoreLine = scored.summary;
		} catch (e) {
			console.error(`poison-lens scan: cannot score rows with run ${args.run}: ${e instanceof Error ? e.message : String(e)}`);
			return 2;
		}
	}
	return writeScanOutputs(args, result, rowScoreLine, argv);
}
