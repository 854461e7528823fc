/**
 * Where the reproduce driver writes, and the file side of resuming: results go to
 * docs/results/<mode>/ (CSV + JSON) and docs/results/<mode>/figures/ (PNG).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Row, ResultStore, parseCsv, toCsv } from './table';

/** quick: minutes, 1 seed, small subsets; full: hours, 3 seeds, resumable. */
export type Mode = 'quick' | 'full';

/** The repository root (bench/reproduce/../..). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Output folders of one mode. */
export interface OutDirs {
	readonly mode: Mode;
	readonly dir: string;
	readonly figures: string;
}

/** Creates and returns docs/results/<mode>/ and its figures/ folder (or under `root`). */
export function outDirs(mode: Mode, root = path.join(REPO_ROOT, 'docs', 'results')): OutDirs {
	const dir = path.join(root, mode);
	const figures = path.join(dir, 'figures');
	fs.mkdirSync(figures, { recursive: true });
	return { mode, dir, figures };
}

/** Writes rows as CSV (atomically: a killed run never leaves half a file for the resume to trip on). */
export function writeCsv(file: string, columns: readonly string[], rows: readonly Row[]): void {
	const tmp = `${file}.tmp`;
	fs.writeFileSync(tmp, toCsv(columns, rows));
	fs.renameSync(tmp, file);
}

/** Writes pretty JSON atomically. */
export function writeJson(file: string, value: unknown): void {
	const tmp = `${file}.tmp`;
	fs.writeFileSync(tmp, `${JSON.stringify(value, null, '\t')}\n`);
	fs.renameSync(tmp, file);
}

/** Reads rows of an earlier run back, or none when the file is absent. */
export function readCsvRows(file: string): Row[] {
	if (!fs.existsSync(file)) {
		return [];
	}
	return parseCsv(fs.readFileSync(file, 'utf8'), file).rows;
}

/**
 * A resumable result table on disk: the rows already in `file` are loaded (unless `fresh`), each
 * finished point is appended by rewriting the file, and {@link ResultStore.has} tells the driver
 * what to skip.
 */
export class CsvStore {
	readonly store: ResultStore;

	constructor(
		readonly file: string,
		readonly columns: readonly string[],
		keyColumns: readonly string[],
		fresh: boolean,
	) {
		const existing = fresh ? [] : readCsvRows(file);
		for (const r of existing) {
			for (const k of keyColumns) {
				if (!(k in r)) {
					throw new Error(`${file}: column '${k}' is missing; delete the file or run without resuming`);
				}
			}
		}
		this.store = new ResultStore(keyColumns, existing);
	}

	/** True when this point is already on disk. */
	has(point: Row): boolean {
		return this.store.has(point);
	}

	/** Records a finished point and rewrites the file. */
	add(row: Row): void {
		this.store.add(row);
		writeCsv(this.file, this.columns, this.store.rows());
	}

	/** All stored rows. */
	rows(): Row[] {
		return this.store.rows();
	}
}

/** A log line with the time since start, to stderr (stdout stays free for a final summary). */
export function makeLogger(): (msg: string) => void {
	const t0 = Date.now();
	return (msg: string) => {
		const s = ((Date.now() - t0) / 1000).toFixed(0).padStart(5);
		process.stderr.write(`[reproduce ${s}s] ${msg}\n`);
	};
}
