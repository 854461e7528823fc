/**
 * The VSIX as users install it: `scripts/package.mjs` (npm run package) builds the universal and the linux-x64
 * platform VSIX from the current build (`--no-build`; run `node esbuild.mjs` first), each is unpacked outside the
 * repository (so nothing resolves from its node_modules), and the packaged analyser is started with the `gpu`
 * backend. The platform VSIX must bring its own `webgpu` (Dawn) and, where the machine has a WebGPU adapter, run on it
 * (CI gets Mesa's lavapipe from `npm test`'s set-up; without an adapter that part skips and says why, test/webgpu.ts);
 * the universal one must fall back to wasm and say why.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AnalyserClient } from '../../src/host/analyser/client';
import { webgpuSkipReason } from '../webgpu';

const root = path.resolve(__dirname, '../..');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-package-'));
const clients: AnalyserClient[] = [];
after(async () => {
	await Promise.all(clients.map((c) => c.dispose()));
	fs.rmSync(tmpRoot, { recursive: true, force: true });
});

function pack(name: string, target: string | null): string {
	const out = path.join(tmpRoot, `${name}.vsix`);
	const r = spawnSync(process.execPath, [path.join(root, 'scripts/package.mjs'), '--no-build', '--out', out, ...(target === null ? [] : ['--target', target])], { cwd: root, encoding: 'utf8', timeout: 120_000 });
	assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
	const dest = path.join(tmpRoot, name);
	// A VSIX is a zip; Python's zipfile module is on every machine that runs these tests.
	const u = spawnSync('python3', ['-m', 'zipfile', '-e', out, dest], { encoding: 'utf8' });
	assert.equal(u.status, 0, u.stderr);
	return path.join(dest, 'extension');
}

async function backendOf(extension: string): Promise<{ name: string; fallbackReason: string | null }> {
	const c = new AnalyserClient({ modulePath: path.join(extension, 'dist', 'analyser.js'), backend: 'gpu', clientName: 'package test' });
	clients.push(c);
	const info = await c.start();
	return { name: info.backend.name, fallbackReason: info.backend.fallbackReason };
}

describe('packaged VSIX (scripts/package.mjs)', { timeout: 300_000 }, () => {
	test('linux-x64 VSIX: carries webgpu with only its own Dawn binary, and its analyser runs on WebGPU', async (t) => {
		assert.ok(fs.existsSync(path.join(root, 'dist', 'analyser.js')), 'dist/analyser.js is missing: run "node esbuild.mjs" first');
		const ext = pack('linux', 'linux-x64');
		assert.ok(fs.existsSync(path.join(ext, 'dist', 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node')));
		assert.deepEqual(fs.readdirSync(path.join(ext, 'dist', 'node_modules', 'webgpu', 'dist')), ['linux-x64']);
		const manifest = fs.readFileSync(path.join(ext, '..', 'extension.vsixmanifest'), 'utf8');
		assert.match(manifest, /TargetPlatform="linux-x64"/);
		assert.ok(!fs.existsSync(path.join(root, 'dist', 'node_modules')), 'the staged copy was not removed from dist/');
		const skip = await webgpuSkipReason();
		if (skip !== null) {
			t.skip(`the packaged analyser's WebGPU run: ${skip}`);
			return;
		}
		const b = await backendOf(ext);
		assert.equal(b.name, 'webgpu', `fell back: ${String(b.fallbackReason)}`);
		assert.equal(b.fallbackReason, null);
	});

	test('universal VSIX: no native binary, and the gpu request falls back to wasm naming the missing package', async () => {
		const ext = pack('universal', null);
		assert.ok(!fs.existsSync(path.join(ext, 'dist', 'node_modules')));
		const b = await backendOf(ext);
		assert.equal(b.name, 'wasm');
		assert.match(b.fallbackReason ?? '', /webgpu/i);
	});
});
