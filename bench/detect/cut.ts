/**
 * The suspect cut of blind mode, chosen on the detection benchmark's DEV split and then reported, fixed, on its
 * held-out split (docs/metrics.md §4, docs/detection.md §5).
 *
 * The row score does not depend on the cut (its scale floors are set against the reference z
 * {@link ROW_SCORE_REFERENCE}), so each kept run's `blind/row-scores.csv` can be thresholded at any cut without
 * analysing the run again. Suspects exist only when the run's blind test alarmed (the product's gate).
 *
 * The rule, written down before the held-out split was opened for this purpose:
 *   among the cuts {@link CANDIDATE_CUTS}, take the LOWEST whose pooled suspect precision over the dev runs where the
 *   blind test alarmed is at least {@link PRECISION_FLOOR} (a lower cut only adds suspects, so this is the cut of
 *   highest recall that keeps nine suspects in ten real).
 *
 *     node --import tsx bench/detect/cut.ts --keep=DIR                 # dev: the sweep and the chosen cut
 *     node --import tsx bench/detect/cut.ts --keep=DIR --split=held-out  # held-out: only the fixed cuts (a priori and chosen)
 *
 * `--csv=FILE` writes the per-run, per-cut rows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitOfKey } from './rescore';
import { attackOfKey, readKeptBlind } from './calibrate';
import { ROW_SCORE_REFERENCE, SUSPECT_CUT } from '../../src/analyser/analysis/cascade';

/** Cuts tried on dev (robust-z units). */
export const CANDIDATE_CUTS = [2, 2.5, 3, 3.5, 4, 5] as const;
/** Pooled suspect precision the chosen cut must keep on dev. */
export const PRECISION_FLOOR = 0.9;

/** One run at one cut. */
export interface CutRow {
	readonly key: string;
	readonly attack: string;
	readonly status: 'clean' | 'works' | 'failed';
	readonly alarm: boolean;
	readonly cut: number;
	readonly suspects: number;
	readonly truePositives: number;
	/** Poisoned rows among the scored rows (recall is over these; the grid records a sample of the training set). */
	readonly poisonedScored: number;
}

/** A kept run's rows at each cut, or null when it has no blind summary with row scores. */
export function cutRows(keptDir: string, cuts: readonly number[]): CutRow[] | null {
	const kept = readKeptBlind(keptDir);
	if (kept === null) {
		return null;
	}
	const { truth, blind, scores, status } = kept;
	const poisoned = new Set(truth.poisonedRows);
	const poisonedScored = scores.filter((r) => poisoned.has(r.row)).length;
	const alarm = blind.test.state === 'alarm';
	const key = path.basename(keptDir);
	return cuts.map((cut) => {
		const flagged = alarm ? scores.filter((r) => r.score >= cut) : [];
		return { key, attack: attackOfKey(key), status, alarm, cut, suspects: flagged.length, truePositives: flagged.filter((r) => poisoned.has(r.row)).length, poisonedScored };
	});
}

/** Pooled figures of a set of runs at one cut. */
export interface CutSummary {
	readonly cut: number;
	/** Runs whose blind test alarmed. */
	readonly alarmed: number;
	readonly suspects: number;
	/** Σ true suspects / Σ suspects over the alarmed runs (null without a suspect). */
	readonly precision: number | null;
	/** Mean, over alarmed runs whose attack works, of the recall within the scored rows. */
	readonly meanRecallWorking: number | null;
	/** Alarmed working runs with recall ≥ 0.8 at precision ≥ 0.5 (the per-run goal of whole-set scoring). */
	readonly meetGoal: number;
	readonly working: number;
	/** Suspects on alarmed runs with no poisoned row (false-alarm runs). */
	readonly suspectsOnClean: number;
}

