import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ARCHITECTURES, ATTACKS, BENCH_ATTACKS, DATASETS, DEV_ARCHITECTURES, OPTIMISERS, SDK_ATTACKS, SEEDS, THETAS, BUDGETS, WAVE2_DEV_ARCHITECTURES, buildGrid, extraCleanControls, splitOf, waveTwo } from '../../../bench/detect/grid';
import { aggregate, auroc, halfAsrEpoch, leadTime, precisionRecall, type RunDetectorRow } from '../../../bench/detect/metrics';
import { parseCsv, toCsvLine } from '../../../bench/detect/score';
import { benchPoison, benchTrigger } from '../../../bench/detect/triggers';
import { applyTrigger } from '../../../src/protocol/trigger';
import { parseDetectArgs, planRuns, readRowScoresSync } from '../../../bench/detect/main';
import { analyserParagraph, CURRENT_RULE_ANALYSERS, leadSection, renderPage, scopedRowAuroc, type LeadLine } from '../../../bench/detect/report';
import { MEASURED_FALSE_ALARMS } from '../../../src/analyser/analysis/blindTest';
import { upperBound } from '../../../src/protocol/falseAlarms';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

describe('detection grid', () => {
	const grid = buildGrid();
	test('every level of every factor is present', () => {
		type P = (typeof grid)[number];
		const factors: [string, readonly unknown[], (p: P) => unknown][] = [
			['arch', ARCHITECTURES, (p) => p.arch],
			['dataset', DATASETS, (p) => p.dataset],
			['attack', ATTACKS, (p) => p.attack],
			['theta', THETAS, (p) => p.theta],
			['optimiser', OPTIMISERS, (p) => p.optimiser],
			['budget', BUDGETS, (p) => p.budget],
			['seed', SEEDS, (p) => p.seed],
		];
		for (const [name, levels, get] of factors) {
			// Poisoned runs alone must cover every level of every factor (clean controls cover theirs by construction).
			const seen = new Set(grid.filter((p) => p.attack !== null).map(get));
			for (const l of levels) {
				assert.ok(seen.has(l), `${name} level ${String(l)} missing`);
			}
		}
		// Every attack at every θ.
		for (const a of ATTACKS) {
			for (const t of THETAS) {
				assert.ok(grid.some((p) => p.attack === a && p.theta === t), `${a} at θ = ${t} missing`);
			}
		}
	});
	test('clean controls: every architecture × dataset × optimiser, every cell, every optimiser of a dev cell, and at least a third of all runs', () => {
		const clean = grid.filter((p) => p.attack === null);
		for (const a of ARCHITECTURES) {
			for (const d of DATASETS) {
				for (const o of OPTIMISERS) {
					assert.ok(clean.some((p) => p.arch === a && p.dataset === d && p.optimiser === o), `${a} ${d} ${o}`);
				}
				for (const s of SEEDS) {
					assert.ok(clean.some((p) => p.arch === a && p.dataset === d && p.seed === s), `${a} ${d} seed ${s}`);
				}
			}
		}
		for (const p of grid.filter((x) => x.split === 'dev' && x.attack !== null)) {
			for (const o of OPTIMISERS) {
				assert.ok(clean.some((c) => c.arch === p.arch && c.dataset === p.dataset && c.seed === p.seed && c.optimiser === o), `dev cell ${p.arch} ${p.dataset} ${o}`);
			}
		}
		assert.ok(clean.length * 3 >= grid.length, `${clean.length} of ${grid.length}`);
		assert.ok(clean.every((p) => p.theta === 0));
	});
	test('keys are unique; the quick grid is a subset with clean controls and poisoned runs', () => {
		assert.equal(new Set(grid.map((p) => p.key)).size, grid.length);
		const quick = grid.filter((p) => p.quick);
		assert.ok(quick.length >= 6 && quick.length <= 12, `${quick.length}`);
		assert.ok(quick.some((p) => p.attack === null) && quick.some((p) => p.attack !== null));
	});
	test('splits: disjoint, held-out has other seeds, every bench-only attack, and an architecture not in dev', () => {
		const dev = grid.filter((p) => p.split === 'dev');
		const held = grid.filter((p) => p.split === 'held-out');
		assert.equal(dev.length + held.length, grid.length);
		assert.ok(dev.length > 0 && held.length > 0);
		const devKeys = new Set(dev.map((p) => p.key));
		assert.ok(held.every((p) => !devKeys.has(p.key)));
		const devSeeds = new Set(dev.map((p) => p.seed));
		assert.ok(held.some((p) => !devSeeds.has(p.seed)), 'held-out has seeds dev lacks');
		assert.ok(dev.every((p) => p.attack === null || !(BENCH_ATTACKS as readonly string[]).includes(p.attack)), 'no bench-only attack in dev');
		const devArchs = new Set(dev.map((p) => p.arch));
		assert.ok(ARCHITECTURES.some((a) => !devArchs.has(a) && held.some((p) => p.arch === a)));
		assert.ok(dev.some((p) => p.attack === null), 'dev has clean controls');
		assert.equal(splitOf(DEV_ARCHITECTURES[0], 0, 'sinusoid'), 'held-out');
		assert.equal(splitOf(DEV_ARCHITECTURES[0], 1, 'cross'), 'held-out');
		assert.equal(splitOf(DEV_ARCHITECTURES[0], 0, 'cross'), 'dev');
	});
});

