// Each fixture's expected (line, column, code) list was written by hand from the fixture text (see
// test/fixtures/datasets/README.md for how each defect and planted clone was placed), not copied from scanner output.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanText } from '../../../src/datasets/scan';
import type { ScanResult } from '../../../src/datasets/scan';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'datasets');

function scanFixture(name: string, options = {}): ScanResult {
	return scanText(fs.readFileSync(path.join(FIXTURES, name), 'utf8'), name, options);
}

function triples(r: ScanResult): [number, number, string][] {
	return r.problems.map((p) => [p.line, p.column, p.code]);
}

describe('dataset fixtures give exactly the expected problems', () => {
	test('structure.csv: every structure defect, not only the first', () => {
		const r = scanFixture('structure.csv');
		assert.deepEqual(triples(r), [
			[4, 1, 'ragged-row'],
			[5, 7, 'non-numeric'],
			[6, 3, 'missing-value'],
			[7, 1, 'missing-label'],
			[8, 3, 'non-finite'],
			[9, 7, 'non-finite'],
			[10, 15, 'ragged-row'],
			[12, 1, 'unknown-label'],
			[16, 11, 'bad-quote'],
		]);
		assert.equal(r.rows, 14);
		assert.equal(r.labelColumn, 'label');
	});

	test('crlf_bom.csv: BOM, CRLF, quoted fields with embedded newlines and doubled quotes', () => {
		const r = scanFixture('crlf_bom.csv');
		assert.deepEqual(triples(r), [
			[5, 5, 'non-numeric'],
			[6, 20, 'missing-label'],
			[7, 12, 'ragged-row'],
		]);
		assert.equal(r.rows, 6);
		assert.equal(r.labelColumn, 'label');
	});

	test('tabs.tsv: tab delimiter from the extension, label column by header name', () => {
		const r = scanFixture('tabs.tsv');
		assert.deepEqual(triples(r), [
			[4, 3, 'missing-value'],
			[5, 1, 'ragged-row'],
		]);
		assert.equal(r.labelColumn, 'class');
	});

	test('records.jsonl: invalid lines, non-objects, bad vectors', () => {
		const r = scanFixture('records.jsonl');
		assert.deepEqual(triples(r), [
			[3, 14, 'ragged-row'],
			[4, 14, 'non-numeric'],
			[5, 1, 'missing-label'],
			[6, 35, 'invalid-json'],
			[7, 1, 'invalid-record'],
			[8, 14, 'non-finite'],
		]);
		assert.equal(r.rows, 7);
	});

	test('unterminated.csv: an unclosed quote is reported where it opens', () => {
		const r = scanFixture('unterminated.csv');
		assert.deepEqual(triples(r), [[3, 3, 'bad-quote']]);
	});

	test('clones.csv: planted dirty-label near duplicate, exact duplicate and near-clone cluster', () => {
		const r = scanFixture('clones.csv');
		assert.deepEqual(r.problems.map((p) => [p.line, p.code, p.related]), [
			[122, 'dirty-label-near-duplicate', [10]],
			[123, 'dirty-label-duplicate', [100]],
			[124, 'near-clone-cluster', [125, 126]],
			[125, 'near-clone-cluster', [124, 126]],
			[126, 'near-clone-cluster', [124, 125]],
		]);
		assert.ok(r.problems.every((p) => p.severity === 'warning' && p.evidence.length > 0));
	});

	test('clones.csv with --structure-only has no findings', () => {
		assert.deepEqual(scanFixture('clones.csv', { structureOnly: true }).problems, []);
	});

	test('clones.csv with the label column given by index finds the same rows', () => {
		const r = scanFixture('clones.csv', { labelColumn: '0' });
		assert.deepEqual(r.problems.map((p) => p.line), [122, 123, 124, 125, 126]);
	});
});
