/**
 * The dev evidence behind blind mode's class-shortcut test (docs/metrics.md §4.1): for every kept dev run, at its
 * newest checkpoint, the universal perturbation toward each class at several RMS sizes (the analyser's own
 * `universalPerturbation` and `flipRates`, with the seeds `blindTestFor` uses) and the share of clean probes each one
 * pushes to its class. The test's statistic is the gap between the top class and the runner-up at one size.
 *
 *     node --import tsx bench/detect/shortcut.ts --keep=DIR [--norms=0.035,0.05,0.07] [--only=TEXT] [--csv=FILE]
 *     node --import tsx bench/detect/shortcut.ts --held-out ...   # ONLY after the rule is frozen
 *
 * Writes one CSV row per run × size (default docs/detection/dev-shortcut.csv; held-out: held-out-shortcut.csv) with
 * the run's status from the bench's own ASR record, so the dev margins can be read off; held-out folders are opened
 * only with --held-out (bench/detect/rescore.ts states the split rule).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../../src/tfjs/backend';
import { installGradientFixes } from '../../src/tfjs/gradients';
import { loadRunContext } from '../../src/analyser/analysis/context';
import { loadCheckpointModel, predictClasses } from '../../src/analyser/analysis/checkpoint';
import { logitModelFromLayers } from '../../src/analyser/curvature/index';
import { BLIND_TEST_SEED, perClassPerturbations, shortcutOf } from '../../src/analyser/analysis/blindTest';
import { buildGrid } from './grid';
import { allowedKeys } from './rescore';
import { statusOf } from './score';
import type { Truth } from './train';

const ROOT = path.resolve(__dirname, '../..');

async function ratesAt(runDir: string, norms: readonly number[], steps: number): Promise<Map<number, (number | null)[]>> {
	const ctx = await loadRunContext(runDir);
	const cps = fs.readdirSync(path.join(runDir, 'checkpoints')).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
	const ckpt = path.join(runDir, 'checkpoints', String(cps[cps.length - 1]));
	const model = await loadCheckpointModel(ctx, ckpt);
	const logit = logitModelFromLayers(model, ckpt);
	try {
		const clean = await predictClasses(model, ctx.probe.data, ctx.itemShape);
		const out = new Map<number, (number | null)[]>();
		for (const norm of norms) {
			out.set(norm, (await perClassPerturbations(model, logit, ctx.probe, clean, ctx.numClasses, { steps, norm, seed: BLIND_TEST_SEED })).rates);
		}
		return out;
	} finally {
		logit.dispose();
		model.dispose();
	}
}

async function main(argv: readonly string[]): Promise<void> {
	const get = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
	const heldOut = argv.includes('--held-out');
	const keep = path.resolve(get('keep') ?? '/work/det-keep');
	const norms = (get('norms') ?? '0.035,0.05,0.07').split(',').map(Number);
	const only = get('only') ?? null;
	const csv = path.resolve(get('csv') ?? path.join(ROOT, 'docs', 'detection', heldOut ? 'held-out-shortcut.csv' : 'dev-shortcut.csv'));
	await selectBackend('wasm');
	installGradientFixes();
	const points = new Map(buildGrid().map((p) => [p.key, p]));
	const { allowed, refused } = allowedKeys(fs.readdirSync(keep).filter((k) => fs.existsSync(path.join(keep, k, 'truth.json'))), heldOut);
	const done = new Set(fs.existsSync(csv) ? fs.readFileSync(csv, 'utf8').split('\n').slice(1).map((l) => l.split(',')[0]) : []);
	const todo = allowed.filter((k) => points.has(k) && !done.has(k) && (only === null || k.includes(only)));
	console.error(`shortcut: ${todo.length} ${heldOut ? 'held-out' : 'dev'} run(s) to measure; ${refused} folder(s) of the other split not opened`);
	if (!fs.existsSync(csv)) {
		fs.writeFileSync(csv, 'key,status,arch,dataset,attack,norm,topClass,top,secondClass,second,gap,rates\n');
	}
	for (const key of todo) {
		const p = points.get(key);
		if (p === undefined) {continue;}
		const truth = JSON.parse(fs.readFileSync(path.join(keep, key, 'truth.json'), 'utf8')) as Truth;
		const t0 = Date.now();
		const byNorm = await ratesAt(truth.blindDir, norms, 10);
		const lines = [...byNorm].map(([norm, rates]) => {
			const s = shortcutOf(rates);
			const f = (v: number | null | undefined): string => (v === null || v === undefined ? '' : v.toFixed(4));
			return [key, statusOf(p, truth), p.arch, p.dataset, p.attack ?? 'none', norm, s?.cls ?? '', f(s?.rate), s?.secondCls ?? '', f(s?.second), f(s?.gap), rates.map(f).join(' ')].join(',');
		});
		fs.appendFileSync(csv, lines.map((l) => `${l}\n`).join(''));
		console.error(`shortcut: ${key} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
	}
}

main(process.argv.slice(2)).catch((err: unknown) => {
	console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
	process.exit(1);
});