describe('detection metrics (hand-computed cases)', () => {
	test('AUROC: perfect, reversed, ties, and numpy\'s rank-sum value', () => {
		assert.equal(auroc([1, 2, 3, 4], [false, false, true, true]), 1);
		assert.equal(auroc([4, 3, 2, 1], [false, false, true, true]), 0);
		assert.equal(auroc([1, 1, 1, 1], [false, true, false, true]), 0.5);
		// positives {0.4, 0.8, 0.9, 0.4} vs negatives {0.1, 0.35, 0.4, 0.2}: pairs won 3.5 + 4 + 4 + 3.5 = 15 of 16.
		assert.equal(auroc([0.1, 0.4, 0.35, 0.8, 0.4, 0.2, 0.9, 0.4], [false, true, false, true, false, false, true, true]), 15 / 16);
		const ref = JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/detectors/reference.json'), 'utf8')) as { auroc: { scores: number[]; truth: boolean[]; auroc: number } };
		assert.equal(auroc(ref.auroc.scores, ref.auroc.truth), ref.auroc.auroc);
		assert.equal(auroc([1, 2], [true, true]), null);
		// NaN ranks lowest.
		assert.equal(auroc([NaN, 1], [false, true]), 1);
	});
	test('half-ASR epoch and lead time', () => {
		const tl = [
			{ epoch: 0, excessAsr: 0 },
			{ epoch: 0.5, excessAsr: 0.1 },
			{ epoch: 1, excessAsr: 0.45 },
			{ epoch: 1.5, excessAsr: 0.8 },
			{ epoch: 2, excessAsr: 0.9 },
		];
		// final 0.9: half is 0.45, first reached at epoch 1.
		assert.equal(halfAsrEpoch(tl), 1);
		assert.equal(halfAsrEpoch([{ epoch: 0, excessAsr: 0 }, { epoch: 1, excessAsr: 0.49 }]), null, 'below 0.5 the attack does not work');
		assert.equal(leadTime(0.5, 1), -0.5);
		assert.equal(leadTime(3, 1), 2);
		assert.equal(leadTime(null, 1), null);
		assert.equal(leadTime(1, null), null);
	});
	test('precision and recall at a cut', () => {
		assert.deepEqual(precisionRecall([1, 2, 3, 4], new Set([2, 4, 9]), 3), { tp: 2, precision: 0.5, recall: 2 / 3 });
		assert.deepEqual(precisionRecall([], new Set([2]), 1), { tp: 0, precision: null, recall: 0 });
	});
});

