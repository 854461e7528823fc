/**
 * Re-scores blind mode on run folders that `bench:detect --keep=DIR` kept: runs the analyser's blind scan (with the
 * blind test of src/analyser/analysis/blindTest.ts) on each run's blind copy (no declaration: what a user has) at its
 * newest checkpoint, in-process, writing nothing into the run folder, and prints per run: the test's state, score,
 * null band, candidate vs control flip rate, the fragility control and the seconds it took.
 *
 *     node --import tsx bench/detect/rescore.ts [--keep=DIR[,DIR]] [--csv=FILE] [--only=KEY,...] [--backend=wasm|cpu]
 *     node --import tsx bench/detect/rescore.ts --held-out ...   # ONLY after the rules are frozen
 *
 * THE SPLIT RULE: by default only runs of the dev split (bench/detect/grid.ts `splitOf`) are opened. A held-out run
 * folder is not read at all (not even its truth.json) unless `--held-out` is given explicitly; then only held-out
 * runs are scored. A folder whose key cannot be placed in a split is treated as held-out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARCHITECTURES, ATTACKS, buildGrid, splitOf, type Architecture, type Attack, type Split } from './grid';
import { WORKS_AT } from './metrics';
import type { Truth as TrainTruth } from './train';
import { selectBackend, type BackendRequest } from '../../src/tfjs/backend';
import { loadRunContext } from '../../src/analyser/analysis/context';
import { runBlindScan } from '../../src/analyser/analysis/blind';

/** The split of a kept folder's key: the grid's own point when the key is in the grid, else parsed from the key; null when it cannot be placed. */
export function splitOfKey(key: string): Split | null {
	const point = buildGrid().find((p) => p.key === key);
	if (point !== undefined) {
		return point.split;
	}
	// `${arch}_${dataset}_${attack-tθ | clean-trigger}_${optimiser}_${budget}_s${seed}` (keyOf in grid.ts).
	const m = /^([a-z-]+)_([a-z-]+)_(.+)_([a-z]+)_(short|long)_s(\d+)$/.exec(key);
	if (m === null || !(ARCHITECTURES as readonly string[]).includes(m[1])) {
		return null;
	}
	// A poisoned run ends in -tθ (the clean-label attack starts with "clean-" too); a clean control is clean-<trigger>.
	let attack: Attack | null;
	const a = /^(.+)-t[0-9.]+$/.exec(m[3]);
	if (a !== null) {
		if (!(ATTACKS as readonly string[]).includes(a[1])) {
			return null;
		}
		attack = a[1] as Attack;
	} else if (m[3].startsWith('clean-') && (ATTACKS as readonly string[]).includes(m[3].slice(6))) {
		attack = null;
	} else {
		return null;
	}
	return splitOf(m[1] as Architecture, Number(m[6]), attack);
}

/** Which kept folders a call may open: dev ones by default, held-out ones only with `--held-out`. */
export function allowedKeys(keys: readonly string[], heldOut: boolean): { allowed: string[]; refused: number } {
	const want: Split = heldOut ? 'held-out' : 'dev';
	const allowed = keys.filter((k) => (splitOfKey(k) ?? 'held-out') === want).sort();
	return { allowed, refused: keys.length - allowed.length };
}

type Truth = Pick<TrainTruth, 'key' | 'blindDir' | 'targetLabel' | 'poisonedRows' | 'timeline'>;

function newestCheckpoint(runDir: string): string {
	const dir = path.join(runDir, 'checkpoints');
	const steps = fs
		.readdirSync(dir)
		.filter((n) => /^\d+$/.test(n) && fs.existsSync(path.join(dir, n, 'model.json')))
		.map(Number)
		.sort((a, b) => a - b);
	if (steps.length === 0) {
		throw new Error(`${dir}: no checkpoint with a model.json`);
	}
	return path.join(dir, String(steps[steps.length - 1]));
}

function fmt(v: number | null | undefined, digits = 3): string {
	return v === null || v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits);
}

const COLUMNS = [
	'key',
	'attack',
	'final_excess_asr',
	'status',
	'state',
	'score',
	'null_low',
	'null_high',
	'candidates',
	'control_flip',
	'fragility_other',
	'fragility_same',
	'clean_accuracy',
	'old_rule_visible',
	'suspects',
	'seconds',
	'reason',
] as const;

