import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	ResultStore,
	aggregate,
	aggregateColumns,
	isMonotone,
	logSpace,
	markdownTable,
	parseCsv,
	replaceBlock,
	rowKey,
	sig,
	spread,
	toCsv,
} from '../../../bench/reproduce/table';

describe('reproduce table: CSV round trip', () => {
	test('numbers, strings with commas and quotes, booleans, null and NaN survive', () => {
		const rows = [
			{ a: 1.2345678901234567, b: 'x, "y"', c: true, d: null },
			{ a: Number.NaN, b: 'plain', c: false, d: -1e-300 },
		];
		const text = toCsv(['a', 'b', 'c', 'd'], rows);
		const back = parseCsv(text, 'mem.csv');
		assert.deepEqual(back.columns, ['a', 'b', 'c', 'd']);
		assert.equal(back.rows[0].a, 1.2345678901234567);
		assert.equal(back.rows[0].b, 'x, "y"');
		assert.equal(back.rows[0].c, true);
		assert.equal(back.rows[0].d, null);
		assert.ok(Number.isNaN(back.rows[1].a));
		assert.equal(back.rows[1].d, -1e-300);
	});

	test('a row with a missing or an extra column is refused, naming it', () => {
		assert.throws(() => toCsv(['a', 'b'], [{ a: 1 }]), /row 0 has no column 'b'/);
		assert.throws(() => toCsv(['a'], [{ a: 1, z: 2 }]), /row 0 has column 'z'/);
	});

	test('a ragged line is reported with its file and line number', () => {
		assert.throws(() => parseCsv('a,b\n1,2\n3\n', 'runs.csv'), /runs\.csv:3: 1 fields, the header has 2/);
	});
});

describe('reproduce table: resuming', () => {
	test('the store finds finished points by key and ignores non-key columns', () => {
		const store = new ResultStore(['attack', 'theta', 'seed'], [{ attack: 'cross', theta: 0.01, seed: 0, asr: 0.9 }]);
		assert.ok(store.has({ attack: 'cross', theta: 0.01, seed: 0 }));
		assert.ok(!store.has({ attack: 'cross', theta: 0.01, seed: 1 }));
		assert.ok(!store.has({ attack: 'warp', theta: 0.01, seed: 0 }));
		store.add({ attack: 'cross', theta: 0.01, seed: 0, asr: 0.5 });
		assert.equal(store.size, 1);
		assert.equal(store.get({ attack: 'cross', theta: 0.01, seed: 0 })?.asr, 0.5);
	});

	test('keys read back from CSV equal keys of fresh points (0.001 vs 1e-3, true vs "true")', () => {
		const rows = parseCsv(toCsv(['theta', 'augment', 'seed'], [{ theta: 0.001, augment: true, seed: 2 }]), 'k.csv').rows;
		assert.equal(rowKey(rows[0], ['theta', 'augment', 'seed']), rowKey({ theta: 1e-3, augment: true, seed: 2 }, ['theta', 'augment', 'seed']));
	});
});

describe('reproduce table: mean ± spread', () => {
	test('sample standard deviation, min and max; NaN and null skipped', () => {
		const s = spread([1, 2, 3, 4, null, Number.NaN]);
		assert.equal(s.n, 4);
		assert.equal(s.mean, 2.5);
		// Σ(x − 2.5)² = 5, over n − 1 = 3.
		assert.ok(Math.abs(s.sd - Math.sqrt(5 / 3)) < 1e-15);
		assert.equal(s.min, 1);
		assert.equal(s.max, 4);
		assert.equal(spread([7]).sd, 0);
		assert.equal(spread([]).n, 0);
	});

	test('aggregate groups by columns, in first-seen order, with the documented column names', () => {
		const rows = [
			{ attack: 'cross', seed: 0, asr: 0.2 },
			{ attack: 'warp', seed: 0, asr: 0.1 },
			{ attack: 'cross', seed: 1, asr: 0.4 },
		];
		const agg = aggregate(rows, ['attack'], ['asr']);
		assert.deepEqual(agg.map((r) => r.attack), ['cross', 'warp']);
		assert.equal(agg[0].seeds, 2);
		assert.ok(Math.abs((agg[0].asr_mean as number) - 0.3) < 1e-15);
		assert.equal(agg[0].asr_min, 0.2);
		assert.equal(agg[0].asr_max, 0.4);
		assert.deepEqual(Object.keys(agg[0]), aggregateColumns(['attack'], ['asr']));
	});
});

describe('reproduce table: Markdown helpers', () => {
	test('replaceBlock swaps only the marked region and reports missing markers', () => {
		const doc = 'intro\n<!-- reproduce:quick-theory:begin -->\nold\n<!-- reproduce:quick-theory:end -->\noutro\n';
		const r = replaceBlock(doc, 'quick-theory', 'new table');
		assert.ok(r.found);
		assert.equal(r.text, 'intro\n<!-- reproduce:quick-theory:begin -->\nnew table\n<!-- reproduce:quick-theory:end -->\noutro\n');
		assert.equal(replaceBlock(doc, 'full-theory', 'x').found, false);
	});

	test('sig, markdownTable, logSpace, isMonotone', () => {
		assert.equal(sig(0.123456), '0.123');
		assert.equal(sig(2.00347), '2.00');
		assert.equal(sig(80, 4), '80');
		assert.equal(sig(1.5e-6, 2), '1.5e-6');
		assert.equal(sig(Number.NaN), '–');
		assert.equal(markdownTable([{ a: 1 }], [['A', (r) => String(r.a)]]), '| A |\n| --- |\n| 1 |');
		const l = logSpace(-2, 2, 5);
		assert.deepEqual(l.map((v) => Number(v.toPrecision(12))), [0.01, 0.1, 1, 10, 100]);
		assert.ok(isMonotone([3, 2, 2], 'decreasing'));
		assert.ok(!isMonotone([3, 2, 2], 'decreasing', true));
		assert.ok(isMonotone([1, 2, 5], 'increasing', true));
		assert.ok(!isMonotone([1, 0.9, 5], 'increasing'));
	});
});
