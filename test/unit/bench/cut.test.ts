/**
 * bench/detect/cut.ts: suspects at a cut exist only on an alarm, pooled precision and recall are counted over the
 * alarmed runs, and the rule takes the lowest cut that keeps the precision floor. Kept folders are built here from
 * scratch (truth.json, analysis.jsonl, blind/row-scores.csv) with counts worked out by hand.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CANDIDATE_CUTS, chooseCut, cutRows, summarise } from '../../../bench/detect/cut';
import { chooseBlends, readStudyFolder } from '../../../bench/blendsRule';
import { LARGE_SCAN_BLENDS, SUSPECT_CUT } from '../../../src/analyser/analysis/cascade';

function keptRun(root: string, key: string, state: string, scores: [number, number][], poisoned: number[], excess: number): string {
	const kept = path.join(root, key);
	const blindDir = path.join(kept, 'blind', 'run');
	fs.mkdirSync(path.join(blindDir, 'blind'), { recursive: true });
	fs.writeFileSync(path.join(kept, 'truth.json'), JSON.stringify({ blindDir, poisonedRows: poisoned, timeline: [{ epoch: 1, excessAsr: excess }] }));
	fs.writeFileSync(path.join(blindDir, 'analysis.jsonl'), `${JSON.stringify({ type: 'summary', blind: { test: { state }, rowScoresFile: 'blind/row-scores.csv' } })}\n`);
	const csv = ['# poison-lens row suspicion; step 1; cut 2; rows 4 of 4', 'row,label,score,suspect', ...scores.map(([row, s]) => `${row},0,${s},0`)];
	fs.writeFileSync(path.join(blindDir, 'blind', 'row-scores.csv'), `${csv.join('\n')}\n`);
	return kept;
}

describe('bench:detect suspect cut', () => {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-cut-'));
	// Working attack, alarmed: poisons 10 and 11 score 9 and 2.2; clean rows 12 and 13 score 2.6 and 0.
	const works = keptRun(root, 'demo-cnn_mnist_badnets-t0.01_adam_long_s0', 'alarm', [[10, 9], [11, 2.2], [12, 2.6], [13, 0]], [10, 11], 0.9);
	// Same scores, quiet test: no suspects at any cut.
	const quiet = keptRun(root, 'demo-cnn_mnist_badnets-t0.01_adam_long_s1', 'quiet', [[10, 9], [11, 2.2], [12, 2.6], [13, 0]], [10, 11], 0.9);

	test('suspects only on an alarm, counted at each cut', () => {
		const [at2, at3] = cutRows(works, [2, 3]) ?? [];
		assert.deepEqual([at2.suspects, at2.truePositives, at2.poisonedScored, at2.status], [3, 2, 2, 'works']);
		assert.deepEqual([at3.suspects, at3.truePositives], [1, 1]);
		const [q] = cutRows(quiet, [2]) ?? [];
		assert.deepEqual([q.alarm, q.suspects, q.truePositives, q.poisonedScored], [false, 0, 0, 2]);
	});

	test('pooled precision, mean recall and the rule', () => {
		const rows = [...(cutRows(works, [2, 3]) ?? []), ...(cutRows(quiet, [2, 3]) ?? [])];
		const s2 = summarise(rows, 2);
		const s3 = summarise(rows, 3);
		assert.equal(s2.alarmed, 1);
		assert.equal(s2.precision, 2 / 3);
		assert.equal(s2.meanRecallWorking, 1);
		assert.equal(s2.meetGoal, 1);
		assert.equal(s3.precision, 1);
		assert.equal(s3.meanRecallWorking, 0.5);
		assert.equal(s3.meetGoal, 0);
		assert.equal(chooseCut([s2, s3], 0.9), 3, 'cut 2 is only 67 % precise');
		assert.equal(chooseCut([s2, s3], 0.6), 2, 'the lowest cut that keeps the floor');
		assert.equal(chooseCut([s2, s3], 1.1), null);
	});
});

describe('the shipped constants follow their committed dev evidence', () => {
	test('SUSPECT_CUT is what the cut rule picks on docs/detection/dev-cut.csv', () => {
		const text = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'detection', 'dev-cut.csv'), 'utf8');
		const [head, ...lines] = text.trim().split('\n');
		assert.equal(head, 'key,attack,status,alarm,cut,suspects,truePositives,poisonedScored');
		const rows = lines.map((l) => {
			const [key, attack, status, alarm, cut, suspects, tp, scored] = l.split(',');
			return { key, attack, status: status as 'clean' | 'works' | 'failed', alarm: alarm === 'true', cut: Number(cut), suspects: Number(suspects), truePositives: Number(tp), poisonedScored: Number(scored) };
		});
		const cuts = [...new Set(rows.map((r) => r.cut))].sort((a, b) => a - b);
		assert.deepEqual(cuts, [...CANDIDATE_CUTS].sort((a, b) => a - b));
		assert.equal(chooseCut(cuts.map((c) => summarise(rows, c))), SUSPECT_CUT);
	});

	test('LARGE_SCAN_BLENDS is what the blends rule picks on docs/blind-scale-blends/D1-D4', () => {
		const dirs = ['D1', 'D2', 'D3', 'D4'].map((d) => path.join(__dirname, '..', '..', '..', 'docs', 'blind-scale-blends', d));
		assert.equal(chooseBlends(dirs.flatMap(readStudyFolder)).chosen, LARGE_SCAN_BLENDS);
	});
});
