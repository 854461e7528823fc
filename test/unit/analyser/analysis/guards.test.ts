import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	AnalyserErrorCode,
	checkAnalyseCheckpointParams,
	checkAnalyseRunParams,
	checkAnalyseRunResult,
	checkFatalParams,
	checkInitializeParams,
	checkInitializeResult,
	errorCodeName,
	protocolMajor,
} from '../../../../src/protocol/analyser';
import { parseAnalyseArgs, toAnalyseJson } from '../../../../src/cli/analyse';

describe('protocol guards', () => {
	test('initialize params: accepts the documented shape, names the bad field and value', () => {
		assert.deepEqual(checkInitializeParams({ clientName: 't', protocolVersion: '1.0', backend: 'wasm' }), { clientName: 't', protocolVersion: '1.0', backend: 'wasm' });
		assert.throws(() => checkInitializeParams({ clientName: 't', protocolVersion: '1.0', backend: 'tpu' }), /field "backend" must be one of .* got "tpu"/);
		assert.throws(() => checkInitializeParams(null), /expected an object, got null/);
		assert.throws(() => checkInitializeParams({ clientName: '', protocolVersion: '1.0', backend: 'cpu' }), /field "clientName" must be a non-empty string, got ""/);
	});

	test('analysis params: pass, k range, step integer, optional booleans', () => {
		const ok = checkAnalyseCheckpointParams({ runDir: '/r', step: 50, pass: 'full', k: 5 });
		assert.deepEqual(ok, { runDir: '/r', step: 50, pass: 'full', k: 5 });
		assert.throws(() => checkAnalyseCheckpointParams({ runDir: '/r', step: 1.5, pass: 'full', k: 5 }), /field "step" must be an integer in \[0, .*got 1.5/);
		assert.throws(() => checkAnalyseCheckpointParams({ runDir: '/r', step: 1, pass: 'heavy', k: 5 }), /field "pass" must be "light" or "full", got "heavy"/);
		assert.throws(() => checkAnalyseRunParams({ runDir: '/r', pass: 'light', k: 0 }), /field "k" must be an integer in \[1, 20\], got 0/);
		assert.throws(() => checkAnalyseRunParams({ runDir: '/r', pass: 'light', k: 3, follow: 'yes' }), /field "follow" must be a boolean, got "yes"/);
		assert.deepEqual(checkAnalyseRunParams({ runDir: '/r', pass: 'light', k: 3, liveBlind: { every: 2, share: 0.5 } }).liveBlind, { every: 2, share: 0.5 });
		assert.equal(checkAnalyseRunParams({ runDir: '/r', pass: 'light', k: 3, liveBlind: false }).liveBlind, false);
		assert.throws(() => checkAnalyseRunParams({ runDir: '/r', pass: 'light', k: 3, liveBlind: { every: 'hour', share: 0.5 } }), /field "liveBlind.every" must be "epoch" or an integer ≥ 1, got "hour"/);
		assert.throws(() => checkAnalyseRunParams({ runDir: '/r', pass: 'light', k: 3, liveBlind: { every: 'epoch', share: 0 } }), /field "liveBlind.share" must be a number in \(0, 1\], got 0/);
		assert.deepEqual(checkAnalyseRunParams({ runDir: '/r', pass: 'light', k: 3, follow: true, blind: false }), { runDir: '/r', pass: 'light', k: 3, follow: true, blind: false });
	});

	test('initialize result and run result guards (host side)', () => {
		const init = {
			analyserVersion: '0.1.0',
			protocolVersion: '1.0',
			pid: 42,
			backend: { requested: 'auto', name: 'wasm', description: 'wasm (SIMD)', adapter: null, fallbackReason: 'no adapter' },
			capabilities: { methods: ['analysis/run'], passes: ['light', 'full'], maxTopK: 20, blindMode: true, testHooks: false },
		};
		assert.equal(checkInitializeResult(init).backend.name, 'wasm');
		assert.throws(() => checkInitializeResult({ ...init, pid: 0 }), /field "pid"/);
		assert.throws(
			() => checkAnalyseRunResult({ runDir: '/r', checkpoints: [{ kind: 'checkpoint', step: 1, epoch: 0, cleanAccuracy: null, asr: 'high', p0: null, excessAsr: null, triggerOverlap: null, spectralGap: null, triggerCurvature: null, error: null }], summary: { verdict: 'clean', lag: {} }, analysed: 1, backend: 'cpu' }),
			/checkpoints\[0\]: field "asr" must be a finite number or null, got "high"/,
		);
		assert.throws(() => checkAnalyseRunResult({ runDir: '/r', checkpoints: [], summary: { verdict: 'fine', lag: {} }, analysed: 0, backend: 'cpu' }), /summary.verdict/);
		assert.equal(checkFatalParams({ kind: 'exit', message: 'x', stack: null, exitCode: 3 }).exitCode, 3);
		assert.throws(() => checkFatalParams({ kind: 'boom' }), /field "kind"/);
	});

	test('error code names and protocol majors', () => {
		assert.equal(errorCodeName(AnalyserErrorCode.NonFiniteWeights), 'NonFiniteWeights');
		assert.equal(errorCodeName(-1), 'error -1');
		assert.equal(protocolMajor('1.7'), 1);
		assert.ok(Number.isNaN(protocolMajor('x')));
	});
});

describe('poison-lens analyse arguments and JSON', () => {
	test('parses every documented option', () => {
		assert.deepEqual(parseAnalyseArgs(['run', '--backend', 'cpu', '--k=3', '--json', 'o.json', '--follow', '--full', '--no-blind'], '/w', {}), {
			runDir: '/w/run',
			backend: 'cpu',
			k: 3,
			json: '/w/o.json',
			follow: true,
			full: true,
			blind: false,
			liveBlind: { every: 'epoch', share: 0.25 },
			retryErrors: false,
			failOn: [],
			format: 'text',
			output: null,
			summary: null,
			summaryFile: null,
		});
		assert.equal((parseAnalyseArgs(['run', '--retry-errors'], '/w') as { retryErrors: boolean }).retryErrors, true);
		assert.deepEqual((parseAnalyseArgs(['run', '--blind-every', '3', '--blind-share=0.5'], '/w') as { liveBlind: unknown }).liveBlind, { every: 3, share: 0.5 });
		assert.equal((parseAnalyseArgs(['run', '--no-live-blind'], '/w') as { liveBlind: unknown }).liveBlind, false);
		assert.throws(() => parseAnalyseArgs(['run', '--blind-every', '0']), /--blind-every must be "epoch" or a whole number of checkpoints ≥ 1, got "0"/);
		assert.throws(() => parseAnalyseArgs(['run', '--blind-share', '1.5']), /--blind-share must be a number in \(0, 1\], got "1.5"/);
		assert.equal(parseAnalyseArgs(['--help']), 'help');
	});

	test('usage errors name the flag and the value', () => {
		assert.throws(() => parseAnalyseArgs(['run', '--k', '99']), /--k must be an integer in \[1, 20\], got "99"/);
		assert.throws(() => parseAnalyseArgs(['run', '--backend', 'tensorflow']), /--backend must be auto, wasm, cpu or gpu, got "tensorflow"/);
		assert.throws(() => parseAnalyseArgs(['run', '--bogus']), /unknown option "--bogus"/);
		assert.throws(() => parseAnalyseArgs([]), /missing <runDir>/);
		assert.throws(() => parseAnalyseArgs(['a', 'b']), /unexpected argument "b"/);
		assert.throws(() => parseAnalyseArgs(['run', '--json']), /option "--json" needs a value/);
	});

	test('JSON has exactly the documented keys', () => {
		const rec = {
			kind: 'checkpoint' as const,
			checkpoint: '50',
			pass: 'full' as const,
			epoch: 0.5,
			step: 50,
			cleanAccuracy: 0.9,
			asr: 0.5,
			p0: 0.1,
			excessAsr: 0.4,
			topEigenvalues: [2, 1],
			triggerOverlap: 0.4,
			spectralGap: 2,
			triggerCurvature: 0.3,
			perSample: { median: 1, p90: 2, overlap: 0.1 },
			clean: { topEigenvalues: [0.5], triggerOverlap: 0.001 },
			error: null,
			analysisMs: 12,
			images: { topEigenvector: { width: 1, height: 1, channels: 1, data: [1] } },
		};
		const j = toAnalyseJson('/r', 'wasm (SIMD)', [rec], { suspects: 3, candidateTriggerOverlap: 0.5, flipRate: 0.7, suspectRows: [1, 2, 3], flipClass: 0 }, { asrStep: 1, spectralStep: 0, lagSteps: -1, lagEpochs: -0.01 }, 'early-warning');
		assert.deepEqual(Object.keys(j), ['run', 'backend', 'checkpoints', 'blind', 'lag', 'verdict']);
		assert.deepEqual(Object.keys(j.checkpoints[0] ?? {}), [
			'epoch',
			'step',
			'cleanAccuracy',
			'asr',
			'p0',
			'excessAsr',
			'topEigenvalues',
			'triggerOverlap',
			'spectralGap',
			'triggerCurvature',
			'perSample',
			'clean',
			'error',
		]);
		assert.deepEqual(j.checkpoints[0]?.clean, { topEigenvalues: [0.5] });
		// An older summary without the coverage fields: null, never missing.
		assert.deepEqual(j.blind, {
			suspects: 3,
			candidateTriggerOverlap: 0.5,
			flipRate: 0.7,
			flipClass: 0,
			scoredRows: null,
			totalRows: null,
			coverage: null,
			rowScoreCut: null,
			rowScoresFile: null,
			test: null,
		});
		const capped = toAnalyseJson('/r', 'wasm', [rec], { suspects: 1, candidateTriggerOverlap: null, flipRate: 0.7, scoredRows: 4096, totalRows: 10000, rowScoreCut: 3.5, rowScoresFile: 'blind/row-scores.csv' }, j.lag, 'clean');
		assert.match(capped.blind?.coverage ?? '', /^scored 4096 of 10000 rows/);
		assert.equal(capped.blind?.rowScoreCut, 3.5);
		assert.deepEqual(Object.keys(j.lag), ['asrStep', 'spectralStep', 'lagSteps', 'lagEpochs']);
	});
});
