/**
 * The rule of the stage-1 blends study (docs/blind-scale-blends.md), fixed before its runs: the smallest number of
 * blends per row whose scans decide like 8 blends on every dev run.
 *
 *   node --import tsx bench/blendsRule.ts DIR [DIR ...]
 *
 * Each DIR is a `bench:blind-scale --blends-study` out folder (its `<arch>.train.json` and `<arch>.blends.json`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WORKS_AT } from './detect/metrics';

/** What the rule reads of one scan. */
export interface LevelOutcome {
	readonly blends: number;
	readonly testState: string;
	readonly precision: number | null;
	readonly recall: number | null;
}

/** One dev run: its attack's excess ASR (ASR − p0; 0 for a clean run) and its scans, one per level. */
export interface DevRun {
	readonly name: string;
	readonly excessAsr: number;
	readonly levels: readonly LevelOutcome[];
}

/** The reference level: today's default. */
export const REFERENCE_BLENDS = 8;
/** Recall may drop at most this much against the reference. */
export const RECALL_SLACK = 0.05;
/** Precision the suspects must keep wherever the reference had it. */
export const MIN_PRECISION = 0.5;

/** Why level `k` fails on `run`, or null when it passes. */
export function levelFailure(run: DevRun, k: number): string | null {
	const ref = run.levels.find((l) => l.blends === REFERENCE_BLENDS);
	const at = run.levels.find((l) => l.blends === k);
	if (ref === undefined || at === undefined) {
		return `${run.name}: no scan at ${ref === undefined ? REFERENCE_BLENDS : k} blends`;
	}
	if (at.testState !== ref.testState) {
		return `${run.name}: blind test ${at.testState} at ${k} blends, ${ref.testState} at ${REFERENCE_BLENDS}`;
	}
	if (ref.testState === 'alarm' && run.excessAsr >= WORKS_AT) {
		if ((at.recall ?? 0) < (ref.recall ?? 0) - RECALL_SLACK) {
			return `${run.name}: recall ${fmt(at.recall)} at ${k} blends, ${fmt(ref.recall)} at ${REFERENCE_BLENDS}`;
		}
		if ((ref.precision ?? 0) >= MIN_PRECISION && (at.precision ?? 0) < MIN_PRECISION) {
			return `${run.name}: precision ${fmt(at.precision)} at ${k} blends, ${fmt(ref.precision)} at ${REFERENCE_BLENDS}`;
		}
	}
	return null;
}

function fmt(v: number | null): string {
	return v === null ? '–' : v.toFixed(3);
}

/**
 * The smallest level that passes on every run (the reference when none below it does), with every failure seen.
 * Levels are those scanned on every run.
 */
export function chooseBlends(runs: readonly DevRun[]): { chosen: number; failures: Map<number, string[]> } {
	if (runs.length === 0) {
		throw new Error('the blends rule needs at least one dev run');
	}
	const levels = [...new Set(runs.flatMap((r) => r.levels.map((l) => l.blends)))].filter((k) => runs.every((r) => r.levels.some((l) => l.blends === k))).sort((a, b) => a - b);
	const failures = new Map<number, string[]>();
	for (const k of levels) {
		failures.set(
			k,
			runs.map((r) => levelFailure(r, k)).filter((f): f is string => f !== null),
		);
	}
	const chosen = levels.find((k) => k <= REFERENCE_BLENDS && (failures.get(k) ?? []).length === 0) ?? REFERENCE_BLENDS;
	return { chosen, failures };
}

/** Reads a `--blends-study` out folder: one dev run per architecture in it. */
export function readStudyFolder(dir: string): DevRun[] {
	const runs: DevRun[] = [];
	for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.blends.json')).sort()) {
		const arch = f.slice(0, -'.blends.json'.length);
		const train = JSON.parse(fs.readFileSync(path.join(dir, `${arch}.train.json`), 'utf8')) as { asr: number; p0: number; poisoned: number };
		const levels = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as LevelOutcome[];
		runs.push({ name: `${path.basename(dir)} ${arch}`, excessAsr: train.poisoned > 0 ? train.asr - train.p0 : 0, levels });
	}
	return runs;
}

if (require.main === module) {
	const dirs = process.argv.slice(2);
	if (dirs.length === 0) {
		process.stderr.write('usage: node --import tsx bench/blendsRule.ts DIR [DIR ...]\n');
		process.exit(2);
	}
	const runs = dirs.flatMap(readStudyFolder);
	const { chosen, failures } = chooseBlends(runs);
	for (const [k, f] of failures) {
		process.stdout.write(`${k} blends: ${f.length === 0 ? 'passes on every run' : `fails (${f.join('; ')})`}\n`);
	}
	process.stdout.write(`chosen: ${chosen} blends per row (${runs.length} dev runs)\n`);
}
