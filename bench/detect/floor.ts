/**
 * Stage 3's scale floor in blind mode's row score, a candidate change of the detection benchmark's second wave
 * (docs/detection-wave2.md, item 4), evaluated offline on kept runs.
 *
 * A row of the candidate's flip class scores (drop − median) / max(robust scale, floor / ROW_SCORE_REFERENCE), where
 * `drop` is how far log p(flip class) falls when the candidate trigger is added or removed and `floor` is the drop in
 * nats that scores the reference z (today ln 2, DIRECTION_DROP_AT_CUT). Every kept `blind/row-scores.csv` stores the raw
 * drop and the curvature z, so the score can be recomputed at any floor without analysing the run again; at today's
 * floor the recomputation must give back the stored score (checked per row).
 *
 * The rule, written down in docs/detection-wave2.md before any second-wave result existed:
 *   among the floors {@link CANDIDATE_FLOORS}, take the LOWEST whose pooled suspect precision at the cut, over the dev
 *   runs where the blind test alarmed, is at least {@link PRECISION_FLOOR} in each group separately: the grid's dev runs
 *   (`--keep`, first wave and second) and the whole-set dev runs (`--whole`, bench:blind-scale out folders).
 *
 *     node --import tsx bench/detect/floor.ts --keep=DIR[,DIR] --whole=DIR[,DIR]                       # dev: the sweep, the choice
 *     node --import tsx bench/detect/floor.ts --keep=DIR --whole=DIR --split=held-out --floor=F        # held-out: today's floor and F only
 *
 * `--csv=FILE` writes the per-run, per-floor rows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitOfKey } from './rescore';
import { readKeptBlind } from './calibrate';
import { WORKS_AT } from './metrics';
import { DIRECTION_DROP_AT_CUT, ROW_SCORE_REFERENCE, SUSPECT_CUT, robustCentre } from '../../src/analyser/analysis/cascade';

/** Floors tried on dev: the drop, in nats, that scores the reference z (ln 2 is today's). */
export const CANDIDATE_FLOORS = [DIRECTION_DROP_AT_CUT, 0.4, 0.2, 0.1, 0.05] as const;
/** Pooled suspect precision the chosen floor must keep in each dev group. */
export const PRECISION_FLOOR = 0.9;

/** The stage columns of one row of `blind/row-scores.csv`. */
export interface StageRow {
	readonly row: number;
	readonly label: number;
	readonly score: number;
	readonly cheap: number;
	readonly curvature: number;
	/** Stage 3's z (NaN outside the candidate's flip class). */
	readonly direction: number;
	readonly drop: number;
}

/** Parses a row-scores file with its stage columns (empty cells are NaN); the blind test's state from its header. */
export function parseStageRows(text: string): { state: string | null; rows: StageRow[] } {
	const lines = text.split('\n').filter((l) => l.length > 0);
	const header = lines[0]?.startsWith('#') ? lines.shift() ?? '' : '';
	const state = /blind test ([a-z-]+);/.exec(header)?.[1] ?? null;
	const head = (lines.shift() ?? '').split(',');
	const col = (name: string): number => {
		const i = head.indexOf(name);
		if (i < 0) {
			throw new Error(`row scores: no column "${name}" in "${head.join(',')}"`);
		}
		return i;
	};
	const [iRow, iLabel, iScore, iCheap, iCurv, iDir, iDrop] = ['row', 'label', 'score', 'cheap', 'curvature', 'direction', 'drop'].map(col);
	const num = (v: string | undefined): number => (v === undefined || v === '' ? NaN : Number(v));
	return {
		state,
		rows: lines.map((l) => {
			const c = l.split(',');
			return { row: Number(c[iRow]), label: Number(c[iLabel]), score: num(c[iScore]), cheap: num(c[iCheap]), curvature: num(c[iCurv]), direction: num(c[iDir]), drop: num(c[iDrop]) };
		}),
	};
}

/**
 * Every row's score with stage 3's floor at `floorNats`, as the analyser computes it (combineStages, then gateSuspects):
 * without an alarm, or without a candidate trigger (no curvature anywhere), the stored score stands (the stage-1 score);
 * otherwise max(curvature z, direction z), 0 where neither exists.
 */
