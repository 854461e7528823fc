import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activeExtension, waitFor } from '../helpers';

// Runs in the real extension host on a scratch workspace the harness generates with the product itself
// (test/fixtures/signature/makeSignatureRun.ts): data/train.csv (real MNIST 14×14, a BadNets patch in 3 % of the
// rows) and a run of a small CNN trained on it with the SDK. Opening the CSV must bring the analyser's
// spectral-signature findings onto the poisoned rows.

function folder(): vscode.Uri {
	const f = vscode.workspace.workspaceFolders?.[0];
	if (!f) {
		throw new Error('integration tests need the rowScores workspace folder');
	}
	return f.uri;
}

/** 1-based lines of the rows the run says it poisoned (row i is line i + 2: a header, then data). */
function poisonedLines(): Set<number> {
	const runs = path.join(folder().fsPath, '.poison-lens', 'runs');
	const [run] = fs.readdirSync(runs);
	const manifest = JSON.parse(fs.readFileSync(path.join(runs, run, 'manifest.json'), 'utf8')) as { attack: { poisonedRows: number[] } };
	return new Set(manifest.attack.poisonedRows.map((r) => r + 2));
}

suite('row scores from a run trained on the dataset', () => {
	suiteSetup(async () => {
		await activeExtension();
	});

	test('data/train.csv: spectral-signature warnings sit on the poisoned rows (precision and recall ≥ 0.9)', async function () {
		this.timeout(180_000);
		const uri = vscode.Uri.joinPath(folder(), 'data', 'train.csv');
		await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
		const found = await waitFor('spectral-signature diagnostics', () => {
			const d = vscode.languages.getDiagnostics(uri).filter((x) => x.code === 'spectral-signature');
			return d.length > 0 ? d : undefined;
		}, 170_000);
		const truth = poisonedLines();
		const lines = found.map((d) => d.range.start.line + 1);
		const tp = lines.filter((l) => truth.has(l)).length;
		console.log(`row scores in the editor: ${found.length} flagged, ${tp} of ${truth.size} poisoned rows`);
		assert.ok(tp / found.length >= 0.9, `precision ${tp}/${found.length}`);
		assert.ok(tp / truth.size >= 0.9, `recall ${tp}/${truth.size}`);
		for (const d of found) {
			assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
			assert.ok((d.relatedInformation?.length ?? 0) > 0, 'names the other rows of its group');
		}
		const first = found[0];
		const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, first.range.start);
		const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
		assert.match(text, /threshold/);
		assert.match(text, /S ≥ 40/);
		assert.match(text, /mnist14 badnets 3% \(signature fixture\)/);
		const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, first.range);
		assert.ok(actions.some((a) => a.title.startsWith('Quarantine')), actions.map((a) => a.title).join(' | '));
	});

	test('after an edit that drops a row, the run no longer matches: one row-scores-unmatched note on line 1, no quarantine offered there', async function () {
		this.timeout(180_000);
		const uri = vscode.Uri.joinPath(folder(), 'data', 'train.csv');
		const doc = await vscode.workspace.openTextDocument(uri);
		await vscode.window.showTextDocument(doc);
		const dropped = doc.getText(new vscode.Range(1, 0, 2, 0));
		const edit = new vscode.WorkspaceEdit();
		edit.delete(uri, new vscode.Range(1, 0, 2, 0));
		assert.ok(await vscode.workspace.applyEdit(edit));
		const note = await waitFor('row-scores-unmatched', () => {
			const d = vscode.languages.getDiagnostics(uri);
			return d.some((x) => x.code === 'row-scores-unmatched') && !d.some((x) => x.code === 'spectral-signature') ? d.find((x) => x.code === 'row-scores-unmatched') : undefined;
		}, 170_000);
		assert.equal(note.range.start.line, 0);
		assert.equal(note.severity, vscode.DiagnosticSeverity.Information);
		assert.match(note.message, /trained on 2000 rows but this file has 1999 data rows/);
		const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, note.range);
		assert.ok(!actions.some((a) => a.title.startsWith('Quarantine')), actions.map((a) => a.title).join(' | '));
		// Put the row back and save (same bytes as before), so no dirty buffer is restored into the UI scenario's window.
		const undo = new vscode.WorkspaceEdit();
		undo.insert(uri, new vscode.Position(1, 0), dropped);
		assert.ok(await vscode.workspace.applyEdit(undo));
		assert.ok(await doc.save());
		await waitFor('the spectral-signature findings back', () => (vscode.languages.getDiagnostics(uri).some((x) => x.code === 'spectral-signature') ? true : undefined), 170_000);
	});
});
