/**
 * CSV/TSV reader: papaparse does the splitting (quotes, embedded newlines, CRLF); this module maps records back to
 * lines and columns, infers the schema from a sample, and reports every structure problem, not just the first.
 * Pure module (no `vscode`).
 */
import Papa from 'papaparse';
import { ProblemCode } from './problem';
import type { Problem, ProblemCodeValue, Severity } from './problem';
import { LABEL_NAMES, LineIndex, unknownLabels, isImagePath, normaliseLabel, parseCell } from './table';
import type { FeatureTable, ParsedDataset, ProgressFn, ScanOptions } from './table';

/** Records read before the schema (header, column kinds, label column) is fixed. */
const SAMPLE_RECORDS = 300;

type ColumnKind = 'numeric' | 'image' | 'text';

interface ColumnStats {
	nonEmpty: number;
	numeric: number;
	integer: number;
	image: number;
	distinct: Map<string, number>;
}

/** Column layout fixed from the first records. */
export interface CsvSchema {
	readonly fieldCount: number;
	readonly hasHeader: boolean;
	readonly names: string[];
	readonly kinds: ColumnKind[];
	readonly label: number;
	readonly featureCols: Int32Array;
	readonly textCols: number[];
}

interface RawRecord {
	readonly fields: string[];
	readonly start: number;
	readonly end: number;
	readonly errors: Papa.ParseError[];
}

/** Picks the delimiter from the file extension, or from the first line when the extension says nothing. */
export function guessDelimiter(fileName: string, text: string): string {
	const lower = fileName.toLowerCase();
	if (lower.endsWith('.tsv') || lower.endsWith('.tab')) {
		return '\t';
	}
	if (lower.endsWith('.csv')) {
		return ',';
	}
	const nl = text.indexOf('\n');
	const first = text.slice(0, nl === -1 ? Math.min(text.length, 65536) : nl);
	let best = ',';
	let bestCount = 0;
	for (const d of [',', '\t', ';', '|']) {
		const n = first.split(d).length - 1;
		if (n > bestCount) {
			best = d;
			bestCount = n;
		}
	}
	return best;
}

/**
 * Start offsets of each field of the raw record `text[start, end)`. Only called for rows that have a problem, so
 * its cost does not matter; it mirrors papaparse's rule that a field is quoted only if it starts with a quote.
 */
export function fieldOffsets(text: string, start: number, end: number, delimiter: string): number[] {
	const out = [start];
	let i = start;
	let fieldStart = true;
	let inQuotes = false;
	while (i < end) {
		const ch = text[i];
		if (inQuotes) {
			if (ch === '"') {
				if (text[i + 1] === '"') {
					i += 2;
					continue;
				}
				inQuotes = false;
			}
			i++;
			continue;
		}
		if (fieldStart && ch === '"') {
			inQuotes = true;
			fieldStart = false;
			i++;
			continue;
		}
		fieldStart = false;
		if (text.startsWith(delimiter, i)) {
			i += delimiter.length;
			out.push(i);
			fieldStart = true;
			continue;
		}
		if (ch === '\n' || ch === '\r') {
			break;
		}
		i++;
	}
	return out;
}

/** End offset of a record without its line break. */
function contentEnd(text: string, start: number, end: number): number {
	let e = end;
	if (e > start && text.charCodeAt(e - 1) === 10) {
		e--;
	}
	if (e > start && text.charCodeAt(e - 1) === 13) {
		e--;
	}
	return e;
}

function newStats(): ColumnStats {
	return { nonEmpty: 0, numeric: 0, integer: 0, image: 0, distinct: new Map() };
}

function addToStats(s: ColumnStats, cell: string): void {
	const c = parseCell(cell);
	if (c.kind === 'empty') {
		return;
	}
	s.nonEmpty++;
	if (c.kind === 'number' || c.kind === 'nonFinite') {
		s.numeric++;
		if (Number.isInteger(c.value)) {
			s.integer++;
		}
	} else if (isImagePath(cell)) {
		s.image++;
	}
	if (s.distinct.size <= 1000) {
		const key = cell.trim();
		s.distinct.set(key, (s.distinct.get(key) ?? 0) + 1);
	}
}

