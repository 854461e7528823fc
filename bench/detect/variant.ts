/**
 * Candidate change B of the detection benchmark's second wave (docs/detection-wave2.md): which rows may be suspects.
 * Evaluated offline on kept runs, like bench/detect/floor.ts, from each `blind/row-scores.csv` (the rows stage 3 tested
 * are the candidate's flip class: exactly those with a drop).
 *
 * Variants of the row score, on an alarmed run with a candidate trigger (otherwise the stored score stands):
 * - `today`: the stored score, max(curvature z, direction z);
 * - `flip-class`: rows outside the candidate's flip class score 0;
 * - `direction`: the direction z in the flip class, 0 elsewhere.
 *
 * The rule, written down in docs/detection-wave2.md before this evaluation: the variant of highest pooled dev precision
 * at the cut whose mean recall over alarmed working runs is within {@link RECALL_SLACK} of today's, in each group (grid,
 * whole-set).
 *
 *     node --import tsx bench/detect/variant.ts --keep=DIR[,DIR] --whole=DIR[,DIR] [--csv=FILE]
 */
import * as fs from 'node:fs';
import { pct, pooled, readKeptRuns, type FloorRow, type KeptRun, type StageRow } from './floor';
import { SUSPECT_CUT } from '../../src/analyser/analysis/cascade';

export const VARIANTS = ['today', 'flip-class', 'direction'] as const;
export type Variant = (typeof VARIANTS)[number];
/** Mean recall may fall at most this much against today's. */
export const RECALL_SLACK = 0.02;

/** Every row's score under `variant`. */
export function variantScores(rows: readonly StageRow[], variant: Variant, alarm: boolean): Float64Array {
	const out = Float64Array.from(rows, (r) => r.score);
	if (variant === 'today' || !alarm || !rows.some((r) => Number.isFinite(r.curvature))) {
		return out;
	}
	rows.forEach((r, i) => {
		const inFlipClass = Number.isFinite(r.drop);
		out[i] = !inFlipClass ? 0 : variant === 'flip-class' ? r.score : Number.isFinite(r.direction) ? r.direction : 0;
	});
	return out;
}

/** One run under one variant. */
export type VariantRow = Omit<FloorRow, 'floor'> & { readonly variant: Variant };

/** A run's suspects under each variant. */
export function variantRows(run: KeptRun): VariantRow[] {
	const poisonedScored = run.rows.filter((r) => run.poisoned.has(r.row)).length;
	return VARIANTS.map((variant) => {
		const score = variantScores(run.rows, variant, run.alarm);
		const flagged = run.alarm ? run.rows.filter((_, i) => score[i] >= SUSPECT_CUT) : [];
		return { group: run.group, key: run.key, status: run.status, alarm: run.alarm, variant, suspects: flagged.length, truePositives: flagged.filter((r) => run.poisoned.has(r.row)).length, poisonedScored };
	});
}

/** The rule: the variant of highest pooled precision whose mean recall stays within the slack of today's in every group. */
export function chooseVariant(rows: readonly VariantRow[]): Variant {
	const groups = (['grid', 'whole-set'] as const).filter((g) => rows.some((r) => r.group === g));
	const stat = (g: string, v: Variant) => pooled(rows.filter((r) => r.group === g && r.variant === v));
	const eligible = VARIANTS.filter((v) => groups.every((g) => (stat(g, v).meanRecall ?? 0) >= (stat(g, 'today').meanRecall ?? 0) - RECALL_SLACK));
	// Highest precision in the worst group; ties keep the earlier (less changed) variant.
	const worst = (v: Variant): number => Math.min(...groups.map((g) => stat(g, v).precision ?? 1));
	return eligible.reduce((best, v) => (worst(v) > worst(best) ? v : best), 'today' as Variant);
}

if (require.main === module) {
	const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
	const list = (name: string): string[] => (arg(name) ?? '').split(',').filter((d) => d.length > 0);
	const runs = readKeptRuns(list('keep'), list('whole'), 'dev');
	const rows = runs.flatMap(variantRows);
	const out = [`variant: ${runs.filter((r) => r.group === 'grid').length} dev grid runs, ${runs.filter((r) => r.group === 'whole-set').length} whole-set runs`, '', '| group | variant | alarmed runs | suspects | pooled precision | mean recall (alarmed working runs) | suspects on alarmed clean runs |', '|---|---|---|---|---|---|---|'];
	for (const g of ['grid', 'whole-set'] as const) {
		for (const v of VARIANTS) {
			const p = pooled(rows.filter((r) => r.group === g && r.variant === v));
			out.push(`| ${g} | ${v} | ${p.alarmed} | ${p.suspects} | ${pct(p.precision)} | ${pct(p.meanRecall)} | ${p.onClean} |`);
		}
	}
	out.push('', `rule: highest pooled precision with mean recall within ${100 * RECALL_SLACK} points of today's in each group → ${chooseVariant(rows)}`);
	process.stdout.write(`${out.join('\n')}\n`);
	const csv = arg('csv');
	if (csv !== undefined) {
		fs.writeFileSync(csv, `group,key,status,alarm,variant,suspects,true_positives,poisoned_scored\n${rows.map((r) => [r.group, r.key, r.status, r.alarm ? 1 : 0, r.variant, r.suspects, r.truePositives, r.poisonedScored].join(',')).join('\n')}\n`);
	}
}
