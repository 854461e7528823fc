/**
 * "Quarantine rows": one WorkspaceEdit that deletes rows from the dataset and appends them to the sidecar
 * `<name>.quarantine.<ext>` (created with the header row when it does not exist). Nothing is written silently: the
 * edit leaves both documents dirty, and one Undo restores both.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The sidecar next to a dataset: data.csv → data.quarantine.csv. */
export function quarantineUri(uri: vscode.Uri): vscode.Uri {
	const ext = path.posix.extname(uri.path);
	const base = uri.path.slice(0, uri.path.length - ext.length);
	return uri.with({ path: `${base}.quarantine${ext}` });
}

/** A row to move: 1-based first and last line (records may span lines). */
export interface RowSpan {
	readonly line: number;
	readonly endLine: number;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
	try {
		await vscode.workspace.fs.stat(uri);
		return true;
	} catch {
		return false;
	}
}

/**
 * Builds the quarantine edit.
 * @param hasHeader copy line 1 into a new sidecar so it stays a valid dataset
 */
export async function buildQuarantineEdit(doc: vscode.TextDocument, rows: readonly RowSpan[], hasHeader: boolean): Promise<vscode.WorkspaceEdit> {
	const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
	const spans = [...new Map(rows.map((r) => [r.line, r])).values()]
		.filter((r) => r.line >= 1 && r.endLine <= doc.lineCount && !(hasHeader && r.line === 1))
		.sort((a, b) => a.line - b.line);
	const edit = new vscode.WorkspaceEdit();
	if (spans.length === 0) {
		return edit;
	}
	const moved: string[] = [];
	const blocks: { line: number; endLine: number }[] = [];
	for (const s of spans) {
		const lines: string[] = [];
		for (let l = s.line; l <= s.endLine; l++) {
			lines.push(doc.lineAt(l - 1).text);
		}
		moved.push(lines.join(eol));
		const last = blocks[blocks.length - 1];
		if (last && s.line <= last.endLine + 1) {
			last.endLine = Math.max(last.endLine, s.endLine);
		} else {
			blocks.push({ line: s.line, endLine: s.endLine });
		}
	}
	// Adjacent rows are merged so the deletions never overlap. A block is deleted with its line break; a block that
	// ends the file takes the break before it instead.
	for (const b of blocks) {
		const range = b.endLine < doc.lineCount
			? new vscode.Range(b.line - 1, 0, b.endLine, 0)
			: new vscode.Range(b.line > 1 ? doc.lineAt(b.line - 2).range.end : new vscode.Position(0, 0), doc.lineAt(b.endLine - 1).range.end);
		edit.delete(doc.uri, range, { label: 'Quarantine rows', needsConfirmation: false });
	}
	const target = quarantineUri(doc.uri);
	const meta = { label: 'Quarantine rows', needsConfirmation: false };
	if (await exists(target)) {
		const sidecar = await vscode.workspace.openTextDocument(target);
		const end = sidecar.lineAt(sidecar.lineCount - 1).range.end;
		const lead = sidecar.getText().length === 0 || sidecar.lineAt(sidecar.lineCount - 1).text === '' ? '' : eol;
		edit.insert(target, end, `${lead}${moved.join(eol)}${eol}`, meta);
	} else {
		edit.createFile(target, { ignoreIfExists: true }, meta);
		const header = hasHeader ? `${doc.lineAt(0).text}${eol}` : '';
		edit.insert(target, new vscode.Position(0, 0), `${header}${moved.join(eol)}${eol}`, meta);
	}
	return edit;
}
