/**
 * Reads a tabular data set (CSV/TSV via papaparse, or JSON Lines) into numeric features and integer labels for
 * training. Every bad cell is an error naming the file, the line and the column. Pure Node, no tfjs.
 */
import { fileFault, readRegularFileSync } from '../protocol/safeFile';
import Papa from 'papaparse';

/** Options of {@link readTabular}. */
export interface TabularOptions {
	/** Label column: a header name / JSONL key, or a zero-based column index. */
	readonly labelColumn: string | number;
	/** Feature columns (names or indices); default: every column except the label. */
	readonly featureColumns?: readonly (string | number)[];
	/** Default: from the extension (`.jsonl`/`.ndjson` → jsonl, otherwise csv). */
	readonly format?: 'csv' | 'jsonl';
	/** CSV delimiter; default: tab for `.tsv`, otherwise papaparse's guess. */
	readonly delimiter?: string;
	/** Whether the first CSV row is a header (default true). */
	readonly header?: boolean;
	/** Class names in label order; default: integer labels as they are, other labels sorted. */
	readonly classes?: readonly string[];
}

/** A numeric table ready for training. */
export interface TabularDataset {
	readonly file: string;
	readonly count: number;
	readonly numFeatures: number;
	readonly featureNames: readonly string[];
	/** `count · numFeatures` values, row-major. */
	readonly features: Float32Array;
	readonly labels: Int32Array;
	/** Class name of each label id. */
	readonly classes: readonly string[];
	/** 1-based line of each row in the file. */
	readonly lines: Int32Array;
}

/** Thrown for unreadable or malformed tables; the message names the file and, where known, the line and column. */
export class TabularError extends Error {
	constructor(
		readonly file: string,
		readonly line: number | undefined,
		message: string,
	) {
		super(`${file}${line === undefined ? '' : `:${line}`}: ${message}`);
		this.name = 'TabularError';
	}
}

interface RawRow {
	readonly line: number;
	readonly cells: readonly unknown[];
}

function parseCsv(text: string, file: string, opts: TabularOptions): { names: string[]; rows: RawRow[] } {
	const delimiter = opts.delimiter ?? (/\.(tsv|tab)$/i.test(file) ? '\t' : undefined);
	const rows: RawRow[] = [];
	let lineAt = 1;
	let scanned = 0;
	let rowStart = 0;
	const result = Papa.parse<string[]>(text, {
		...(delimiter === undefined ? {} : { delimiter }),
		skipEmptyLines: false,
		step: (res) => {
			// Count newlines up to this row's start so errors can name the physical line (quoted cells may span lines).
			for (; scanned < rowStart; scanned++) {
				if (text.charCodeAt(scanned) === 10) {
					lineAt++;
				}
			}
			const cells = res.data;
			if (!(cells.length === 1 && (cells[0] ?? '').trim() === '')) {
				rows.push({ line: lineAt, cells });
			}
			rowStart = res.meta.cursor;
			// Skip the row's line break so the next row starts after it.
			if (text.charCodeAt(rowStart) === 13) {
				rowStart++;
			}
			if (text.charCodeAt(rowStart) === 10) {
				rowStart++;
			}
		},
	});
	void result;
	const header = opts.header ?? true;
	let names: string[];
	if (header) {
		const first = rows.shift();
		if (first === undefined) {
			throw new TabularError(file, undefined, 'the file is empty (no header row)');
		}
		names = first.cells.map((c) => cellText(c).trim());
	} else {
		names = (rows[0]?.cells ?? []).map((_, i) => String(i));
	}
	for (const row of rows) {
		if (row.cells.length !== names.length) {
			throw new TabularError(file, row.line, `${row.cells.length} columns, expected ${names.length}`);
		}
	}
	return { names, rows };
}

function parseJsonl(text: string, file: string): { names: string[]; rows: RawRow[] } {
	const rows: RawRow[] = [];
	let names: string[] | undefined;
	const lines = text.split('\n');
	lines.forEach((raw, i) => {
		const line = raw.trim();
		if (line.length === 0) {
			return;
		}
		let obj: unknown;
		try {
			obj = JSON.parse(line);
		} catch (err) {
			throw new TabularError(file, i + 1, `not valid JSON (${(err as Error).message})`);
		}
		if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
			throw new TabularError(file, i + 1, 'expected a JSON object per line');
		}
		const rec = obj as Record<string, unknown>;
		names ??= Object.keys(rec);
		const keys = names;
		const missing = keys.find((k) => !(k in rec));
		if (missing !== undefined) {
			throw new TabularError(file, i + 1, `missing key "${missing}"`);
		}
		rows.push({ line: i + 1, cells: keys.map((k) => rec[k]) });
	});
	return { names: names ?? [], rows };
}

