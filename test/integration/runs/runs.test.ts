import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { findRuns, toPickItems } from '../../../src/host/runs/runPicker';
import { isBroken } from '../../../src/protocol/runSummary';
import { EXTENSION_ID, activeExtension, waitFor } from '../helpers';

suite('runs workspace', () => {
	test('the extension activates because the workspace contains a run manifest', async () => {
		const ext = vscode.extensions.getExtension(EXTENSION_ID);
		assert.ok(ext, 'extension loaded from its development folder');
		// Activation comes from `workspaceContains`, not from this test calling activate().
		await waitFor('activation by workspaceContains', () => (ext.isActive ? true : undefined));
		assert.equal(vscode.version.split('.').slice(0, 2).join('.'), '1.100');
		console.log(`[poison-lens] VS Code ${vscode.version}, ${vscode.env.appName}, uiKind=${vscode.env.uiKind}`);
	});

	test('both commands are registered under their ids', async () => {
		await activeExtension();
		const commands = await vscode.commands.getCommands(true);
		assert.ok(commands.includes('poisonLens.analysePoisoning'));
		assert.ok(commands.includes('poisonLens.openDashboard'));
	});

	test('run discovery finds both fixture runs, newest first, with their status', async () => {
		const runs = await findRuns();
		assert.equal(runs.length, 2, JSON.stringify(runs));
		const names = runs.map((r) => (isBroken(r) ? r.error : r.manifest.name));
		assert.deepEqual(names, ['cnn-cross-theta-1pct', 'cnn-clean-baseline']);
		const statuses = runs.map((r) => (isBroken(r) ? 'broken' : r.status));
		assert.deepEqual(statuses, ['interrupted', 'finished']);
		const items = toPickItems(runs);
		assert.match(items[0]?.description ?? '', /interrupted/);
		assert.match(items[1]?.detail ?? '', /\.poison-lens\/runs\/clean-baseline$/);
	});
});