export function summarise(rows: readonly CutRow[], cut: number): CutSummary {
	const at = rows.filter((r) => r.cut === cut && r.alarm);
	const suspects = at.reduce((s, r) => s + r.suspects, 0);
	const tp = at.reduce((s, r) => s + r.truePositives, 0);
	const working = at.filter((r) => r.status === 'works' && r.poisonedScored > 0);
	const recalls = working.map((r) => r.truePositives / r.poisonedScored);
	return {
		cut,
		alarmed: at.length,
		suspects,
		precision: suspects > 0 ? tp / suspects : null,
		meanRecallWorking: recalls.length > 0 ? recalls.reduce((a, b) => a + b, 0) / recalls.length : null,
		meetGoal: working.filter((r) => r.truePositives / r.poisonedScored >= 0.8 && r.suspects > 0 && r.truePositives / r.suspects >= 0.5).length,
		working: working.length,
		suspectsOnClean: at.filter((r) => r.status === 'clean').reduce((s, r) => s + r.suspects, 0),
	};
}

/** The rule: the lowest candidate cut whose pooled precision is ≥ the floor; null when none is. */
export function chooseCut(summaries: readonly CutSummary[], floor = PRECISION_FLOOR): number | null {
	const ok = summaries.filter((s) => s.precision !== null && s.precision >= floor).map((s) => s.cut);
	return ok.length === 0 ? null : Math.min(...ok);
}

const pct = (v: number | null): string => (v === null ? '–' : `${(100 * v).toFixed(1)} %`);

function main(argv: readonly string[]): number {
	const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
	const keep = opt('keep');
	if (keep === undefined) {
		console.error('cut: --keep=DIR (the folder bench:detect --keep=DIR filled) is required');
		return 2;
	}
	const split = opt('split') ?? 'dev';
	if (split !== 'dev' && split !== 'held-out') {
		console.error(`cut: --split must be dev or held-out, got '${split}'`);
		return 2;
	}
	// Held-out: only the fixed cuts, never a sweep.
	const cuts = split === 'dev' ? [...CANDIDATE_CUTS] : [...new Set([ROW_SCORE_REFERENCE, SUSPECT_CUT])].sort((a, b) => a - b);
	const keys = fs.readdirSync(keep).filter((k) => splitOfKey(k) === split).sort();
	const rows = keys.flatMap((k) => cutRows(path.join(keep, k), cuts) ?? []);
	const runs = new Set(rows.map((r) => r.key)).size;
	console.log(`cut: ${runs} ${split} runs with row scores (${keys.length - runs} without)`);
	console.log('| cut | alarmed runs | suspects | pooled precision | mean recall (alarmed working runs) | working runs with recall ≥ 0.8 at precision ≥ 0.5 | suspects on alarmed clean runs |');
	console.log('|---|---|---|---|---|---|---|');
	const summaries = cuts.map((c) => summarise(rows, c));
	for (const s of summaries) {
		console.log(`| ${s.cut} | ${s.alarmed} | ${s.suspects} | ${pct(s.precision)} | ${pct(s.meanRecallWorking)} | ${s.meetGoal}/${s.working} | ${s.suspectsOnClean} |`);
	}
	if (split === 'dev') {
		const chosen = chooseCut(summaries);
		console.log(`rule: the lowest cut with pooled precision ≥ ${PRECISION_FLOOR} → ${chosen ?? 'none'} (the analyser's SUSPECT_CUT when this ran: ${SUSPECT_CUT})`);
	}
	const csv = opt('csv');
	if (csv !== undefined) {
		const cols: (keyof CutRow)[] = ['key', 'attack', 'status', 'alarm', 'cut', 'suspects', 'truePositives', 'poisonedScored'];
		fs.writeFileSync(csv, [cols.join(','), ...rows.map((r) => cols.map((c) => String(r[c])).join(','))].map((l) => `${l}\n`).join(''));
		console.log(`per run and cut → ${csv}`);
	}
	return 0;
}

if (require.main === module) {
	process.exit(main(process.argv.slice(2)));
}