function csvCell(s: string): string {
	return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function main(argv: string[]): Promise<number> {
	const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
	const heldOut = argv.includes('--held-out');
	if (argv.some((a) => a.startsWith('--split=') && a !== '--split=dev')) {
		console.error('rescore: --split takes only "dev"; held-out runs are scored only with the explicit --held-out flag, after the rules are frozen');
		return 2;
	}
	const keeps = (opt('keep') ?? '/work/det-keep').split(',').map((k) => path.resolve(k));
	const csv = opt('csv');
	const only = opt('only')?.split(',');
	await selectBackend((opt('backend') ?? 'wasm') as BackendRequest);
	const single = opt('run');
	if (single !== undefined) {
		// One run folder outside the benchmark (a demo run, a fixture): no split, no truth.
		const t0 = performance.now();
		const r = await runBlindScan(await loadRunContext(path.resolve(single)), newestCheckpoint(path.resolve(single)));
		const e = r.testResult.evidence;
		const t = r.testResult.test;
		console.log(
			`${single}  ${t.state}  score ${fmt(t.score)}  null ${fmt(t.nullLow)}–${fmt(t.nullHigh)}  (K=${e.candidates}, control ${fmt(e.controlRate)}, fragility other ${fmt(e.fragilityOther)} same ${fmt(e.fragilitySame)}, ` +
				`acc ${fmt(e.cleanAccuracy)}, suspects ${r.summary.suspects ?? '–'})  ${((performance.now() - t0) / 1000).toFixed(1)} s (test ${(r.testResult.elapsedMs / 1000).toFixed(1)} s: random ${(r.testResult.timings.random / 1000).toFixed(1)}, curvature ${(r.testResult.timings.curvature / 1000).toFixed(1)}, fragility ${(r.testResult.timings.fragility / 1000).toFixed(1)})` +
				`\n    curvature pool ${r.testResult.pools.curvature.map((v) => v.toFixed(3)).join(' ')}\n    random pool max ${fmt(Math.max(...r.testResult.pools.random))}  ` +
				`fragility by class ${r.testResult.fragilityByClass.map((v) => fmt(v, 2)).join(' ')}\n    ${t.reason}`,
		);
		return 0;
	}
	// Folder name = grid key; the split is decided from the name alone, before anything inside is read.
	const where = new Map<string, string>();
	for (const keep of keeps) {
		for (const k of fs.readdirSync(keep)) {
			if (!where.has(k)) {
				where.set(k, keep);
			}
		}
	}
	const keys = [...where.keys()];
	const { allowed: placed, refused } = allowedKeys(keys, heldOut);
	const allowed = placed.filter((k) => fs.existsSync(path.join(where.get(k) ?? '', k, 'truth.json')));
	const todo = only === undefined ? allowed : allowed.filter((k) => only.includes(k));
	console.error(`rescore: ${todo.length} ${heldOut ? 'held-out' : 'dev'} run(s) of ${keys.length} kept; ${refused} folder(s) of the other split not opened`);
	const lines: string[] = [COLUMNS.join(',')];
	for (const key of todo) {
		const truth = JSON.parse(fs.readFileSync(path.join(where.get(key) ?? '', key, 'truth.json'), 'utf8')) as Truth;
		const attack = /_([a-z-]+-t[0-9.]+|clean-[a-z-]+)_/.exec(key)?.[1] ?? '';
		const final = truth.timeline[truth.timeline.length - 1]?.excessAsr ?? null;
		const status = !/-t[0-9.]+$/.test(attack) ? 'clean' : final !== null && final >= WORKS_AT ? 'works' : 'failed';
		const t0 = performance.now();
		const ctx = await loadRunContext(truth.blindDir);
		const r = await runBlindScan(ctx, newestCheckpoint(truth.blindDir));
		const seconds = (performance.now() - t0) / 1000;
		const t = r.testResult.test;
		const e = r.testResult.evidence;
		const row: Record<(typeof COLUMNS)[number], string> = {
			key,
			attack,
			final_excess_asr: fmt(final),
			status,
			state: t.state,
			score: fmt(t.score),
			null_low: fmt(t.nullLow),
			null_high: fmt(t.nullHigh),
			candidates: String(e.candidates),
			control_flip: fmt(e.controlRate),
			fragility_other: fmt(e.fragilityOther),
			fragility_same: fmt(e.fragilitySame),
			clean_accuracy: fmt(e.cleanAccuracy),
			old_rule_visible: r.summary.flipRate !== null && r.summary.flipRate >= 0.2 ? 'yes' : 'no',
			suspects: String(r.summary.suspects ?? ''),
			seconds: seconds.toFixed(1),
			reason: t.reason,
		};
		lines.push(COLUMNS.map((c) => csvCell(row[c])).join(','));
		console.log(
			`${key}  [${status}${final === null ? '' : `, excess ASR ${final.toFixed(2)}`}]  ${t.state}  score ${fmt(t.score)}  null ${fmt(t.nullLow)}–${fmt(t.nullHigh)}  ` +
				`(K=${e.candidates}, control ${fmt(e.controlRate)}, fragility other ${fmt(e.fragilityOther)} same ${fmt(e.fragilitySame)}, acc ${fmt(e.cleanAccuracy)})  ${seconds.toFixed(1)} s` +
				`\n    curvature pool ${r.testResult.pools.curvature.map((v) => v.toFixed(3)).join(' ')}\n    random pool max ${fmt(Math.max(...r.testResult.pools.random))}  ` +
				`fragility by class ${r.testResult.fragilityByClass.map((v) => fmt(v, 2)).join(' ')}\n    ${t.reason}`,
		);
	}
	if (csv !== undefined) {
		fs.mkdirSync(path.dirname(path.resolve(csv)), { recursive: true });
		fs.writeFileSync(csv, `${lines.join('\n')}\n`);
		console.error(`rescore: wrote ${csv}`);
	}
	return 0;
}

if (require.main === module) {
	main(process.argv.slice(2)).then(
		(code) => process.exit(code),
		(err: unknown) => {
			console.error(`rescore: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
			process.exit(1);
		},
	);
}
