/** The CLI's stderr line for a live blind scan given up without a result (src/cli/analyse.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveBlindStoppedText } from '../../../src/cli/analyse';

test('an overrun names the step, the epoch, the time taken, the box and the options that give scans more room', () => {
	const t = liveBlindStoppedText({ step: 200, epoch: 1, elapsedMs: 4213, reason: 'overrun', budgetMs: 1875 });
	assert.equal(
		t,
		'live blind scan at step 200 (epoch 1.00) stopped after 4.2 s: past twice its time box of 1.9 s (--blind-share gives scans a larger share of the epoch; --blind-every N scans less often)',
	);
	assert.match(liveBlindStoppedText({ step: 5, epoch: 0.5, elapsedMs: 10, reason: 'overrun', budgetMs: null }), /past twice its time box \(--blind-share/);
});

test('a stale scan says a newer checkpoint was due and is scanned instead', () => {
	assert.match(liveBlindStoppedText({ step: 300, epoch: 1.5, elapsedMs: 900, reason: 'stale', budgetMs: 2000 }), /^live blind scan at step 300 \(epoch 1\.50\) stopped after 0\.9 s: a newer checkpoint was due first/);
});
