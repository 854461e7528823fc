import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunView, Snapshot } from '../../../src/protocol/webview';
import { comparedRuns, DEFAULT_SETTINGS, initialState, persisted, primaryRun, reduce, type State } from '../../../webview/state';

function view(id: string, revision = 1): RunView {
	return {
		info: { id, name: id, dir: `/runs/${id}`, createdAt: '2026-01-01T00:00:00Z', status: 'training', attackDeclared: true, theta: 0.01, kappa: 0, targetClass: 0, trigger: 'cross', stepsPerEpoch: 10 },
		metrics: [], checkpoints: [], summary: null, images: {}, runError: null, problems: [], revision,
	};
}

function snap(ids: string[], primaryRunId: string | null = null): Snapshot {
	return { runs: ids.map((id) => view(id)), primaryRunId, runsRoot: '/runs' };
}

function loaded(ids: string[], primary: string | null = null): State {
	return reduce(initialState(), { type: 'snapshot', snapshot: snap(ids, primary) });
}

describe('initialState', () => {
	test('waits for the first snapshot with default settings', () => {
		const s = initialState();
		assert.equal(s.received, false);
		assert.deepEqual(s.settings, DEFAULT_SETTINGS);
		assert.equal(primaryRun(s), null);
	});

	test('keeps valid persisted settings and drops invalid fields one by one', () => {
		const s = initialState({ primaryRunId: 'b', settings: { xAxis: 'epoch', smoothing: 7, logY: true, signal: 'nonsense', compare: ['a', 3], zoom: { lag: { min: 0, max: 1 }, signals: { min: 2, max: 1 }, bogus: { min: 0, max: 1 } } } });
		assert.equal(s.primaryRunId, 'b');
		assert.equal(s.settings.xAxis, 'epoch');
		assert.equal(s.settings.smoothing, 0.999);
		assert.equal(s.settings.logY, true);
		assert.equal(s.settings.signal, DEFAULT_SETTINGS.signal);
		assert.equal(s.settings.compare, null);
		assert.deepEqual(s.settings.zoom, { lag: { min: 0, max: 1 } });
	});

	test('survives garbage', () => {
		for (const g of [null, 3, 'x', [], { settings: 'no' }]) {
			assert.deepEqual(initialState(g).settings, DEFAULT_SETTINGS);
		}
	});
});

describe('reduce: run data', () => {
	test('a snapshot replaces the runs, keeps host order and picks the primary', () => {
		const s = loaded(['a', 'b'], 'b');
		assert.equal(s.received, true);
		assert.deepEqual(s.order, ['a', 'b']);
		assert.equal(primaryRun(s)?.info.id, 'b');
	});

	test('an unknown primary falls back to the first run; a persisted choice survives a snapshot without one', () => {
		assert.equal(primaryRun(loaded(['a', 'b'], 'zzz'))?.info.id, 'a');
		const restored = reduce(initialState({ primaryRunId: 'b' }), { type: 'snapshot', snapshot: snap(['a', 'b'], null) });
		assert.equal(primaryRun(restored)?.info.id, 'b');
	});

	test('runUpdated with the same revision is a no-op (same object); a new run is appended', () => {
		const s = loaded(['a']);
		assert.equal(reduce(s, { type: 'runUpdated', run: view('a', 1) }), s);
		const s2 = reduce(s, { type: 'runUpdated', run: view('a', 2) });
		assert.notEqual(s2, s);
		assert.equal(s2.runs.a.revision, 2);
		const s3 = reduce(s2, { type: 'runUpdated', run: view('c', 1) });
		assert.deepEqual(s3.order, ['a', 'c']);
	});

	test('runRemoved moves the primary to the next run', () => {
		const s = reduce(loaded(['a', 'b'], 'a'), { type: 'runRemoved', runId: 'a' });
		assert.deepEqual(s.order, ['b']);
		assert.equal(primaryRun(s)?.info.id, 'b');
		assert.equal(reduce(s, { type: 'runRemoved', runId: 'nope' }), s);
	});

	test('selectRun ignores unknown runs and clears zoom ranges', () => {
		let s = loaded(['a', 'b'], 'a');
		s = reduce(s, { type: 'zoom', chart: 'training', range: { min: 1, max: 2 } });
		assert.equal(reduce(s, { type: 'selectRun', runId: 'zzz' }), s);
		const t = reduce(s, { type: 'selectRun', runId: 'b' });
		assert.equal(t.primaryRunId, 'b');
		assert.deepEqual(t.settings.zoom, {});
		assert.equal(persisted(t).primaryRunDir, '/runs/b');
	});
});

