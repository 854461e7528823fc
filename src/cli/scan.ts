/**
 * `poison-lens scan <file> [--label-column C] [--json out.json] [--max-problems N] [--structure-only] [--run DIR]`: the dataset
 * diagnostics of the editor, headless. IDX image files are scanned with `--labels <labels-idx1-ubyte>` (their
 * "line" is the record number). Prints a table (line, column, severity, code, message, partner lines) or writes
 * JSON `{ file, rows, problems: [{ line, column, code, severity, message, related }] }`.
 * With `--run DIR` (a run trained on this file) the analyser's per-row scores are added (`spectral-signature`).
 * Exit code: 0 when no error-severity problem was found, 1 when some were, 2 on bad usage or an unreadable file.
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
import { BACKEND_REQUESTS, backendSummary, selectBackend, type BackendRequest } from '../tfjs/backend';
import { installGradientFixes } from '../tfjs/gradients';

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
  -h, --help           show this help

Exit status: 0 when no finding has severity error, 1 when one does (CI can gate on it), 2 on a usage error or an
unreadable file.`;

interface CliArgs {
	readonly file: string;
	readonly labels: string | null;
	readonly json: string | null;
	readonly run: string | null;
	readonly backend: BackendRequest;
	readonly options: ScanOptions;
}

function parseArgs(argv: string[]): CliArgs | string {
	let file: string | null = null;
	let json: string | null = null;
	let labels: string | null = null;
	let run: string | null = null;
	let backend: BackendRequest = 'wasm';
	const options: { labelColumn?: string; maxProblems?: number; radiusFactor?: number; structureOnly?: boolean } = {};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = (): string => {
			const v = argv[++i];
			if (v === undefined) {
				throw new Error(`${a} needs a value`);
			}
			return v;
		};
		const number = (): number => {
			const raw = value();
			const v = Number(raw);
			if (!Number.isFinite(v) || v <= 0) {
				throw new Error(`${a}: '${raw}' is not a positive number`);
			}
			return v;
		};
		if (a === '--label-column') {
			options.labelColumn = value();
		} else if (a === '--labels') {
			labels = value();
		} else if (a === '--json') {
			json = value();
		} else if (a === '--max-problems') {
			options.maxProblems = Math.floor(number());
		} else if (a === '--radius-factor') {
			options.radiusFactor = number();
		} else if (a === '--run') {
			run = value();
		} else if (a === '--backend') {
			const b = value();
			if (!(BACKEND_REQUESTS as readonly string[]).includes(b)) {
				throw new Error(`--backend: '${b}' is not one of ${BACKEND_REQUESTS.join(', ')}`);
			}
			backend = b as BackendRequest;
		} else if (a === '--structure-only') {
			options.structureOnly = true;
		} else if (a.startsWith('-') && a !== '-') {
			throw new Error(`unknown option '${a}'`);
		} else if (file === null) {
			file = a;
		} else {
			throw new Error(`unexpected argument '${a}' (one file per scan)`);
		}
	}
	if (file === null) {
		return 'missing <file>';
	}
	if (run !== null && (labels !== null || isIdxFile(file))) {
		throw new Error('--run works on CSV/TSV/JSONL files, not IDX');
	}
	return { file, labels, json, run, backend, options };
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
		`${res.flagged.length} flagged (largest label separation S = ${best.toFixed(1)}, threshold ${res.minSeparation}), ${(res.elapsedMs / 1000).toFixed(1)} s`;
	return {
		result: { ...result, problems: cap === undefined ? problems : [...problems, cap], totalProblems: result.totalProblems + mapped.problems.length },
		summary,
	};
}

function pad(s: string, n: number): string {
	return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * Entry of `poison-lens scan` (called by src/cli/main.ts with the arguments after `scan`).
 * @returns the process exit code
 */
export async function runScan(argv: string[]): Promise<number> {
	if (argv.includes('-h') || argv.includes('--help')) {
		console.log(HELP);
		return 0;
	}
	let args: CliArgs | string;
	try {
		args = parseArgs(argv);
	} catch (e) {
		args = e instanceof Error ? e.message : String(e);
	}
	if (typeof args === 'string') {
		console.error(`poison-lens scan: ${args}\n\n${HELP}`);
		return 2;
	}
	let result: ScanResult;
	try {
		if (args.labels !== null || isIdxFile(args.file)) {
			if (args.labels === null) {
				throw new Error(`${args.file} looks like an IDX file: pass its label file with --labels`);
			}
			result = scanIdx(args.file, args.labels, args.options);
		} else {
			const bytes = await readRegularFile(args.file);
			if (!isDatasetFile(args.file)) {
				console.error(`poison-lens scan: ${escapeControl(args.file)}: not a .csv/.tsv/.tab/.jsonl/.ndjson file; reading it as CSV`);
			}
			const baseDir = path.dirname(path.resolve(args.file));
			// Image paths stay inside the current folder (or the dataset's folder when it lies outside that).
			const cwd = process.cwd();
			const inCwd = !path.relative(cwd, baseDir).startsWith('..') && !path.isAbsolute(path.relative(cwd, baseDir));
			result = scanBytes(bytes, path.basename(args.file), { ...args.options, baseDir, imageRoot: inCwd ? cwd : baseDir });
		}
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
	const errors = result.problems.filter((p) => p.severity === 'error').length;
	if (args.json !== null) {
		const out = {
			file: args.file,
			rows: result.rows,
			problems: result.problems.map((p) => ({ line: p.line, column: p.column, code: p.code, severity: p.severity, message: p.message, related: p.related })),
		};
		const body = `${JSON.stringify(out, null, 2)}\n`;
		if (args.json === '-') {
			process.stdout.write(body);
		} else {
			await fs.promises.writeFile(args.json, body);
			console.log(`${args.file}: ${result.rows} rows, ${result.totalProblems} problem(s); JSON written to ${args.json}`);
		}
		return errors > 0 ? 1 : 0;
	}
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
		return 0;
	}
	const rows = result.problems.map((p) => [
		`${p.line}:${p.column}`, p.severity, p.code, p.message + (p.related.length > 0 ? ` [partners: ${p.related.slice(0, 10).join(', ')}${p.related.length > 10 ? ', …' : ''}]` : ''),
	]);
	const widths = [0, 1, 2].map((c) => rows.reduce((w, r) => Math.max(w, r[c].length), ['LINE:COL', 'SEVERITY', 'CODE'][c].length));
	console.log(`${pad('LINE:COL', widths[0])}  ${pad('SEVERITY', widths[1])}  ${pad('CODE', widths[2])}  MESSAGE`);
	for (const r of rows) {
		console.log(`${pad(r[0], widths[0])}  ${pad(r[1], widths[1])}  ${pad(r[2], widths[2])}  ${r[3]}`);
	}
	return errors > 0 ? 1 : 0;
}
