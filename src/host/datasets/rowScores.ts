/**
 * The analyser-based per-row scores in the editor: when a run in the workspace
 * trained on the scanned dataset file (its manifest's `dataset.source` or `trainSample.source`
 * names the file), the analyser scores the run's training rows by a spectral signature of their
 * input gradients and the flagged rows become `spectral-signature` diagnostics.
 *
 * Trusted workspaces only (the caller checks; the analyser refuses otherwise): the analyser loads
 * the run's checkpoints. Results are cached per run until the run's event log changes.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isAnalyserError } from '../analyser/client';
import { rowScoreProblems, runWorkspaceRoot, sourceNamesFile } from '../../datasets/rowScores';
import type { Problem } from '../../datasets/problem';
import { ProblemCode } from '../../datasets/problem';
import type { ScanResult } from '../../datasets/scan';
import { AnalyserErrorCode, type RowScoresResult } from '../../protocol/analyser';
import { readManifest } from '../../protocol/runFormat';
import { isBroken, type RunSummary } from '../../protocol/runSummary';
import type { HostAnalyser } from '../analyser';
import { findRuns } from '../runs/runPicker';
import { setRowScoreProvider, type RowScoreProvider } from './index';

/** The newest run whose recorded data source names `file`, or undefined. */
async function runFor(file: string, token: vscode.CancellationToken): Promise<RunSummary | undefined> {
	const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
	const runs = (await findRuns(token)).filter((r): r is RunSummary => !isBroken(r));
	for (const run of runs) {
		let sources: string[];
		try {
			const m = await readManifest(run.dir);
			if (m.trainSample === undefined) {
				continue;
			}
			sources = [m.dataset.source, m.trainSample.source];
		} catch {
			continue;
		}
		const bases = [folder?.uri.fsPath, runWorkspaceRoot(run.dir)].filter((b): b is string => typeof b === 'string');
		if (sources.some((s) => sourceNamesFile(s, file, bases))) {
			return run;
		}
	}
	return undefined;
}

/** {@link RowScoreProvider} backed by the extension's analyser process. */
export class AnalyserRowScores implements RowScoreProvider {
	private readonly cache = new Map<string, { activity: number; result: RowScoresResult }>();

	constructor(
		private readonly analyser: HostAnalyser,
		private readonly log: (line: string) => void,
	) {}

	async scoreRows(uri: vscode.Uri, result: ScanResult, token: vscode.CancellationToken): Promise<Problem[]> {
		if (uri.scheme !== 'file' || result.rowSpans === undefined || !vscode.workspace.getConfiguration('poisonLens.dataset', uri).get<boolean>('rowScores', true)) {
			return [];
		}
		const run = await runFor(uri.fsPath, token);
		if (run === undefined || token.isCancellationRequested) {
			return [];
		}
		let scores = this.cache.get(run.dir);
		if (scores === undefined || scores.activity !== run.lastActivity) {
			try {
				const { client } = await this.analyser.start();
				const res = await client.rowScores({ runDir: run.dir, requestId: client.nextRequestId() }, token);
				scores = { activity: run.lastActivity, result: res };
				this.cache.set(run.dir, scores);
				this.log(`[row scores] ${path.basename(uri.fsPath)}: run '${res.runName}', checkpoint ${res.step} (of ${res.stepsTried.join(', ')}), ${res.flagged.length} of ${res.samples} rows flagged, ${res.elapsedMs} ms`);
			} catch (err) {
				if (!isAnalyserError(err, AnalyserErrorCode.Cancelled)) {
					this.log(`[row scores] ${path.basename(uri.fsPath)}: run ${run.dir}: ${err instanceof Error ? err.message : String(err)}`);
				}
				return [];
			}
		}
		const mapped = rowScoreProblems(scores.result, result.rowSpans, result.rows);
		if (mapped.warning !== null) {
			// Said once on the file, so the user knows why a run of this file adds nothing. Its own code (not a poison
			// code): no quarantine action may be offered on line 1, the header.
			return [{ line: 1, column: 1, endColumn: 2, code: ProblemCode.rowScoresUnmatched, severity: 'information', message: `Poison Lens row scores: ${mapped.warning}`, related: [], evidence: [] }];
		}
		return mapped.problems;
	}
}

/** Registers the analyser-backed row scores with the dataset diagnostics. */
export function registerRowScores(context: vscode.ExtensionContext, analyser: HostAnalyser): void {
	setRowScoreProvider(new AnalyserRowScores(analyser, (line) => analyser.log(line)));
	context.subscriptions.push({ dispose: () => setRowScoreProvider(undefined) });
}
