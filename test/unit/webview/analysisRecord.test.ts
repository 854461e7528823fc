import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAnalysisFile, parseAnalysisLine, type CheckpointAnalysis } from '../../../src/protocol/analysisRecord';

const full = {
	kind: 'checkpoint', checkpoint: 'checkpoints/234', pass: 'full', epoch: 1.49, step: 234,
	cleanAccuracy: 0.97, asr: 0.4, p0: 0.05, excessAsr: 0.35, topEigenvalues: [3.1, 0.2, 0.1], triggerOverlap: 0.5,
	spectralGap: 15.5, triggerCurvature: 1.7, perSample: { median: 1, p90: 4, overlap: 0.2 }, clean: { topEigenvalues: [0.1, 0.09] }, error: null,
	images: { topEigenvector: { width: 2, height: 1, channels: 1, data: [0.6, -0.8] } },
};

describe('parseAnalysisLine', () => {
	test('reads the issue-6 per-checkpoint shape', () => {
		const r = parseAnalysisLine(JSON.stringify(full), 'a.jsonl', 1) as CheckpointAnalysis;
		assert.equal(r.kind, 'checkpoint');
		assert.equal(r.step, 234);
		assert.deepEqual(r.topEigenvalues, [3.1, 0.2, 0.1]);
		assert.deepEqual(r.perSample, { median: 1, p90: 4, overlap: 0.2 });
		assert.deepEqual(r.clean, { topEigenvalues: [0.1, 0.09], triggerOverlap: null });
		assert.deepEqual(r.images?.topEigenvector?.data, [0.6, -0.8]);
	});

	test('keeps degenerate and Lanczos convergence; a non-boolean converged is an error naming the field', () => {
		const conv = { triggered: { steps: 20, residuals: [0.002, 0.01], converged: false, tol: 1e-6 }, clean: { steps: 15, residuals: [1e-7], converged: true, tol: 1e-6 } };
		const r = parseAnalysisLine(JSON.stringify({ ...full, degenerate: 'the model predicts class 3 for all 64 probes (collapsed)', convergence: conv }), 'a.jsonl', 1) as CheckpointAnalysis;
		assert.equal(r.degenerate, 'the model predicts class 3 for all 64 probes (collapsed)');
		assert.deepEqual(r.convergence, conv);
		const plain = parseAnalysisLine(JSON.stringify(full), 'a.jsonl', 1) as CheckpointAnalysis;
		assert.equal(plain.convergence, undefined);
		assert.equal(plain.degenerate, undefined);
		assert.throws(
			() => parseAnalysisLine(JSON.stringify({ ...full, convergence: { triggered: { ...conv.triggered, converged: 'no' } } }), 'a.jsonl', 7),
			/a\.jsonl:7.*convergence\.triggered\.converged/,
		);
	});

	test('null and absent optional values read as null', () => {
		const r = parseAnalysisLine('{"epoch":0.5,"step":78}', 'a.jsonl', 3) as CheckpointAnalysis;
		assert.equal(r.kind, 'checkpoint');
		assert.equal(r.asr, null);
		assert.equal(r.perSample, null);
		assert.equal(r.error, null);
	});

	test('a typed error object keeps its code and message', () => {
		const r = parseAnalysisLine('{"epoch":1,"step":5,"error":{"code":"CHECKPOINT_UNREADABLE","message":"truncated"}}', 'a.jsonl', 1) as CheckpointAnalysis;
		assert.equal(r.error, 'CHECKPOINT_UNREADABLE: truncated');
	});

	test('a summary line, with or without kind', () => {
		const s = parseAnalysisLine('{"kind":"summary","lag":{"asrStep":344,"spectralStep":232,"lagSteps":-112,"lagEpochs":-0.71},"verdict":"early-warning","blind":null}', 'a.jsonl', 9);
		assert.equal(s.kind, 'summary');
		const t = parseAnalysisLine('{"lag":{},"verdict":"clean","blind":{"suspects":0,"flipRate":null}}', 'a.jsonl', 10);
		assert.equal(t.kind, 'summary');
		if (t.kind === 'summary') {
			assert.equal(t.lag.lagSteps, null);
			assert.equal(t.blind?.suspects, 0);
		}
	});

	test('errors name the file, the line, the field and the value', () => {
		const cases: [string, RegExp][] = [
			['{"epoch":1}', /a\.jsonl:7: field "step" is required, got undefined$/],
			['{"epoch":1,"step":2.5}', /a\.jsonl:7: field "step" must be a non-negative integer, got 2\.5/],
			['{"epoch":1,"step":2,"asr":"NaN"}', /field "asr" must be a finite number or null, got "NaN"/],
			['{"epoch":1,"step":2,"topEigenvalues":[1,"x"]}', /field "topEigenvalues\[1\]" must be a finite number, got "x"/],
			['{"epoch":1,"step":2,"perSample":{"p90":true}}', /field "perSample\.p90"/],
			['{"epoch":1,"step":2,"images":{"topEigenvector":{"width":2,"height":2,"channels":1,"data":[1,2,3]}}}', /images\.topEigenvector\.data" must hold width\*height\*channels = 4 numbers, got 3/],
			['{"epoch":1,"step":2,"images":{"topEigenvector":{"width":1,"height":1,"channels":2,"data":[1,2]}}}', /channels" must be 1 or 3/],
			['{"kind":"summary","lag":{},"verdict":"fine"}', /field "verdict" must be one of clean, early-warning, visible, lagging, invisible, got "fine"/],
			['{"kind":"summary","verdict":"clean"}', /field "lag" is required/],
			['{"kind":"other"}', /field "kind" must be "checkpoint", "summary" or "blind", got "other"/],
			['[1,2]', /expected a JSON object/],
			['{oops', /not valid JSON/],
		];
		for (const [text, re] of cases) {
			assert.throws(() => parseAnalysisLine(text, 'a.jsonl', 7), re, text);
		}
	});
});

describe('parseAnalysisFile', () => {
	test('merges by step (last wins), keeps the last summary, reports bad lines and reads the rest', () => {
		const text = [
			'{"epoch":1,"step":200,"pass":"light","cleanAccuracy":0.8}',
			'',
			'{"epoch":0.5,"step":100,"cleanAccuracy":0.7}',
			'{"epoch":1,"step":200,"pass":"full","cleanAccuracy":0.81}',
			'garbage',
			'{"kind":"summary","lag":{},"verdict":"visible","blind":null}',
			'{"kind":"summary","lag":{},"verdict":"lagging","blind":null}',
		].join('\n');
		const f = parseAnalysisFile(text, 'a.jsonl');
		assert.deepEqual(f.checkpoints.map((c) => [c.step, c.pass, c.cleanAccuracy]), [[100, null, 0.7], [200, 'full', 0.81]]);
		assert.equal(f.summary?.verdict, 'lagging');
		assert.equal(f.problems.length, 1);
		assert.match(f.problems[0], /a\.jsonl:5: not valid JSON/);
	});
});

describe('blind test records', () => {
	const test0 = { state: 'alarm', score: 5.2, nullName: '64 seeded random directions at the same norm', nullSize: 64, nullLow: 0.01, nullHigh: 0.09, falseAlarmRate: null, reason: 'r' };
	test('a summary keeps the blind test and the coverage fields', () => {
		const line = { kind: 'summary', verdict: 'visible', lag: {}, blind: { suspects: 3, candidateTriggerOverlap: null, flipRate: 0.4, test: test0, scoredRows: 2048, totalRows: 10000, rowScoreCut: 0.7, rowScoresFile: 'blind/scores.json' } };
		const r = parseAnalysisLine(JSON.stringify(line), 'a.jsonl', 1);
		assert.ok(r.kind === 'summary');
		assert.deepEqual(r.blind?.test, test0);
		assert.equal(r.blind?.scoredRows, 2048);
		assert.equal(r.blind?.totalRows, 10000);
		assert.equal(r.blind?.rowScoreCut, 0.7);
		assert.equal(r.blind?.rowScoresFile, 'blind/scores.json');
	});
	test('blind lines merge by step (last wins), apart from the checkpoints', () => {
		const b = (step: number, state: string): string => JSON.stringify({ kind: 'blind', step, epoch: step / 100, test: { ...test0, state }, flipRate: 0.3, controlFlipRate: 0.02, suspects: 4, scoredRows: 100, totalRows: 100, analysisMs: 12 });
		const f = parseAnalysisFile([b(200, 'quiet'), JSON.stringify(full), b(100, 'quiet'), b(200, 'alarm')].join('\n'), 'a.jsonl');
		assert.deepEqual(f.problems, []);
		assert.deepEqual(f.blind.map((x) => [x.step, x.test.state]), [[100, 'quiet'], [200, 'alarm']]);
		assert.equal(f.checkpoints.length, 1);
	});
	test('a bad state or a missing test names the field and the value', () => {
		assert.throws(() => parseAnalysisLine(JSON.stringify({ kind: 'blind', step: 1, epoch: 0, test: { ...test0, state: 'visible' } }), 'a.jsonl', 7), /a\.jsonl:7: field "test\.state" must be one of alarm, quiet, inconclusive, nothing-to-analyse, got "visible"/);
		assert.throws(() => parseAnalysisLine(JSON.stringify({ kind: 'blind', step: 1, epoch: 0 }), 'a.jsonl', 2), /a\.jsonl:2: field "test" is required/);
		assert.throws(() => parseAnalysisLine(JSON.stringify({ kind: 'summary', verdict: 'clean', lag: {}, blind: { test: { ...test0, nullSize: 1.5 } } }), 'a.jsonl', 3), /field "blind\.test\.nullSize" must be a non-negative integer, got 1\.5/);
	});
});
