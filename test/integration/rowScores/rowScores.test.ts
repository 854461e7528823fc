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
});