export function rescoreWithFloor(rows: readonly StageRow[], floorNats: number, alarm: boolean): Float64Array {
	const out = Float64Array.from(rows, (r) => r.score);
	if (!alarm || !rows.some((r) => Number.isFinite(r.curvature))) {
		return out;
	}
	const drops = rows.filter((r) => Number.isFinite(r.drop)).map((r) => r.drop);
	const { median, scale } = robustCentre(drops);
	const s = Math.max(scale, floorNats / ROW_SCORE_REFERENCE);
	rows.forEach((r, i) => {
		const direction = Number.isFinite(r.drop) ? (r.drop - median) / s : -Infinity;
		const curvature = Number.isFinite(r.curvature) ? r.curvature : -Infinity;
		const best = Math.max(direction, curvature);
		out[i] = Number.isFinite(best) ? best : 0;
	});
	return out;
}

/** One run at one floor. */
export interface FloorRow {
	readonly group: 'grid' | 'whole-set';
	readonly key: string;
	readonly status: 'clean' | 'works' | 'failed';
	readonly alarm: boolean;
	readonly floor: number;
	readonly suspects: number;
	readonly truePositives: number;
	readonly poisonedScored: number;
}

/** A kept run as the offline studies read it: its group, the attack's status, the blind test's verdict, every row and the truth. */
export interface KeptRun {
	readonly group: FloorRow['group'];
	readonly key: string;
	readonly status: FloorRow['status'];
	readonly alarm: boolean;
	readonly rows: readonly StageRow[];
	readonly poisoned: ReadonlySet<number>;
}

/** What {@link pooled} reads of a run's outcome at one setting. */
export type PooledRow = Pick<FloorRow, 'status' | 'alarm' | 'suspects' | 'truePositives' | 'poisonedScored'>;

/** A run's rows at each floor; throws when today's floor does not give back the stored scores. */
export function floorRows(run: KeptRun, floors: readonly number[]): FloorRow[] {
	const today = rescoreWithFloor(run.rows, DIRECTION_DROP_AT_CUT, run.alarm);
	run.rows.forEach((r, i) => {
		// The file keeps 6 decimals of the drop; the direction z scales them by at most 1 / (ln 2 / 3.5) ≈ 5.
		if (Number.isFinite(r.score) && Math.abs(today[i] - r.score) > 1e-4 * (1 + Math.abs(r.score))) {
			throw new Error(`${run.key}: row ${r.row} scores ${today[i]} when recomputed at today's floor, ${r.score} in its file`);
		}
	});
	const poisonedScored = run.rows.filter((r) => run.poisoned.has(r.row)).length;
	return floors.map((floor) => {
		const score = rescoreWithFloor(run.rows, floor, run.alarm);
		const flagged = run.alarm ? run.rows.filter((_, i) => score[i] >= SUSPECT_CUT) : [];
		return { group: run.group, key: run.key, status: run.status, alarm: run.alarm, floor, suspects: flagged.length, truePositives: flagged.filter((r) => run.poisoned.has(r.row)).length, poisonedScored };
	});
}

/** Pooled figures of one group at one floor. */
export function pooled(rows: readonly PooledRow[]): { alarmed: number; suspects: number; precision: number | null; meanRecall: number | null; onClean: number } {
	const alarmed = rows.filter((r) => r.alarm);
	const suspects = alarmed.reduce((a, r) => a + r.suspects, 0);
	const tp = alarmed.reduce((a, r) => a + r.truePositives, 0);
	const working = alarmed.filter((r) => r.status === 'works' && r.poisonedScored > 0);
	return {
		alarmed: alarmed.length,
		suspects,
		precision: suspects > 0 ? tp / suspects : null,
		meanRecall: working.length > 0 ? working.reduce((a, r) => a + r.truePositives / r.poisonedScored, 0) / working.length : null,
		onClean: alarmed.filter((r) => r.status === 'clean').reduce((a, r) => a + r.suspects, 0),
	};
}

/** The rule: the lowest floor whose pooled precision is at least {@link PRECISION_FLOOR} in every group that has suspects. */
export function chooseFloor(rows: readonly FloorRow[], floors: readonly number[] = CANDIDATE_FLOORS): number {
	const ok = (f: number): boolean =>
		(['grid', 'whole-set'] as const).every((g) => {
			const p = pooled(rows.filter((r) => r.group === g && r.floor === f)).precision;
			return p === null || p >= PRECISION_FLOOR;
		});
	return [...floors].sort((a, b) => a - b).find(ok) ?? DIRECTION_DROP_AT_CUT;
}

