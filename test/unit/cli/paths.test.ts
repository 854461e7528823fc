import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pastablePath } from '../../../src/cli/paths';

test('pastablePath: relative inside the working folder, absolute outside it, quoted when the shell needs it', () => {
	assert.equal(pastablePath('/home/u/proj/.poison-lens/runs/demo-1', '/home/u/proj'), '.poison-lens/runs/demo-1');
	assert.equal(pastablePath('/tmp/x/demo-1', '/home/u/proj'), '/tmp/x/demo-1');
	assert.equal(pastablePath('/home/u/proj', '/home/u/proj'), '.');
	assert.equal(pastablePath('/home/u/proj-2/run', '/home/u/proj'), '/home/u/proj-2/run');
	assert.equal(pastablePath('/tmp/my runs/it\'s', '/home/u'), `'/tmp/my runs/it'\\''s'`);
});
