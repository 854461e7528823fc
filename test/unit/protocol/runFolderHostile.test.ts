/**
 * Run folders written by other processes: weights paths that lead out, special files, topologies that would
 * allocate gigabytes, non-finite tensors, and analysis.jsonl cut mid-line.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkTopologyAgainstWeights, readCheckpoint, readEvents, RunFormatError } from '../../../src/protocol/runFormat';
import { decodeTensorSet, encodeTensorSet } from '../../../src/protocol/tensorFile';
import { appendAnalysisLine, readStoredAnalysis } from '../../../src/analyser/analysis/store';
import { parseAnalysisFile, type CheckpointAnalysis } from '../../../src/protocol/analysisRecord';

const root = path.resolve(__dirname, '../../..');
const fixture = path.join(root, 'test/fixtures/runs-analyser/cross/checkpoints/0');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-runhostile-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of a real checkpoint folder with its model.json edited. */
function checkpoint(name: string, edit: (json: Record<string, unknown>) => void = () => undefined): string {
	const dir = path.join(tmp, name, 'checkpoints', '0');
	fs.mkdirSync(dir, { recursive: true });
	fs.copyFileSync(path.join(fixture, 'weights.bin'), path.join(dir, 'weights.bin'));
	const json = JSON.parse(fs.readFileSync(path.join(fixture, 'model.json'), 'utf8')) as Record<string, unknown>;
	edit(json);
	fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
	return dir;
}

function setPaths(json: Record<string, unknown>, paths: string[]): void {
	(json.weightsManifest as { paths: string[] }[])[0].paths = paths;
}

describe('readCheckpoint on hostile checkpoint folders', () => {
	test('the real checkpoint still loads', async () => {
		const a = await readCheckpoint(checkpoint('ok'));
		assert.equal(a.weightData.byteLength, fs.statSync(path.join(fixture, 'weights.bin')).size);
	});

	test('weightsManifest paths with ../ are not followed, even to a file of the right size', async () => {
		const dir = checkpoint('dotdot', (j) => setPaths(j, ['../../../outside.bin']));
		fs.copyFileSync(path.join(fixture, 'weights.bin'), path.join(tmp, 'outside.bin'));
		await assert.rejects(readCheckpoint(dir), /cannot read weights \(a weights file must exist inside .* \(it is missing, or outside it\)\)/);
	});

	test('/etc/passwd through ../ gets the same words as a missing file: its size is not revealed', async () => {
		const depth = path.relative('/', tmp).split(path.sep).length + 3;
		const dir = checkpoint('passwd', (j) => setPaths(j, [`${'../'.repeat(depth)}etc/passwd`]));
		const missing = checkpoint('missing', (j) => setPaths(j, ['nope.bin']));
		const e1 = await readCheckpoint(dir).then(() => '', (e: Error) => e.message);
		const e2 = await readCheckpoint(missing).then(() => '', (e: Error) => e.message);
		assert.ok(!/\d+ bytes/.test(e1), e1);
		const tail = (m: string, cp: string): string => m.replaceAll(cp, '<cp>').replace(/weights path "[^"]*"/, 'weights path <p>');
		assert.equal(tail(e1, dir), tail(e2, missing));
	});

	test('a symlinked weights file pointing out of the folder is refused', async () => {
		const dir = checkpoint('symlink');
		fs.rmSync(path.join(dir, 'weights.bin'));
		fs.symlinkSync(path.join(tmp, 'outside.bin'), path.join(dir, 'weights.bin'));
		await assert.rejects(readCheckpoint(dir), /outside it/);
	});

	test('a FIFO as weights.bin is refused at once (it used to block the analyser forever)', async () => {
		const dir = checkpoint('fifo');
		fs.rmSync(path.join(dir, 'weights.bin'));
		execFileSync('mkfifo', [path.join(dir, 'weights.bin')]);
		await assert.rejects(readCheckpoint(dir), /FIFO \(named pipe\), not a regular file/);
	});

	test('/dev/zero as weights (symlink inside a trusted layout) is refused by type, not read', async () => {
		const dir = checkpoint('zero');
		// Inside the folder after resolution is impossible for /dev/zero; the check order means a device never reaches read().
		fs.rmSync(path.join(dir, 'weights.bin'));
		fs.symlinkSync('/dev/zero', path.join(dir, 'weights.bin'));
		await assert.rejects(readCheckpoint(dir), RunFormatError);
	});

	test('a weights file larger than the manifest declares is refused without reading it', async () => {
		const dir = checkpoint('large');
		fs.appendFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(1024 * 1024));
		await assert.rejects(readCheckpoint(dir), /weights file is larger than the \d+ bytes the manifest describes/);
	});

	test('a topology declaring a Dense layer of 300 000 units is refused before tfjs builds it', async () => {
		const dir = checkpoint('dense', (j) => {
			const layers = ((j.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers);
			const dense = layers.find((l) => l.class_name === 'Dense');
			assert.ok(dense !== undefined);
			dense.config.units = 300_000;
		});
		await assert.rejects(readCheckpoint(dir), /declares layer "[^"]+" with units = 300000, but the weights hold only 444 parameters/);
	});

	test('checkTopologyAgainstWeights bounds input shapes and sums of units', () => {
		assert.throws(() => checkTopologyAgainstWeights({ class_name: 'InputLayer', config: { batch_input_shape: [null, 100000, 100000, 3] } }, 10, 'm.json'), /more than \d+ values per item/);
		const two = { layers: [{ class_name: 'Dense', config: { units: 6 } }, { class_name: 'Dense', config: { units: 6 } }] };
		assert.throws(() => checkTopologyAgainstWeights(two, 10, 'm.json'), /declare at least 12 units and filters, but the weights hold only 10/);
		assert.doesNotThrow(() => checkTopologyAgainstWeights(two, 100, 'm.json'));
	});
});

