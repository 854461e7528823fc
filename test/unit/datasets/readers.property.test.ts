/**
 * Seeded property-based tests of the readers (fast-check): whatever the bytes, a reader returns problems with valid
 * positions and printable messages, or throws its own named error; never a crash, never another exception type.
 * Case counts are bounded so the file runs in seconds; `npm run fuzz` runs the long version.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanBytes, scanText } from '../../../src/datasets/scan';
import { blankLongLines, decodeDatasetBytes } from '../../../src/datasets/textInput';
import { IdxError, parseIdx } from '../../../src/datasets/idx';
import { parseEventsChunk, RunFormatError } from '../../../src/protocol/runFormat';
import { decodeTensorSet, encodeTensorSet } from '../../../src/protocol/tensorFile';

const SEED = 17;
const RUNS = 150;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Lines as papaparse and the editor count them (a lone CR breaks a line too). */
function lineCount(text: string): number {
	return text.split(/\r\n|\r|\n/).length;
}

function checkResult(r: ReturnType<typeof scanText>, lines: number): void {
	assert.ok(r.rows <= lines, `${r.rows} rows from ${lines} lines`);
	for (const p of r.problems) {
		assert.ok(p.line >= 1 && p.line <= Math.max(1, lines), `line ${p.line} of ${lines}`);
		assert.ok(p.column >= 1, `column ${p.column}`);
		assert.ok(!CONTROL.test(p.message), `raw control character in ${JSON.stringify(p.message)}`);
	}
}

/** Cells that stress the CSV grammar: quotes, delimiters, line breaks, numbers, non-finite values, controls. */
const cell = fc.oneof(
	fc.integer({ min: -1000, max: 1000 }).map(String),
	fc.double({ noNaN: false }).map(String),
	fc.constantFrom('', ' ', '"', '""', '"a,b"', 'a"b', '\r', '\n', '\t', ';', 'NaN', 'inf', '-Infinity', '\u0000', '\u001b[2J', 'é', '😀', 'img/a.png', 'label'),
	fc.string({ maxLength: 8 }),
);
const csvText = fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { minLength: 0, maxLength: 30 }).chain((rows) =>
	fc.constantFrom(',', '\t').map((d) => rows.map((r) => r.join(d)).join(fc.sample(fc.constantFrom('\n', '\r\n'), { seed: rows.length, numRuns: 1 })[0])),
);

