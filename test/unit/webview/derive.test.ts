import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunAnalysisSummary } from '../../../src/protocol/analysisRecord';
import type { AnalysisPoint, RunInfo, RunView } from '../../../src/protocol/webview';
import { ema, fmt, fmtKappa, fmtSignedLag, imageToRgba, lagCurve, lagCurveBend, parseColor, safetyGroups, stepToAxis, verdictText, withAlpha } from '../../../webview/derive';

function info(over: Partial<RunInfo> = {}): RunInfo {
	return { id: 'r', name: 'run', dir: '/runs/r', createdAt: '2026-01-01T00:00:00Z', status: 'finished', attackDeclared: true, theta: 0.01, kappa: 0, targetClass: 0, trigger: 'cross', stepsPerEpoch: 100, ...over };
}

function cp(step: number, over: Partial<AnalysisPoint> = {}): AnalysisPoint {
	return {
		kind: 'checkpoint', checkpoint: null, pass: 'full', epoch: step / 100, step, time: step / 10,
		cleanAccuracy: 0.9, asr: null, p0: null, excessAsr: null, topEigenvalues: null, triggerOverlap: null,
		spectralGap: null, triggerCurvature: null, perSample: null, clean: null, error: null, ...over,
	};
}

function run(checkpoints: AnalysisPoint[], summary: RunAnalysisSummary | null, over: Partial<RunInfo> = {}): RunView {
	return { info: info(over), metrics: [], checkpoints, summary, images: {}, runError: null, problems: [], revision: 1 };
}

function summary(verdict: RunAnalysisSummary['verdict'], lagSteps: number | null, lagEpochs: number | null): RunAnalysisSummary {
	return { kind: 'summary', verdict, lag: { asrStep: 300, spectralStep: lagSteps === null ? null : 300 + lagSteps, lagSteps, lagEpochs }, blind: null };
}

describe('ema (TensorBoard de-biased)', () => {
	test('worked example: [1, 2] with weight 0.5 gives [1, 5/3]', () => {
		// s1 = 0.5·1 / (1 − 0.5) = 1;  s2 = (0.25 + 1) / (1 − 0.25) = 5/3.
		const out = ema([1, 2], 0.5);
		assert.equal(out[0], 1);
		assert.ok(Math.abs(out[1] - 5 / 3) < 1e-12);
	});

	test('a constant series stays constant at any weight', () => {
		for (const w of [0.1, 0.6, 0.99, 0.999]) {
			for (const v of ema(new Array(50).fill(3.25), w)) {
				assert.ok(Math.abs(v - 3.25) < 1e-9, `weight ${w}: ${v}`);
			}
		}
	});

	test('weight 0 returns a copy of the raw values', () => {
		const raw = [1, 5, 2];
		const out = ema(raw, 0);
		assert.deepEqual(out, raw);
		assert.notEqual(out, raw);
	});
});

describe('lagCurve', () => {
	test('one point per checkpoint with both values, in step order, raw y and a [0, 1] norm', () => {
		const cps = [
			cp(300, { excessAsr: 0.5, triggerCurvature: 2 }),
			cp(100, { excessAsr: 0, triggerCurvature: 1 }),
			cp(200, { excessAsr: null, triggerCurvature: 5 }),
			cp(400, { excessAsr: 0.9, triggerCurvature: 3 }),
		];
		const pts = lagCurve(cps, 'triggerCurvature');
		assert.deepEqual(pts.map((p) => p.step), [100, 300, 400]);
		assert.deepEqual(pts.map((p) => p.y), [1, 2, 3]);
		assert.deepEqual(pts.map((p) => p.norm), [0, 0.5, 1]);
		assert.deepEqual(pts.map((p) => p.x), [0, 0.5, 0.9]);
	});

	test('λ1 comes from the first eigenvalue', () => {
		const pts = lagCurve([cp(1, { excessAsr: 0.1, topEigenvalues: [4, 1] })], 'lambda1');
		assert.equal(pts[0].y, 4);
	});

	test('the bend is positive when the spectrum rises first, negative when the attack does', () => {
		const steps = [1, 2, 3, 4, 5];
		const lead = steps.map((s, i) => cp(s, { excessAsr: [0, 0, 0.1, 0.8, 0.9][i], triggerCurvature: [0, 0.8, 1, 1, 1][i] }));
		const lag = steps.map((s, i) => cp(s, { excessAsr: [0, 0.8, 0.9, 0.9, 0.9][i], triggerCurvature: [0, 0, 0, 0.2, 1][i] }));
		assert.ok((lagCurveBend(lagCurve(lead, 'triggerCurvature')) ?? 0) > 0);
		assert.ok((lagCurveBend(lagCurve(lag, 'triggerCurvature')) ?? 0) < 0);
		const flat = steps.map((s) => cp(s, { excessAsr: 0.01, triggerCurvature: 1 }));
		assert.equal(lagCurveBend(lagCurve(flat, 'triggerCurvature')), null);
	});
});

