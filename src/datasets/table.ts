/**
 * The parsed form of a dataset file shared by the CSV and JSONL readers and the poisoning analysis.
 * Pure module (no `vscode`).
 */
import type { Problem } from './problem';

/** Options shared by every scanner. */
export interface ScanOptions {
	/** Label column: a header name (or JSONL key), or a zero-based column index written as digits. Detected when absent. */
	readonly labelColumn?: string;
	/** Known labels; any other label is `unknown-label`. Inferred from the column when absent. */
	readonly labels?: readonly string[];
	/** Field delimiter for CSV-like files; `,` for .csv, tab for .tsv/.tab, guessed otherwise. */
	readonly delimiter?: string;
	/** Whether the first CSV record is a header; detected when absent. */
	readonly header?: boolean;
	/** Per-file cap on problems (a `problem-cap` summary counts the rest). Default 1000. */
	readonly maxProblems?: number;
	/** Near-duplicate radius as a fraction of the median nearest-neighbour distance. Default 0.13 (cleanlab). */
	readonly radiusFactor?: number;
	/** Smallest same-label cluster reported as a near-clone cluster. Default 3. */
	readonly minCloneCluster?: number;
	/** Turn off the poisoning analysis (structure checks only). */
	readonly structureOnly?: boolean;
	/** Seed for the random projections and samples, so results are reproducible. Default 1. */
	readonly seed?: number;
	/**
	 * Folder that relative image paths resolve against (the dataset file's folder). When set and the file has an image
	 * path column, the images are checked (missing, unreadable) and, unless `structureOnly`, their pixels become the
	 * features of the near-duplicate search. Absent (an untitled buffer): image paths are compared as text only.
	 */
	readonly baseDir?: string;
	/**
	 * Image paths may lead outside `baseDir` (absolute paths, `../`, symlinks out). Default false: such paths are
	 * reported like missing files, with the same words, so a scan reveals nothing about files outside. Only for
	 * trusted workspaces (setting `poisonLens.dataset.imagesOutsideWorkspace`).
	 */
	readonly imagesOutside?: boolean;
	/** Folder image paths must stay inside (the workspace folder); default `baseDir`. */
	readonly imageRoot?: string;
	/** Longest line parsed, in characters; longer lines are reported as `line-too-long`. Default 1 MiB. */
	readonly maxLineChars?: number;
	/** Most pixels (width × height) an image may declare before it is decoded. Default 4 096 × 4 096. */
	readonly maxImagePixels?: number;
}

/** Called with a fraction in [0, 1] and a phase name as a scan progresses. */
export type ProgressFn = (fraction: number, phase: string) => void;

/**
 * Rows of a dataset after parsing: features for the rows that parsed cleanly, labels, and where each row lives.
 * Row `i` uses `features[i*dim .. (i+1)*dim)`; rows with `valid[i] === 0` are excluded from the poisoning analysis.
 */
export interface FeatureTable {
	/** Number of data rows (header and blank lines excluded). */
	readonly rows: number;
	/** Number of numeric feature columns. */
	readonly dim: number;
	readonly features: Float32Array;
	readonly valid: Uint8Array;
	/** Normalised label per row; null when missing, or when the file has no label column. */
	readonly labels: (string | null)[];
	/** 1-based first line of each row. */
	readonly startLine: Int32Array;
	/** 1-based last line of each row (differs from startLine for records with embedded newlines). */
	readonly endLine: Int32Array;
	/** 1-based column just past the row's last character, on its last line. */
	readonly endColumn: Int32Array;
	/** Non-numeric identity of a row (image path, categorical fields), or null when every feature is numeric. */
	readonly textKey: (string | null)[] | null;
	/**
	 * When a column holds image paths: which `\u0000`-separated part of `textKey` is the (first) image path, and the
	 * column's name. The scanners then load the images (images.ts) when they know the folder paths resolve against.
	 */
	readonly image?: { readonly keyPart: number; readonly column: string };
	/** The label column's display name, or null when there is none. */
	readonly labelName: string | null;
	/** Whether line 1 is a header (CSV/TSV); quarantine files copy it. */
	readonly hasHeader: boolean;
}

/** What a reader returns: the table plus the structure problems it found. */
export interface ParsedDataset {
	readonly table: FeatureTable;
	readonly problems: Problem[];
}

/**
 * Maps character offsets in a text to 1-based line and column numbers. Built once per scan with `indexOf`, which is
 * native and fast even on 100 MB strings.
 */
export class LineIndex {
	private readonly starts: number[] = [0];

	constructor(text: string) {
		let i = text.indexOf('\n');
		while (i !== -1) {
			this.starts.push(i + 1);
			i = text.indexOf('\n', i + 1);
		}
	}

