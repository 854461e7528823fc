/**
 * One suspicion score per training row, whichever way it is read: the run's own blind scan writes every row's score
 * to `blind/row-scores.csv` (cascade.ts); `poison-lens scan <file> --run <run>` and any other reader get the scores
 * through {@link rowSuspicionOfRun}, which reads that file when it belongs to the run's newest checkpoint and otherwise
 * runs the same blind scan (which writes it). Same run, same checkpoint, same backend → the same score per row.
 */
import { AnalyserErrorCode } from '../../protocol/analyser';
import { readRun } from '../../protocol/runFormat';
import type { CancelSignal } from '../curvature/index';
import { runBlindScan } from './blind';
import { readRowScores, type StoredRowScores } from './cascade';
import type { RunContext } from './context';
import { AnalysisError } from './errors';

/** The run's row suspicion at its newest checkpoint, and whether it was computed now or read from the run folder. */
export interface RunRowSuspicion extends StoredRowScores {
	readonly computed: boolean;
	readonly elapsedMs: number;
}

/**
 * Every recorded training row's suspicion score at the run's newest checkpoint.
 * @throws AnalysisError RunFormat when the run has no checkpoint or no training rows
 */
export async function rowSuspicionOfRun(ctx: RunContext, options: { readonly signal?: CancelSignal; readonly onProgress?: (done: number, total: number) => void } = {}): Promise<RunRowSuspicion> {
	const t0 = performance.now();
	const snap = await readRun(ctx.runDir);
	const newest = [...snap.checkpoints].sort((a, b) => b.step - a.step)[0];
	if (newest === undefined) {
		throw new AnalysisError(AnalyserErrorCode.RunFormat, `${ctx.runDir}: no checkpoint written yet`);
	}
	const stored = await readRowScores(ctx.runDir);
	// A live scan's file covers only its subsample of the rows: it stands for the run only when it scored them all.
	if (stored !== null && stored.step === newest.step && stored.scoredRows >= (ctx.manifest.trainSample?.count ?? 0)) {
		return { ...stored, computed: false, elapsedMs: performance.now() - t0 };
	}
	await runBlindScan(ctx, newest.dir, { signal: options.signal, onProgress: options.onProgress });
	const fresh = await readRowScores(ctx.runDir);
	if (fresh === null) {
		throw new AnalysisError(AnalyserErrorCode.Internal, `${ctx.runDir}: blind mode wrote no row scores`);
	}
	return { ...fresh, computed: true, elapsedMs: performance.now() - t0 };
}
