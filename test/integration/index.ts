// Entry point loaded by VS Code as `extensionTestsPath`: runs, inside the real extension host, the mocha (TDD) suites
// of the folder named after the opened workspace (test/integration/<workspace>/*.test.ts), and writes the counts to
// $POISON_LENS_TEST_RESULTS_DIR/<workspace>.json for scripts/integration.mjs.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export async function run(): Promise<void> {
	const folder = vscode.workspace.workspaceFolders?.[0];
	if (!folder) {
		throw new Error('integration tests need a workspace folder');
	}
	const suite = path.basename(folder.uri.fsPath);
	const dir = path.join(__dirname, suite);
	const files = readdirSync(dir).filter((f) => f.endsWith('.test.js'));
	const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec' });
	for (const f of files) {
		mocha.addFile(path.join(dir, f));
	}
	const stats = await new Promise<{ passes: number; failures: number; failed: string[] }>((resolve) => {
		const failed: string[] = [];
		const runner = mocha.run(() => resolve({ passes: runner.stats?.passes ?? 0, failures: runner.stats?.failures ?? 0, failed }));
		runner.on('fail', (test: Mocha.Test, err: Error) => failed.push(`${test.fullTitle()}: ${err.message}`));
	});
	const out = process.env.POISON_LENS_TEST_RESULTS_DIR;
	if (out) {
		mkdirSync(out, { recursive: true });
		writeFileSync(path.join(out, `${suite}.json`), JSON.stringify({ suite, files, ...stats }, null, 2));
	}
	if (stats.failures > 0 || files.length === 0) {
		throw new Error(files.length === 0 ? `no test files in ${dir}` : `${stats.failures} test(s) failed`);
	}
}