	/** Number of lines (a trailing newline opens a last, empty line). */
	get lineCount(): number {
		return this.starts.length;
	}

	/** 1-based line containing `offset`. */
	lineOf(offset: number): number {
		let lo = 0;
		let hi = this.starts.length - 1;
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (this.starts[mid] <= offset) {
				lo = mid;
			} else {
				hi = mid - 1;
			}
		}
		return lo + 1;
	}

	/** 1-based line and column of `offset`. */
	position(offset: number): { line: number; column: number } {
		const line = this.lineOf(offset);
		return { line, column: offset - this.starts[line - 1] + 1 };
	}

	/** Offset of the first character of a 1-based line. */
	lineStart(line: number): number {
		return this.starts[line - 1];
	}
}

/** How one cell reads as a number. */
export type CellKind = 'number' | 'empty' | 'nonFinite' | 'text';

const NON_FINITE_RE = /^\s*[+-]?(nan|inf|infinity)\s*$/i;

/**
 * Classifies a cell and parses it. `Number('')` is 0 and `Number(' ')` is 0, so the zero case is checked for blanks;
 * everything else rides the fast path.
 */
export function parseCell(s: string): { kind: CellKind; value: number } {
	const v = +s;
	if (v === v && v !== Infinity && v !== -Infinity) {
		if (v === 0 && s.trim() === '') {
			return { kind: 'empty', value: 0 };
		}
		return { kind: 'number', value: v };
	}
	if (NON_FINITE_RE.test(s) || v === Infinity || v === -Infinity) {
		return { kind: 'nonFinite', value: v };
	}
	return { kind: 'text', value: NaN };
}

/** Header names that mark a label column, in order of preference. */
export const LABEL_NAMES = ['label', 'labels', 'class', 'target', 'y', 'category', 'digit', 'tag'];

const IMAGE_RE = /\.(png|jpe?g|gif|bmp|webp|tiff?)$/i;

/** Whether a cell looks like a path to an image file. */
export function isImagePath(s: string): boolean {
	return IMAGE_RE.test(s.trim());
}

/** Canonical label text: numeric labels compare by value ("1" = "1.0"), text labels by their trimmed text. */
export function normaliseLabel(s: string): string {
	const t = s.trim();
	const v = Number(t);
	return t !== '' && Number.isFinite(v) ? String(v) : t;
}

/**
 * The unknown labels of a file with the reason for each: against the configured label list when there is one
 * (`poisonLens.dataset.labels` / scan options), else inferred by {@link inferUnknownLabels}. Shared by the CSV and
 * JSONL readers.
 */
export function unknownLabels(labels: readonly (string | null)[], configured: readonly string[] | undefined): Map<string, string> {
	const counts = new Map<string, number>();
	for (const l of labels) {
		if (l !== null) {
			counts.set(l, (counts.get(l) ?? 0) + 1);
		}
	}
	if (!configured) {
		return inferUnknownLabels(counts);
	}
	const known = new Set(configured.map(normaliseLabel));
	return new Map([...counts.keys()].filter((l) => !known.has(l)).map((l) => [l, `label '${l}' is not one of the configured labels (${[...known].join(', ')})`]));
}

/**
 * Infers which labels are unknown when no label list is configured.
 * - If at least 90 % of the labels are integers, a non-integer label is unknown (a typo or a shifted column).
 * - A label seen exactly once, in a file with at least 50 labelled rows where every other label has at least 10 rows,
 *   is unknown (a misspelt class name).
 * Returns the reason per unknown label.
 */
export function inferUnknownLabels(counts: ReadonlyMap<string, number>): Map<string, string> {
	const out = new Map<string, string>();
	let total = 0;
	let integers = 0;
	for (const [label, n] of counts) {
		total += n;
		if (/^-?\d+$/.test(label)) {
			integers += n;
		}
	}
	if (total === 0) {
		return out;
	}
	const integerColumn = integers >= 0.9 * total;
	for (const label of counts.keys()) {
		if (integerColumn && !/^-?\d+$/.test(label)) {
			out.set(label, `the label column holds integer classes, but this label is '${label}'`);
		}
	}
	if (total >= 50) {
		const singles = [...counts.entries()].filter(([, n]) => n === 1);
		const othersBig = [...counts.entries()].filter(([, n]) => n !== 1).every(([, n]) => n >= 10);
		if (singles.length > 0 && singles.length <= 3 && othersBig && counts.size > singles.length) {
			for (const [label] of singles) {
				if (!out.has(label)) {
					out.set(label, `label '${label}' occurs once, while every other label has at least 10 rows`);
				}
			}
		}
	}
	return out;
}