describe('verdictText', () => {
	test('early warning reads as the issue asks: "… showed up 0.7 epochs before it started working"', () => {
		const v = verdictText(run([cp(100)], summary('early-warning', -110, -0.7)));
		assert.equal(v.severity, 'warning');
		assert.match(v.line, /^The backdoor's curvature showed up 0\.7 epochs \(110 steps\) before it started working\.$/);
	});

	test('lagging says the attack came first, with the absolute duration', () => {
		const v = verdictText(run([cp(100)], summary('lagging', 157, 1)));
		assert.match(v.line, /started working 1 epoch \(157 steps\) before its curvature showed up/);
	});

	test('no summary: not analysed, or how many checkpoints so far', () => {
		assert.match(verdictText(run([], null)).line, /Not analysed yet/);
		assert.match(verdictText(run([cp(1), cp(2, { error: 'boom' })], null)).line, /2 checkpoints analysed \(1 failed\)/);
	});

	test('invisible points to the near-clone regime and its defence', () => {
		const v = verdictText(run([cp(1, { excessAsr: 0.91 })], summary('invisible', null, null)));
		assert.equal(v.severity, 'danger');
		assert.match(v.line, /excess ASR 0\.91/);
		assert.match(v.advice ?? '', /input-gradient regularisation/);
	});

	test('blind mode reports suspects against their cut and the flip rate', () => {
		const s: RunAnalysisSummary = { ...summary('visible', null, null), blind: { suspects: 41, candidateTriggerOverlap: null, flipRate: 0.88, flipClass: 0, rowScoreCut: 3.5, scoredRows: 2048, totalRows: 2048 } };
		const v = verdictText(run([cp(1)], s, { attackDeclared: false, theta: null }));
		assert.equal(v.tag, 'backdoor suspected');
		assert.match(v.line, /88% of clean probes to class 0.*41 training rows score at or above the suspect cut 3\.5\./);
		assert.doesNotMatch(v.line, /scored \d+ of/);
	});

	test('a blind alarm with no row above the cut never says suspects were found; a capped scan says how many rows it scored', () => {
		const test = { state: 'alarm' as const, score: 0.85, nullName: 'n', nullSize: 200, nullLow: 0, nullHigh: 0.1, falseAlarmRate: null, reason: 'r', alarmBy: 'curvature' as const };
		const s: RunAnalysisSummary = { ...summary('visible', null, null), blind: { suspects: 0, candidateTriggerOverlap: null, flipRate: 0.85, flipClass: 0, test, rowScoreCut: 3.5, scoredRows: 128, totalRows: 800 } };
		const v = verdictText(run([cp(1)], s, { attackDeclared: false, theta: null }));
		assert.equal(v.severity, 'danger');
		assert.doesNotMatch(`${v.tag} ${v.line}`, /suspects found|0 suspect/i);
		assert.match(v.line, /No training row scored at or above the suspect cut 3\.5 \(scored 128 of 800 rows\)/);
	});

	test('a class-shortcut alarm is named as such; quiet, inconclusive and nothing-to-analyse blind tests are not "clean"', () => {
		const base = { score: 0.1, nullName: 'n', nullSize: 200, nullLow: 0, nullHigh: 0.2, falseAlarmRate: null, reason: 'r' };
		const shortcut = { norm: 0.05, cls: 7, rate: 0.6, secondCls: 1, second: 0.05, gap: 0.55, threshold: 0.23 };
		const blind = (state: 'alarm' | 'quiet' | 'inconclusive' | 'nothing-to-analyse', extra = {}) => ({ suspects: 0, candidateTriggerOverlap: null, flipRate: 0.1, flipClass: 3, test: { ...base, state, shortcut, ...extra } });
		const alarm = verdictText(run([cp(1)], { ...summary('visible', null, null), blind: blind('alarm', { alarmBy: 'shortcut' }) }, { attackDeclared: false, theta: null }));
		assert.match(alarm.line, /one class is a shortcut.*60\.0 % of clean inputs to class 7/);
		assert.doesNotMatch(alarm.line, /candidate trigger pushes/);
		const quiet = verdictText(run([cp(1)], { ...summary('clean', null, null), blind: blind('quiet') }, { attackDeclared: false, theta: null }));
		assert.deepEqual([quiet.severity, quiet.tag], ['ok', 'no backdoor found']);
		assert.match(quiet.line, /no class is a shortcut/);
		const inconclusive = verdictText(run([cp(1)], { ...summary('clean', null, null), blind: blind('inconclusive') }, { attackDeclared: false, theta: null }));
		assert.deepEqual([inconclusive.severity, inconclusive.tag], ['neutral', 'inconclusive']);
		assert.match(inconclusive.line, /its own control fires/);
		const nothing = verdictText(run([cp(1)], { ...summary('clean', null, null), blind: blind('nothing-to-analyse') }, { attackDeclared: false, theta: null }));
		assert.deepEqual([nothing.severity, nothing.tag], ['neutral', 'nothing to analyse yet']);
	});
});

describe('formatting', () => {
	test('fmtSignedLag keeps the sign with a real minus', () => {
		assert.equal(fmtSignedLag(-110, -0.7), 'lag −110 steps (−0.7 epochs)');
		assert.equal(fmtSignedLag(40, null), 'lag +40 steps');
		assert.equal(fmtSignedLag(null, null), 'lag: –');
	});

	test('fmt and fmtKappa', () => {
		assert.equal(fmt(0.12345), '0.123');
		assert.equal(fmt(-2), '−2');
		assert.equal(fmt(null), '–');
		assert.equal(fmtKappa(0), '0');
		assert.equal(fmtKappa(1000), '1e3');
		assert.equal(fmtKappa(25000), '2.5e4');
	});
});

describe('colours', () => {
	test('parseColor reads hex and rgb forms; withAlpha multiplies alpha', () => {
		assert.deepEqual(parseColor('#3794ff'), { r: 0x37, g: 0x94, b: 0xff, a: 1 });
		assert.deepEqual(parseColor('#fff'), { r: 255, g: 255, b: 255, a: 1 });
		assert.deepEqual(parseColor('rgba(204, 204, 204, 0.5)'), { r: 204, g: 204, b: 204, a: 0.5 });
		assert.equal(parseColor('red'), null);
		assert.equal(withAlpha('#ff000080', 0.5), `rgba(255, 0, 0, ${Math.round((0x80 / 255) * 0.5 * 1000) / 1000})`);
		assert.equal(withAlpha('red', 0.5), 'red');
	});
});

describe('imageToRgba', () => {
	test('signed grey images use a diverging map: +max red, −max blue, 0 white', () => {
		const { data, signed } = imageToRgba({ width: 3, height: 1, channels: 1, data: [2, -2, 0] });
		assert.equal(signed, true);
		assert.deepEqual(data, [255, 0, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
	});

	test('non-negative grey images go from black to white', () => {
		const { data, signed } = imageToRgba({ width: 2, height: 1, channels: 1, data: [0, 4] });
		assert.equal(signed, false);
		assert.deepEqual(data, [0, 0, 0, 255, 255, 255, 255, 255]);
	});

	test('an all-zero image stays drawable', () => {
		assert.deepEqual(imageToRgba({ width: 1, height: 1, channels: 1, data: [0] }).data, [0, 0, 0, 255]);
	});
});

describe('safetyGroups and stepToAxis', () => {
	test('one group per θ, points in κ order, from each run\u2019s last checkpoint with both values', () => {
		const mk = (id: string, theta: number, kappa: number, asr: number, acc: number): RunView => ({
			...run([cp(1, { excessAsr: 0, cleanAccuracy: 0.5 }), cp(2, { excessAsr: asr, cleanAccuracy: acc }), cp(3, { error: 'x' })], null),
			info: info({ id, theta, kappa }),
		});
		const g = safetyGroups([mk('a', 0.01, 1e4, 0.1, 0.95), mk('b', 0.01, 0, 0.9, 0.99), mk('c', 0, 0, 0, 0.99)]);
		assert.deepEqual(g.map((x) => x.theta), [0, 0.01]);
		assert.deepEqual(g[1].points.map((p) => [p.runId, p.x, p.y, p.label]), [['b', 0.9, 0.99, 'κ=0'], ['a', 0.1, 0.95, 'κ=1e4']]);
	});

	test('stepToAxis uses steps per epoch, else interpolates between checkpoints', () => {
		const r = run([cp(100), cp(300)], null);
		assert.equal(stepToAxis(r, 250, 'epoch'), 2.5);
		assert.equal(stepToAxis(r, 200, 'time'), 20);
		assert.equal(stepToAxis(r, 200, 'step'), 200);
	});
});
