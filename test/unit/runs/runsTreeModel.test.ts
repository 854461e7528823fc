import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointNodes, MAX_SUSPECT_NODES, runChildren, runDescription, runNode, suspectNodes } from '../../../src/host/runs/runsTreeModel';
import type { AnalysisPoint, RunView } from '../../../src/protocol/webview';

function cp(step: number, excessAsr: number | null, error: string | null = null): AnalysisPoint {
	return { step, epoch: step / 100, time: step, pass: 'light', cleanAccuracy: 0.9, asr: excessAsr, p0: 0, excessAsr, topEigenvalues: [2], triggerOverlap: 0.5, spectralGap: null, triggerCurvature: null, perSample: null, clean: null, error } as unknown as AnalysisPoint;
}

function view(over: Partial<RunView> = {}, info: Partial<RunView['info']> = {}): RunView {
	return {
		info: { id: 'r1', name: 'demo', dir: '/ws/.poison-lens/runs/r1', createdAt: '2026-01-01', status: 'training', attackDeclared: true, theta: 0.01, kappa: 0, targetClass: 0, trigger: 'cross', stepsPerEpoch: 100, ...info },
		metrics: [{ name: 'loss', level: 'batch', series: { step: [1, 2], epoch: [0.01, 2.4], time: [0, 1], value: [1, 0.5] }, rawCount: 2 }],
		checkpoints: [],
		summary: null,
		images: {},
		runError: null,
		problems: [],
		revision: 1,
		...over,
	};
}

describe('Runs tree model', () => {
	test('a live run: spinning status icon, θ, epoch, newest excess ASR', () => {
		const v = view({ checkpoints: [cp(100, 0.05), cp(200, 0.42)] });
		const n = runNode(v);
		assert.equal(n.icon.id, 'sync~spin');
		assert.equal(n.contextValue, 'poisonLens.run.training');
		assert.equal(runDescription(v), 'θ 1.0 % · epoch 2.4 · excess ASR 42 %');
	});

	test('an analysed run takes its verdict icon; children list checkpoints (errors counted), suspects, trigger', () => {
		const v = view(
			{
				checkpoints: [cp(100, 0.1), cp(200, null, 'weights.bin truncated')],
				summary: { kind: 'summary', verdict: 'lagging', lag: { asrStep: 100, spectralStep: 300, lagSteps: 200, lagEpochs: 2 }, blind: { suspects: 30, candidateTriggerOverlap: null, flipRate: 0.8, suspectRows: Array.from({ length: 30 }, (_, i) => i * 3), flipClass: 0 } },
				images: { candidateTrigger: { width: 28, height: 28, channels: 1, data: [] } },
			},
			{ status: 'finished' },
		);
		const n = runNode(v);
		assert.deepEqual(n.icon, { id: 'error', color: 'errorForeground' });
		assert.match(n.description ?? '', /lagging$/);
		const kids = runChildren(v);
		assert.deepEqual(kids.map((k) => [k.kind, k.description]), [
			['checkpoints', '2 analysed, 1 with errors'],
			['suspects', '30 rows · trigger flips 80 %'],
			['trigger', '28×28 → class 0'],
		]);
		const cps = checkpointNodes(v);
		assert.deepEqual(cps.map((c) => c.label), ['step 200', 'step 100']);
		assert.match(cps[0].description ?? '', /error: weights\.bin truncated/);
		assert.equal(cps[0].icon.id, 'error');
		const sus = suspectNodes(v, new Map([[3, 5]]), 'train.csv');
		assert.equal(sus.length, MAX_SUSPECT_NODES + 1);
		assert.deepEqual([sus[1].label, sus[1].description, sus[1].line, sus[1].contextValue], ['row 3', 'train.csv:5', 5, 'poisonLens.suspect.located']);
		assert.equal(sus[0].line, null);
		assert.match(sus[MAX_SUSPECT_NODES].label, /… 5 more/);
	});

	test('not analysed and no attack: the description says so', () => {
		assert.equal(runDescription(view({ metrics: [] }, { theta: null, status: 'finished' })), 'not analysed');
	});
});