describe('reduce: view settings', () => {
	test('changing the x axis clears zoom (a range in steps means nothing in seconds)', () => {
		let s = reduce(loaded(['a']), { type: 'zoom', chart: 'signals', range: { min: 10, max: 20 } });
		assert.deepEqual(s.settings.zoom.signals, { min: 10, max: 20 });
		s = reduce(s, { type: 'setXAxis', xAxis: 'time' });
		assert.equal(s.settings.xAxis, 'time');
		assert.deepEqual(s.settings.zoom, {});
		assert.equal(reduce(s, { type: 'setXAxis', xAxis: 'time' }), s);
	});

	test('zoom rejects empty, reversed and non-finite ranges; null resets', () => {
		const s = loaded(['a']);
		assert.equal(reduce(s, { type: 'zoom', chart: 'lag', range: { min: 2, max: 2 } }), s);
		assert.equal(reduce(s, { type: 'zoom', chart: 'lag', range: { min: 3, max: 2 } }), s);
		assert.equal(reduce(s, { type: 'zoom', chart: 'lag', range: { min: Number.NaN, max: 2 } }), s);
		const z = reduce(s, { type: 'zoom', chart: 'lag', range: { min: 0, max: 2 } });
		assert.equal(reduce(z, { type: 'zoom', chart: 'lag', range: null }).settings.zoom.lag, undefined);
	});

	test('smoothing is clamped to [0, 0.999]', () => {
		const s = loaded(['a']);
		assert.equal(reduce(s, { type: 'setSmoothing', smoothing: 2 }).settings.smoothing, 0.999);
		assert.equal(reduce(s, { type: 'setSmoothing', smoothing: -1 }).settings.smoothing, 0);
	});

	test('toggleCompare starts from "every run" and removes or adds one', () => {
		let s = loaded(['a', 'b', 'c']);
		assert.deepEqual(comparedRuns(s).map((r) => r.info.id), ['a', 'b', 'c']);
		s = reduce(s, { type: 'toggleCompare', runId: 'b' });
		assert.deepEqual(comparedRuns(s).map((r) => r.info.id), ['a', 'c']);
		s = reduce(s, { type: 'toggleCompare', runId: 'b' });
		assert.deepEqual(comparedRuns(s).map((r) => r.info.id), ['a', 'c', 'b'].filter((x) => ['a', 'b', 'c'].includes(x)).sort());
	});

	test('setCompare (the Runs view\'s "Compare with…") limits the compare chart to the given runs', () => {
		let s = loaded(['a', 'b', 'c']);
		s = reduce(s, { type: 'setCompare', runIds: ['c', 'a'] });
		assert.deepEqual(comparedRuns(s).map((r) => r.info.id).sort(), ['a', 'c']);
	});

	test('log-y, signal and notices', () => {
		let s = loaded(['a']);
		s = reduce(s, { type: 'setLogY', logY: true });
		assert.equal(s.settings.logY, true);
		s = reduce(s, { type: 'setSignal', signal: 'lambda1' });
		assert.equal(s.settings.signal, 'lambda1');
		s = reduce(s, { type: 'notice', notice: { level: 'info', text: 'saved' } });
		assert.equal(s.notice?.text, 'saved');
	});
});
