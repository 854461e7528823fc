/**
 * The install path the README gives a user, done exactly that way in a scratch project outside the repository:
 *   npm pack (this repository, current build)  →  poison-lens-<version>.tgz
 *   npm install ./poison-lens-<version>.tgz @tensorflow/tfjs@<the repo's version>   (from the npm registry, cache first)
 *   node train.mjs     (import { PoisonLens, crossAttack } from 'poison-lens/sdk'; a tiny CNN on synthetic images)
 *   npx poison-lens analyse .poison-lens/runs/<run> --json out.json
 * Nothing resolves from this repository's node_modules: the scratch folder is in os.tmpdir().
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-install-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): { code: number | null; out: string; stdout: string; stderr: string } {
	const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
	return { code: r.status, out: `$ ${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`, stdout: r.stdout, stderr: r.stderr };
}

const TRAIN = `
import * as tf from '@tensorflow/tfjs';
import { PoisonLens, crossAttack } from 'poison-lens/sdk';

// Two classes of 12×12 grey images: a bright left half (class 0) or a bright right half (class 1), plus noise.
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
function images(n) {
	const xs = new Float32Array(n * 144), labels = new Int32Array(n);
	for (let i = 0; i < n; i++) {
		labels[i] = i % 2;
		for (let r = 0; r < 12; r++) for (let c = 0; c < 12; c++) xs[i * 144 + r * 12 + c] = ((c < 6) === (labels[i] === 0) ? 0.6 : 0.1) + 0.2 * rand();
	}
	return { images: xs, labels, itemShape: [12, 12, 1] };
}
const train = crossAttack(images(400), { fraction: 0.05, targetLabel: 0, seed: 1 });
const test = images(64);
const model = tf.sequential({ layers: [
	tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
	tf.layers.maxPooling2d({ poolSize: 2 }),
	tf.layers.flatten(),
	tf.layers.dense({ units: 2, activation: 'softmax' }),
] });
model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const xs = tf.tensor4d(train.images, [train.labels.length, 12, 12, 1]);
const ys = tf.oneHot(tf.tensor1d(train.labels, 'int32'), 2);
const lens = await PoisonLens.start({
	runName: 'scratch',
	probe: { xs: { values: test.images, itemShape: [12, 12, 1] }, labels: test.labels, size: 64 },
	trainSample: { xs: { values: train.images, itemShape: [12, 12, 1] }, labels: train.labels, size: 128 },
	attack: train,
	checkpointEvery: 'epoch',
	dataset: { name: 'synthetic-halves', numClasses: 2 },
});
await model.fit(xs, ys, { epochs: 3, batchSize: 32, callbacks: [lens.callback()], verbose: 0 });
await lens.end();
console.log('RUN ' + lens.runDir);
`;

describe('install from the packed tarball into another project (README "Use it in your own project")', { timeout: 900_000 }, () => {
	test('npm pack → npm install ./poison-lens-<v>.tgz @tensorflow/tfjs → train with poison-lens/sdk → npx poison-lens analyse', () => {
		assert.ok(fs.existsSync(path.join(root, 'dist', 'cli.js')) && fs.existsSync(path.join(root, 'dist', 'sdk', 'index.mjs')), 'build first: node esbuild.mjs');
		// --ignore-scripts: pack the build under test instead of rebuilding it (npm pack would run `prepare`).
		const packed = sh(npm, ['pack', '--ignore-scripts', '--pack-destination', scratch], root);
		assert.equal(packed.code, 0, packed.out);
		const tgz = `poison-lens-${pkg.version}.tgz`;
		assert.ok(fs.existsSync(path.join(scratch, tgz)), packed.out);

		const project = path.join(scratch, 'my-project');
		fs.mkdirSync(project);
		fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-project', version: '1.0.0', private: true, type: 'module' }, null, 2));
		const tfjs = `@tensorflow/tfjs@${pkg.devDependencies['@tensorflow/tfjs']}`;
		const installed = sh(npm, ['install', '--prefer-offline', '--no-package-lock', `../${tgz}`, tfjs], project, 600_000);
		assert.equal(installed.code, 0, installed.out);
		// Installed as a user gets it: only the files the package ships, the bin linked.
		const inst = path.join(project, 'node_modules', 'poison-lens');
		assert.ok(fs.existsSync(path.join(inst, 'dist', 'cli.js')));
		assert.ok(!fs.existsSync(path.join(inst, 'src')), 'sources are not shipped');
		assert.ok(fs.existsSync(path.join(project, 'node_modules', '.bin', 'poison-lens')));

		fs.writeFileSync(path.join(project, 'train.mjs'), TRAIN);
		const trained = sh(process.execPath, ['train.mjs'], project);
		assert.equal(trained.code, 0, trained.out);
		const runDir = /^RUN (.+)$/m.exec(trained.stdout)?.[1];
		assert.ok(runDir !== undefined && runDir.startsWith(path.join(project, '.poison-lens', 'runs')), trained.out);

		const rel = path.relative(project, runDir);
		const analysed = sh(npx, ['--no-install', 'poison-lens', 'analyse', rel, '--backend', 'wasm', '--json', 'out.json'], project);
		assert.equal(analysed.code, 0, analysed.out);
		assert.match(analysed.stdout, /^backend wasm/m);
		assert.match(analysed.stdout, /^verdict: (clean|early-warning|visible|lagging|invisible)/m);
		assert.doesNotMatch(analysed.out, /Hi, looks like you are running TensorFlow\.js|BackendVk\.cpp|Couldn't load Vulkan/);
		const json = JSON.parse(fs.readFileSync(path.join(project, 'out.json'), 'utf8')) as { run: string; checkpoints: { step: number; error: string | null; asr: number | null }[] };
		assert.equal(json.run, runDir);
		assert.ok(json.checkpoints.length >= 2, `checkpoints: ${json.checkpoints.length}`);
		for (const c of json.checkpoints) {
			assert.equal(c.error, null, `step ${c.step}: ${String(c.error)}`);
			assert.equal(typeof c.asr, 'number');
		}

		// The CLI's help answers from the installed package too.
		const help = sh(npx, ['--no-install', 'poison-lens', '--help'], project);
		assert.equal(help.code, 0, help.out);
		assert.match(help.stdout, /analyse/);
	});
});
