/**
 * Turns one run's analyser outputs and the bench's truth into per-detector CSV rows (pure).
 */
import { auroc, halfAsrEpoch, leadTime, precisionRecall, WORKS_AT, type RunDetectorRow } from './metrics';
import { BENCH_ATTACKS, type GridPoint } from './grid';
import type { Truth } from './train';

/** What the baselines child wrote. */
export interface BaselineJson {
	readonly rows: number[];
	readonly labels: number[];
	readonly timeline: { step: number; epoch: number; detector: string; runScore: number; alarm: boolean }[];
	readonly detectors: { detector: string; rowScores: (number | null)[]; flagged: number[]; runScore: number; alarm: boolean; seconds: number; step: number }[];
}

/** The parts of `poison-lens analyse --json` and the analysis.jsonl summary that the bench reads. */
export interface CliOutcome {
	readonly verdict: string;
	readonly seconds: number;
	readonly checkpoints: { step: number; triggerOverlap: number | null; spectralGap: number | null }[];
	readonly spectralStep: number | null;
	/** The blind summary; `rowScores`: every scored row's suspicion score (blind/row-scores.csv), when the analyser wrote one. */
	readonly blind: { flipRate: number | null; suspectRows: number[]; rowScores?: ReadonlyMap<number, number> | null } | null;
}

/** Run status from the bench's own ASR record. */
export function statusOf(p: GridPoint, truth: Truth): 'clean' | 'works' | 'failed' {
	if (p.attack === null) {
		return 'clean';
	}
	const final = truth.timeline[truth.timeline.length - 1]?.excessAsr ?? 0;
	return final >= WORKS_AT ? 'works' : 'failed';
}

/** Scores every detector on one run. */
export function scoreRun(p: GridPoint, truth: Truth, base: BaselineJson, blind: CliOutcome, declared: CliOutcome): RunDetectorRow[] {
	const status = statusOf(p, truth);
	const poisoned = new Set(truth.poisonedRows);
	const isPoison = base.rows.map((r) => poisoned.has(r));
	const inSample = isPoison.filter((x) => x).length;
	const targetIdx = base.labels.map((l, i) => (l === truth.targetLabel ? i : -1)).filter((i) => i >= 0);
	const half = halfAsrEpoch(truth.timeline);
	const finalEpoch = p.epochs;
	const common = {
		key: p.key,
		split: p.split,
		arch: p.arch,
		dataset: p.dataset,
		attack: p.attack ?? 'none',
		benchOnly: p.attack !== null && (BENCH_ATTACKS as readonly string[]).includes(p.attack),
		theta: p.attack === null ? 0 : p.theta,
		optimiser: p.optimiser,
		epochs: p.epochs,
		seed: p.seed,
		finalExcessAsr: Number((truth.timeline[truth.timeline.length - 1]?.excessAsr ?? 0).toFixed(4)),
		status,
		trainSeconds: Number(truth.trainSeconds.toFixed(1)),
		poisonedInSample: inSample,
	};
	const rowMetrics = (scores: (number | null)[], flaggedRows: number[]): Pick<RunDetectorRow, 'rowAuroc' | 'rowAurocTarget' | 'precision' | 'recall' | 'flagged'> => {
		const s = scores.map((v) => (v === null ? NaN : v));
		const pr = precisionRecall(flaggedRows, poisoned, inSample);
		return {
			rowAuroc: inSample > 0 ? auroc(s, isPoison) : null,
			rowAurocTarget: inSample > 0 ? auroc(targetIdx.map((i) => s[i]), targetIdx.map((i) => isPoison[i])) : null,
			precision: inSample > 0 ? pr.precision : null,
			recall: inSample > 0 ? pr.recall : null,
			flagged: flaggedRows.length,
		};
	};
	const out: RunDetectorRow[] = [];
	for (const d of base.detectors) {
		let alarmEpoch: number | null = null;
		const tl = base.timeline.filter((t) => t.detector === d.detector);
		if (tl.length > 0) {
			alarmEpoch = tl.find((t) => t.alarm)?.epoch ?? null;
		} else if (d.alarm) {
			alarmEpoch = d.step / truth.stepsPerEpoch;
		}
		out.push({ ...common, detector: d.detector, runScore: d.runScore, alarm: d.alarm, ...rowMetrics(d.rowScores, d.flagged), leadEpochs: leadTime(alarmEpoch, half), analysisSeconds: Number(d.seconds.toFixed(2)) });
	}
	// Blind mode (the CLI's undeclared verdict): every row's suspicion score where the analyser wrote them; an older
	// analyser's suspects ranked by their order (cos² to the candidate), others 0.
	const suspects = blind.blind?.suspectRows ?? [];
	const stored = blind.blind?.rowScores ?? null;
	const rank = stored ?? new Map(suspects.map((r, i) => [r, suspects.length - i]));
	const blindAlarm = blind.verdict === 'visible';
	out.push({
		...common,
		detector: 'blind-mode',
		runScore: blind.blind?.flipRate ?? 0,
		alarm: blindAlarm,
		...rowMetrics(
			base.rows.map((r) => rank.get(r) ?? 0),
			suspects,
		),
		leadEpochs: leadTime(blindAlarm ? finalEpoch : null, half),
		analysisSeconds: Number(blind.seconds.toFixed(2)),
	});
	// Declared-trigger rules (verdict with the trigger declared): alarm = a spectral signal (rule 2.1 or 2.2) fired.
	const fired = declared.spectralStep !== null;
	const score = Math.max(0, ...declared.checkpoints.map((c) => Math.min((c.triggerOverlap ?? 0) / 0.3, (c.spectralGap ?? 0) / 5)));
	out.push({
		...common,
		detector: 'declared-rules',
		runScore: score,
		alarm: fired,
		rowAuroc: null,
		rowAurocTarget: null,
		precision: null,
		recall: null,
		flagged: 0,
		leadEpochs: leadTime(fired && declared.spectralStep !== null ? declared.spectralStep / truth.stepsPerEpoch : null, half),
		analysisSeconds: Number(declared.seconds.toFixed(2)),
	});
	return out;
}

