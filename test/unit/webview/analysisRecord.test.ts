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
			['{"kind":"other"}', /field "kind" must be "checkpoint" or "summary"/],
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
