/**
 * bench/detect/floor.ts: a kept row-scores file is re-scored at another stage-3 floor exactly as the analyser's
 * combineStages would score it (checked against combineStages itself), the gate and the no-candidate case keep the
 * stored scores, a file the recomputation cannot reproduce is refused, and the rule takes the lowest floor that keeps
 * the precision floor in every group.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseFloor, floorRows, parseStageRows, pooled, rescoreWithFloor, type FloorRow } from '../../../bench/detect/floor';
import { combineStages, DIRECTION_DROP_AT_CUT } from '../../../src/analyser/analysis/cascade';

/** A row-scores file as writeRowScores lays it out (only the columns the tool reads are filled in). */
function file(state: string, rows: [row: number, label: number, score: number, cheap: number, curvature: number | null, drop: number | null][]): string {
	const cell = (v: number | null): string => (v === null ? '' : String(v));
	return [
		`# poison-lens row suspicion; step 9; cut 2; rows ${rows.length} of ${rows.length}; blind test ${state}; suspect = score >= cut when the blind test alarms`,
		'row,label,score,suspect,strip,spectral,cheap,curvature,direction,drop,cos2',
		...rows.map(([row, label, score, cheap, curv, drop]) => `${row},${label},${score},0,0,0,${cheap},${cell(curv)},,${cell(drop)},`),
	].join('\n');
}

describe('bench: stage 3 floor, re-scored offline', () => {
	// Flip class 0: five rows, drops 0, 0, 0.001, 0.1, 0.3 nats; rows 5 and 6 of label 1 were Hessian-scanned.
	const cheap = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
	const drop = Float64Array.from([0, 0, 0.001, 0.1, 0.3, NaN, NaN]);
	const cos2 = Float64Array.from([0.05, 0.9]);
	const scanned = [5, 6];
	const control = [5];

	test('at any floor, the recomputation is what combineStages gives', () => {
		const today = combineStages(cheap, scanned, cos2, control, drop);
		const rows = parseStageRows(
			file(
				'alarm',
				Array.from(today.score, (s, i) => [i, i < 5 ? 0 : 1, s, cheap[i], Number.isFinite(today.curvature[i]) ? today.curvature[i] : null, Number.isFinite(drop[i]) ? drop[i] : null]),
			),
		);
		assert.equal(rows.state, 'alarm');
		const again = rescoreWithFloor(rows.rows, DIRECTION_DROP_AT_CUT, true);
		today.score.forEach((s, i) => assert.ok(Math.abs(again[i] - s) < 1e-12, `row ${i}`));
		// A lower floor: the 0.1-nat row now clears the cut (0.1 / (0.05 / 3.5) = 7); combineStages agrees at that floor.
		const low = rescoreWithFloor(rows.rows, 0.05, true);
		assert.ok(low[3] > 2 && again[3] < 2);
		assert.ok(Math.abs(low[3] - (0.1 - 0.001) / (0.05 / 3.5)) < 1e-9);
	});

	test('without an alarm or without a candidate the stored (stage-1) scores stand', () => {
		const quiet = parseStageRows(file('quiet', [[0, 0, 0.1, 0.1, 1, 0.3], [1, 0, 0.2, 0.2, null, 0]]));
		assert.deepEqual(Array.from(rescoreWithFloor(quiet.rows, 0.05, false)), [0.1, 0.2]);
		const none = parseStageRows(file('alarm', [[0, 0, 0.1, 0.1, null, null], [1, 0, 0.2, 0.2, null, null]]));
		assert.deepEqual(Array.from(rescoreWithFloor(none.rows, 0.05, true)), [0.1, 0.2]);
	});

	test('suspects at the cut per floor, a file it cannot reproduce is refused', () => {
		const text = file('alarm', [
			[0, 0, 0, 0, null, 0],
			[1, 0, 0, 0, null, 0],
			[2, 0, 0, 0, null, 0],
			[3, 0, 0.099 / (Math.LN2 / 3.5), 0, null, 0.099],
			[4, 0, 0.693 / (Math.LN2 / 3.5), 0, 0.2, 0.693],
		]);
		const run = { group: 'grid' as const, key: 'k', status: 'works' as const, alarm: true, rows: parseStageRows(text).rows, poisoned: new Set([3, 4]) };
		const [today, low] = floorRows(run, [DIRECTION_DROP_AT_CUT, 0.1]);
		assert.deepEqual([today.suspects, today.truePositives, low.suspects, low.truePositives, low.poisonedScored], [1, 1, 2, 2, 2]);
		const wrong = { ...run, rows: run.rows.map((r) => (r.row === 4 ? { ...r, score: 9 } : r)) };
		assert.throws(() => floorRows(wrong, [0.1]), /row 4 scores .* in its file/);
	});

	test('pooled precision per group, and the rule', () => {
		const r = (group: FloorRow['group'], floor: number, suspects: number, tp: number, status: FloorRow['status'] = 'works'): FloorRow => ({ group, key: `${group}${floor}`, status, alarm: true, floor, suspects, truePositives: tp, poisonedScored: 10 });
		const rows = [r('grid', 0.693, 10, 10), r('grid', 0.1, 12, 11), r('grid', 0.05, 20, 12), r('whole-set', 0.693, 100, 100), r('whole-set', 0.1, 110, 108), r('whole-set', 0.05, 120, 115)];
		assert.deepEqual(pooled(rows.filter((x) => x.group === 'grid' && x.floor === 0.1)), { alarmed: 1, suspects: 12, precision: 11 / 12, meanRecall: 1.1, onClean: 0 });
		// 0.05 loses precision on the grid (12 of 20), so 0.1 is the lowest that keeps 0.9 in both groups.
		assert.equal(chooseFloor(rows, [0.693, 0.1, 0.05]), 0.1);
		assert.equal(chooseFloor([r('grid', 0.05, 10, 1)], [0.05]), DIRECTION_DROP_AT_CUT);
	});
});
