/**
 * Turns the analyser's per-row scores of a run (`dataset/rowScores`) into problems on the dataset
 * file the run trained on, and decides which runs trained on which file. Pure (no `vscode`): the
 * CLI (`poison-lens scan --run`) and the extension host share it.
 */
import * as path from 'node:path';
import type { RowScoresResult } from '../protocol/analyser';
import { ProblemCode, type Problem } from './problem';
import type { RowSpans } from './scan';

/** Partner lines listed per finding (the hover and "Show cluster" need a handful, not thousands). */
const MAX_RELATED = 50;

/**
 * Whether a run's recorded data source names this file: `source` is a path (absolute, or relative to
 * one of `bases`, e.g. the workspace folder and the folder the run's `.poison-lens` sits in),
 * optionally followed by `:<split>` as the SDK's loaders write it.
 */
export function sourceNamesFile(source: string, file: string, bases: readonly string[]): boolean {
	const target = path.resolve(file);
	const candidates = [source];
	const m = /^(.*):[A-Za-z0-9_-]+$/.exec(source);
	if (m !== null && m[1].length > 1) {
		candidates.push(m[1]);
	}
	for (const c of candidates) {
		if (path.isAbsolute(c)) {
			if (path.resolve(c) === target) {
				return true;
			}
			continue;
		}
		for (const b of bases) {
			if (path.resolve(b, c) === target) {
				return true;
			}
		}
	}
	return false;
}

/** The workspace root a run folder belongs to: the parent of its `.poison-lens` folder, or null. */
export function runWorkspaceRoot(runDir: string): string | null {
	const parts = path.resolve(runDir).split(path.sep);
	const k = parts.lastIndexOf('.poison-lens');
	return k > 0 ? parts.slice(0, k).join(path.sep) || path.sep : null;
}

/** Problems for the flagged rows, or a reason why none could be placed. */
export interface RowScoreMapping {
	readonly problems: Problem[];
	/** Set when the scores could not be mapped onto this file (row counts disagree). */
	readonly warning: string | null;
}

/**
 * One `spectral-signature` problem per flagged row of `res`, on the row's lines in the file.
 * Row i of the run's training set is data row i of the file (header and blank lines excluded). A run may
 * have trained on fewer rows than the file holds (its rowIndices name them); one that trained on more, or
 * flags a row past the file's end, is not placed, and the warning says why.
 */
export function rowScoreProblems(res: RowScoresResult, spans: RowSpans, rows: number): RowScoreMapping {
	// A run may train on fewer rows than the file has (rowIndices name them); never on more.
	if (res.totalRows > rows || res.flagged.some((f) => f.row >= rows)) {
		return {
			problems: [],
			warning: `run '${res.runName}' trained on ${res.totalRows} rows but this file has ${rows} data rows; its row scores are not shown (train on the file's rows in order, or record trainSample.rowIndices as data-row numbers)`,
		};
	}
	const byClass = new Map(res.classes.map((c) => [c.label, c]));
	const linesOfLabel = new Map<number, number[]>();
	for (const f of res.flagged) {
		if (f.row < rows) {
			const list = linesOfLabel.get(f.label) ?? [];
			list.push(spans.startLine[f.row]);
			linesOfLabel.set(f.label, list);
		}
	}
	const problems: Problem[] = [];
	for (const f of res.flagged) {
		if (f.row >= rows) {
			continue;
		}
		const line = spans.startLine[f.row];
		const endLine = spans.endLine[f.row];
		const cls = byClass.get(f.label);
		const group = linesOfLabel.get(f.label) ?? [];
		const related = group.filter((l) => l !== line).sort((a, b) => a - b).slice(0, MAX_RELATED);
		const sep = cls === undefined ? NaN : cls.separation;
		problems.push({
			line,
			column: 1,
			...(endLine === line ? {} : { endLine }),
			endColumn: spans.endColumn[f.row],
			code: ProblemCode.spectralSignature,
			severity: 'warning',
			message:
				`Spectral signature: this row's input gradient stands ${f.score.toFixed(1)} SD apart from the rest of label ${f.label}, ` +
				`in a group of ${group.length} row(s) (separation S = ${sep.toFixed(1)} ≥ ${res.minSeparation}; run '${res.runName}', checkpoint ${res.step})`,
			related,
			evidence: [
				{ label: 'score', value: `${f.score.toFixed(2)} pooled SD from the rest of label ${f.label}` },
				{ label: 'threshold', value: `a label's groups are flagged when their separation S ≥ ${res.minSeparation}; this label: S = ${sep.toFixed(1)}` },
				{ label: 'group', value: `${group.length} of ${cls?.count ?? '?'} scored rows of label ${f.label}` },
				{ label: 'run', value: `${res.runName} (checkpoint ${res.step}, best of ${res.stepsTried.join(', ')})` },
				{ label: 'scored', value: `${res.samples} of ${res.totalRows} training rows (the run's training sample)` },
				{ label: 'method', value: 'centred spectral signature of per-row input gradients, per label (Tran et al. 2018, on gradients)' },
			],
		});
	}
	return { problems, warning: null };
}
