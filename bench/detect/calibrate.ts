/**
 * Calibration of blind mode on the detection benchmark's DEV split, from the run folders `bench:detect --keep=DIR`
 * kept (analysed there by the CLI as a user would run it): per run, the blind test's score and null band, its state
 * and why, and the suspects' precision and recall at the row cut, against the bench's truth. Held-out folders are
 * never opened (their split is decided from the folder name, before anything inside is read).
 *
 *     node --import tsx bench/detect/calibrate.ts --keep=DIR [--csv=docs/detection/dev-calibration.csv]
 *
 * It prints, for each rule constant blind mode takes from this split (docs/metrics.md §4.1), the dev evidence
 * behind it: the margins of clean controls and failed attacks against those of working attacks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WORKS_AT, auroc, precisionRecall } from './metrics';
import { splitOfKey } from './rescore';
import type { Truth as TrainTruth } from './train';
import { DEFAULT_BLIND_RULE } from '../../src/analyser/analysis/blindTest';

type Truth = Pick<TrainTruth, 'blindDir' | 'targetLabel' | 'poisonedRows' | 'timeline'>;

interface BlindTestLine {
	readonly state: string;
	readonly score: number | null;
	readonly nullHigh: number | null;
	readonly reason: string;
}

/** One dev run's blind-mode evidence. */
export interface CalibrationRow {
	readonly key: string;
	readonly attack: string;
	readonly status: 'clean' | 'works' | 'failed';
	readonly finalExcessAsr: number;
	readonly state: string;
	readonly score: number | null;
	readonly nullHigh: number | null;
	/** score − nullHigh: how far the candidate is above the run's own null. */
	readonly margin: number | null;
	/** The state was decided by the universal-perturbation control (a gradient-ascent perturbation to another class). */
	readonly byUniversal: boolean;
	readonly cut: number | null;
	readonly suspects: number;
	readonly poisonedInSample: number;
	readonly precision: number | null;
	readonly recall: number | null;
	readonly rowAuroc: number | null;
	readonly rowAurocTarget: number | null;
}

/** The attack of a grid key (`…_<attack>-t<θ>_…`, or `none` for a clean control `…_clean-<trigger>_…`). */
export function attackOfKey(key: string): string {
	const part = key.split('_')[2] ?? '';
	const m = /^(.+)-t[0-9.]+$/.exec(part);
	return m === null ? 'none' : m[1];
}

/** Rows of a `blind/row-scores.csv` (two header lines: a comment, then the column names). */
export function parseRowScores(text: string): { row: number; label: number; score: number }[] {
	const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
	const head = (lines.shift() ?? '').split(',');
	const [iRow, iLabel, iScore] = ['row', 'label', 'score'].map((c) => head.indexOf(c));
	if (iRow < 0 || iLabel < 0 || iScore < 0) {
		throw new Error(`row scores: expected columns row,label,score, got "${head.join(',')}"`);
	}
	return lines.map((l) => {
		const c = l.split(',');
		return { row: Number(c[iRow]), label: Number(c[iLabel]), score: Number(c[iScore]) };
	});
}

/** What blind mode left in a kept run folder: its truth, the newest summary's blind part, every scored row, and the attack's status. */
export interface KeptBlind {
	readonly truth: Truth;
	readonly blind: { readonly test: BlindTestLine; readonly suspectRows?: number[]; readonly rowScoreCut?: number | null; readonly rowScoresFile: string };
	readonly scores: { row: number; label: number; score: number }[];
	readonly status: 'clean' | 'works' | 'failed';
	readonly finalExcessAsr: number;
}

/** Reads a kept run folder's blind analysis; null when it has no blind summary with row scores. */
export function readKeptBlind(keptDir: string): KeptBlind | null {
	const truth = JSON.parse(fs.readFileSync(path.join(keptDir, 'truth.json'), 'utf8')) as Truth;
	const analysis = path.join(truth.blindDir, 'analysis.jsonl');
	if (!fs.existsSync(analysis)) {
		return null;
	}
	const lines = fs.readFileSync(analysis, 'utf8').split('\n').filter((l) => l.includes('"summary"'));
	const summary = JSON.parse(lines[lines.length - 1] ?? '{}') as { blind?: { test?: BlindTestLine; suspectRows?: number[]; rowScoreCut?: number | null; rowScoresFile?: string | null } | null };
	const blind = summary.blind ?? null;
	if (blind?.test === undefined || blind.rowScoresFile === null || blind.rowScoresFile === undefined) {
		return null;
	}
	const scores = parseRowScores(fs.readFileSync(path.join(truth.blindDir, blind.rowScoresFile), 'utf8'));
	const finalExcessAsr = truth.timeline[truth.timeline.length - 1]?.excessAsr ?? 0;
	const status = truth.poisonedRows.length === 0 ? 'clean' : finalExcessAsr >= WORKS_AT ? 'works' : 'failed';
	return { truth, blind: { ...blind, test: blind.test, rowScoresFile: blind.rowScoresFile }, scores, status, finalExcessAsr };
}

