/**
 * Problem → vscode.Diagnostic conversion and the per-finding fingerprint used by "Ignore this finding".
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { Problem } from '../../datasets/problem';

/** `Diagnostic.source` of every dataset diagnostic; code actions only act on diagnostics with this source. */
export const DIAGNOSTIC_SOURCE = 'Poison Lens';

/** Most partner rows listed as related information on one diagnostic. */
const MAX_RELATED_INFO = 20;

const SEVERITY: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
	error: vscode.DiagnosticSeverity.Error,
	warning: vscode.DiagnosticSeverity.Warning,
	information: vscode.DiagnosticSeverity.Information,
};

/** Editor range of a problem (Problem positions are 1-based), clamped to the document when one is given. */
export function problemRange(p: Problem, doc?: vscode.TextDocument): vscode.Range {
	const range = new vscode.Range(p.line - 1, p.column - 1, (p.endLine ?? p.line) - 1, Math.max(p.endColumn - 1, p.column - 1));
	return doc ? doc.validateRange(range) : range;
}

/** The key that finds a problem again from a diagnostic handed back by VS Code (a copy, not the same object). */
export function problemKey(line0: number, character0: number, code: string): string {
	return `${line0}:${character0}:${code}`;
}

/** Converts one problem; partner rows become related information so the Problems panel can jump to them. */
export function toDiagnostic(p: Problem, uri: vscode.Uri, doc?: vscode.TextDocument): vscode.Diagnostic {
	const d = new vscode.Diagnostic(problemRange(p, doc), p.message, SEVERITY[p.severity]);
	d.source = DIAGNOSTIC_SOURCE;
	d.code = p.code;
	if (p.related.length > 0) {
		d.relatedInformation = p.related.slice(0, MAX_RELATED_INFO).map((line) =>
			new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, new vscode.Position(line - 1, 0)), `partner row (line ${line})`));
	}
	return d;
}

/**
 * Identity of a finding that survives unrelated edits: the code plus a hash of the row's text, so ignoring a finding
 * on line 120 still ignores it after a line is inserted above.
 */
export function fingerprint(code: string, rowText: string): string {
	return `${code}:${crypto.createHash('sha1').update(rowText).digest('hex').slice(0, 16)}`;
}