/** CSV columns, in order. */
export const COLUMNS: (keyof RunDetectorRow)[] = [
	'key', 'split', 'arch', 'dataset', 'attack', 'benchOnly', 'theta', 'optimiser', 'epochs', 'seed', 'finalExcessAsr', 'status', 'trainSeconds',
	'detector', 'runScore', 'alarm', 'rowAuroc', 'rowAurocTarget', 'precision', 'recall', 'flagged', 'poisonedInSample', 'leadEpochs', 'analysisSeconds',
];

function cell(v: unknown): string {
	if (v === null || v === undefined) {
		return '';
	}
	if (typeof v === 'number') {
		return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : '';
	}
	return typeof v === 'boolean' ? String(v) : (v as string);
}

export function toCsvLine(r: RunDetectorRow): string {
	return COLUMNS.map((c) => cell(r[c])).join(',');
}

/** Parses the CSV the driver writes (no quoting needed: no field holds a comma). */
export function parseCsv(text: string): RunDetectorRow[] {
	const lines = text.split('\n').filter((l) => l.trim().length > 0);
	if (lines.length === 0) {
		return [];
	}
	const head = lines[0].split(',');
	return lines.slice(1).map((line, n) => {
		const f = line.split(',');
		if (f.length !== head.length) {
			throw new Error(`runs.csv line ${n + 2}: ${f.length} fields, expected ${head.length}`);
		}
		const o: Record<string, unknown> = {};
		head.forEach((h, i) => {
			const v = f[i];
			const numeric = !['key', 'split', 'arch', 'dataset', 'attack', 'optimiser', 'status', 'detector', 'benchOnly', 'alarm'].includes(h);
			o[h] = v === '' ? null : h === 'benchOnly' || h === 'alarm' ? v === 'true' : numeric ? Number(v) : v;
		});
		return o as unknown as RunDetectorRow;
	});
}