/** The evidence of one kept run folder (already analysed by the CLI with the blind copy undeclared). */
export function calibrationRow(keptDir: string): CalibrationRow | null {
	const kept = readKeptBlind(keptDir);
	if (kept === null) {
		return null;
	}
	const { truth, blind, scores, status, finalExcessAsr } = kept;
	const poisoned = new Set(truth.poisonedRows);
	const isPoison = scores.map((r) => poisoned.has(r.row));
	const inSample = isPoison.filter((x) => x).length;
	const target = scores.map((r, i) => (r.label === truth.targetLabel ? i : -1)).filter((i) => i >= 0);
	const suspects = blind.suspectRows ?? [];
	const pr = precisionRecall(suspects, poisoned, inSample);
	const t = blind.test;
	return {
		key: path.basename(keptDir),
		attack: attackOfKey(path.basename(keptDir)),
		status,
		finalExcessAsr,
		state: t.state,
		score: t.score,
		nullHigh: t.nullHigh,
		margin: t.score === null || t.nullHigh === null ? null : t.score - t.nullHigh,
		byUniversal: t.state === 'inconclusive' && /universal perturbation/.test(t.reason),
		cut: blind.rowScoreCut ?? null,
		suspects: suspects.length,
		poisonedInSample: inSample,
		precision: inSample > 0 ? pr.precision : null,
		recall: inSample > 0 ? pr.recall : null,
		rowAuroc: inSample > 0 ? auroc(scores.map((r) => r.score), isPoison) : null,
		rowAurocTarget: inSample > 0 ? auroc(target.map((i) => scores[i].score), target.map((i) => isPoison[i])) : null,
	};
}

const COLUMNS: (keyof CalibrationRow)[] = ['key', 'attack', 'status', 'finalExcessAsr', 'state', 'score', 'nullHigh', 'margin', 'byUniversal', 'cut', 'suspects', 'poisonedInSample', 'precision', 'recall', 'rowAuroc', 'rowAurocTarget'];

function cell(v: unknown): string {
	if (v === null || v === undefined) {
		return '';
	}
	if (typeof v === 'number') {
		return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '';
	}
	return typeof v === 'string' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function range(values: readonly (number | null)[]): string {
	const v = values.filter((x): x is number => x !== null);
	return v.length === 0 ? '–' : `${Math.min(...v).toFixed(3)} … ${Math.max(...v).toFixed(3)} (${v.length} runs)`;
}

function main(argv: readonly string[]): number {
	const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
	const keep = opt('keep');
	if (keep === undefined) {
		console.error('calibrate: --keep=DIR (the folder bench:detect --keep=DIR filled) is required');
		return 2;
	}
	const csv = path.resolve(opt('csv') ?? path.join(__dirname, '..', '..', 'docs', 'detection', 'dev-calibration.csv'));
	const keys = fs.readdirSync(keep).sort();
	const dev = keys.filter((k) => splitOfKey(k) === 'dev');
	const rows = dev.map((k) => calibrationRow(path.join(keep, k))).filter((r): r is CalibrationRow => r !== null);
	fs.writeFileSync(csv, [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].map((l) => `${l}\n`).join(''));
	console.log(`calibrate: ${rows.length} dev runs analysed by the blind test (${dev.length - rows.length} dev folders without one; ${keys.length - dev.length} other folders not opened) → ${path.relative(process.cwd(), csv)}`);
	const of = (pred: (r: CalibrationRow) => boolean): CalibrationRow[] => rows.filter(pred);
	const nearClone = (r: CalibrationRow): boolean => r.attack === 'near-clone';
	console.log(`margin (score − null high), clean controls:   ${range(of((r) => r.status === 'clean').map((r) => r.margin))}`);
	console.log(`margin, attacks that failed:                 ${range(of((r) => r.status === 'failed').map((r) => r.margin))}`);
	console.log(`margin, working attacks (not near-clone):   ${range(of((r) => r.status === 'works' && !nearClone(r)).map((r) => r.margin))}`);
	console.log(`margin, working near-clone attacks:         ${range(of((r) => r.status === 'works' && nearClone(r)).map((r) => r.margin))}`);
	const states = (s: string): string => of((r) => r.status === s).map((r) => `${r.state}${r.byUniversal ? '(universal)' : ''}`).join(' ');
	console.log(`states: clean [${states('clean')}]  failed [${states('failed')}]  works [${states('works')}]`);
	// The rule as it stands, applied to each run's measured score and band (the universal perturbation no longer
	// decides, so an old 'inconclusive (universal)' is decided by the margin like 'alarm' and 'quiet').
	const m = DEFAULT_BLIND_RULE.margin;
	const alarms = (r: CalibrationRow): boolean => (r.state === 'alarm' || r.state === 'quiet' || r.byUniversal) && r.margin !== null && r.margin > m;
	const tally = (pred: (r: CalibrationRow) => boolean): string => {
		const g = of(pred);
		return `${g.filter(alarms).length}/${g.length}`;
	};
	console.log(
		`with the margin ${m}: alarms on clean ${tally((r) => r.status === 'clean')}, failed ${tally((r) => r.status === 'failed')}, ` +
			`working (not near-clone) ${tally((r) => r.status === 'works' && !nearClone(r))}, working near-clone ${tally((r) => r.status === 'works' && nearClone(r))}`,
	);
	for (const r of of((r) => r.status === 'works')) {
		console.log(`  ${r.key}: suspects ${r.suspects}, poisoned in sample ${r.poisonedInSample}, precision ${cell(r.precision)}, recall ${cell(r.recall)}, AUROC ${cell(r.rowAuroc)} (target label ${cell(r.rowAurocTarget)})`);
	}
	return 0;
}

if (require.main === module) {
	process.exit(main(process.argv.slice(2)));
}