function kindOfStats(s: ColumnStats): ColumnKind {
	// Numeric when at most 10 % of the cells (and at least one stray cell in a small sample) are not numbers, so one
	// typo in a short file is reported as non-numeric instead of turning the whole column into text.
	if (s.numeric > s.nonEmpty - s.numeric && s.nonEmpty - s.numeric <= Math.max(1, 0.1 * s.nonEmpty)) {
		return 'numeric';
	}
	if (s.nonEmpty > 0 && s.image >= 0.9 * s.nonEmpty) {
		return 'image';
	}
	return 'text';
}

function kindOfCell(cell: string): ColumnKind | null {
	const c = parseCell(cell);
	if (c.kind === 'empty') {
		return null;
	}
	if (c.kind === 'number' || c.kind === 'nonFinite') {
		return 'numeric';
	}
	return isImagePath(cell) ? 'image' : 'text';
}

/** A column looks like class labels: 2..100 distinct values, none holding 90 % of the rows. */
function looksLikeLabels(s: ColumnStats, kind: ColumnKind): boolean {
	if (kind === 'image' || s.nonEmpty === 0 || s.distinct.size < 2 || s.distinct.size > 100) {
		return false;
	}
	if (kind === 'numeric' && s.integer < s.nonEmpty) {
		return false;
	}
	const top = Math.max(...s.distinct.values());
	return top < 0.9 * s.nonEmpty;
}

/** The most common field count of the sample (the first record's count wins a tie). */
function modalFieldCount(sample: readonly RawRecord[]): number {
	const counts = new Map<number, number>();
	for (const r of sample) {
		counts.set(r.fields.length, (counts.get(r.fields.length) ?? 0) + 1);
	}
	let fieldCount = sample[0].fields.length;
	let best = -1;
	for (const [n, c] of counts) {
		if (c > best || (c === best && n === sample[0].fields.length)) {
			fieldCount = n;
			best = c;
		}
	}
	return fieldCount;
}

/** Per-column statistics of the sample's well-formed records after the first (which may be a header). */
function sampleStats(sample: readonly RawRecord[], fieldCount: number): ColumnStats[] {
	const stats: ColumnStats[] = [];
	for (let j = 0; j < fieldCount; j++) {
		stats.push(newStats());
	}
	for (let i = 1; i < sample.length; i++) {
		const f = sample[i].fields;
		if (f.length !== fieldCount || sample[i].errors.length > 0) {
			continue;
		}
		for (let j = 0; j < fieldCount; j++) {
			addToStats(stats[j], f[j]);
		}
	}
	return stats;
}

