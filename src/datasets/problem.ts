/**
 * The result vocabulary of the dataset scanners: one `Problem` per finding, with a stable `code`.
 *
 * Pure module (no `vscode`): the CLI prints problems, the worker posts them, and only the extension host turns them
 * into `vscode.Diagnostic`s. Lines and columns are 1-based (as in compiler and ESLint output); the host subtracts 1.
 */

/** How bad a finding is; the host maps these onto `vscode.DiagnosticSeverity`. */
export type Severity = 'error' | 'warning' | 'information';

/**
 * Stable problem codes. They are part of the public surface (quick fixes, "Ignore this finding", the CLI JSON and
 * docs/datasets.md all key on them), so never rename one; add new ones instead.
 */
export const ProblemCode = {
	/** A CSV record has a different number of fields from the header (or the first records). */
	raggedRow: 'ragged-row',
	/** A quoted field is unterminated or has text after its closing quote. */
	badQuote: 'bad-quote',
	/** A JSONL line is not valid JSON. */
	invalidJson: 'invalid-json',
	/** A JSONL line is valid JSON but not an object with the expected keys. */
	invalidRecord: 'invalid-record',
	/** The label field is empty or absent. */
	missingLabel: 'missing-label',
	/** The label is not one of the known labels (configured, or inferred from the rest of the column). */
	unknownLabel: 'unknown-label',
	/** A numeric feature field is empty. */
	missingValue: 'missing-value',
	/** A numeric feature field is not a number. */
	nonNumeric: 'non-numeric',
	/** A numeric feature field is NaN or infinite. */
	nonFinite: 'non-finite',
	/** Rows with identical features carry different labels; this row's label disagrees with the neighbourhood. */
	dirtyLabelDuplicate: 'dirty-label-duplicate',
	/** Rows within the near-duplicate radius carry different labels; this row's label disagrees with the neighbourhood. */
	dirtyLabelNearDuplicate: 'dirty-label-near-duplicate',
	/** A tight same-label cluster that sits far from its label's class mean (near-clone regime, docs/science.md §2.6-2.7). */
	nearCloneCluster: 'near-clone-cluster',
	/**
	 * The analyser's per-row score (a spectral signature of input gradients, per class, on a run trained on this file)
	 * puts this row in a separated minority group of its label.
	 */
	spectralSignature: 'spectral-signature',
	/** A run names this file but trained on more rows than it has: its row scores cannot be placed (line 1, once). */
	rowScoresUnmatched: 'row-scores-unmatched',
	/** The image a row's image-path cell names does not exist. */
	missingImage: 'missing-image',
	/** The image a row names exists but cannot be decoded (not a PNG or JPEG, or corrupt). */
	unreadableImage: 'unreadable-image',
	/** No label column was found or the configured one does not exist; label checks are off. */
	noLabelColumn: 'no-label-column',
	/**
	 * A line is longer than the per-line limit (1 MiB of text by default): it is not parsed (its row is excluded),
	 * so one giant line cannot exhaust memory.
	 */
	lineTooLong: 'line-too-long',
	/**
	 * The bytes are not UTF-8 text: invalid UTF-8 sequences, NUL bytes, or a UTF-16/UTF-32 byte order mark (the
	 * whole file is then not read as text).
	 */
	encoding: 'encoding',
	/** More problems were found than the per-file cap; this summary counts the rest. */
	problemCap: 'problem-cap',
} as const;

/** One of the {@link ProblemCode} values. */
export type ProblemCodeValue = (typeof ProblemCode)[keyof typeof ProblemCode];

/** Codes that are poisoning evidence (as opposed to structure problems); used for precision/recall and trust gating. */
export const POISON_CODES: ReadonlySet<string> = new Set<string>([
	ProblemCode.dirtyLabelDuplicate,
	ProblemCode.dirtyLabelNearDuplicate,
	ProblemCode.nearCloneCluster,
	ProblemCode.spectralSignature,
]);

/** One labelled fact shown in the hover (e.g. "distance to partner" = "12.3"). */
export interface EvidenceItem {
	readonly label: string;
	readonly value: string;
}

/** One finding on one row (or on the file, for summaries). */
export interface Problem {
	/** 1-based line where the finding starts. */
	readonly line: number;
	/** 1-based column (UTF-16 code units, like editor positions) where the finding starts. */
	readonly column: number;
	/** 1-based last line of the range, when the finding spans several lines (a multi-line record). */
	readonly endLine?: number;
	/** 1-based column just past the end of the range, on `endLine` (or `line`). */
	readonly endColumn: number;
	readonly code: ProblemCodeValue;
	readonly severity: Severity;
	readonly message: string;
	/** 1-based start lines of the partner rows (the cluster), empty when none. */
	readonly related: number[];
	/** Facts for the hover; empty when the message says it all. */
	readonly evidence: EvidenceItem[];
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, information: 2 };

/** Orders problems by line, then column, then code, so every consumer sees the same stable order. */
export function compareProblems(a: Problem, b: Problem): number {
	return a.line - b.line || a.column - b.column || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

/**
 * Keeps at most `maxProblems` problems and, when some are dropped, appends one `problem-cap` summary on line 1 that
 * counts the dropped ones per code. Poisoning evidence and errors are kept before lower-severity structure findings,
 * so a flood of non-numeric cells cannot hide a dirty-label cluster.
 */
export function capProblems(problems: readonly Problem[], maxProblems: number): Problem[] {
	const sorted = [...problems].sort(compareProblems);
	if (sorted.length <= maxProblems) {
		return sorted;
	}
	const keepBudget = Math.max(0, maxProblems);
	const priority = (p: Problem): number => (POISON_CODES.has(p.code) ? -1 : SEVERITY_RANK[p.severity]);
	const byPriority = sorted.map((p, i) => ({ p, i })).sort((a, b) => priority(a.p) - priority(b.p) || a.i - b.i);
	const keep = new Set(byPriority.slice(0, keepBudget).map((e) => e.i));
	const kept: Problem[] = [];
	const dropped = new Map<string, number>();
	sorted.forEach((p, i) => {
		if (keep.has(i)) {
			kept.push(p);
		} else {
			dropped.set(p.code, (dropped.get(p.code) ?? 0) + 1);
		}
	});
	const total = sorted.length - kept.length;
	const counts = [...dropped.entries()].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ×${n}`);
	kept.unshift({
		line: 1,
		column: 1,
		endColumn: 1,
		code: ProblemCode.problemCap,
		severity: 'information',
		message: `${total} more problem(s) not shown (cap ${maxProblems} per file): ${counts.join(', ')}`,
		related: [],
		evidence: counts.map((c) => {
			const [code, n] = c.split(' ×');
			return { label: code, value: n };
		}),
	});
	return kept;
}