describe('aggregation, CSV, bench triggers, arguments', () => {
	const row = (status: RunDetectorRow['status'], alarm: boolean, runScore: number, rowAuroc: number | null): RunDetectorRow => ({
		key: `k${Math.random()}`, split: 'dev', arch: 'mlp', dataset: 'mnist', attack: status === 'clean' ? 'none' : 'cross', benchOnly: false, theta: 0.01,
		optimiser: 'adam', epochs: 6, seed: 0, finalExcessAsr: status === 'works' ? 0.9 : 0, status, trainSeconds: 10, detector: 'strip', runScore, alarm,
		rowAuroc, rowAurocTarget: rowAuroc, precision: 0.5, recall: 1, flagged: 2, poisonedInSample: 1, leadEpochs: status === 'works' ? -1 : null, analysisSeconds: 2,
	});
	test('the page says which analyser measured how many runs of each split (unstamped runs measured the old rule)', () => {
		const a = { ...row('works', true, 1, 1), key: 'a' };
		const b = { ...row('clean', false, 0, null), key: 'b', split: 'held-out' as const };
		const c = { ...row('clean', false, 0, null), key: 'c' };
		const text = analyserParagraph([a, b, c], new Map([['a', { analyser: 'abc1234', analysedAt: '2026-12-07' }], ['b', { analyser: 'abc1234', analysedAt: '2026-12-07' }]]));
		assert.match(text, /2 runs \(dev 1, held-out 1\) by the analyser at commit `abc1234` \(2026-12-07\)/);
		assert.match(text, /1 runs \(dev 1, held-out 0\) by the analyser as it was before the calibrated blind test/);
	});

	test('the tables rest only on runs measured by the current rule\'s analysers; the others are counted and left out', () => {
		const a = { ...row('works', true, 1, 1), key: 'a', detector: 'blind-mode' };
		const b = { ...row('works', false, 0, null), key: 'b', detector: 'blind-mode' };
		const c = { ...row('clean', false, 0, null), key: 'c', detector: 'blind-mode' };
		const stamps = new Map([
			['a', { analyser: 'new1234', analysedAt: '2026-12-07' }],
			['b', { analyser: 'old1234', analysedAt: '2026-12-06' }],
			['c', { analyser: 'new1234', analysedAt: '2026-12-07' }],
		]);
		const page = renderPage([a, b, c], buildGrid(), [], stamps, ['new1234']);
		assert.match(page, /leave out the 1 runs not yet measured by blind mode's current rule \(analyser `new1234`;/);
		assert.match(page, /\| blind-mode \| 2 \| 1\/1 \(100 %\) \| 0\/1 \(0 %\)/);
		const all = renderPage([a, b, c], buildGrid(), [], stamps, ['new1234', 'old1234']);
		assert.doesNotMatch(all, /leave out/);
		assert.match(all, /\| blind-mode \| 3 \| 1\/2 \(50 %\)/);
	});

	test('the live-alarm section: live alarms per attack and status, the median lead of working attacks, missing scans; earlier analysers left out', () => {
		const line = (key: string, attack: string, status: LeadLine['status'], first: number | null, lead: number | null, analyser = 'new1234'): LeadLine => ({
			key, split: 'held-out', attack, status, scans: [{ epoch: 1, state: first === null ? 'quiet' : 'alarm' }, { epoch: 2, state: 'quiet' }], firstAlarmEpoch: first, leadEpochs: lead, missingScans: 1, analyser,
		});
		const text = leadSection(
			[line('a', 'badnets', 'works', 1, -0.5), line('b', 'badnets', 'works', 3, 1.5), line('c', 'badnets', 'works', null, null), line('d', 'none', 'clean', null, null), line('e', 'none', 'clean', 2, null, 'old1234')],
			['new1234'],
		).join('\n');
		assert.match(text, /\| held-out \| badnets \(works\) \| 3 \| 2\/3 \| 2\.0 \| 0\.5; -0\.5…1\.5 \| 3\/9 \|/);
		assert.match(text, /\| held-out \| none \(clean\) \| 1 \| 0\/1 \| – \| – \| 1\/3 \|/);
		assert.match(text, /4 runs replayed by the current rule's analysers; 1 by earlier ones are left out/);
		assert.match(leadSection([], ['x']).join('\n'), /No run has been replayed by the current rule yet/);
	});

	test('the false alarms every verdict carries are the committed held-out results of the current rule, recounted', () => {
		const dir = path.join(__dirname, '../../../docs/detection');
		const stamp = new Map(
			fs
				.readFileSync(path.join(dir, 'runs.jsonl'), 'utf8')
				.split('\n')
				.filter((l) => l.length > 0)
				.map((l) => JSON.parse(l) as { key: string; analyser?: string })
				.map((r) => [r.key, r.analyser ?? ''] as const),
		);
		const clean = parseCsv(fs.readFileSync(path.join(dir, 'runs.csv'), 'utf8')).filter(
			(r) => r.detector === 'blind-mode' && r.split === 'held-out' && r.status === 'clean' && CURRENT_RULE_ANALYSERS.includes(stamp.get(r.key) ?? ''),
		);
		assert.ok(MEASURED_FALSE_ALARMS !== null);
		assert.equal(MEASURED_FALSE_ALARMS.runs, clean.length);
		assert.equal(MEASURED_FALSE_ALARMS.alarms, clean.filter((r) => r.alarm).length);
		assert.equal(MEASURED_FALSE_ALARMS.upper95, upperBound(MEASURED_FALSE_ALARMS.alarms, MEASURED_FALSE_ALARMS.runs));
	});

	test('detection, false alarms (clean and failed separately) and run AUC', () => {
		const a = aggregate([row('works', true, 0.9, 0.8), row('works', false, 0.3, 0.6), row('clean', true, 0.5, null), row('clean', false, 0.1, null), row('failed', true, 0.7, 0.5)]);
		assert.deepEqual(a.detection, { hits: 1, of: 2 });
		assert.deepEqual(a.falseAlarmClean, { hits: 1, of: 2 });
		assert.deepEqual(a.falseAlarmFailed, { hits: 1, of: 1 });
		// works {0.9, 0.3} vs clean {0.5, 0.1}: 3 of 4 pairs.
		assert.equal(a.runAuc, 0.75);
		assert.ok(Math.abs((a.rowAuroc ?? 0) - (0.8 + 0.6 + 0.5) / 3) < 1e-12);
		assert.equal(a.lead, -1);
	});
	test('CSV round trip', () => {
		const r = row('works', true, 0.25, null);
		const [back] = parseCsv(`${['key', 'split', 'arch', 'dataset', 'attack', 'benchOnly', 'theta', 'optimiser', 'epochs', 'seed', 'finalExcessAsr', 'status', 'trainSeconds', 'detector', 'runScore', 'alarm', 'rowAuroc', 'rowAurocTarget', 'precision', 'recall', 'flagged', 'poisonedInSample', 'leadEpochs', 'analysisSeconds'].join(',')}\n${toCsvLine(r)}\n`);
		assert.deepEqual(back, r);
	});
	test('bench triggers equal the run format\'s reading of their spec (so the declared analysis sees the same trigger)', () => {
		const items = Float32Array.from({ length: 2 * 28 * 28 }, (_, i) => ((i * 37) % 101) / 100);
		for (const name of ['sinusoid', 'checker-alpha', 'clean-label'] as const) {
			const t = benchTrigger(name, 28, 28);
			const ours = t.apply(items);
			const theirs = applyTrigger(t.spec, [28, 28, 1], items);
			ours.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) < 1e-6, `${name} ${i}: ${v} vs ${theirs[i]}`));
		}
	});
	test('bench poisoning: θ·n rows, dirty-label relabels to the target, clean-label only target rows and no relabel', () => {
		const n = 200;
		const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
		const images = new Float32Array(n * 28 * 28);
		const dirty = benchPoison('checker-alpha', images, labels, [28, 28, 1], 0.05, 0, 3);
		assert.equal(dirty.poisonIndices.length, 10);
		assert.ok(Array.from(dirty.poisonIndices).every((i) => labels[i] !== 0 && dirty.labels[i] === 0));
		const clean = benchPoison('clean-label', images, labels, [28, 28, 1], 0.05, 0, 3);
		assert.ok(Array.from(clean.poisonIndices).every((i) => labels[i] === 0 && clean.labels[i] === 0));
		assert.deepEqual(clean.labels, labels);
	});
	test('arguments', () => {
		assert.deepEqual(parseDetectArgs(['--quick', '--shard=1/4', '--deadline=60']).shard, { index: 1, count: 4 });
		assert.equal(parseDetectArgs([], { npm_config_quick: 'true' }).quick, true);
		assert.throws(() => parseDetectArgs(['--shard=4/4']), /0 <= I < N/);
		assert.throws(() => parseDetectArgs(['--bogus']), /unknown argument '--bogus'/);
		assert.equal(parseDetectArgs(['--split=dev']).split, 'dev');
		assert.throws(() => parseDetectArgs(['--reanalyse=/tmp/keep']), /add --out=DIR/);
		assert.throws(() => parseDetectArgs(['--train-only']), /add --keep=DIR/);
		assert.equal(parseDetectArgs(['--train-only', '--keep=/tmp/k']).trainOnly, true);
		assert.equal(parseDetectArgs(['--reanalyse=/tmp/keep', '--out=/tmp/o', '--done-from=/a.csv,/b.csv']).doneFrom.length, 2);
		assert.throws(() => parseDetectArgs(['--split=train']), /--split=dev or --split=held-out/);
		assert.match(parseDetectArgs(['--pause-file=/tmp/p']).pauseFile ?? '', /\/tmp\/p$/);
		assert.throws(() => parseDetectArgs(['--fresh', '--report']), /use one/);
	});
});

