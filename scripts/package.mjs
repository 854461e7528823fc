// npm run package [-- --target <platform>] [--no-build] [--out file.vsix]
//
// Without --target: the universal VSIX (dist/poison-lens.vsix). The analyser's `gpu` backend needs the `webgpu`
// package's native Dawn binary, which differs per platform, so the universal VSIX carries none and `gpu` falls back
// to wasm there (with the reason shown).
// With --target (a VS Code platform: linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64):
// a platform VSIX (dist/poison-lens-<target>.vsix) that also carries `webgpu` with that platform's binary, staged as
// dist/node_modules/webgpu/ so that dist/analyser.js resolves it next to itself. Marketplaces serve each user the
// VSIX of their platform (vsce publish --target).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** VS Code platform → the folder of node_modules/webgpu/dist holding its binary. */
export const WEBGPU_FOLDERS = {
	'linux-x64': 'linux-x64',
	'linux-arm64': 'linux-arm64',
	'darwin-x64': 'darwin-universal',
	'darwin-arm64': 'darwin-universal',
	'win32-x64': 'win32-x64',
	'win32-arm64': 'win32-arm64',
};

function parse(argv) {
	const o = { target: null, build: true, out: null };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--target') {
			o.target = argv[++i];
			if (!(o.target in WEBGPU_FOLDERS)) {
				throw new Error(`--target: '${o.target}' is not one of ${Object.keys(WEBGPU_FOLDERS).join(', ')}`);
			}
		} else if (a === '--no-build') {
			o.build = false;
		} else if (a === '--out') {
			o.out = argv[++i];
			if (!o.out) {
				throw new Error('--out needs a file name');
			}
		} else {
			throw new Error(`unknown argument '${a}' (known: --target <platform>, --no-build, --out <file.vsix>)`);
		}
	}
	return o;
}

function run(cmd, args) {
	const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
	if (r.status !== 0) {
		throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
	}
}

function main() {
	const o = parse(process.argv.slice(2));
	if (o.build) {
		run(process.execPath, ['esbuild.mjs', '--production']);
	}
	const staged = path.join(root, 'dist', 'node_modules');
	rmSync(staged, { recursive: true, force: true });
	const out = o.out ?? path.join('dist', o.target === null ? 'poison-lens.vsix' : `poison-lens-${o.target}.vsix`);
	const vsce = [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out];
	try {
		if (o.target !== null) {
			const src = path.join(root, 'node_modules', 'webgpu');
			const folder = WEBGPU_FOLDERS[o.target];
			if (!existsSync(path.join(src, 'dist', folder, 'dawn.node'))) {
				throw new Error(`node_modules/webgpu/dist/${folder}/dawn.node is missing: npm ci installs it`);
			}
			const dest = path.join(staged, 'webgpu');
			mkdirSync(path.join(dest, 'dist'), { recursive: true });
			for (const f of ['package.json', 'index.js', 'LICENSE.md']) {
				cpSync(path.join(src, f), path.join(dest, f));
			}
			cpSync(path.join(src, 'dist', folder), path.join(dest, 'dist', folder), { recursive: true });
			vsce.push('--target', o.target);
		}
		run(process.execPath, vsce);
	} finally {
		// The staged copy is for the VSIX only; in the repository dist/analyser.js finds node_modules/webgpu anyway.
		rmSync(staged, { recursive: true, force: true });
	}
	process.stdout.write(`packaged ${out}\n`);
}

try {
	main();
} catch (e) {
	process.stderr.write(`package: ${e instanceof Error ? e.message : String(e)}\n`);
	process.exit(1);
}