function resolveColumn(col: string | number, names: readonly string[], file: string): number {
	if (typeof col === 'number') {
		if (!Number.isInteger(col) || col < 0 || col >= names.length) {
			throw new TabularError(file, undefined, `column index ${col} is out of range (the table has ${names.length} columns)`);
		}
		return col;
	}
	const i = names.indexOf(col);
	if (i < 0) {
		throw new TabularError(file, undefined, `no column "${col}" (columns: ${names.join(', ')})`);
	}
	return i;
}

function cellText(cell: unknown): string {
	return typeof cell === 'string' ? cell : typeof cell === 'number' || typeof cell === 'boolean' ? String(cell) : (JSON.stringify(cell) ?? '');
}

function toNumbers(cell: unknown): number[] | undefined {
	if (typeof cell === 'number') {
		return [cell];
	}
	if (typeof cell === 'string') {
		const t = cell.trim();
		const v = Number(t);
		return t.length > 0 && Number.isFinite(v) ? [v] : undefined;
	}
	if (Array.isArray(cell) && cell.every((v) => typeof v === 'number' && Number.isFinite(v))) {
		return cell as number[];
	}
	return undefined;
}

/**
 * Parses a tabular data set from text.
 * @param text the file contents
 * @param file the file's path (for messages and the format default)
 * @throws TabularError naming the file, line and column of the first bad cell
 */
export function parseTabular(text: string, file: string, opts: TabularOptions): TabularDataset {
	const format = opts.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv');
	const { names, rows } = format === 'jsonl' ? parseJsonl(text, file) : parseCsv(text, file, opts);
	if (rows.length === 0) {
		throw new TabularError(file, undefined, 'no data rows');
	}
	const labelIdx = resolveColumn(opts.labelColumn, names, file);
	const featureIdx =
		opts.featureColumns === undefined
			? names.map((_, i) => i).filter((i) => i !== labelIdx)
			: opts.featureColumns.map((c) => resolveColumn(c, names, file));
	if (featureIdx.includes(labelIdx)) {
		throw new TabularError(file, undefined, `the label column "${names[labelIdx]}" is also listed as a feature`);
	}
	// Width per feature column comes from the first row (JSONL cells may be arrays, e.g. pixels).
	const widths = featureIdx.map((c) => {
		const v = toNumbers(rows[0]?.cells[c]);
		if (v === undefined) {
			throw new TabularError(file, rows[0]?.line, `column "${names[c]}": ${JSON.stringify(rows[0]?.cells[c])} is not a number`);
		}
		return v.length;
	});
	const featureNames = featureIdx.flatMap((c, k) => ((widths[k] ?? 1) === 1 ? [names[c] ?? String(c)] : Array.from({ length: widths[k] ?? 1 }, (_, j) => `${names[c]}[${j}]`)));
	const dim = featureNames.length;
	const features = new Float32Array(rows.length * dim);
	const rawLabels: string[] = [];
	const lines = new Int32Array(rows.length);
	rows.forEach((row, r) => {
		lines[r] = row.line;
		let o = r * dim;
		featureIdx.forEach((c, k) => {
			const v = toNumbers(row.cells[c]);
			if (v === undefined || v.length !== widths[k]) {
				throw new TabularError(file, row.line, `column "${names[c]}": ${JSON.stringify(row.cells[c])} is not ${widths[k] === 1 ? 'a number' : `an array of ${widths[k]} numbers`}`);
			}
			features.set(v, o);
			o += v.length;
		});
		const label = row.cells[labelIdx];
		if (label === null || label === undefined || cellText(label).trim() === '') {
			throw new TabularError(file, row.line, `column "${names[labelIdx]}": empty label`);
		}
		rawLabels.push(cellText(label).trim());
	});
	let classes: string[];
	if (opts.classes !== undefined) {
		classes = [...opts.classes];
	} else if (rawLabels.every((l) => /^\d+$/.test(l))) {
		const max = rawLabels.reduce((a, l) => Math.max(a, Number(l)), 0);
		classes = Array.from({ length: max + 1 }, (_, i) => String(i));
	} else {
		classes = [...new Set(rawLabels)].sort();
	}
	const id = new Map(classes.map((c, i) => [c, i]));
	const labels = new Int32Array(rows.length);
	rawLabels.forEach((l, r) => {
		const v = id.get(l) ?? (/^\d+$/.test(l) && opts.classes === undefined ? Number(l) : undefined);
		if (v === undefined) {
			throw new TabularError(file, rows[r]?.line, `label "${l}" is not one of the classes ${JSON.stringify(classes)}`);
		}
		labels[r] = v;
	});
	return { file, count: rows.length, numFeatures: dim, featureNames, features, labels, classes, lines };
}

/**
 * Reads a CSV/TSV or JSONL file into features and labels.
 * @throws TabularError naming the file (and line/column) when it cannot be read or parsed
 */
export function readTabular(file: string, opts: TabularOptions): TabularDataset {
	let text: string;
	try {
		text = readRegularFileSync(file).toString('utf8');
	} catch (err) {
		throw new TabularError(file, undefined, `cannot read (${fileFault(err, 'read', file).reason})`);
	}
	return parseTabular(text, file, opts);
}
