// One build script for every bundle.
//   extension  src/extension.ts      -> dist/extension.js   node, cjs, `vscode` external
//   analyser   src/analyser/main.ts  -> dist/analyser.js    node, cjs (its own process), wasm files beside it
//   cli        src/cli/main.ts       -> dist/cli.js         node, cjs, shebang (package `bin`)
//   scanWorker src/datasets/scanWorker.ts -> dist/scanWorker.js  node worker thread
//   rowWorker  src/analyser/analysis/rowWorker.ts -> dist/rowWorker.js  node worker thread (blind mode, stage 1)
//   webview    webview/main.ts       -> dist/webview.js     browser, iife, Chart.js bundled (no CDN)
//   sdk        src/sdk/index.ts      -> dist/sdk/index.{mjs,cjs} (+ .d.ts by tsc), @tensorflow/* external
//   tests      test/integration/**   -> out/test/integration/** (mocha suites run inside VS Code)
// Flags: --production (minify, no source maps), --watch.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const root = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(root, 'dist');

/** Prints errors in the form VS Code's esbuild problem matcher reads (esbuild-sample). */
const problemMatcher = {
	name: 'problem-matcher',
	setup(build) {
		build.onStart(() => console.log('[watch] build started'));
		build.onEnd((result) => {
			for (const { text, location } of result.errors) {
				console.error(`✘ [ERROR] ${text}`);
				if (location) {
					console.error(`    ${location.file}:${location.line}:${location.column}:`);
				}
			}
			console.log('[watch] build finished');
		});
	},
};

const common = {
	bundle: true,
	minify: production,
	sourcemap: production ? false : 'linked',
	sourcesContent: false,
	logLevel: 'warning',
	target: 'node20',
	plugins: watch ? [problemMatcher] : [],
};

function listFiles(dir, pattern) {
	if (!existsSync(dir)) {
		return [];
	}
	const out = [];
	for (const name of readdirSync(dir)) {
		const full = path.join(dir, name);
		if (statSync(full).isDirectory()) {
			out.push(...listFiles(full, pattern));
		} else if (pattern.test(name)) {
			out.push(full);
		}
	}
	return out;
}

const configs = [];
function node(entry, outfile, extra = {}) {
	if (existsSync(path.join(root, entry))) {
		configs.push({ ...common, platform: 'node', format: 'cjs', entryPoints: [path.join(root, entry)], outfile: path.join(dist, outfile), ...extra });
	}
}

node('src/extension.ts', 'extension.js', { external: ['vscode'] });
// `webgpu` (Dawn) is ESM and loads its native dawn.node relative to itself: it stays a runtime dependency.
node('src/analyser/main.ts', 'analyser.js', { external: ['webgpu'] });
node('src/cli/main.ts', 'cli.js', { banner: { js: '#!/usr/bin/env node' }, external: ['webgpu'] });
node('src/datasets/scanWorker.ts', 'scanWorker.js');
// Blind mode's per-row stage 1 on worker threads (src/analyser/analysis/parallelRows.ts); wasm files are beside it.
node('src/analyser/analysis/rowWorker.ts', 'rowWorker.js', { external: ['webgpu'] });
if (existsSync(path.join(root, 'webview/main.ts'))) {
	configs.push({ ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: [path.join(root, 'webview/main.ts')], outfile: path.join(dist, 'webview.js') });
}
if (existsSync(path.join(root, 'src/sdk/index.ts'))) {
	for (const [format, ext] of [['esm', 'mjs'], ['cjs', 'cjs']]) {
		configs.push({
			...common,
			platform: 'node',
			format,
			entryPoints: [path.join(root, 'src/sdk/index.ts')],
			outfile: path.join(dist, 'sdk', `index.${ext}`),
			// tfjs is a peer dependency: the SDK must use the training script's own copy, never a second one.
			external: ['@tensorflow/*'],
		});
	}
}
const integrationTests = listFiles(path.join(root, 'test/integration'), /\.ts$/);
if (integrationTests.length > 0) {
	configs.push({
		...common,
		minify: false,
		sourcemap: 'inline',
		platform: 'node',
		format: 'cjs',
		entryPoints: integrationTests,
		outbase: path.join(root, 'test/integration'),
		outdir: path.join(root, 'out/test/integration'),
		external: ['vscode', 'mocha'],
	});
}

/** The wasm backend loads its .wasm files from next to the bundle (setWasmPaths(__dirname)). */
function copyWasm() {
	const src = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
	mkdirSync(dist, { recursive: true });
	for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
		copyFileSync(path.join(src, f), path.join(dist, f));
	}
}

function sdkDeclarations() {
	if (!existsSync(path.join(root, 'src/sdk/index.ts'))) {
		return;
	}
	const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
	const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.sdk.json')], { stdio: 'inherit' });
	if (r.status !== 0) {
		throw new Error('SDK declaration build failed');
	}
}

if (watch) {
	copyWasm();
	const contexts = await Promise.all(configs.map((c) => esbuild.context(c)));
	await Promise.all(contexts.map((c) => c.watch()));
} else {
	rmSync(path.join(root, 'out/test/integration'), { recursive: true, force: true });
	await Promise.all(configs.map((c) => esbuild.build(c)));
	copyWasm();
	sdkDeclarations();
}
