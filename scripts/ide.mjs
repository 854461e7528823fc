#!/usr/bin/env node
// `npm run ide`: code-server on localhost with Poison Lens loaded from this folder (unpackaged) and a sample workspace.
// Usage: npm run ide [-- --port 8080] [-- <folder>]
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './tools.mjs';
import { startCodeServer } from './integration.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const portIdx = args.indexOf('--port');
const port = portIdx >= 0 ? Number(args[portIdx + 1]) : 8080;
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--port');
let folder = positional[0] ? path.resolve(positional[0]) : path.join(root, '.tools', 'sample-workspace');
if (!positional[0] && !existsSync(folder)) {
	mkdirSync(folder, { recursive: true });
	cpSync(path.join(root, 'test/fixtures/workspaces/runs'), folder, { recursive: true });
	if (existsSync(path.join(root, 'test/fixtures/workspaces/datasets'))) {
		cpSync(path.join(root, 'test/fixtures/workspaces/datasets'), folder, { recursive: true });
	}
}
ensureTools();
if (spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { stdio: 'inherit', cwd: root }).status !== 0) {
	process.exit(1);
}
const server = await startCodeServer({ port, persistent: true });
const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
const payload = JSON.stringify([['extensionDevelopmentPath', remote(root)], ['skipWelcome', 'true']]);
console.log(`\nPoison Lens is loaded in code-server (VS Code ${server.version.split(' ').pop()}). Open:\n\n  ${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}\n\nPress Ctrl-C to stop.`);
const stop = () => {
	server.stop();
	process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
