/**
 * JSON Lines reader: one JSON object per line, with a label key and either an array of numbers (`features`, `x`,
 * `pixels`, …) or one number per key. Reports every bad line, not just the first. Pure module (no `vscode`).
 */
import { ProblemCode } from './problem';
import type { Problem, ProblemCodeValue, Severity } from './problem';
import { LABEL_NAMES, unknownLabels, isImagePath, normaliseLabel } from './table';
import type { FeatureTable, ParsedDataset, ProgressFn, ScanOptions } from './table';

/** Keys that hold a whole feature vector, in order of preference. */
const VECTOR_KEYS = ['features', 'x', 'pixels', 'input', 'inputs', 'data', 'vector', 'embedding'];
const SAMPLE_RECORDS = 1000;

interface Line {
	readonly line: number;
	readonly text: string;
	readonly value: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 1-based column of the JSON.parse failure, from the engine's message (V8 says "position N" or "column N"). */
function errorColumn(message: string, text: string): number {
	const col = /column (\d+)/.exec(message);
	if (col) {
		return Number(col[1]);
	}
	const pos = /position (\d+)/.exec(message);
	if (pos) {
		return Math.min(text.length, Number(pos[1])) + 1;
	}
	return 1;
}

/** Collects problems; every message is placed on its line and, where a key is named, at that key. */
class Problems {
	readonly list: Problem[] = [];

	push(line: number, column: number, endColumn: number, code: ProblemCodeValue, severity: Severity, message: string): void {
		this.list.push({ line, column, endColumn: Math.max(endColumn, column + 1), code, severity, message, related: [], evidence: [] });
	}

	/** A problem on `key` of line `l` (its column, or 1 when the key is not in the text). */
	atKey(l: Line, key: string, code: ProblemCodeValue, severity: Severity, message: string): void {
		const c = keyColumn(l, key);
		this.push(l.line, c, c + key.length + 2, code, severity, message);
	}
}

function keyColumn(l: Line, key: string): number {
	const at = l.text.indexOf(JSON.stringify(key));
	return at >= 0 ? at + 1 : 1;
}

/** Pass 1: every non-blank line parsed (objects are small next to the text, so keeping them is fine for JSONL sizes). */
function parseLines(src: string, problems: Problems, progress?: ProgressFn): Line[] {
	const lines: Line[] = [];
	let start = 0;
	let lineNo = 0;
	while (start <= src.length) {
		let end = src.indexOf('\n', start);
		if (end === -1) {
			end = src.length;
		}
		lineNo++;
		let t = src.slice(start, end);
		if (t.endsWith('\r')) {
			t = t.slice(0, -1);
		}
		start = end + 1;
		if (t.trim() === '') {
			continue;
		}
		let v: unknown;
		try {
			v = JSON.parse(t);
		} catch (e) {
			const msg = e instanceof Error ? e.message : String(e);
			const c = errorColumn(msg, t);
			problems.push(lineNo, c, c + 1, ProblemCode.invalidJson, 'error', `invalid JSON: ${msg}`);
			continue;
		}
		if (!isRecord(v)) {
			problems.push(lineNo, 1, t.length + 1, ProblemCode.invalidRecord, 'error', `line is JSON ${Array.isArray(v) ? 'array' : typeof v}, not an object`);
			continue;
		}
		lines.push({ line: lineNo, text: t, value: v });
		if (progress && (lineNo & 4095) === 0) {
			progress(start / Math.max(1, src.length), 'parsing');
		}
	}
	return lines;
}

/** Which keys hold the label, the features (one vector key, or numeric keys) and image paths, from the first records. */
interface JsonlSchema {
	readonly labelKey: string | null;
	readonly vectorKey: string | null;
	readonly numericKeys: string[];
	readonly dim: number;
	readonly textKeys: string[];
}

function inferJsonlSchema(lines: readonly Line[], opts: ScanOptions, problems: Problems): JsonlSchema {
	const sample = lines.slice(0, SAMPLE_RECORDS);
	const share = (pred: (r: Record<string, unknown>) => boolean): number => (sample.length === 0 ? 0 : sample.filter((l) => pred(l.value)).length / sample.length);
	let labelKey: string | null = null;
	if (opts.labelColumn !== undefined && opts.labelColumn !== '') {
		labelKey = opts.labelColumn;
		if (share((r) => labelKey !== null && labelKey in r) === 0 && sample.length > 0) {
			problems.push(1, 1, 1, ProblemCode.noLabelColumn, 'error', `label key '${labelKey}' not found in any of the first ${sample.length} records; label checks are off`);
			labelKey = null;
		}
	} else {
		labelKey = LABEL_NAMES.find((k) => share((r) => k in r) >= 0.5) ?? null;
		if (labelKey === null && sample.length > 0) {
			problems.push(1, 1, 1, ProblemCode.noLabelColumn, 'information', 'no label key found; set poisonLens.dataset.labelColumn (or --label-column) to enable the dirty-label checks');
		}
	}
	const vectorKey = VECTOR_KEYS.find((k) => k !== labelKey && share((r) => Array.isArray(r[k])) >= 0.5) ?? null;
	let dim: number;
	let numericKeys: string[] = [];
	if (vectorKey !== null) {
		const lens = new Map<number, number>();
		for (const l of sample) {
			const a = l.value[vectorKey];
			if (Array.isArray(a)) {
				lens.set(a.length, (lens.get(a.length) ?? 0) + 1);
			}
		}
		dim = [...lens.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
	} else {
		const keys = new Set<string>();
		for (const l of sample) {
			for (const k of Object.keys(l.value)) {
				keys.add(k);
			}
		}
		numericKeys = [...keys].filter((k) => k !== labelKey && share((r) => typeof r[k] === 'number') >= 0.9).sort();
		dim = numericKeys.length;
	}
	const textKeys = sample.length === 0 ? [] : Object.keys(sample[0].value).filter((k) => k !== labelKey && k !== vectorKey
		&& !numericKeys.includes(k) && share((r) => typeof r[k] === 'string' && isImagePath(r[k])) >= 0.9);
	return { labelKey, vectorKey, numericKeys, dim, textKeys };
}

/** A feature value, or null with its problem (missing, empty, non-finite, non-numeric). */
function checkNumber(problems: Problems, l: Line, key: string, what: string, v: unknown): number | null {
	if (v === undefined || v === null || v === '') {
		problems.atKey(l, key, ProblemCode.missingValue, 'error', `${what} is ${v === '' ? 'empty' : 'missing'}`);
		return null;
	}
	if (typeof v === 'number') {
		return v;
	}
	if (typeof v === 'string' && /^\s*[+-]?(nan|inf|infinity)\s*$/i.test(v)) {
		problems.atKey(l, key, ProblemCode.nonFinite, 'error', `${what} is ${v}, not a finite number`);
		return null;
	}
	problems.atKey(l, key, ProblemCode.nonNumeric, 'error', `${what} is ${JSON.stringify(v)?.slice(0, 40)}, not a number`);
	return null;
}

/** The line's label (normalised), or null with its problem; `ok` false when the row must not take part. */
function readLabel(problems: Problems, l: Line, labelKey: string): { label: string | null; ok: boolean } {
	const raw = l.value[labelKey];
	if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
		const c = raw === undefined ? 1 : keyColumn(l, labelKey);
		problems.push(l.line, c, raw === undefined ? l.text.length + 1 : c + labelKey.length + 2, ProblemCode.missingLabel, 'error',
			`label '${labelKey}' is ${raw === undefined ? 'missing' : 'empty'}`);
		return { label: null, ok: false };
	}
	if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') {
		return { label: normaliseLabel(String(raw)), ok: true };
	}
	problems.atKey(l, labelKey, ProblemCode.unknownLabel, 'warning', `label '${labelKey}' is a ${Array.isArray(raw) ? 'list' : 'object'}, not a class`);
	return { label: null, ok: false };
}

