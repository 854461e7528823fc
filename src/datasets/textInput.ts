/**
 * Turning a dataset file's bytes into text the readers can trust, with the problems found on the way:
 * - UTF-16 and UTF-32 byte order marks: the file is not UTF-8 text; one `encoding` problem, no rows.
 * - invalid UTF-8 sequences and NUL bytes: an `encoding` problem on each line that has one (the first few);
 *   the line is still read (invalid bytes become U+FFFD), so its other problems are found too.
 * - lines longer than the per-line limit: a `line-too-long` problem each, and the line is blanked (same length,
 *   no delimiters) before parsing, so one giant line cannot make the CSV/JSON parsers build millions of fields.
 * Pure module (no `vscode`).
 */
import { escapeControl } from '../protocol/safeFile';
import { ProblemCode, type Problem } from './problem';

/** Default longest line parsed, in UTF-16 code units (1 MiB: a 100 000-column numeric row fits). */
export const DEFAULT_MAX_LINE_CHARS = 1 << 20;

/** Encoding problems reported per file before one summary line. */
const MAX_ENCODING_REPORTS = 20;

function problem(line: number, column: number, endColumn: number, code: Problem['code'], message: string): Problem {
	return { line, column, endColumn, code, severity: 'error', message, related: [], evidence: [] };
}

/** Byte order marks of encodings the readers do not read. */
const FOREIGN_BOMS: { bytes: number[]; name: string }[] = [
	{ bytes: [0xff, 0xfe, 0x00, 0x00], name: 'UTF-32 LE' },
	{ bytes: [0x00, 0x00, 0xfe, 0xff], name: 'UTF-32 BE' },
	{ bytes: [0xff, 0xfe], name: 'UTF-16 LE' },
	{ bytes: [0xfe, 0xff], name: 'UTF-16 BE' },
];

/** Text plus the encoding problems found while decoding it; `text` is empty when the file is not UTF-8 at all. */
export interface DecodedText {
	readonly text: string;
	readonly problems: Problem[];
}

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes dataset bytes as UTF-8, reporting foreign BOMs, invalid UTF-8 and NUL bytes on their line.
 * A UTF-8 BOM is kept (the readers strip it).
 */
export function decodeDatasetBytes(bytes: Uint8Array): DecodedText {
	for (const bom of FOREIGN_BOMS) {
		if (bytes.length >= bom.bytes.length && bom.bytes.every((b, i) => bytes[i] === b)) {
			return {
				text: '',
				problems: [problem(1, 1, 2, ProblemCode.encoding,
					`the file is ${bom.name} (it starts with that byte order mark); the scanners read UTF-8: save it as UTF-8`)],
			};
		}
	}
	let text: string;
	const problems: Problem[] = [];
	try {
		text = strict.decode(bytes);
	} catch {
		text = lenient.decode(bytes);
		reportInvalidUtf8(bytes, problems);
	}
	reportNul(text, problems);
	problems.sort((a, b) => a.line - b.line || a.column - b.column);
	return { text, problems };
}

/** Length of a valid UTF-8 sequence starting at `i`, or 0 when the bytes there are invalid. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
	const c = b[i];
	if (c < 0x80) {
		return 1;
	}
	const cont = (k: number): boolean => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
	if (c >= 0xc2 && c <= 0xdf) {
		return cont(1) ? 2 : 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (!cont(1) || !cont(2)) {
			return 0;
		}
		const c1 = b[i + 1];
		if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) {
			return 0; // overlong or a UTF-16 surrogate
		}
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (!cont(1) || !cont(2) || !cont(3)) {
			return 0;
		}
		const c1 = b[i + 1];
		if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) {
			return 0;
		}
		return 4;
	}
	return 0;
}

function reportInvalidUtf8(bytes: Uint8Array, problems: Problem[]): void {
	let line = 1;
	let column = 1;
	let reported = 0;
	let lastLine = 0;
	let skipped = 0;
	for (let i = 0; i < bytes.length;) {
		const c = bytes[i];
		// LF, CRLF and a lone CR each end a line (as in the editor and the readers).
		if (c === 0x0a || (c === 0x0d && bytes[i + 1] !== 0x0a)) {
			line++;
			column = 1;
			i++;
			continue;
		}
		const n = utf8SequenceLength(bytes, i);
		if (n === 0) {
			if (line !== lastLine) {
				lastLine = line;
				if (reported < MAX_ENCODING_REPORTS) {
					problems.push(problem(line, column, column + 1, ProblemCode.encoding,
						`invalid UTF-8 (byte 0x${c.toString(16).padStart(2, '0')}); the file must be UTF-8 text, the byte is read as U+FFFD`));
					reported++;
				} else {
					skipped++;
				}
			}
			column++;
			i++;
			continue;
		}
		column += n === 4 ? 2 : 1;
		i += n;
	}
	if (skipped > 0) {
		problems.push(problem(lastLine, 1, 2, ProblemCode.encoding, `invalid UTF-8 on ${skipped} more line(s) after the ${MAX_ENCODING_REPORTS} reported`));
	}
}

function reportNul(text: string, problems: Problem[]): void {
	let at = text.indexOf('\u0000');
	if (at < 0) {
		return;
	}
	let line = 1;
	let lineStart = 0;
	let scanned = 0;
	let reported = 0;
	let lastLine = 0;
	while (at >= 0 && reported < MAX_ENCODING_REPORTS) {
		for (let i = scanned; i < at; i++) {
			const ch = text.charCodeAt(i);
			if (ch === 10 || (ch === 13 && text.charCodeAt(i + 1) !== 10)) {
				line++;
				lineStart = i + 1;
			}
		}
		scanned = at;
		if (line !== lastLine) {
			lastLine = line;
			problems.push(problem(line, at - lineStart + 1, at - lineStart + 2, ProblemCode.encoding,
				'NUL byte (\\0) in a text file: is this a binary file or UTF-16 text without a byte order mark?'));
			reported++;
		}
		at = text.indexOf('\u0000', at + 1);
	}
}

/**
 * Blanks every line longer than `maxChars` (same length, spaces: line numbers and offsets of the other lines stay
 * exact) and reports each as `line-too-long`. Returns the text unchanged when no line is too long.
 */
export function blankLongLines(text: string, maxChars = DEFAULT_MAX_LINE_CHARS): { text: string; problems: Problem[]; lines: Set<number> } {
	const problems: Problem[] = [];
	const lines = new Set<number>();
	if (text.length <= maxChars) {
		return { text, problems, lines };
	}
	const pieces: string[] = [];
	let from = 0;
	let start = 0;
	let line = 1;
	while (start <= text.length) {
		let end = text.indexOf('\n', start);
		if (end === -1) {
			end = text.length;
		}
		if (end - start > maxChars) {
			pieces.push(text.slice(from, start), ' '.repeat(end - start));
			from = end;
			lines.add(line);
			const head = escapeControl(text.slice(start, start + 40));
			problems.push(problem(line, 1, 2, ProblemCode.lineTooLong,
				`line is ${end - start} characters long, more than the limit of ${maxChars}; it is not parsed (starts '${head}…')`));
		}
		start = end + 1;
		line++;
	}
	if (lines.size === 0) {
		return { text, problems, lines };
	}
	pieces.push(text.slice(from));
	return { text: pieces.join(''), problems, lines };
}