/** The label column: the one asked for (by name, case-insensitive name, or index), else a detected one; -1 with a problem when none. */
function findLabelColumn(opts: ScanOptions, cols: { names: string[]; kinds: ColumnKind[]; stats: ColumnStats[]; hasHeader: boolean; fieldCount: number; first: string[] }, problems: Problem[]): number {
	const { names, kinds, stats, hasHeader, fieldCount, first } = cols;
	let label = -1;
	if (opts.labelColumn !== undefined && opts.labelColumn !== '') {
		const want = opts.labelColumn;
		label = hasHeader ? names.indexOf(want) : -1;
		if (label < 0 && hasHeader) {
			label = names.findIndex((n) => n.toLowerCase() === want.toLowerCase());
		}
		if (label < 0 && /^\d+$/.test(want) && Number(want) < fieldCount) {
			label = Number(want);
		}
		if (label < 0) {
			const end = (first.join(',').length || 0) + 1;
			problems.push(problem(1, 1, end, ProblemCode.noLabelColumn, 'error',
				`label column '${want}' not found (${hasHeader ? `header: ${names.join(', ')}` : `no header, ${fieldCount} columns`}); label checks are off`));
		}
		return label;
	}
	if (hasHeader) {
		for (const want of LABEL_NAMES) {
			label = names.findIndex((n) => n.toLowerCase() === want);
			if (label >= 0) {
				break;
			}
		}
	}
	if (label < 0) {
		const textLabels = kinds.map((k, j) => (k === 'text' && looksLikeLabels(stats[j], k) ? j : -1)).filter((j) => j >= 0);
		if (textLabels.length === 1) {
			label = textLabels[0];
		} else if (fieldCount > 1 && looksLikeLabels(stats[0], kinds[0])) {
			label = 0;
		} else if (fieldCount > 1 && looksLikeLabels(stats[fieldCount - 1], kinds[fieldCount - 1])) {
			label = fieldCount - 1;
		}
	}
	if (label < 0) {
		problems.push(problem(1, 1, 1, ProblemCode.noLabelColumn, 'information',
			'no label column found; set poisonLens.dataset.labelColumn (or --label-column) to enable the dirty-label checks'));
	}
	return label;
}

function inferSchema(sample: RawRecord[], opts: ScanOptions, problems: Problem[]): CsvSchema {
	let fieldCount = modalFieldCount(sample);
	const stats = sampleStats(sample, fieldCount);
	const kinds = stats.map(kindOfStats);
	const first = sample[0].fields;
	let hasHeader = opts.header ?? false;
	if (opts.header === undefined && sample.length > 1) {
		// A header is a first record with a cell whose kind differs from its column's.
		hasHeader = first.some((cell, j) => {
			const k = kindOfCell(cell);
			return j < fieldCount && stats[j].nonEmpty > 0 && k !== null && k !== kinds[j];
		});
	}
	if (hasHeader) {
		fieldCount = first.length;
		while (kinds.length < fieldCount) {
			kinds.push('text');
			stats.push(newStats());
		}
		kinds.length = fieldCount;
	}
	const names = hasHeader ? first.map((s) => s.trim()) : kinds.map((_, j) => `column ${j}`);
	const label = findLabelColumn(opts, { names, kinds, stats, hasHeader, fieldCount, first }, problems);
	const feature: number[] = [];
	const textCols: number[] = [];
	for (let j = 0; j < fieldCount; j++) {
		if (j === label) {
			continue;
		}
		if (kinds[j] === 'numeric') {
			feature.push(j);
		} else {
			textCols.push(j);
		}
	}
	return { fieldCount, hasHeader, names, kinds, label, featureCols: Int32Array.from(feature), textCols };
}

function problem(line: number, column: number, endColumn: number, code: ProblemCodeValue, severity: Severity, message: string,
	endLine?: number): Problem {
	return endLine !== undefined && endLine !== line
		? { line, column, endLine, endColumn, code, severity, message, related: [], evidence: [] }
		: { line, column, endColumn, code, severity, message, related: [], evidence: [] };
}

/** A growable Float32Array for the feature matrix. */
class FloatBuffer {
	data: Float32Array;
	length = 0;
	constructor(capacity: number) {
		this.data = new Float32Array(Math.max(16, capacity));
	}
	reserve(extra: number): void {
		if (this.length + extra > this.data.length) {
			const next = new Float32Array(Math.max(this.data.length * 2, this.length + extra));
			next.set(this.data.subarray(0, this.length));
			this.data = next;
		}
	}
}

/** What the first records of a CSV text fix for the rest: delimiter, schema, and schema problems. */
export interface CsvPlan {
	readonly delimiter: string;
	/** Null for a file without records. */
	readonly schema: CsvSchema | null;
	readonly problems: Problem[];
	/** Mean characters per sampled record, to size the feature buffer. */
	readonly avgRecordLength: number;
}

