/**
 * Pure bookkeeping for the reproduce driver: CSV text in and out (papaparse), keyed rows for resuming a run,
 * and mean ± spread over seeds. No file system and no tfjs here, so the unit tests cover it all.
 */

import Papa from 'papaparse';

/** A CSV cell. Numbers are written with full precision (shortest round-trip form). */
export type Cell = number | string | boolean | null;

/** One result row: column name → value. */
export type Row = Readonly<Record<string, Cell>>;

/** Formats one cell; strings with a comma, quote or newline are quoted (RFC 4180). */
export function formatCell(v: Cell): string {
	if (v === null) {
		return '';
	}
	if (typeof v === 'number') {
		if (Number.isNaN(v)) {
			return 'NaN';
		}
		return String(v);
	}
	if (typeof v === 'boolean') {
		return v ? 'true' : 'false';
	}
	return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * Writes rows as CSV with the given column order (every row must have exactly these keys, so a
 * typo in a column name fails here rather than producing an empty column). Numbers are written in
 * shortest round-trip form, NaN as `NaN`, null as empty; quoting is papaparse's (RFC 4180).
 * @throws Error naming the row and the missing or extra column
 */
export function toCsv(columns: readonly string[], rows: readonly Row[]): string {
	const data = rows.map((row, i) => {
		for (const c of columns) {
			if (!(c in row)) {
				throw new Error(`toCsv: row ${i} has no column '${c}'`);
			}
		}
		for (const k of Object.keys(row)) {
			if (!columns.includes(k)) {
				throw new Error(`toCsv: row ${i} has column '${k}' that is not in the header`);
			}
		}
		return columns.map((c) => row[c] ?? null);
	});
	return `${Papa.unparse({ fields: [...columns], data }, { newline: '\n' })}\n`;
}

/** Reads a cell back: numbers (including NaN, ±Infinity), booleans, empty → null, else the string. */
export function parseCell(text: string): Cell {
	if (text === '') {
		return null;
	}
	if (text === 'true' || text === 'false') {
		return text === 'true';
	}
	if (text === 'NaN') {
		return Number.NaN;
	}
	const n = Number(text);
	return Number.isNaN(n) ? text : n;
}

/**
 * Parses CSV written by {@link toCsv} (papaparse; blank lines skipped).
 * @param file named in error messages
 * @throws Error naming the file and line of a row with the wrong number of fields or a broken quote
 */
export function parseCsv(text: string, file: string): { columns: string[]; rows: Row[] } {
	const parsed = Papa.parse<string[]>(text, { delimiter: ',', skipEmptyLines: true });
	const quote = parsed.errors.find((e) => e.type === 'Quotes');
	if (quote !== undefined) {
		throw new Error(`${file}:${(quote.row ?? 0) + 1}: unterminated quoted field`);
	}
	const records = parsed.data;
	if (records.length === 0) {
		return { columns: [], rows: [] };
	}
	const columns = records[0];
	const rows: Row[] = [];
	for (let i = 1; i < records.length; i++) {
		const fields = records[i];
		if (fields.length !== columns.length) {
			throw new Error(`${file}:${i + 1}: ${fields.length} fields, the header has ${columns.length}`);
		}
		const row: Record<string, Cell> = {};
		columns.forEach((c, j) => {
			row[c] = parseCell(fields[j]);
		});
		rows.push(row);
	}
	return { columns, rows };
}

/** The identity of a result row for resuming: its key columns' values joined. */
export function rowKey(row: Row, keyColumns: readonly string[]): string {
	return keyColumns.map((c) => `${c}=${formatCell(row[c] ?? null)}`).join('|');
}

/**
 * The resumable set of finished points: rows already on disk, looked up by key. A full run appends
 * each finished point (see {@link ResultStore.add}) and skips points whose key is present.
 */
export class ResultStore {
	private readonly byKey = new Map<string, Row>();

	/**
	 * @param keyColumns the columns that identify a point (e.g. attack, theta, seed)
	 * @param existing rows read back from an earlier run (their key columns must be present)
	 */
	constructor(
		readonly keyColumns: readonly string[],
		existing: readonly Row[] = [],
	) {
		for (const r of existing) {
			this.byKey.set(rowKey(r, keyColumns), r);
		}
	}

	/** True when a row with this point's key is stored. */
	has(point: Row): boolean {
		return this.byKey.has(rowKey(point, this.keyColumns));
	}

	/** The stored row for this point's key, if any. */
	get(point: Row): Row | undefined {
		return this.byKey.get(rowKey(point, this.keyColumns));
	}

	/** Stores (or replaces) a finished row. */
	add(row: Row): void {
		this.byKey.set(rowKey(row, this.keyColumns), row);
	}

	/** All rows, in insertion order (earlier runs first). */
	rows(): Row[] {
		return [...this.byKey.values()];
	}

	/** Number of stored rows. */
	get size(): number {
		return this.byKey.size;
	}
}

/** Mean and spread of a group of seeds. */
export interface Spread {
	readonly n: number;
	readonly mean: number;
	/** Sample standard deviation (n − 1); 0 for a single value. */
	readonly sd: number;
	readonly min: number;
	readonly max: number;
}

/**
 * Mean ± spread of the finite values (NaN and null are skipped: a point that could not be measured
 * does not count as zero).
 * @returns n = 0 and NaN statistics when nothing is finite
 */
export function spread(values: readonly (number | null)[]): Spread {
	const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
	if (v.length === 0) {
		return { n: 0, mean: Number.NaN, sd: Number.NaN, min: Number.NaN, max: Number.NaN };
	}
	const mean = v.reduce((a, b) => a + b, 0) / v.length;
	const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
	return { n: v.length, mean, sd, min: Math.min(...v), max: Math.max(...v) };
}

/**
 * Groups rows by the given columns and summarises each numeric column with {@link spread}: the
 * output has the group columns, `seeds` (rows in the group) and, per value column c, `c_mean`,
 * `c_sd`, `c_min`, `c_max`. Groups keep the order of their first row.
 */
export function aggregate(rows: readonly Row[], groupColumns: readonly string[], valueColumns: readonly string[]): Row[] {
	const groups = new Map<string, Row[]>();
	for (const r of rows) {
		const k = rowKey(r, groupColumns);
		const g = groups.get(k);
		if (g === undefined) {
			groups.set(k, [r]);
		} else {
			g.push(r);
		}
	}
	const out: Row[] = [];
	for (const g of groups.values()) {
		const row: Record<string, Cell> = {};
		for (const c of groupColumns) {
			row[c] = g[0][c] ?? null;
		}
		row.seeds = g.length;
		for (const c of valueColumns) {
			const s = spread(g.map((r) => {
				const x = r[c];
				return typeof x === 'number' ? x : null;
			}));
			row[`${c}_mean`] = s.mean;
			row[`${c}_sd`] = s.sd;
			row[`${c}_min`] = s.min;
			row[`${c}_max`] = s.max;
		}
		out.push(row);
	}
	return out;
}

/** The column names {@link aggregate} produces, in order. */
export function aggregateColumns(groupColumns: readonly string[], valueColumns: readonly string[]): string[] {
	return [...groupColumns, 'seeds', ...valueColumns.flatMap((c) => [`${c}_mean`, `${c}_sd`, `${c}_min`, `${c}_max`])];
}

/**
 * Replaces the text between `<!-- reproduce:NAME:begin -->` and `<!-- reproduce:NAME:end -->` in a
 * Markdown document, keeping the markers, so regenerated tables do not disturb hand-written text.
 * @returns the document unchanged when the markers are absent (and `found: false`)
 */
export function replaceBlock(doc: string, name: string, body: string): { text: string; found: boolean } {
	const begin = `<!-- reproduce:${name}:begin -->`;
	const end = `<!-- reproduce:${name}:end -->`;
	const i = doc.indexOf(begin);
	const j = doc.indexOf(end);
	if (i < 0 || j < 0 || j < i) {
		return { text: doc, found: false };
	}
	return { text: `${doc.slice(0, i + begin.length)}\n${body.trim()}\n${doc.slice(j)}`, found: true };
}

/** Formats a number for Markdown with `digits` significant digits (exponent form outside 1e-3..1e5). */
export function sig(v: number | null | undefined, digits = 3): string {
	if (v === null || v === undefined || Number.isNaN(v)) {
		return '–';
	}
	if (!Number.isFinite(v)) {
		return v > 0 ? '∞' : '−∞';
	}
	if (v === 0) {
		return '0';
	}
	const a = Math.abs(v);
	if (a >= 1e5 || a < 1e-3) {
		return v.toExponential(digits - 1);
	}
	// Integers print as integers; other values keep their trailing zeros (2.00, not 2).
	if (Number.isInteger(v) && a < 1e5) {
		return String(v);
	}
	return v.toPrecision(digits);
}

/** A Markdown table from rows and [header, cell formatter] pairs. */
export function markdownTable(rows: readonly Row[], columns: readonly (readonly [string, (r: Row) => string])[]): string {
	const head = `| ${columns.map(([h]) => h).join(' | ')} |`;
	const rule = `| ${columns.map(() => '---').join(' | ')} |`;
	const body = rows.map((r) => `| ${columns.map(([, f]) => f(r)).join(' | ')} |`);
	return [head, rule, ...body].join('\n');
}

/** A number cell of a row (NaN when missing or not a number). */
export function num(r: Row, c: string): number {
	const v = r[c];
	return typeof v === 'number' ? v : Number.NaN;
}

/** Evenly spaced values on a log scale from 10^a to 10^b (inclusive), `count` of them. */
export function logSpace(a: number, b: number, count: number): number[] {
	if (count < 2) {
		return [10 ** a];
	}
	return Array.from({ length: count }, (_, i) => 10 ** (a + ((b - a) * i) / (count - 1)));
}

/** True when the values never decrease (strictly increase with `strict`), within a relative tolerance. */
export function isMonotone(values: readonly number[], direction: 'increasing' | 'decreasing', strict = false, relTol = 1e-12): boolean {
	for (let i = 1; i < values.length; i++) {
		const a = values[i - 1];
		const b = values[i];
		const tol = relTol * Math.max(Math.abs(a), Math.abs(b));
		const d = direction === 'increasing' ? b - a : a - b;
		if (strict ? !(d > tol) : !(d >= -tol)) {
			return false;
		}
	}
	return true;
}
