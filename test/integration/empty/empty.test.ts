import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { findRuns } from '../../../src/host/runs/runPicker';
import { EXTENSION_ID } from '../helpers';

suite('empty workspace', () => {
	test('the extension does not activate on its own in a workspace without runs', () => {
		const ext = vscode.extensions.getExtension(EXTENSION_ID);
		assert.ok(ext);
		assert.equal(ext.isActive, false);
	});

	test('run discovery finds nothing', async () => {
		assert.deepEqual(await findRuns(), []);
	});
});