/** Strips a leading BOM (the editor does not show it, so columns must not count it). */
export function stripBom(text: string): string {
	return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** How every pass reads records: raw strings (typing is ours), blank lines kept so line numbers stay exact. */
function papaOptions(delimiter: string): { delimiter: string; quoteChar: string; header: false; dynamicTyping: false; skipEmptyLines: false } {
	return { delimiter, quoteChar: '"', header: false, dynamicTyping: false, skipEmptyLines: false };
}

/** Reads the first records of `src` (BOM already stripped) and infers the schema from them. */
export function planCsv(src: string, fileName: string, opts: ScanOptions = {}): CsvPlan {
	const delimiter = opts.delimiter ?? guessDelimiter(fileName, src);
	const sample: RawRecord[] = [];
	let prev = 0;
	Papa.parse<string[]>(src, {
		...papaOptions(delimiter),
		step: (res, parser) => {
			const r: RawRecord = { fields: res.data, start: prev, end: res.meta.cursor, errors: res.errors };
			prev = res.meta.cursor;
			if (!(r.fields.length === 1 && r.fields[0].trim() === '' && r.errors.length === 0)) {
				sample.push(r);
			}
			if (sample.length >= SAMPLE_RECORDS) {
				parser.abort();
			}
		},
	});
	const problems: Problem[] = [];
	if (sample.length === 0) {
		return { delimiter, schema: null, problems, avgRecordLength: 1 };
	}
	const schema = inferSchema(sample, opts, problems);
	return { delimiter, schema, problems, avgRecordLength: Math.max(1, sample[sample.length - 1].end / sample.length) };
}

/**
 * Rows parsed from one slice of a CSV text. Lines are global (the slice's `baseLine` applied) and record offsets are
 * global (`baseOffset` applied), so slices parsed in different threads merge by concatenation.
 */
export interface CsvPart {
	readonly problems: Problem[];
	readonly rows: number;
	readonly features: Float32Array;
	readonly labels: (string | null)[];
	readonly valid: Uint8Array;
	readonly startLine: Int32Array;
	readonly endLine: Int32Array;
	readonly endColumn: Int32Array;
	readonly recStart: Float64Array;
	readonly recEnd: Float64Array;
	readonly textKey: (string | null)[] | null;
}

/** The per-record work of {@link parseCsvPart}: positions, problems and the row arrays of one slice. */
class CsvPartParser {
	readonly problems: Problem[] = [];
	readonly startLine: number[] = [];
	readonly endLine: number[] = [];
	readonly endColumn: number[] = [];
	readonly recStart: number[] = [];
	readonly recEnd: number[] = [];
	readonly labels: (string | null)[] = [];
	readonly valid: number[] = [];
	readonly textKey: (string | null)[] | null;
	readonly features: FloatBuffer;
	private readonly index: LineIndex;
	private readonly shift: number;
	private readonly dim: number;
	private headerPending: boolean;

	constructor(
		private readonly src: string,
		private readonly sch: CsvSchema,
		private readonly delimiter: string,
		avgRecordLength: number,
		baseLine: number,
		private readonly baseOffset: number,
		skipHeader: boolean,
	) {
		this.index = new LineIndex(src);
		this.shift = baseLine - 1;
		this.dim = sch.featureCols.length;
		this.textKey = sch.textCols.length > 0 ? [] : null;
		this.features = new FloatBuffer(Math.ceil((src.length / avgRecordLength) * 1.05 + 16) * this.dim);
		this.headerPending = skipHeader;
	}

	private posOf(offset: number): { line: number; column: number } {
		const p = this.index.position(offset);
		return { line: p.line + this.shift, column: p.column };
	}

	private rowProblem(r: RawRecord, code: ProblemCodeValue, severity: Severity, message: string): void {
		const s = this.posOf(r.start);
		const e = this.posOf(Math.max(r.start, contentEnd(this.src, r.start, r.end)));
		this.problems.push(problem(s.line, s.column, e.column, code, severity, message, e.line));
	}

	private cellProblem(r: RawRecord, col: number, code: ProblemCodeValue, severity: Severity, message: string): void {
		const offs = fieldOffsets(this.src, r.start, contentEnd(this.src, r.start, r.end), this.delimiter);
		const at = offs[col] ?? r.start;
		const next = col + 1 < offs.length ? offs[col + 1] - this.delimiter.length : contentEnd(this.src, r.start, r.end);
		const s = this.posOf(at);
		const e = this.posOf(Math.max(at, next));
		this.problems.push(problem(s.line, s.column, e.line === s.line ? Math.max(e.column, s.column + 1) : s.column + 1, code, severity, message));
	}

	/** Papaparse keeps searching after a malformed quote and often adds a MissingQuotes error for the same field; the first error is the cause. */
	private quoteProblem(r: RawRecord): void {
		const e = r.errors[0];
		const at = typeof e.index === 'number' ? Math.max(r.start, e.index - 1) : r.start;
		const p = this.posOf(at);
		this.problems.push(problem(p.line, p.column, p.column + 1, ProblemCode.badQuote, 'error',
			e.code === 'MissingQuotes'
				? 'quoted field is never closed: the rest of the file is read as one field'
				: 'text after the closing quote of a quoted field (write "" for a quote inside a field)'));
	}

	private raggedProblem(r: RawRecord): void {
		const f = r.fields;
		const sch = this.sch;
		const what = sch.hasHeader ? 'the header has' : 'the other rows have';
		if (f.length > sch.fieldCount) {
			const offs = fieldOffsets(this.src, r.start, contentEnd(this.src, r.start, r.end), this.delimiter);
			const at = offs[sch.fieldCount] ?? r.start;
			const p = this.posOf(at);
			const e = this.posOf(contentEnd(this.src, r.start, r.end));
			this.problems.push(problem(p.line, p.column, e.column, ProblemCode.raggedRow, 'error',
				`row has ${f.length} fields, but ${what} ${sch.fieldCount}: extra field(s) start here`, e.line));
		} else {
			this.rowProblem(r, ProblemCode.raggedRow, 'error', `row has ${f.length} fields, but ${what} ${sch.fieldCount}`);
		}
	}

	/** Reads a well-formed record's label and features into row `row`; false when a cell has a problem. */
	private readCells(r: RawRecord, row: number): { ok: boolean; label: string | null } {
		const f = r.fields;
		const sch = this.sch;
		let ok = true;
		let label: string | null = null;
		if (sch.label >= 0) {
			const raw = f[sch.label];
			if (raw.trim() === '') {
				this.cellProblem(r, sch.label, ProblemCode.missingLabel, 'error', `label '${sch.names[sch.label]}' is empty`);
				ok = false;
			} else {
				label = normaliseLabel(raw);
			}
		}
		const cols = sch.featureCols;
		const data = this.features.data;
		const base = row * this.dim;
		for (let c = 0; c < cols.length; c++) {
			const s = f[cols[c]];
			const v = +s;
			if (v === v && v - v === 0 && !(v === 0 && (s.length === 0 || s.charCodeAt(0) <= 32) && s.trim() === '')) {
				data[base + c] = v;
				continue;
			}
			data[base + c] = 0;
			ok = false;
			this.badCell(r, cols[c], s);
		}
		if (this.textKey !== null) {
			this.textKey[row] = sch.textCols.map((j) => f[j].trim()).join('\u0000');
		}
		return { ok, label };
	}

	private badCell(r: RawRecord, col: number, s: string): void {
		const cell = parseCell(s);
		const name = this.sch.names[col];
		if (cell.kind === 'empty') {
			this.cellProblem(r, col, ProblemCode.missingValue, 'error', `feature '${name}' is empty`);
		} else if (cell.kind === 'nonFinite') {
			this.cellProblem(r, col, ProblemCode.nonFinite, 'error', `feature '${name}' is ${s.trim()}, not a finite number`);
		} else {
			this.cellProblem(r, col, ProblemCode.nonNumeric, 'error', `feature '${name}' is '${s.length > 40 ? `${s.slice(0, 40)}…` : s}', not a number`);
		}
	}

	/** One record: skipped when blank or the header; otherwise a row, valid or with its problems. */
	handle(r: RawRecord): void {
		const f = r.fields;
		if (f.length === 1 && f[0].trim() === '' && r.errors.length === 0) {
			return;
		}
		if (this.headerPending) {
			this.headerPending = false;
			return;
		}
		const { index, src, shift } = this;
		const s0 = index.lineOf(r.start);
		const stop = contentEnd(src, r.start, r.end);
		const s1 = index.lineOf(Math.max(r.start, stop - 1));
		this.startLine.push(s0 + shift);
		this.endLine.push(s1 + shift);
		this.endColumn.push(stop - index.lineStart(s1) + 1);
		this.recStart.push(r.start + this.baseOffset);
		this.recEnd.push(r.end + this.baseOffset);
		const row = this.labels.length;
		this.features.reserve(this.dim);
		this.features.length = row * this.dim + this.dim;
		let read: { ok: boolean; label: string | null } = { ok: false, label: null };
		if (r.errors.length > 0) {
			this.quoteProblem(r);
		} else if (f.length !== this.sch.fieldCount) {
			this.raggedProblem(r);
		} else {
			read = this.readCells(r, row);
		}
		if (this.textKey !== null && (!read.ok || this.textKey[row] === undefined)) {
			this.textKey[row] = null;
		}
		this.labels.push(read.label);
		this.valid.push(read.ok ? 1 : 0);
	}
}

/**
 * Parses `text` (a whole file, or a slice of one that starts at a record boundary) against a known schema.
 * @param baseLine 1-based line of the slice's first character in the file
 * @param baseOffset offset of the slice's first character in the file
 * @param skipHeader skip the first non-blank record (the header, when the slice starts the file)
 */
export function parseCsvPart(text: string, plan: CsvPlan & { readonly schema: CsvSchema }, baseLine: number, baseOffset: number,
	skipHeader: boolean, progress?: ProgressFn): CsvPart {
	const parser = new CsvPartParser(text, plan.schema, plan.delimiter, plan.avgRecordLength, baseLine, baseOffset, skipHeader);
	let prevCursor = 0;
	let step = 0;
	Papa.parse<string[]>(text, {
		...papaOptions(plan.delimiter),
		step: (res) => {
			const r: RawRecord = { fields: res.data, start: prevCursor, end: res.meta.cursor, errors: res.errors };
			prevCursor = res.meta.cursor;
			parser.handle(r);
			if (progress && (++step & 4095) === 0) {
				progress(prevCursor / Math.max(1, text.length), 'parsing');
			}
		},
	});
	const rows = parser.labels.length;
	const dim = plan.schema.featureCols.length;
	return {
		problems: parser.problems,
		rows,
		features: parser.features.data.slice(0, rows * dim),
		labels: parser.labels,
		valid: Uint8Array.from(parser.valid),
		startLine: Int32Array.from(parser.startLine),
		endLine: Int32Array.from(parser.endLine),
		endColumn: Int32Array.from(parser.endColumn),
		recStart: Float64Array.from(parser.recStart),
		recEnd: Float64Array.from(parser.recEnd),
		textKey: parser.textKey,
	};
}

/** The first image-path column among the text columns (see FeatureTable.image). */
function imageOf(sch: CsvSchema): { image?: { keyPart: number; column: string } } {
	const keyPart = sch.textCols.findIndex((j) => sch.kinds[j] === 'image');
	return keyPart < 0 ? {} : { image: { keyPart, column: sch.names[sch.textCols[keyPart]] } };
}

function concatTyped<T extends Float32Array | Uint8Array | Int32Array | Float64Array>(parts: T[], make: (n: number) => T): T {
	if (parts.length === 1) {
		return parts[0];
	}
	const out = make(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

/**
 * Joins parsed slices (in file order) into one table and adds the checks that need the whole label column
 * (unknown labels).
 * @param src the whole file text, BOM stripped (unknown-label positions are computed in it)
 */
export function finishCsv(src: string, plan: CsvPlan & { readonly schema: CsvSchema }, parts: CsvPart[], opts: ScanOptions = {}): ParsedDataset {
	const sch = plan.schema;
	const problems: Problem[] = [...plan.problems];
	for (const p of parts) {
		for (const q of p.problems) {
			problems.push(q);
		}
	}
	const labels: (string | null)[] = parts.length === 1 ? parts[0].labels : parts.flatMap((p) => p.labels);
	const valid = concatTyped(parts.map((p) => p.valid), (n) => new Uint8Array(n));
	const recStart = concatTyped(parts.map((p) => p.recStart), (n) => new Float64Array(n));
	const recEnd = concatTyped(parts.map((p) => p.recEnd), (n) => new Float64Array(n));
	if (sch.label >= 0) {
		const unknown = unknownLabels(labels, opts.labels);
		if (unknown.size > 0) {
			const index = new LineIndex(src);
			for (let i = 0; i < labels.length; i++) {
				const l = labels[i];
				if (l !== null && unknown.has(l)) {
					const stop = contentEnd(src, recStart[i], recEnd[i]);
					const offs = fieldOffsets(src, recStart[i], stop, plan.delimiter);
					const at = offs[sch.label] ?? recStart[i];
					const next = sch.label + 1 < offs.length ? offs[sch.label + 1] - plan.delimiter.length : stop;
					const s = index.position(at);
					const e = index.position(Math.max(at, next));
					problems.push(problem(s.line, s.column, e.line === s.line ? Math.max(e.column, s.column + 1) : s.column + 1,
						ProblemCode.unknownLabel, 'warning', unknown.get(l) ?? ''));
					valid[i] = 0;
				}
			}
		}
	}
	const table: FeatureTable = {
		rows: labels.length,
		dim: sch.featureCols.length,
		features: concatTyped(parts.map((p) => p.features), (n) => new Float32Array(n)),
		valid,
		labels: sch.label >= 0 ? labels : labels.map(() => null),
		startLine: concatTyped(parts.map((p) => p.startLine), (n) => new Int32Array(n)),
		endLine: concatTyped(parts.map((p) => p.endLine), (n) => new Int32Array(n)),
		endColumn: concatTyped(parts.map((p) => p.endColumn), (n) => new Int32Array(n)),
		textKey: sch.textCols.length > 0 ? parts.flatMap((p) => p.textKey ?? []) : null,
		labelName: sch.label >= 0 ? sch.names[sch.label] : null,
		hasHeader: sch.hasHeader,
		...imageOf(sch),
	};
	return { table, problems };
}

/**
 * Reads a CSV/TSV text into a {@link FeatureTable} and its structure problems, in this thread.
 * @param text the file's text (a leading BOM is ignored, as the editor does)
 * @param fileName used for the delimiter default and in messages
 */
export function readCsv(text: string, fileName: string, opts: ScanOptions = {}, progress?: ProgressFn): ParsedDataset {
	const src = stripBom(text);
	const plan = planCsv(src, fileName, opts);
	if (plan.schema === null) {
		return { table: emptyTable(), problems: plan.problems };
	}
	const withSchema = { ...plan, schema: plan.schema };
	const part = parseCsvPart(src, withSchema, 1, 0, plan.schema.hasHeader, progress);
	return finishCsv(src, withSchema, [part], opts);
}

/** A table with no rows. */
export function emptyTable(): FeatureTable {
	return {
		rows: 0, dim: 0, features: new Float32Array(0), valid: new Uint8Array(0), labels: [], startLine: new Int32Array(0),
		endLine: new Int32Array(0), endColumn: new Int32Array(0), textKey: null, labelName: null, hasHeader: false,
	};
}
