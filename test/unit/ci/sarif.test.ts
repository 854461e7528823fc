import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analysisToSarif, relativeUri, sarifRule, SCAN_RULE_IDS, ANALYSIS_RULE_IDS, scanToSarif, type AnalysisFacts } from '../../../src/ci/sarif';
import { analysisSummaryMd, mdCell, scanSummaryMd } from '../../../src/ci/summary';
import { scanGateFails, verdictGateFails } from '../../../src/ci/gate';
import { ProblemCode, type Problem } from '../../../src/datasets/problem';
import { VERDICTS, type CheckpointAnalysis } from '../../../src/protocol/analysisRecord';
import { sarifErrors } from './sarifSchema';

const base = { srcRootUri: 'file:///work/repo/', toolVersion: '0.1.0', commandLine: 'poison-lens scan data.csv --format sarif' };

function problem(line: number, code: Problem['code'], severity: Problem['severity'], related: number[] = []): Problem {
	return { line, column: 1, endColumn: 12, code, severity, message: `${code} on line ${line}`, related, evidence: related.length > 0 ? [{ label: 'distance', value: '0.01' }] : [] };
}

const facts: AnalysisFacts = {
	runName: 'demo mnist cross theta 0.01',
	manifestUri: relativeUri('.poison-lens/runs/2026 run/manifest.json'),
	verdict: 'visible',
	lag: { asrStep: 50, spectralStep: 50, lagSteps: 0, lagEpochs: 0 },
	finalExcessAsr: 0.91,
	recommendation: 'Retrain without the suspects.',
	blind: { suspects: 36, candidateTriggerOverlap: 0.8, flipRate: 0.74, flipClass: 0, suspectRows: [3, 9, 27] },
	declaredAttack: true,
	checkpoints: 4,
	errors: [{ step: 75, error: 'weights.bin: truncated' }],
};

describe('SARIF 2.1.0', () => {
	test('the schema rejects a broken log (the validator can fail)', () => {
		assert.notEqual(sarifErrors({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }), '');
		assert.notEqual(sarifErrors({ version: '2.0.0', runs: [] }), '');
	});

	test('scan findings: valid, one result per finding, rule and region and partners', () => {
		const problems = [
			problem(3, ProblemCode.raggedRow, 'error'),
			problem(7, ProblemCode.dirtyLabelDuplicate, 'warning', [2, 5]),
			problem(1, ProblemCode.noLabelColumn, 'information'),
		];
		const log = scanToSarif(relativeUri('data/train set.csv'), problems, base, { rows: 10 });
		assert.equal(sarifErrors(log), '');
		const run = log.runs[0];
		assert.deepEqual(run.tool.driver.rules.map((r) => r.id), ['ragged-row', 'dirty-label-duplicate', 'no-label-column']);
		assert.deepEqual(run.results.map((r) => [r.ruleId, r.level, r.ruleIndex]), [
			['ragged-row', 'error', 0],
			['dirty-label-duplicate', 'warning', 1],
			['no-label-column', 'note', 2],
		]);
		const loc = run.results[1].locations[0].physicalLocation;
		assert.equal(loc.artifactLocation.uri, 'data/train%20set.csv');
		assert.deepEqual(loc.region, { startLine: 7, startColumn: 1, endColumn: 12 });
		assert.deepEqual(run.results[1].relatedLocations?.map((r) => r.physicalLocation.region.startLine), [2, 5]);
		assert.match(run.results[1].message.text, /Partner rows on lines 2, 5\./);
	});

	test('every rule has help text; an unknown rule is an error', () => {
		for (const id of [...SCAN_RULE_IDS, ...ANALYSIS_RULE_IDS]) {
			const r = sarifRule(id);
			assert.ok(r.help.text.length > 20 && r.shortDescription.text.length > 10, id);
		}
		assert.throws(() => sarifRule('nope'), /no SARIF rule for "nope"/);
	});

	test('analysis: verdict, suspects and checkpoint errors at the manifest; clean gives no verdict result', () => {
		const log = analysisToSarif(facts, base);
		assert.equal(sarifErrors(log), '');
		const res = log.runs[0].results;
		assert.deepEqual(res.map((r) => [r.ruleId, r.level]), [
			['verdict-visible', 'error'],
			['blind-suspects', 'warning'],
			['checkpoint-error', 'warning'],
		]);
		assert.equal(res[0].locations[0].physicalLocation.artifactLocation.uri, '.poison-lens/runs/2026%20run/manifest.json');
		assert.match(res[0].message.text, /excess attack success 91\.0 %/);
		const clean = analysisToSarif({ ...facts, verdict: 'clean', blind: null, errors: [] }, base);
		assert.equal(sarifErrors(clean), '');
		assert.equal(clean.runs[0].results.length, 0);
		for (const v of VERDICTS) {
			assert.equal(sarifErrors(analysisToSarif({ ...facts, verdict: v }, { srcRootUri: null, toolVersion: '1.0.0' })), '', v);
		}
	});
});

describe('CI gates and summaries', () => {
	test('--fail-on severities are ordered; problem-cap never fails', () => {
		const ps = [problem(2, ProblemCode.unknownLabel, 'warning')];
		assert.equal(scanGateFails(ps, 'error'), false);
		assert.equal(scanGateFails(ps, 'warning'), true);
		assert.equal(scanGateFails(ps, 'information'), true);
		assert.equal(scanGateFails(ps, 'none'), false);
		assert.equal(scanGateFails([problem(1, ProblemCode.problemCap, 'information')], 'information'), false);
		assert.equal(verdictGateFails('lagging', ['lagging', 'invisible']), true);
		assert.equal(verdictGateFails('visible', ['lagging', 'invisible']), false);
	});

	test('Markdown summaries escape cells and say whether the gate failed', () => {
		assert.equal(mdCell('a|b<c>\nd'), 'a\\|b&lt;c&gt; d');
		const rec = { step: 50, epoch: 1, cleanAccuracy: 0.9, asr: 0.95, p0: 0.04, excessAsr: 0.91, topEigenvalues: [2.5], triggerOverlap: 0.6, error: null } as unknown as CheckpointAnalysis;
		const md = analysisSummaryMd(facts, [rec], { failed: true, failOn: ['visible'] });
		assert.match(md, /^### ❌ Poison Lens: demo mnist cross theta 0\.01 — `visible`/);
		assert.match(md, /This step fails/);
		assert.match(md, /\| 50 \| 1\.00 \| 90\.0 % \| 95\.0 % \| 91\.0 % \| 2\.500 \| 0\.600 \|/);
		const smd = scanSummaryMd('data.csv', 10, [problem(3, ProblemCode.raggedRow, 'error')], 1, { failed: true, failOn: 'error' });
		assert.match(smd, /10 rows, 1 finding: 1 error, 0 warning, 0 information\. Gate `--fail-on error`: \*\*failed\*\*/);
		assert.match(smd, /\| `ragged-row` \| 1 \|/);
	});
});
