import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TabularError, parseTabular, readTabular } from '../../../src/datasets/tabularReader';

describe('parseTabular: CSV', () => {
	test('features and integer labels with a header', () => {
		const t = parseTabular('a,b,label\n1,2,0\n3.5,-4,2\n', 'x.csv', { labelColumn: 'label' });
		assert.equal(t.count, 2);
		assert.deepEqual(t.featureNames, ['a', 'b']);
		assert.deepEqual(Array.from(t.features), [1, 2, 3.5, -4]);
		assert.deepEqual(Array.from(t.labels), [0, 2]);
		assert.deepEqual(t.classes, ['0', '1', '2']);
		assert.deepEqual(Array.from(t.lines), [2, 3]);
	});
	test('string labels are sorted into ids; label column by index; selected features', () => {
		const t = parseTabular('cat,1,9,x\ndog,2,8,y\ncat,3,7,z\n', 'x.csv', { labelColumn: 0, header: false, featureColumns: [2, 1] });
		assert.deepEqual(t.classes, ['cat', 'dog']);
		assert.deepEqual(Array.from(t.labels), [0, 1, 0]);
		assert.deepEqual(Array.from(t.features), [9, 1, 8, 2, 7, 3]);
	});
	test('line numbers survive blank lines and quoted newlines', () => {
		const text = 'a,note,label\n1,"two\nlines",0\n\n2,plain,x\n';
		assert.throws(
			() => parseTabular(text, 'd.csv', { labelColumn: 'label', featureColumns: ['a'], classes: ['0'] }),
			(e: unknown) => e instanceof TabularError && e.line === 5 && /label "x"/.test(e.message),
		);
	});
	test('a non-numeric cell names file, line and column', () => {
		assert.throws(() => parseTabular('a,label\n1,0\nfoo,1\n', 'data/t.csv', { labelColumn: 'label' }), /^TabularError: data\/t\.csv:3: column "a": "foo" is not a number/);
	});
	test('a short row and an unknown column are errors', () => {
		assert.throws(() => parseTabular('a,b,label\n1,2\n', 't.csv', { labelColumn: 'label' }), /t\.csv:2: 2 columns, expected 3/);
		assert.throws(() => parseTabular('a,label\n1,0\n', 't.csv', { labelColumn: 'y' }), /no column "y"/);
	});
	test('TSV by extension', () => {
		const t = parseTabular('a\tlabel\n1.5\t1\n', 't.tsv', { labelColumn: 'label' });
		assert.deepEqual(Array.from(t.features), [1.5]);
	});
});

describe('parseTabular: JSONL', () => {
	test('array-valued features are flattened', () => {
		const t = parseTabular('{"pixels":[0,0.5],"w":2,"y":1}\n\n{"pixels":[1,1],"w":3,"y":0}\n', 'd.jsonl', { labelColumn: 'y' });
		assert.deepEqual(t.featureNames, ['pixels[0]', 'pixels[1]', 'w']);
		assert.deepEqual(Array.from(t.features), [0, 0.5, 2, 1, 1, 3]);
		assert.deepEqual(Array.from(t.lines), [1, 3]);
	});
	test('bad JSON and missing keys name the line', () => {
		assert.throws(() => parseTabular('{"a":1,"y":0}\n{"a":\n', 'd.jsonl', { labelColumn: 'y' }), /d\.jsonl:2: not valid JSON/);
		assert.throws(() => parseTabular('{"a":1,"y":0}\n{"y":1}\n', 'd.jsonl', { labelColumn: 'y' }), /d\.jsonl:2: missing key "a"/);
		assert.throws(() => parseTabular('{"a":[1,2],"y":0}\n{"a":[1],"y":1}\n', 'd.jsonl', { labelColumn: 'y' }), /d\.jsonl:2: column "a": \[1\] is not an array of 2 numbers/);
	});
});

test('readTabular reads a file and names a missing one', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-tab-'));
	const file = path.join(dir, 'd.csv');
	fs.writeFileSync(file, 'x,label\r\n1,1\r\n2,0\r\n');
	assert.deepEqual(Array.from(readTabular(file, { labelColumn: 'label' }).labels), [1, 0]);
	assert.throws(() => readTabular(path.join(dir, 'none.csv'), { labelColumn: 'label' }), /none\.csv: cannot read/);
});