/** A kept grid run (bench:detect --keep), or null when it has no row scores. */
function gridRun(keptDir: string): KeptRun | null {
	const kept = readKeptBlind(keptDir);
	if (kept === null) {
		return null;
	}
	const { rows } = parseStageRows(fs.readFileSync(path.join(kept.truth.blindDir, kept.blind.rowScoresFile), 'utf8'));
	return { group: 'grid', key: path.basename(keptDir), status: kept.status, alarm: kept.blind.test.state === 'alarm', rows, poisoned: new Set(kept.truth.poisonedRows) };
}

/** Every architecture's run of a bench:blind-scale out folder (its train.json, truth.json and the run's row scores). */
function wholeSetRuns(dir: string): KeptRun[] {
	return fs
		.readdirSync(dir)
		.filter((f) => f.endsWith('.train.json'))
		.map((f) => {
			const arch = f.slice(0, -'.train.json'.length);
			const t = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { runDir: string; asr: number; p0: number; poisoned: number };
			const truth = JSON.parse(fs.readFileSync(path.join(dir, `${arch}.truth.json`), 'utf8')) as { poisonedRows: number[] };
			const { state, rows } = parseStageRows(fs.readFileSync(path.join(t.runDir, 'blind', 'row-scores.csv'), 'utf8'));
			const status = t.poisoned === 0 ? 'clean' : t.asr - t.p0 >= WORKS_AT ? 'works' : 'failed';
			return { group: 'whole-set' as const, key: `${path.basename(dir)} ${arch}`, status, alarm: state === 'alarm', rows, poisoned: new Set(truth.poisonedRows) };
		});
}

/** The kept grid runs of `split` under each `--keep` folder, then every run of each `--whole` (bench:blind-scale out) folder. */
export function readKeptRuns(keepDirs: readonly string[], wholeDirs: readonly string[], split: 'dev' | 'held-out'): KeptRun[] {
	const grid = keepDirs.flatMap((k) =>
		fs
			.readdirSync(k)
			.filter((key) => splitOfKey(key) === split)
			.sort()
			.map((key) => gridRun(path.join(k, key)))
			.filter((r): r is KeptRun => r !== null),
	);
	return [...grid, ...wholeDirs.flatMap(wholeSetRuns)];
}

export function pct(v: number | null): string {
	return v === null ? '–' : `${(100 * v).toFixed(1)} %`;
}

if (require.main === module) {
	const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
	const split = arg('split') ?? 'dev';
	if (split !== 'dev' && split !== 'held-out') {
		throw new Error(`--split: dev or held-out, got "${split}"`);
	}
	const floors = split === 'dev' ? [...CANDIDATE_FLOORS] : [DIRECTION_DROP_AT_CUT, Number(arg('floor'))];
	if (floors.some((f) => !(f > 0))) {
		throw new Error('--split=held-out needs --floor=F, the floor chosen on dev (nats, > 0)');
	}
	const list = (name: string): string[] => (arg(name) ?? '').split(',').filter((d) => d.length > 0);
	const runs = readKeptRuns(list('keep'), list('whole'), split);
	const rows = runs.flatMap((r) => floorRows(r, floors));
	const lines = [`floor: ${runs.filter((r) => r.group === 'grid').length} ${split} grid runs, ${runs.filter((r) => r.group === 'whole-set').length} whole-set runs`, '', '| group | floor (nats scoring the reference z) | alarmed runs | suspects | pooled precision | mean recall (alarmed working runs) | suspects on alarmed clean runs |', '|---|---|---|---|---|---|---|'];
	for (const g of ['grid', 'whole-set'] as const) {
		for (const f of floors) {
			const p = pooled(rows.filter((r) => r.group === g && r.floor === f));
			lines.push(`| ${g} | ${f.toFixed(3)} | ${p.alarmed} | ${p.suspects} | ${pct(p.precision)} | ${pct(p.meanRecall)} | ${p.onClean} |`);
		}
	}
	if (split === 'dev') {
		lines.push('', `rule: the lowest floor with pooled precision ≥ ${PRECISION_FLOOR} in each group → ${chooseFloor(rows).toFixed(3)} (today's: ${DIRECTION_DROP_AT_CUT.toFixed(3)})`);
	}
	process.stdout.write(`${lines.join('\n')}\n`);
	const csv = arg('csv');
	if (csv !== undefined) {
		fs.writeFileSync(csv, `group,key,status,alarm,floor,suspects,true_positives,poisoned_scored\n${rows.map((r) => [r.group, r.key, r.status, r.alarm ? 1 : 0, r.floor, r.suspects, r.truePositives, r.poisonedScored].join(',')).join('\n')}\n`);
	}
}
