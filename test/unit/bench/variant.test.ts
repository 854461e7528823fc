/**
 * bench/detect/variant.ts: the score variants of candidate change B on a hand-made row-scores file (flip class = the
 * rows stage 3 tested), the quiet and no-candidate cases, and the rule (precision subject to the recall slack).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseVariant, variantRows, variantScores, type Variant, type VariantRow } from '../../../bench/detect/variant';
import { parseStageRows } from '../../../bench/detect/floor';

const text = [
	'# poison-lens row suspicion; step 9; cut 2; rows 4 of 4; blind test alarm; suspect = score >= cut when the blind test alarms',
	'row,label,score,suspect,strip,spectral,cheap,curvature,direction,drop,cos2',
	// Flip class 0: a poison found by stage 3, a clean row with a high curvature z only; label 1: two curvature-only rows.
	'10,0,6,1,0,0,0.1,1,6,1.2,0.5',
	'11,0,3,1,0,0,0.2,3,0.1,0.02,0.4',
	'12,1,4,1,0,0,0.3,4,,,0.6',
	'13,1,0.5,0,0,0,0.4,0.5,,,0.1',
].join('\n');

describe('bench: which rows may be suspects (wave 2, change B)', () => {
	const { state, rows } = parseStageRows(text);

	test('the three variants', () => {
		assert.equal(state, 'alarm');
		assert.deepEqual(Array.from(variantScores(rows, 'today', true)), [6, 3, 4, 0.5]);
		assert.deepEqual(Array.from(variantScores(rows, 'flip-class', true)), [6, 3, 0, 0]);
		assert.deepEqual(Array.from(variantScores(rows, 'direction', true)), [6, 0.1, 0, 0]);
		assert.deepEqual(Array.from(variantScores(rows, 'direction', false)), [6, 3, 4, 0.5], 'no alarm: stored scores');
		const none = rows.map((r) => ({ ...r, curvature: NaN, drop: NaN, direction: NaN }));
		assert.deepEqual(Array.from(variantScores(none, 'flip-class', true)), [6, 3, 4, 0.5], 'no candidate: stored scores');
	});

	test('suspects per variant against the truth', () => {
		const out = variantRows({ group: 'grid', key: 'k', status: 'works', alarm: true, rows, poisoned: new Set([10]) });
		assert.deepEqual(
			out.map((r) => [r.variant, r.suspects, r.truePositives]),
			[
				['today', 3, 1],
				['flip-class', 2, 1],
				['direction', 1, 1],
			],
		);
	});

	test('the rule: best precision among the variants that keep recall within the slack', () => {
		const r = (group: VariantRow['group'], variant: Variant, suspects: number, tp: number): VariantRow => ({ group, key: `${group}-${variant}`, status: 'works', alarm: true, variant, suspects, truePositives: tp, poisonedScored: 10 });
		// direction is the most precise but loses 3 of 10 poisons; flip-class keeps recall and beats today.
		const rows2 = [r('grid', 'today', 20, 10), r('grid', 'flip-class', 12, 10), r('grid', 'direction', 7, 7), r('whole-set', 'today', 10, 10), r('whole-set', 'flip-class', 10, 10), r('whole-set', 'direction', 9, 9)];
		assert.equal(chooseVariant(rows2), 'flip-class');
		// When no change helps, today's stays.
		assert.equal(chooseVariant([r('grid', 'today', 10, 10), r('grid', 'flip-class', 10, 10), r('grid', 'direction', 5, 5)]), 'today');
	});
});
