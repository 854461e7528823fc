/**
 * Gathers what the shareable report shows from a run folder on disk: the dashboard's own reader (RunReader, full
 * resolution), the validated manifest for the settings, and the suspects' dataset lines when the run's dataset
 * source is a CSV/TSV/JSONL file that exists. Node I/O only, no `vscode`: the CLI and the extension share it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunReader } from '../host/dashboard/runStore';
import { readManifest, type RunManifest } from '../protocol/runFormat';
import { isDatasetFile, readDataset } from '../datasets/scan';
import type { ReportInput, SuspectRow } from './html';

/** How many suspect rows the report lists (the count is always given in full). */
export const MAX_SUSPECT_ROWS = 200;

/**
 * Resolves the manifest's dataset source to a dataset file, if it names one that exists (relative sources against
 * `workspaceRoot`, the folder holding `.poison-lens/runs/<run>`, then the current folder).
 */
export function datasetFile(manifest: RunManifest | null, runDir: string, workspaceRoot: string | null): string | null {
	const src = manifest?.dataset.source;
	if (src === undefined || !isDatasetFile(src)) {
		return null;
	}
	const candidates = path.isAbsolute(src) ? [src] : [workspaceRoot, path.resolve(runDir, '../../..'), process.cwd()].filter((d): d is string => d !== null).map((d) => path.resolve(d, src));
	return candidates.find((f) => fs.existsSync(f)) ?? null;
}

/** The 1-based first line of every data row of a dataset file (row i → lines[i]). */
export async function datasetRowLines(file: string): Promise<Int32Array> {
	return readDataset(await fs.promises.readFile(file, 'utf8'), path.basename(file), { structureOnly: true }).table.startLine;
}

/**
 * Reads a run folder into report input.
 * @param workspaceRoot where a relative dataset source is resolved first (the run's workspace); null: the folder
 *   that holds `.poison-lens/runs/<run>`, then the current folder
 * @throws Error naming the folder when it has no readable manifest
 */
export async function collectReport(runDir: string, opts: { workspaceRoot?: string | null; toolVersion: string; now?: Date }): Promise<ReportInput> {
	const reader = new RunReader(runDir);
	await reader.refresh();
	const view = reader.view(Number.MAX_SAFE_INTEGER);
	let manifest: RunManifest | null = null;
	let manifestProblem: string | null = null;
	try {
		manifest = await readManifest(runDir);
	} catch (err) {
		manifestProblem = (err as Error).message;
		if (!fs.existsSync(path.join(runDir, 'manifest.json'))) {
			throw new Error(`${runDir}: not a Poison Lens run folder (no manifest.json)`, { cause: err });
		}
	}
	const rows = view.summary?.blind?.suspectRows ?? [];
	const file = datasetFile(manifest, runDir, opts.workspaceRoot ?? null);
	let lines: Int32Array | null = null;
	let datasetNote: string | null = null;
	if (file !== null && rows.length > 0) {
		try {
			lines = await datasetRowLines(file);
		} catch (err) {
			datasetNote = `${file}: ${(err as Error).message}`;
		}
	}
	const suspects: SuspectRow[] = rows.slice(0, MAX_SUSPECT_ROWS).map((row) => ({
		row,
		line: lines !== null && row >= 0 && row < lines.length ? lines[row] : null,
	}));
	return {
		view,
		manifest,
		problems: [...(manifestProblem === null ? [] : [manifestProblem]), ...view.problems, ...(datasetNote === null ? [] : [datasetNote])],
		suspects,
		suspectCount: rows.length,
		datasetFile: file === null ? (manifest?.dataset.source ?? null) : path.relative(opts.workspaceRoot ?? process.cwd(), file) || file,
		datasetLinesKnown: lines !== null,
		toolVersion: opts.toolVersion,
		generatedAt: (opts.now ?? new Date()).toISOString(),
	};
}
