import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activeExtension, waitFor } from '../helpers';

// Runs in the real extension host with test/fixtures/workspaces/datasets/ (a scratch copy) opened. Diagnostics arrive
// asynchronously from the scan worker, so every check polls with a deadline.

const SOURCE = 'Poison Lens';

function folder(): vscode.Uri {
	const f = vscode.workspace.workspaceFolders?.[0];
	if (!f) {
		throw new Error('integration tests need the datasets workspace folder');
	}
	return f.uri;
}

async function openAndWait(name: string, count: number): Promise<{ uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }> {
	const uri = vscode.Uri.joinPath(folder(), name);
	const doc = await vscode.workspace.openTextDocument(uri);
	await vscode.window.showTextDocument(doc);
	const diagnostics = await waitFor(`${count} diagnostics on ${name}`, () => {
		const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === SOURCE);
		return d.length === count ? d : undefined;
	}, 60_000);
	return { uri, diagnostics };
}

function summary(d: vscode.Diagnostic[]): [number, number, string][] {
	return d.map((x): [number, number, string] => [x.range.start.line, x.range.start.character, typeof x.code === 'object' ? String(x.code.value) : String(x.code)])
		.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

suite('datasets workspace', () => {
	suiteSetup(async () => {
		await activeExtension();
	});

	test('structure.csv: the Problems panel shows every structure problem at its line and column', async () => {
		const { diagnostics } = await openAndWait('structure.csv', 9);
		// Same list as test/unit/datasets/fixtures.test.ts, 0-based as the editor counts.
		assert.deepEqual(summary(diagnostics), [
			[3, 0, 'ragged-row'],
			[4, 6, 'non-numeric'],
			[5, 2, 'missing-value'],
			[6, 0, 'missing-label'],
			[7, 2, 'non-finite'],
			[8, 6, 'non-finite'],
			[9, 14, 'ragged-row'],
			[11, 0, 'unknown-label'],
			[15, 10, 'bad-quote'],
		]);
		assert.equal(diagnostics.find((d) => d.code === 'ragged-row')?.severity, vscode.DiagnosticSeverity.Error);
	});

	test('clones.csv: dirty-label and near-clone findings name their partner rows', async () => {
		const { diagnostics } = await openAndWait('clones.csv', 5);
		assert.deepEqual(summary(diagnostics), [
			[121, 0, 'dirty-label-near-duplicate'],
			[122, 0, 'dirty-label-duplicate'],
			[123, 0, 'near-clone-cluster'],
			[124, 0, 'near-clone-cluster'],
			[125, 0, 'near-clone-cluster'],
		]);
		const near = diagnostics.find((d) => d.code === 'dirty-label-near-duplicate');
		assert.deepEqual(near?.relatedInformation?.map((r) => r.location.range.start.line), [9]);
		assert.equal(near?.severity, vscode.DiagnosticSeverity.Warning);
	});

	test('hover shows the evidence and the quick fixes are offered', async () => {
		const uri = vscode.Uri.joinPath(folder(), 'clones.csv');
		const pos = new vscode.Position(121, 2);
		const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos);
		const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
		assert.match(text, /nearest partner distance/);
		assert.match(text, /median NN distance/);
		const actions = await waitFor('code actions', async () => {
			const a = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, new vscode.Range(pos, pos));
			return a.some((x) => x.title.startsWith('Show cluster')) ? a : undefined;
		});
		const titles = actions.map((a) => a.title);
		assert.ok(titles.includes('Show cluster (2 rows)'), titles.join(' | '));
		assert.ok(titles.includes('Quarantine this row to clones.quarantine.csv'), titles.join(' | '));
		assert.ok(titles.includes('Ignore this finding'), titles.join(' | '));
	});

	test('"Ignore this finding" removes the diagnostic and keeps it ignored after a rescan', async () => {
		const { uri } = await openAndWait('structure.csv', 9);
		await vscode.commands.executeCommand('poisonLens.dataset.ignoreFinding', uri.toString(), 12, 'unknown-label');
		const after = await waitFor('8 diagnostics', () => {
			const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === SOURCE);
			return d.length === 8 ? d : undefined;
		});
		assert.ok(!after.some((d) => d.code === 'unknown-label'));
		await vscode.commands.executeCommand('poisonLens.dataset.rescan');
		await vscode.commands.executeCommand('poisonLens.dataset.resetIgnored');
		await waitFor('the finding back after reset', () => (vscode.languages.getDiagnostics(uri).some((d) => d.code === 'unknown-label') ? true : undefined));
	});

	test('"Quarantine rows" moves the row to the sidecar in one edit, leaving both files unsaved', async () => {
		const uri = vscode.Uri.joinPath(folder(), 'clones.csv');
		const doc = await vscode.workspace.openTextDocument(uri);
		const row = doc.lineAt(121).text;
		const header = doc.lineAt(0).text;
		const lines = doc.lineCount;
		await vscode.commands.executeCommand('poisonLens.dataset.quarantineRows', uri.toString(), [{ line: 122, endLine: 122 }]);
		assert.equal(doc.lineCount, lines - 1);
		assert.ok(!doc.getText().includes(row));
		assert.ok(doc.isDirty);
		const sidecarUri = vscode.Uri.joinPath(folder(), 'clones.quarantine.csv');
		const sidecar = await vscode.workspace.openTextDocument(sidecarUri);
		assert.equal(sidecar.getText(), `${header}\n${row}\n`);
		// The rescan of the edited text drops the moved row's finding; the other four remain (shifted up one line).
		await waitFor('4 findings after the quarantine', () => {
			const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === SOURCE);
			return d.length === 4 ? d : undefined;
		}, 60_000);
		// Leave nothing unsaved behind for the shutdown.
		for (const d of [sidecar, doc]) {
			await vscode.window.showTextDocument(d);
			await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
		}
	});
});

suite('datasets: files too large for VS Code to sync', () => {
	test('a 60 MB CSV, which extensions get no TextDocument for, still gets diagnostics through its tab', async function () {
		this.timeout(150_000);
		const uri = vscode.Uri.joinPath(folder(), 'big.csv');
		const parts: string[] = [`label,${Array.from({ length: 30 }, (_, j) => `f${j}`).join(',')}\n`];
		for (let i = 0; bytes(parts) < 60_000_000; i++) {
			parts.push(i === 5 ? `1,${Array.from({ length: 30 }, () => 'x').join(',')}\n` : `${i % 3},${Array.from({ length: 30 }, (_, j) => (i / 1000 + j).toFixed(3)).join(',')}\n`);
		}
		await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(parts.join('')));
		await vscode.commands.executeCommand('vscode.open', uri);
		assert.equal(vscode.workspace.textDocuments.some((t) => t.uri.toString() === uri.toString()), false, 'VS Code synced the document after all');
		const d = await waitFor('diagnostics on big.csv', () => {
			const x = vscode.languages.getDiagnostics(uri).filter((q) => q.source === SOURCE);
			return x.length > 0 ? x : undefined;
		}, 140_000);
		assert.ok(d.some((q) => q.code === 'non-numeric' && q.range.start.line === 6), JSON.stringify(d.slice(0, 3).map((q) => [q.range.start.line, q.code])));
		await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
		await waitFor('diagnostics gone after closing the tab', () => (vscode.languages.getDiagnostics(uri).length === 0 ? true : undefined));
	});
});

let byteCount = 0;
let counted = 0;
/** Running length of the parts written so far (avoids re-joining 60 MB on every row). */
function bytes(parts: string[]): number {
	for (; counted < parts.length; counted++) {
		byteCount += parts[counted].length;
	}
	return byteCount;
}