describe('tensor files and events', () => {
	test('NaN probe pixels are named with the item and value, not an eigen-solver failure later', () => {
		const data = new Float32Array(8).fill(0.5);
		data[5] = NaN;
		const bytes = encodeTensorSet({ itemShape: [2, 2], count: 2, data, labels: Int32Array.from([0, 1]) });
		assert.throws(() => decodeTensorSet(bytes, 'probe/probe.bin'), /probe\/probe\.bin: item 1 holds NaN at value 1: tensor files must hold finite numbers/);
	});

	test('events.jsonl that is a folder reads as a clear error, not a stack trace', async () => {
		const dir = path.join(tmp, 'ev-dir', 'events.jsonl');
		fs.mkdirSync(dir, { recursive: true });
		await assert.rejects(readEvents(dir), (e: unknown) => e instanceof RunFormatError && /cannot read \(is a folder, not a file\)/.test(e.message));
	});

	test('garbage lines in events.jsonl are counted with their line numbers', async () => {
		const f = path.join(tmp, 'ev', 'events.jsonl');
		fs.mkdirSync(path.dirname(f), { recursive: true });
		fs.writeFileSync(f, '{"type":"end"\n\u0000\u0001garbage\n');
		const chunk = await readEvents(f);
		assert.equal(chunk.errors.length, 2);
		assert.match(chunk.errors[0].file, /events\.jsonl:1$/);
		assert.ok(!chunk.errors[1].message.includes('\u0000'), 'control characters are escaped');
	});
});

function record(step: number, error: string | null = null): CheckpointAnalysis {
	return {
		kind: 'checkpoint', checkpoint: String(step), pass: 'light', epoch: step / 10, step, cleanAccuracy: error === null ? 0.9 : null, asr: null, p0: null,
		excessAsr: null, topEigenvalues: null, triggerOverlap: null, spectralGap: null, triggerCurvature: null, perSample: null, clean: null, error,
	};
}

describe('analysis.jsonl integrity', () => {
	test('a partial last line is moved to analysis.jsonl.corrupt, and the next record is not glued onto it', async () => {
		const run = fs.mkdtempSync(path.join(tmp, 'an-'));
		await appendAnalysisLine(run, record(0));
		const file = path.join(run, 'analysis.jsonl');
		fs.appendFileSync(file, '{"kind":"checkpoint","step":25,"cleanAcc'); // a write cut by ENOSPC or a kill
		const repaired = await appendAnalysisLine(run, record(50));
		assert.equal(repaired, '{"kind":"checkpoint","step":25,"cleanAcc'.length);
		const text = fs.readFileSync(file, 'utf8');
		const parsed = parseAnalysisFile(text, file);
		assert.deepEqual(parsed.problems, []);
		assert.deepEqual(parsed.checkpoints.map((c) => c.step), [0, 50]);
		const corrupt = fs.readFileSync(`${file}.corrupt`, 'utf8');
		assert.ok(corrupt.includes('{"kind":"checkpoint","step":25,"cleanAcc'), corrupt);
		assert.equal(await appendAnalysisLine(run, record(75)), 0);
	});

	test('error records keep their kind, backend and input stamp', async () => {
		const run = fs.mkdtempSync(path.join(tmp, 'an-'));
		await appendAnalysisLine(run, { ...record(0, 'CheckpointCorrupt: weights.bin: truncated'), errorKind: 'CheckpointCorrupt', backend: 'wasm', inputStamp: 'a=1:2' });
		await appendAnalysisLine(run, record(25, 'Internal: boom'));
		const s = await readStoredAnalysis(run);
		assert.deepEqual(s.errorContext.get(0), { errorKind: 'CheckpointCorrupt', backend: 'wasm', inputStamp: 'a=1:2' });
		assert.deepEqual(s.errorContext.get(25), { errorKind: 'Internal', backend: null, inputStamp: null });
		await appendAnalysisLine(run, record(0));
		assert.equal((await readStoredAnalysis(run)).errorContext.has(0), false, 'a later good record clears the error');
	});

	test('an analysis.jsonl that is a folder is a clear error (no stack trace)', async () => {
		const run = fs.mkdtempSync(path.join(tmp, 'an-'));
		fs.mkdirSync(path.join(run, 'analysis.jsonl'));
		await assert.rejects(readStoredAnalysis(run), /analysis\.jsonl: cannot read: is a folder/);
		await assert.rejects(appendAnalysisLine(run, record(0)), /analysis\.jsonl: cannot append to: is a folder/);
	});
});
