// For developers with a desktop VS Code: `npx @vscode/test-cli` (install it first) runs the same mocha suites in an
// Electron VS Code through @vscode/test-electron. CI never uses this: it cannot download VS Code offline, and a stub
// executable would give a green run in which nothing ran. CI uses code-server instead (scripts/integration.mjs).
import { defineConfig } from '@vscode/test-cli';

export default defineConfig(
	['runs', 'empty', 'datasets'].map((ws) => ({
		label: ws,
		files: `out/test/integration/${ws}/*.test.js`,
		workspaceFolder: `test/fixtures/workspaces/${ws}`,
		version: '1.100.0',
		mocha: { ui: 'tdd', timeout: 60000 },
	})),
);
