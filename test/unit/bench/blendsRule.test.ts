/**
 * bench/blendsRule.ts: the smallest level that decides like 8 blends on every dev run; a changed blind-test state, a
 * recall drop beyond the slack, or precision lost below the floor rules a level out. Outcomes are written by hand.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseBlends, levelFailure, readStudyFolder, type DevRun, type LevelOutcome } from '../../../bench/blendsRule';

const at = (blends: number, testState: string, recall: number | null = null, precision: number | null = null): LevelOutcome => ({ blends, testState, recall, precision });

describe('bench: the stage-1 blends rule', () => {
	const attack: DevRun = {
		name: 'attack',
		excessAsr: 0.9,
		levels: [at(2, 'alarm', 0.8, 0.9), at(4, 'alarm', 0.96, 0.95), at(6, 'alarm', 0.99, 0.4), at(8, 'alarm', 1, 0.98)],
	};
	const clean: DevRun = { name: 'clean', excessAsr: 0, levels: [at(2, 'alarm'), at(4, 'quiet'), at(6, 'quiet'), at(8, 'quiet')] };

	test('each way a level fails, and a pass', () => {
		assert.match(levelFailure(attack, 2) ?? '', /recall 0\.800 at 2 blends, 1\.000 at 8/);
		assert.equal(levelFailure(attack, 4), null);
		assert.match(levelFailure(attack, 6) ?? '', /precision 0\.400 at 6 blends/);
		assert.match(levelFailure(clean, 2) ?? '', /blind test alarm at 2 blends, quiet at 8/);
		assert.match(levelFailure(clean, 3) ?? '', /no scan at 3 blends/);
	});

	test('the smallest level passing on every run is chosen', () => {
		const { chosen, failures } = chooseBlends([attack, clean]);
		assert.equal(chosen, 4);
		assert.equal(failures.get(2)?.length, 2);
		assert.deepEqual(failures.get(8), []);
	});

	test('a failed attack is held only to the test state; with no level passing, 8 stays', () => {
		const failed: DevRun = { name: 'failed', excessAsr: 0.1, levels: [at(2, 'alarm', 0.1, 0.1), at(8, 'alarm', 1, 1)] };
		assert.equal(levelFailure(failed, 2), null);
		const worse: DevRun = { name: 'worse', excessAsr: 0.9, levels: [at(2, 'quiet'), at(8, 'alarm', 1, 1)] };
		assert.equal(chooseBlends([worse]).chosen, 8);
		assert.throws(() => chooseBlends([]), /at least one dev run/);
	});

	test('a study folder is read with its excess ASR (0 for a clean run)', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-blends-'));
		fs.writeFileSync(path.join(dir, 'demo-cnn.train.json'), JSON.stringify({ asr: 0.95, p0: 0.01, poisoned: 600 }));
		fs.writeFileSync(path.join(dir, 'demo-cnn.blends.json'), JSON.stringify([at(4, 'alarm', 1, 1), at(8, 'alarm', 1, 1)]));
		const [run] = readStudyFolder(dir);
		assert.ok(Math.abs(run.excessAsr - 0.94) < 1e-12);
		assert.equal(run.levels.length, 2);
		fs.writeFileSync(path.join(dir, 'demo-cnn.train.json'), JSON.stringify({ asr: 0.2, p0: 0.01, poisoned: 0 }));
		assert.equal(readStudyFolder(dir)[0].excessAsr, 0);
		fs.rmSync(dir, { recursive: true });
	});
});
