/**
 * One entry point for scanning a dataset file: pick the reader by extension, collect structure problems, add the
 * poisoning evidence, cap the list. Used by the worker (editor), the CLI and the bench. Pure module (no `vscode`).
 */
import { readCsv } from './csvReader';
import { readJsonl } from './jsonlReader';
import { analysePoisoning } from './poison';
import { DEFAULT_MAX_IMAGE_PIXELS, withImageFeatures } from './images';
import { escapeControl } from '../protocol/safeFile';
import type { PoisonStats } from './poison';
import { capProblems } from './problem';
import type { Problem } from './problem';
import type { ParsedDataset, ProgressFn, ScanOptions } from './table';
import { blankLongLines, decodeDatasetBytes, DEFAULT_MAX_LINE_CHARS } from './textInput';

/** Default per-file cap on problems. */
export const DEFAULT_MAX_PROBLEMS = 1000;

/** File extensions the scanners read. */
export const DATASET_EXTENSIONS = ['.csv', '.tsv', '.tab', '.jsonl', '.ndjson'];

/** Lines of each data row (see {@link ScanResult.rowSpans}). */
export interface RowSpans {
	readonly startLine: Int32Array;
	readonly endLine: Int32Array;
	readonly endColumn: Int32Array;
}

/** Everything a scan found in one file. */
export interface ScanResult {
	readonly file: string;
	/** Data rows (header and blank lines excluded). */
	readonly rows: number;
	/** Label column (or key) used, or null when none was found. */
	readonly labelColumn: string | null;
	/** Whether line 1 is a header row. */
	readonly hasHeader: boolean;
	/** Problems after the cap, sorted by line. */
	readonly problems: Problem[];
	/** Problems found before the cap. */
	readonly totalProblems: number;
	readonly poison: PoisonStats | null;
	readonly elapsedMs: number;
	/**
	 * Where each data row lives (1-based lines; endColumn just past its last character), so findings about row i made
	 * elsewhere (the analyser's row scores) can be placed. Absent for IDX files.
	 */
	readonly rowSpans?: RowSpans;
	/** Threads that parsed the text (2 for a large quote-free CSV scanned in the worker), absent: 1. */
	readonly parseThreads?: number;
}

/** Whether a file name is a dataset the scanners read. */
export function isDatasetFile(fileName: string): boolean {
	const lower = fileName.toLowerCase();
	return DATASET_EXTENSIONS.some((e) => lower.endsWith(e)) && !/\.quarantine\.[a-z]+$/.test(lower);
}

/** Parses a dataset text with the reader its extension selects. */
export function readDataset(text: string, fileName: string, opts: ScanOptions = {}, progress?: ProgressFn): ParsedDataset {
	const lower = fileName.toLowerCase();
	const jsonl = lower.endsWith('.jsonl') || lower.endsWith('.ndjson');
	return jsonl ? readJsonl(text, fileName, opts, progress) : readCsv(text, fileName, opts, progress);
}

/**
 * Scans one dataset text: all structure problems, then (unless `structureOnly`) dirty-label duplicates and near-clone
 * clusters, capped at `maxProblems` with a summary.
 * @param progress called with overall fractions in [0, 1]: parsing takes the first 60 %
 */
export function scanText(text: string, fileName: string, opts: ScanOptions = {}, progress?: ProgressFn): ScanResult {
	const t0 = performance.now();
	const pre = prepareText(text, opts);
	const parsed = readDataset(pre.text, fileName, opts, (f, phase) => progress?.(0.6 * f, phase));
	return finishScan(withProblems(parsed, pre.problems), fileName, opts, progress, t0);
}

/**
 * Guards a text before parsing: lone CR line ends become LF (same length), lines longer than `opts.maxLineChars` are blanked and reported (see
 * {@link blankLongLines}). Readers then never see a giant line.
 */
export function prepareText(text: string, opts: ScanOptions = {}): { text: string; problems: Problem[] } {
	// A lone CR (classic Mac line ends) breaks a line in the editor; the readers count LF. Same length, so every
	// offset stays valid and reported lines match the editor's.
	const lf = text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
	const long = blankLongLines(lf, opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS);
	return { text: long.text, problems: long.problems };
}

/** The parse result with `extra` problems (found before parsing) added. */
export function withProblems(parsed: ParsedDataset, extra: readonly Problem[]): ParsedDataset {
	return extra.length === 0 ? parsed : { ...parsed, problems: [...extra, ...parsed.problems] };
}

/**
 * Scans a dataset file's bytes: decodes them as UTF-8 (reporting foreign byte order marks, invalid UTF-8 and NUL
 * bytes on their line) and scans the text. A UTF-16/32 file yields only its encoding problem.
 */
export function scanBytes(bytes: Uint8Array, fileName: string, opts: ScanOptions = {}, progress?: ProgressFn): ScanResult {
	const t0 = performance.now();
	const decoded = decodeDatasetBytes(bytes);
	const pre = prepareText(decoded.text, opts);
	const parsed = readDataset(pre.text, fileName, opts, (f, phase) => progress?.(0.6 * f, phase));
	return finishScan(withProblems(parsed, [...decoded.problems, ...pre.problems]), fileName, opts, progress, t0);
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function hasControl(text: string): boolean {
	return CONTROL_CHAR.test(text);
}

/** The analysis and the cap after parsing (shared by {@link scanText} and the worker's two-thread parse). */
export function finishScan(parsedText: ParsedDataset, fileName: string, opts: ScanOptions, progress: ProgressFn | undefined, t0: number): ScanResult {
	let poison: PoisonStats | null = null;
	// Image-path datasets: check the images and (unless structure only) compare their pixels, not their names.
	const parsed = opts.baseDir === undefined ? parsedText : withImageFeatures(parsedText, opts.baseDir, opts.structureOnly === true, (_, phase) => progress?.(0.6, phase),
		{ outside: opts.imagesOutside === true, root: opts.imageRoot ?? opts.baseDir, maxPixels: opts.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS });
	const problems = [...parsed.problems];
	if (!opts.structureOnly) {
		const r = analysePoisoning(parsed.table, opts, (f, phase) => progress?.(0.6 + 0.4 * f, phase));
		for (const p of r.problems) {
			problems.push(p);
		}
		poison = r.stats;
	}
	return {
		file: fileName,
		rows: parsed.table.rows,
		labelColumn: parsed.table.labelName,
		hasHeader: parsed.table.hasHeader,
		// Text from the file (cells, keys) must not break a message: control characters are escaped.
		problems: capProblems(problems, opts.maxProblems ?? DEFAULT_MAX_PROBLEMS).map((p) => (hasControl(p.message) ? { ...p, message: escapeControl(p.message) } : p)),
		totalProblems: problems.length,
		poison,
		elapsedMs: performance.now() - t0,
		rowSpans: { startLine: parsed.table.startLine, endLine: parsed.table.endLine, endColumn: parsed.table.endColumn },
	};
}
