import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseDemoArgs } from '../../../src/cli/demo';

describe('poison-lens demo arguments', () => {
	test('defaults', () => {
		const o = parseDemoArgs([], '/ws');
		assert.notEqual(o, 'help');
		if (o === 'help') {
			return;
		}
		assert.equal(o.poisonFraction, 0.01);
		assert.equal(o.trigger, 'cross');
		assert.equal(o.target, 0);
		assert.equal(o.kappa, 0);
		assert.equal(o.dataset, 'mnist');
		assert.equal(o.out, path.join('/ws', '.poison-lens/runs'));
		assert.equal(o.backend, 'wasm');
	});
	test('flags in both spellings', () => {
		const o = parseDemoArgs(['--poison-fraction', '0', '--trigger=warp', '--target', '7', '--epochs', '2', '--kappa', '100', '--dataset', 'fashion-mnist', '--out', 'runs'], '/ws');
		assert.deepEqual(
			o === 'help' ? o : [o.poisonFraction, o.trigger, o.target, o.epochs, o.kappa, o.dataset, o.out],
			[0, 'warp', 7, 2, 100, 'fashion-mnist', '/ws/runs'],
		);
		assert.equal(parseDemoArgs(['--epochs', '1', '--help']), 'help');
	});
	test('bad values name the flag and the value', () => {
		assert.throws(() => parseDemoArgs(['--poison-fraction', '2']), /--poison-fraction must be a number in \[0, 0\.5\], got "2"/);
		assert.throws(() => parseDemoArgs(['--trigger', 'laser']), /--trigger must be one of badnets, cross, blend, warp, near-clone, got "laser"/);
		assert.throws(() => parseDemoArgs(['--dataset', 'cifar']), /--dataset must be mnist or fashion-mnist/);
		assert.throws(() => parseDemoArgs(['--epochs', '1.5']), /--epochs must be a positive integer/);
		assert.throws(() => parseDemoArgs(['--target']), /"--target" needs a value/);
		assert.throws(() => parseDemoArgs(['--frobnicate', '1']), /unknown option "--frobnicate"/);
	});
});