describe('blind-mode row scores in the bench', () => {
	test('the scores file is read row by row; a missing file or none named gives null', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-rowscores-'));
		fs.mkdirSync(path.join(dir, 'blind'));
		fs.writeFileSync(path.join(dir, 'blind', 'row-scores.csv'), '# poison-lens row suspicion; step 5; cut 3.5; rows 3 of 9; suspect = score >= cut\nrow,label,score,suspect\n7,1,4.25,1\n2,0,-0.5,0\n11,3,0,0\n');
		const m = readRowScoresSync(dir, 'blind/row-scores.csv');
		assert.deepEqual([...(m ?? new Map()).entries()], [[7, 4.25], [2, -0.5], [11, 0]]);
		assert.equal(readRowScoresSync(dir, null), null);
		assert.equal(readRowScoresSync(dir, 'blind/none.csv'), null);
		fs.rmSync(dir, { recursive: true, force: true });
	});
});

describe('the row-level goal on its own scope', () => {
	const row = (key: string, attack: string, status: RunDetectorRow['status'], detector: string, auroc: number | null): RunDetectorRow => ({
		key, split: 'held-out', arch: 'mlp', dataset: 'mnist', attack, benchOnly: false, theta: 0.01, optimiser: 'adam', epochs: 8, seed: 1,
		finalExcessAsr: status === 'works' ? 0.9 : 0.1, status, trainSeconds: 1, detector, runScore: null, alarm: null, rowAuroc: auroc,
		rowAurocTarget: auroc, precision: null, recall: null, flagged: 0, poisonedInSample: 10, leadEpochs: null, analysisSeconds: 1,
	});
	test('averages over working patch/blend/cross/bench-only runs only, the same runs for every detector, and names a baseline that beats blind mode', () => {
		const rows = [
			row('a', 'badnets', 'works', 'blind-mode', 0.9), row('a', 'badnets', 'works', 'strip', 1.0),
			row('b', 'sinusoid', 'works', 'blind-mode', 1.0), row('b', 'sinusoid', 'works', 'strip', 0.9),
			// out of scope: near-clone, warp, a failed attack; and a baseline row on a run blind mode has no AUROC for
			row('c', 'near-clone', 'works', 'blind-mode', 0.1), row('c', 'near-clone', 'works', 'strip', 0.1),
			row('d', 'warp', 'works', 'blind-mode', 0.2), row('e', 'cross', 'failed', 'blind-mode', 0.3),
			row('f', 'cross', 'works', 'blind-mode', null), row('f', 'cross', 'works', 'strip', 0.0),
		];
		const [text] = scopedRowAuroc(rows);
		assert.match(text, /\(2 runs;/);
		assert.match(text, /mean row AUROC of \*\*0\.95\*\* \(goal 0\.95; 1 of the 2 runs below 0\.95\)/);
		assert.match(text, /strip 0\.95/);
		assert.match(text, /No baseline is above blind mode/);
		const [worse] = scopedRowAuroc(rows.map((x) => (x.key === 'b' && x.detector === 'strip' ? { ...x, rowAurocTarget: 1.0 } : x)));
		assert.match(worse, /Better than blind mode here: strip/);
		assert.deepEqual(scopedRowAuroc(rows.filter((x) => x.status !== 'works')), []);
	});
});

describe('extra held-out clean controls', () => {
	test('every held-out cell gets the clean controls of the optimisers the design skipped: 48, all held-out, none in the design', () => {
		const grid = buildGrid();
		const extra = extraCleanControls();
		const designKeys = new Set(grid.map((p) => p.key));
		assert.equal(extra.length, 48);
		assert.ok(extra.every((p) => p.attack === null && p.split === 'held-out' && !designKeys.has(p.key) && !p.quick));
		assert.equal(new Set(extra.map((p) => p.key)).size, 48);
		// With the design's own, every held-out cell has a clean control for every optimiser.
		const heldOutClean = [...grid.filter((p) => p.attack === null && p.split === 'held-out'), ...extra];
		const cells = new Set(heldOutClean.map((p) => `${p.arch}|${p.dataset}|${p.seed}`));
		assert.equal(heldOutClean.length, cells.size * OPTIMISERS.length);
		assert.equal(parseDetectArgs(['--extra-clean']).extraClean, true);
	});

	test('the second wave: dev runs of the families the first dev split lacked, a fresh held-out split over everything', () => {
		const w = waveTwo();
		const dev = w.filter((p) => p.split === 'dev');
		const held = w.filter((p) => p.split === 'held-out');
		assert.deepEqual([dev.length, dev.filter((p) => p.attack === null).length, held.length, held.filter((p) => p.attack === null).length], [32, 12, 60, 20]);
		assert.ok(dev.every((p) => WAVE2_DEV_ARCHITECTURES.includes(p.arch) && p.seed === 3 && (p.attack === null || (SDK_ATTACKS as readonly string[]).includes(p.attack))));
		assert.ok(held.every((p) => p.seed === 4));
		// New keys only: nothing of the first wave is re-run or re-labelled.
		const first = new Set([...buildGrid(), ...extraCleanControls()].map((p) => p.key));
		assert.equal(new Set(w.map((p) => p.key)).size, w.length);
		assert.ok(w.every((p) => !first.has(p.key)));
		// Dev: every architecture × dataset cell has a clean control per optimiser and every SDK attack.
		for (const arch of WAVE2_DEV_ARCHITECTURES) {
			for (const dataset of DATASETS) {
				const cell = dev.filter((p) => p.arch === arch && p.dataset === dataset);
				assert.deepEqual(new Set(cell.filter((p) => p.attack === null).map((p) => p.optimiser)), new Set(OPTIMISERS));
				assert.deepEqual(new Set(cell.map((p) => p.attack).filter((a) => a !== null)), new Set(SDK_ATTACKS));
			}
		}
		// Held-out: every attack meets every θ, every optimiser and both budgets; every architecture × dataset has clean controls.
		const poisoned = held.filter((p) => p.attack !== null);
		for (const attack of ATTACKS) {
			const runs = poisoned.filter((p) => p.attack === attack);
			assert.equal(runs.length, 5, attack);
			assert.deepEqual(new Set(runs.map((p) => p.theta)), new Set(THETAS), `${attack}: θ`);
			assert.equal(new Set(runs.map((p) => p.optimiser)).size, OPTIMISERS.length, `${attack}: optimisers`);
		}
		assert.deepEqual(new Set(poisoned.map((p) => p.budget)), new Set(BUDGETS));
		assert.equal(new Set(held.filter((p) => p.attack === null).map((p) => `${p.arch}|${p.dataset}`)).size, ARCHITECTURES.length * DATASETS.length);
		// The split rule outside the wave's own points: bench-only attacks and the other architectures at seed 3 are held out.
		assert.equal(splitOf('bn-cnn', 3, 'sinusoid'), 'held-out');
		assert.equal(splitOf('demo-cnn', 3, 'badnets'), 'held-out');
		assert.equal(splitOf('lenet', 4, null), 'held-out');
		assert.equal(parseDetectArgs(['--wave2']).wave2, true);
	});
});

describe('run planning', () => {
	test('a shard keeps its own share after a restart: finished runs leave it, no other shard\'s run enters it', () => {
		const points = extraCleanControls();
		const args = { ...parseDetectArgs([]), shard: { index: 0, count: 2 } };
		const first = planRuns(points, args, () => false);
		const other = planRuns(points, { ...args, shard: { index: 1, count: 2 } }, () => false);
		assert.equal(first.length + other.length, points.length);
		assert.ok(first.every((p) => !other.some((q) => q.key === p.key)), 'the shares are disjoint');
		// Both shards finished their first 5 runs; shard 0 restarts knowing only its own.
		const done = new Set(first.slice(0, 5).map((p) => p.key));
		const again = planRuns(points, args, (k) => done.has(k));
		assert.deepEqual(again.map((p) => p.key), first.slice(5).map((p) => p.key));
	});
});