const jsonValue = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 6 }), fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 4 }));
const jsonlText = fc.array(
	fc.oneof(
		fc.dictionary(fc.constantFrom('x', 'y', 'label', 'image', 'class', '\u0000k'), jsonValue, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
		fc.string({ maxLength: 20 }),
		fc.constantFrom('{', '[]', '{"label":', 'null', '"s"', ''),
	),
	{ maxLength: 30 },
).map((lines) => lines.join('\n'));

describe('reader properties (seeded fast-check)', () => {
	test('CSV/TSV: any text scans without throwing; positions are valid, messages printable', () => {
		fc.assert(fc.property(csvText, fc.boolean(), (text, tsv) => {
			const r = scanText(text, tsv ? 'p.tsv' : 'p.csv', { maxProblems: 10_000 });
			checkResult(r, lineCount(text));
		}), { seed: SEED, numRuns: RUNS });
	});

	test('JSONL: any text scans without throwing; positions are valid, messages printable', () => {
		fc.assert(fc.property(jsonlText, (text) => {
			checkResult(scanText(text, 'p.jsonl', { maxProblems: 10_000 }), lineCount(text));
		}), { seed: SEED, numRuns: RUNS });
	});

	test('arbitrary bytes (mutated UTF-8, BOMs, NULs) scan without throwing', () => {
		fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('b.csv', 'b.tsv', 'b.jsonl'), (bytes, name) => {
			const lines = Buffer.from(bytes).toString('latin1').split(/\r\n|\r|\n/).length;
			checkResult(scanBytes(bytes, name, { maxProblems: 10_000 }), lines);
		}), { seed: SEED, numRuns: RUNS });
	});

	test('a clean generated CSV has exactly its rows and no errors', () => {
		fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 100 }), fc.constantFrom('cat', 'dog')), { minLength: 3, maxLength: 40 }), (rows) => {
			const text = ['a,b,label', ...rows.map(([a, b, l]) => `${a},${b},${l}`)].join('\n');
			const r = scanText(text, 'clean.csv', { structureOnly: true, labelColumn: 'label' });
			assert.equal(r.rows, rows.length);
			assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), []);
		}), { seed: SEED, numRuns: RUNS });
	});

	test('decodeDatasetBytes: valid UTF-8 round-trips with no problem; an invalid byte is reported on its line', () => {
		fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replaceAll('\n', '').replaceAll('\u0000', '')), { minLength: 1, maxLength: 10 }), fc.nat(), (lines, pick) => {
			const text = lines.join('\n');
			const ok = decodeDatasetBytes(Buffer.from(text, 'utf8'));
			assert.equal(ok.text, text);
			assert.deepEqual(ok.problems, []);
			const at = pick % lines.length;
			const bad = Buffer.from(lines.map((l, i) => (i === at ? `${l}\u0001` : l)).join('\n'), 'utf8');
			const idx = bad.indexOf(0x01);
			bad[idx] = 0xff;
			const r = decodeDatasetBytes(bad);
			assert.deepEqual(r.problems.map((p) => p.line), [at + 1]);
		}), { seed: SEED, numRuns: RUNS });
	});

	test('blankLongLines keeps length and line breaks, and leaves no line over the limit unreported', () => {
		fc.assert(fc.property(fc.array(fc.string({ maxLength: 40 }).map((s) => s.replace(/\n/g, '')), { maxLength: 20 }), fc.integer({ min: 1, max: 30 }), (lines, max) => {
			const text = lines.join('\n');
			const out = blankLongLines(text, max);
			assert.equal(out.text.length, text.length);
			const before = text.split('\n');
			const after = out.text.split('\n');
			assert.equal(after.length, before.length);
			before.forEach((l, i) => {
				const long = l.length > max && text.length > max;
				assert.equal(out.lines.has(i + 1), long);
				assert.equal(after[i], long ? ' '.repeat(l.length) : l);
			});
		}), { seed: SEED, numRuns: RUNS });
	});
});

describe('binary reader properties (seeded fast-check)', () => {
	test('parseIdx: any bytes give an array or an IdxError, never another exception', () => {
		fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
			try {
				const a = parseIdx(bytes, 'f');
				assert.equal(a.data.length, a.dims.reduce((x, y) => x * y, 1));
			} catch (e) {
				assert.ok(e instanceof IdxError, String(e));
			}
		}), { seed: SEED, numRuns: RUNS });
	});

	test('decodeTensorSet: mutated valid files give a set or a RunFormatError', () => {
		const base = encodeTensorSet({ itemShape: [2, 2], count: 3, data: new Float32Array(12).fill(0.25), labels: Int32Array.from([0, 1, 2]) });
		fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), (edits, cut) => {
			const b = Uint8Array.from(base);
			for (const [i, v] of edits) {
				b[i % b.length] = v;
			}
			const bytes = b.subarray(0, cut % 3 === 0 ? cut % b.length : b.length);
			try {
				const s = decodeTensorSet(bytes, 't.bin');
				assert.ok(s.data.every(Number.isFinite));
			} catch (e) {
				assert.ok(e instanceof RunFormatError, String(e));
			}
		}), { seed: SEED, numRuns: RUNS });
	});

	test('parseEventsChunk: any bytes never throw; events + errors never exceed the complete lines', () => {
		fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
			const c = parseEventsChunk(bytes, 'events.jsonl');
			const complete = bytes.filter((b) => b === 0x0a).length;
			assert.ok(c.events.length + c.errors.length <= complete);
			for (const e of c.errors) {
				assert.ok(!CONTROL.test(e.message), e.message);
			}
		}), { seed: SEED, numRuns: RUNS });
	});
});
