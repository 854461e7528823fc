import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { applyEdits, codeMask, findFitCalls, guessProbe, needsInstrumentation, planInstrumentation, visibleNames } from '../../../src/instrument/plan';

const fixtures = path.resolve(__dirname, '../../fixtures');
const current = fs.readFileSync(path.join(fixtures, 'instrument/mnist-node-main-current.js'), 'utf8');
const old = fs.readFileSync(path.join(fixtures, 'instrument/mnist-node-main-2018.js'), 'utf8');

describe('instrumentation plan', () => {
	test('tfjs-examples mnist-node main.js (current): import after the requires, skeleton, callback, end; still parses', () => {
		const plan = planInstrumentation(current, { runName: 'main' });
		assert.ok(plan);
		const out = applyEdits(current, plan.edits);
		assert.ok(out.startsWith(current.slice(0, current.indexOf('*/') + 2)), 'licence header kept');
		assert.match(out, /const model = require\('\.\/model'\);\nconst \{ PoisonLens \} = require\('poison-lens\/sdk'\);\n/);
		assert.match(out, /\n {2}const lens = await PoisonLens\.start\(\{\n {4}runName: 'main',\n[\s\S]*probe: \{ xs: trainImages, labels: trainLabels \},[\s\S]*trainSample: \{ xs: trainImages, labels: trainLabels \},[\s\S]*\}\);\n {2}await model\.fit\(trainImages, trainLabels, \{\n {4}callbacks: \[lens\.callback\(\)\],\n {4}epochs,/);
		assert.match(out, /validationSplit\n {2}\}\);\n {2}await lens\.end\(\);\n/);
		assert.equal(plan.probe.guessed, false);
		// The edited script is valid JavaScript (compiled, not run).
		assert.doesNotThrow(() => new vm.Script(`(async () => {${out}})`));
		assert.equal(needsInstrumentation(out), false, 'an instrumented script is not offered again');
	});

	test('2018 version: a plain callbacks object is wrapped in tf.CustomCallback after the recorder', () => {
		const plan = planInstrumentation(old);
		assert.ok(plan);
		const out = applyEdits(old, plan.edits);
		assert.match(out, /callbacks: \[lens\.callback\(\), new tf\.CustomCallback\(\{\n {6}onEpochBegin:/);
		assert.match(out, /\n {6}\}\n {4}\}\)\]\n {2}\}\);\n {2}await lens\.end\(\);/);
		assert.doesNotThrow(() => new vm.Script(`(async () => {${out}})`));
	});

	test('ESM TypeScript with fitDataset, array callbacks and a visible test split', () => {
		const src = [
			"import * as tf from '@tensorflow/tfjs';",
			"import { load } from './data';",
			'',
			'export async function train(model: tf.LayersModel): Promise<void> {',
			'  const { xs: testXs, ys: testLabels } = load("test");',
			'  const ds = load("train").dataset;',
			'  // model.fit(old) in a comment is ignored',
			'  const h = await model.fitDataset(ds, { epochs: 3, callbacks: [tf.callbacks.earlyStopping()] });',
			'  console.log(h);',
			'}',
			'',
		].join('\n');
		assert.equal(findFitCalls(src).length, 1);
		const plan = planInstrumentation(src, { sdkModule: '../dist/sdk/index.mjs' });
		assert.ok(plan);
		const out = applyEdits(src, plan.edits);
		assert.match(out, /^import \{ load \} from '\.\/data';\nimport \{ PoisonLens \} from '\.\.\/dist\/sdk\/index\.mjs';\n/m);
		assert.match(out, /probe: \{ xs: testXs, labels: testLabels \}/);
		assert.match(out, /callbacks: \[lens\.callback\(\), tf\.callbacks\.earlyStopping\(\)\]/);
		assert.match(out, /console\.log\(h\);/);
		assert.match(out, /\(\)\] \}\);\n {2}await lens\.end\(\);\n {2}console\.log/);
		assert.match(out, /\/\/ TODO: trainSample:/);
		assert.equal(plan.probe.guessed, true);
	});

	test('fit without options gets one; options held in a variable are spread', () => {
		const a = "const tf = require('@tensorflow/tfjs');\nasync function f(m, x, y) {\n  await m.fit(x, y);\n}\n";
		const pa = planInstrumentation(a);
		assert.ok(pa);
		assert.match(applyEdits(a, pa.edits), /await m\.fit\(x, y, \{ callbacks: \[lens\.callback\(\)\] \}\);\n {2}await lens\.end\(\);/);
		const b = "const tf = require('@tensorflow/tfjs');\nasync function f(m, x, y, opts) {\n  await m.fit(x, y, opts);\n}\n";
		const pb = planInstrumentation(b);
		assert.ok(pb);
		assert.match(applyEdits(b, pb.edits), /m\.fit\(x, y, \{ \.\.\.opts, callbacks: \[lens\.callback\(\), \.\.\.\[\]\.concat\(opts\.callbacks \?\? \[\]\)\.map\(\(c\) => \(c instanceof tf\.Callback \? c : new tf\.CustomCallback\(c\)\)\)\] \}\)/);
	});

	test('not offered: no tfjs import, SDK already used, fit only in strings or comments', () => {
		assert.equal(needsInstrumentation('model.fit(x, y);'), false);
		assert.equal(needsInstrumentation("import * as tf from '@tensorflow/tfjs';\nimport { PoisonLens } from 'poison-lens/sdk';\nmodel.fit(x, y);"), false);
		assert.equal(needsInstrumentation("import * as tf from '@tensorflow/tfjs';\n// model.fit(x)\nconst s = 'model.fit(x)';\nconst t = `${'a'}.fit(`;"), false);
	});

	test('lexer: strings, comments and template literals are not code', () => {
		const t = 'a("x(") /* ( */ `b${c(1)}(` // (';
		const m = codeMask(t);
		const code = [...t].filter((_, i) => m[i] === 1).join('');
		assert.equal(code, 'a()  c(1) ');
		const fn = 'function g(p, q = 1) { const {images: trainImages, labels} = d; let [u, v] = w; var z; }';
		assert.deepEqual(visibleNames(fn, fn.length), ['trainImages', 'labels', 'u', 'v', 'z', 'p', 'q']);
		assert.deepEqual(guessProbe(['trainXs', 'valImages', 'valLabels']), { xs: 'valImages', labels: 'valLabels' });
		assert.equal(guessProbe(['trainXs', 'trainYs']), null);
	});
});