/** Writes the line's features into `out` (dim values); false when any is missing or not a number. */
function readFeatures(problems: Problems, l: Line, schema: JsonlSchema, out: Float32Array): boolean {
	const { vectorKey, dim } = schema;
	let ok = true;
	if (vectorKey === null) {
		schema.numericKeys.forEach((k, j) => {
			const v = checkNumber(problems, l, k, `feature '${k}'`, l.value[k]);
			if (v === null) {
				ok = false;
			} else {
				out[j] = v;
			}
		});
		return ok;
	}
	const a = l.value[vectorKey];
	if (!Array.isArray(a)) {
		problems.atKey(l, vectorKey, ProblemCode.missingValue, 'error', `'${vectorKey}' is ${a === undefined ? 'missing' : 'not a list'}`);
		return false;
	}
	if (a.length !== dim) {
		problems.atKey(l, vectorKey, ProblemCode.raggedRow, 'error', `'${vectorKey}' has ${a.length} values, but the other rows have ${dim}`);
		return false;
	}
	for (let j = 0; j < dim; j++) {
		const v = checkNumber(problems, l, vectorKey, `'${vectorKey}'[${j}]`, a[j]);
		if (v === null) {
			ok = false;
		} else {
			out[j] = v;
		}
	}
	return ok;
}

/** Reads a JSONL text into a {@link FeatureTable} and its structure problems. */
export function readJsonl(text: string, _fileName: string, opts: ScanOptions = {}, progress?: ProgressFn): ParsedDataset {
	const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
	const problems = new Problems();
	const lines = parseLines(src, problems, progress);
	const schema = inferJsonlSchema(lines, opts, problems);
	const { labelKey, dim, textKeys } = schema;
	const n = lines.length;
	const features = new Float32Array(n * dim);
	const valid = new Uint8Array(n);
	const labels: (string | null)[] = [];
	const startLine = new Int32Array(n);
	const endColumn = new Int32Array(n);
	const textKey: (string | null)[] | null = textKeys.length > 0 ? [] : null;
	lines.forEach((l, i) => {
		startLine[i] = l.line;
		endColumn[i] = l.text.length + 1;
		const read = labelKey === null ? { label: null, ok: true } : readLabel(problems, l, labelKey);
		const featuresOk = readFeatures(problems, l, schema, features.subarray(i * dim, (i + 1) * dim));
		if (textKey !== null) {
			textKey.push(textKeys.map((k) => {
				const v = l.value[k];
				return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
			}).join('\u0000'));
		}
		labels.push(read.label);
		valid[i] = read.ok && featuresOk ? 1 : 0;
	});
	if (labelKey !== null) {
		const unknown = unknownLabels(labels, opts.labels);
		labels.forEach((l, i) => {
			if (l !== null && unknown.has(l)) {
				problems.atKey(lines[i], labelKey, ProblemCode.unknownLabel, 'warning', unknown.get(l) ?? '');
				valid[i] = 0;
			}
		});
	}
	const table: FeatureTable = {
		rows: n, dim, features, valid, labels, startLine, endLine: startLine, endColumn, textKey, labelName: labelKey, hasHeader: false,
		// Every text key kept here holds image paths (see textKeys).
		...(textKeys.length > 0 ? { image: { keyPart: 0, column: textKeys[0] } } : {}),
	};
	return { table, problems: problems.list };
}
