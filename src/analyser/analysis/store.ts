/**
 * `<run>/analysis.jsonl`: the only file the analyser writes in a run folder. Lines are appended
 * (one `write` per line, so a concurrent reader sees whole lines or nothing new), never rewritten.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
	ANALYSIS_FILE,
	parseAnalysisFile,
	type AnalysisLine,
	type CheckpointAnalysis,
	type RunAnalysisSummary,
} from '../../protocol/analysisRecord';

/** A summary line as this analyser writes it: the record plus the newest step it covered. */
export type StoredSummary = RunAnalysisSummary & {
	/** Newest checkpoint step the summary (and its blind scan) covered. */
	readonly analysedThroughStep?: number | null;
	/** Checkpoint step the blind scan used. */
	readonly blindStep?: number | null;
};

/** What analysis.jsonl already holds. */
export interface StoredAnalysis {
	/** Latest record per step. */
	readonly byStep: ReadonlyMap<number, CheckpointAnalysis>;
	readonly summary: StoredSummary | null;
	/** Malformed lines (file:line: what); they are skipped. */
	readonly problems: readonly string[];
}

/** Reads analysis.jsonl (missing file: empty). Malformed lines are reported, not fatal. */
export async function readStoredAnalysis(runDir: string): Promise<StoredAnalysis> {
	const file = path.join(runDir, ANALYSIS_FILE);
	let text: string;
	try {
		text = await fs.promises.readFile(file, 'utf8');
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
			return { byStep: new Map(), summary: null, problems: [] };
		}
		throw err;
	}
	const parsed = parseAnalysisFile(text, file);
	const byStep = new Map<number, CheckpointAnalysis>();
	for (const c of parsed.checkpoints) {
		byStep.set(c.step, c);
	}
	let summary: StoredSummary | null = parsed.summary;
	if (summary !== null) {
		// The shared parser drops fields it does not know; recover ours from the last summary line.
		const lines = text.split('\n').filter((l) => l.includes('"summary"'));
		const last = lines[lines.length - 1];
		if (last !== undefined) {
			try {
				const raw = JSON.parse(last) as Record<string, unknown>;
				summary = {
					...summary,
					analysedThroughStep: typeof raw.analysedThroughStep === 'number' ? raw.analysedThroughStep : null,
					blindStep: typeof raw.blindStep === 'number' ? raw.blindStep : null,
				};
			} catch {
				// Already reported by parseAnalysisFile.
			}
		}
	}
	return { byStep, summary, problems: parsed.problems };
}

/** Appends one line to analysis.jsonl (creating it). */
export async function appendAnalysisLine(runDir: string, line: AnalysisLine | StoredSummary): Promise<void> {
	await fs.promises.appendFile(path.join(runDir, ANALYSIS_FILE), `${JSON.stringify(line)}\n`, 'utf8');
}
